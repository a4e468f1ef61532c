"""Reading YAML safely while remembering where each value stood, for plain-language errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bots.errors import FileProblem
from bots.knowledge.reading import read_text_file

Location = tuple[int, int]
PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """The plain data of a YAML file plus the 1-based (line, column) of every key and item."""

    path: Path
    data: Any
    locations: dict[PathKey, Location]

    def where(self, key: PathKey) -> Location | None:
        """The closest known position for `key`, walking up to its parents."""
        probe = tuple(key)
        while probe:
            if probe in self.locations:
                return self.locations[probe]
            probe = probe[:-1]
        return self.locations.get(())


def read_yaml(
    path: Path, error: type[FileProblem] = FileProblem, *, folder: Path | None = None
) -> YamlDocument:
    """Parse `path` with the safe loader; syntax errors become `error` with line and column.

    The file is read only if it is a plain file inside `folder` (its own folder by default):
    see bots.knowledge.reading.
    """
    return parse_yaml(read_text_file(path, error, folder=folder), path, error)


def parse_yaml(text: str, path: Path, error: type[FileProblem] = FileProblem) -> YamlDocument:
    parsed = _parse_fast(text)
    if parsed is not None:
        node, data = parsed
        return _document(path, error, node, data)
    node = None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or "the YAML is not valid"
        started_earlier = any(words in (exc.context or "") for words in _STARTED_EARLIER)
        mark = (exc.context_mark if started_earlier else None) or exc.problem_mark
        mark = mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise error(path, _plain_problem(problem), line=line, column=column) from None
    except yaml.reader.ReaderError as exc:
        line, column = _line_column(text, exc.position)
        raise error(
            path,
            f"the character U+{exc.character:04X} cannot be in a YAML file; delete it "
            "(it is often an invisible character pasted from elsewhere)",
            line=line,
            column=column,
        ) from None
    except yaml.YAMLError as exc:
        raise error(path, f"the YAML is not valid ({exc})") from None
    except RecursionError:
        raise error(
            path, "brackets or indentation are nested too deeply", line=1, column=1
        ) from None
    except Exception:
        # The text parsed, but a value does not fit its explicit tag (`!!int abc`, `!!bool
        # maybe`, `!!timestamp x`): PyYAML's constructors then fail in many different ways.
        line, column = _explicit_tag(text, node) or (1, 1)
        raise error(
            path,
            "this value does not match its `!!` type tag; remove the tag",
            line=line,
            column=column,
        ) from None
    return _document(path, error, node, data)


def _parse_fast(text: str) -> tuple[yaml.Node | None, Any] | None:
    """One parse with libyaml (PyYAML's C loader): the nodes, and the data built from them.

    The pure-Python loader parsed each file twice (nodes for the positions, then the data)
    and took most of a persona's load time. None when libyaml is not installed or the text
    is not plain valid YAML: the pure loader then parses it and words the error, so every
    message stays the same (`_plain_problem`'s wording is PyYAML's, not libyaml's).
    """
    loader_class = getattr(yaml, "CSafeLoader", None)
    if loader_class is None or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return None
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except Exception:  # any failure is worded by the pure loader's parse below
        return None
    finally:
        loader.dispose()
    return node, data


def _document(
    path: Path, error: type[FileProblem], node: yaml.Node | None, data: Any
) -> YamlDocument:
    locations: dict[PathKey, Location] = {}
    duplicates: list[tuple[PathKey, Location]] = []
    if node is not None:
        try:
            _collect(node, (), locations, duplicates, [_MAX_NODES])
        except _TooLarge:
            raise error(
                path,
                "the file repeats `*alias` references too many times; write the values out",
                line=1,
                column=1,
            ) from None
    if duplicates:
        key, (line, column) = duplicates[0]
        raise error(
            path,
            "this key appears twice in the same group; keep only one of them",
            line=line,
            column=column,
            field=".".join(str(part) for part in key),
        )
    return YamlDocument(path=path, data=data, locations=locations)


def _line_column(text: str, index: int) -> Location:
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _explicit_tag(text: str, node: yaml.Node | None) -> Location | None:
    """Where the first node written with an explicit `!` tag starts."""
    pending = [node] if node is not None else []
    while pending:
        current = pending.pop(0)
        if text.startswith("!", current.start_mark.index):
            return current.start_mark.line + 1, current.start_mark.column + 1
        if isinstance(current, yaml.MappingNode):
            pending.extend(part for pair in current.value for part in pair)
        elif isinstance(current, yaml.SequenceNode):
            pending.extend(current.value)
    return None


# PyYAML's own words, and what they usually mean for a person editing by hand.
_PLAIN_SYNTAX = (
    ("found character '\\t'", "a tab is used here: use spaces, not tabs, to indent"),
    (
        "mapping values are not allowed",
        "a text containing ': ' needs quotes around it (or use `|` for a block of text), "
        "or this line is indented more than it should be",
    ),
    ("could not find expected ':'", "a line is missing the ':' after its field name"),
    ("expected <block end>", "the indentation is off: line this up with the lines above it"),
    ("expected ',' or ']'", "a list in [ ] is not closed, or one of its items needs quotes"),
    ("expected ',' or '}'", "a group in { } is not closed, or one of its values needs quotes"),
    ("found unexpected end of stream", "a quote is opened but never closed"),
    ("expected alphabetic or numeric character", "text starting with * or & needs quotes"),
    ("found undefined alias", "text starting with * needs quotes around it"),
)
# For these the parser notices the problem lines later; where it started is more useful.
_STARTED_EARLIER = (
    "while scanning a simple key",
    "while scanning a quoted scalar",
    "while parsing a flow sequence",
    "while parsing a flow mapping",
)


def _plain_problem(problem: str) -> str:
    for words, plain in _PLAIN_SYNTAX:
        if words in problem:
            return plain
    return problem


# Aliases make the node graph share children: walking it can blow up exponentially ("billion
# laughs"). No persona or FAQ file comes anywhere near this many values.
_MAX_NODES = 200_000


class _TooLarge(Exception):
    pass


def _collect(
    node: yaml.Node,
    key: PathKey,
    out: dict[PathKey, Location],
    duplicates: list[tuple[PathKey, Location]],
    budget: list[int],
) -> None:
    """Record positions; PyYAML silently keeps the last of two equal keys, so list those."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    out.setdefault(key, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            child = (*key, str(key_node.value))
            where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if child in out:
                duplicates.append((child, where))
            out[child] = where
            _collect(value_node, child, out, duplicates, budget)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect(item, (*key, index), out, duplicates, budget)
