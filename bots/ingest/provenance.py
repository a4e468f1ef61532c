"""Where an imported file came from, written at its top, and whether someone edited it since.

Each file starts with a header: the source address, its title, when it was fetched, the
SHA-256 of the content below the header, and the import it belongs to. Markdown pages carry
it as a `---` block (bots.knowledge.front_matter blanks it out when loading); YAML files as
an `imported:` key beside `entries:` (the loader reads only `entries:`). The hash serves
twice: content that hashes the same as before is not rewritten (so the fetched time, and the
file, stay byte for byte as they were), and a file whose content no longer matches its own
hash was edited by hand.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml

from bots.ingest.documents import Document
from bots.knowledge.front_matter import split_front_matter

NOTICE = "# Imported by `bots knowledge import`; a re-import keeps hand edits only with --force."
_YAML_KEY = "imported"


@dataclass(frozen=True, slots=True)
class Provenance:
    source: str
    title: str
    fetched: str
    sha256: str
    import_from: str


def digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def render(document: Document, import_from: str, fetched: datetime) -> str:
    fields = {
        "source": document.address,
        "title": document.title,
        "fetched": fetched.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sha256": digest(document.body),
        "import": import_from,
    }
    if document.kind == "md":
        header = yaml.safe_dump(fields, sort_keys=False, allow_unicode=True, width=1000)
        return f"---\n{NOTICE}\n{header}---\n{document.body}"
    header = yaml.safe_dump({_YAML_KEY: fields}, sort_keys=False, allow_unicode=True, width=1000)
    return f"{NOTICE}\n{header}{document.body}"


def read(text: str, suffix: str) -> tuple[Provenance, str] | None:
    """The header and the content below it, or None for a file that was not imported."""
    if suffix == ".md":
        fields, _ = split_front_matter(text)
        if not fields:
            return None
        end = text.find("\n---\n", 4)
        body = text[end + len("\n---\n") :] if end >= 0 else ""
        found = _provenance(fields)
        return (found, body) if found else None
    marker = text.find("\nentries:")
    if marker < 0 or not text.startswith(NOTICE):
        return None
    try:
        data = yaml.safe_load(text[:marker])
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get(_YAML_KEY), dict):
        return None
    found = _provenance(data[_YAML_KEY])
    return (found, text[marker + 1 :]) if found else None


def _provenance(fields: dict[str, Any]) -> Provenance | None:
    try:
        return Provenance(
            source=str(fields["source"]),
            title=str(fields.get("title", "")),
            fetched=str(fields.get("fetched", "")),
            sha256=str(fields["sha256"]),
            import_from=str(fields["import"]),
        )
    except KeyError:
        return None
