"""The persona form, generated from the persona JSON Schema: fields, their values, and back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bots.knowledge.persona import persona_json_schema
from bots.studio.roundtrip import Key, get_value, set_value

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Free text that runs to paragraphs gets a big box; the schema cannot say which these are.
_LONG_TEXT = {"instructions", "tone", "extra_instructions", "greeting", "ai_disclosure"}


@dataclass(frozen=True)
class Field:
    """One editable value of a persona: where it lives, how it is shown, what it means."""

    key: Key
    kind: str
    """text, textarea, number, bool, choice, list, days or group (a heading for `children`)."""
    label: str
    help: str
    default: Any = None
    choices: tuple[str, ...] = ()
    children: tuple[Field, ...] = ()

    @property
    def name(self) -> str:
        return ".".join(self.key)


def persona_fields() -> tuple[Field, ...]:
    """Every field of the persona schema, in the schema's order (the docs' order)."""
    schema = persona_json_schema()
    return _fields(schema, schema.get("$defs", {}), ())


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    for option in node.get("anyOf", ()):
        if option.get("type") != "null":
            node = {**option, **{k: v for k, v in node.items() if k != "anyOf"}}
            break
    ref = node.get("$ref")
    if isinstance(ref, str):
        node = {**defs[ref.rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _fields(node: Mapping[str, Any], defs: Mapping[str, Any], prefix: Key) -> tuple[Field, ...]:
    found = []
    for name, raw in node.get("properties", {}).items():
        spec = _resolve(raw, defs)
        key = (*prefix, name)
        label = name.replace("_", " ").capitalize().replace("Ai ", "AI ")
        help_text = str(raw.get("description") or spec.get("description") or "")
        default = raw.get("default", spec.get("default"))
        kind = spec.get("type")
        if kind == "object" and name == "days":
            found.append(Field(key, "days", label, help_text, {}))
        elif kind == "object" or "properties" in spec:
            children = _fields(spec, defs, key)
            found.append(Field(key, "group", label, help_text, None, (), children))
        elif kind == "array":
            found.append(Field(key, "list", label, help_text, list(default or ())))
        elif "enum" in spec:
            # A choice the bot can do without (default None) offers "not set" first, so
            # saving another field never writes the first option into the file.
            unset = ("",) if default is None else ()
            choices = (*unset, *spec["enum"])
            found.append(Field(key, "choice", label, help_text, default, choices))
        elif kind in ("integer", "number"):
            found.append(Field(key, "number", label, help_text, default))
        elif kind == "boolean":
            found.append(Field(key, "bool", label, help_text, default))
        else:
            text_kind = "textarea" if name in _LONG_TEXT and not prefix else "text"
            found.append(Field(key, text_kind, label, help_text, default or ""))
    return tuple(found)


def leaves(fields: Sequence[Field]) -> list[Field]:
    out: list[Field] = []
    for field in fields:
        out.extend(leaves(field.children) if field.kind == "group" else [field])
    return out


def shown_value(data: Any, field: Field) -> Any:
    """What the form shows: the file's value, or the default the bot uses without one."""
    value = get_value(data, field.key)
    if value is None:
        return field.default
    if field.kind == "text" or field.kind == "textarea":
        return str(value).rstrip("\n") if isinstance(value, str) else value
    return value


class FormData:
    """The submitted form, as a plain mapping of name -> list of values (htmx/fetch or HTML)."""

    def __init__(self, values: Mapping[str, Sequence[str]]) -> None:
        self._values = values

    def get(self, name: str) -> str | None:
        found = self._values.get(name)
        return found[0] if found else None

    def getlist(self, name: str) -> list[str]:
        return list(self._values.get(name, ()))


def apply_form(data: Any, fields: Sequence[Field], form: FormData) -> None:
    """Write the submitted values into the round-trip tree, leaving unchanged keys untouched.

    A field the file does not have stays out of it while the form shows its default.
    Numbers that do not parse stay text, so the bot's own check says what is wrong.
    """
    for field in leaves(fields):
        value = _submitted(field, form)
        if value is _ABSENT:
            continue
        present = get_value(data, field.key) is not None
        if not present and _is_default(field, value):
            continue
        set_value(data, field.key, value)


_ABSENT = object()


def _submitted(field: Field, form: FormData) -> Any:
    if field.kind == "list":
        if form.get(f"{field.name}.present") is None:
            return _ABSENT
        return [item.strip() for item in form.getlist(field.name) if item.strip()]
    if field.kind == "days":
        if form.get(f"{field.name}.present") is None:
            return _ABSENT
        spans = {day: (form.get(f"{field.name}.{day}") or "").strip() for day in DAYS}
        return {day: span for day, span in spans.items() if span}
    raw = form.get(field.name)
    if raw is None:
        return _ABSENT
    if field.kind == "bool":
        return raw == "true"
    if field.kind == "number":
        return _number(raw.strip())
    if field.kind == "textarea":
        return raw.replace("\r\n", "\n").rstrip("\n")
    if field.kind == "choice" and not raw.strip():
        return _ABSENT  # "not set": the file keeps what it has (nothing, or its value)
    return raw.strip()


def _number(raw: str) -> int | float | str:
    for convert in (int, float):
        try:
            return convert(raw)
        except ValueError:
            continue
    return raw


def _is_default(field: Field, value: Any) -> bool:
    default = field.default
    if field.kind == "days":
        return bool(value == {})
    if field.kind == "list":
        return bool(list(value) == list(default or []))
    return bool(value == default) or bool(value == "" and not default)
