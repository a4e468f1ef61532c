"""Changing YAML text in place with ruamel.yaml's round-trip mode: comments, order and style kept.

PyYAML (which the bot reads with) drops comments, and persona files are mostly comments for
the people who edit them, so the studio writes through ruamel.yaml instead.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

Key = tuple[str, ...]


class YamlEditError(ValueError):
    """The YAML text cannot be parsed for editing; the message says where."""


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line the author wrote on one line
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load(text: str) -> Any:
    try:
        return _yaml().load(text)
    except YAMLError as exc:
        raise YamlEditError(str(exc)) from None


def dump(data: Any) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def _styled(old: Any, new: Any) -> Any:
    """Keep a block `|` text a block, and make multi-line text one, so it stays readable."""
    if isinstance(new, str) and (isinstance(old, LiteralScalarString) or "\n" in new):
        return LiteralScalarString(new if new.endswith("\n") else new + "\n")
    return new


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, str) and isinstance(new, str):
        return old.rstrip("\n") == new.rstrip("\n")
    return bool(old == new) and type(old) is type(new)


def set_value(root: CommentedMap, key: Key, value: Any) -> None:
    """Set `key` (a path of names) to `value`, touching nothing when it is unchanged.

    `None` removes the key. Lists are changed item by item, so the comments on kept items stay.
    """
    parent = root
    for name in key[:-1]:
        child = parent.get(name)
        if not isinstance(child, CommentedMap):
            if value is None:
                return
            child = CommentedMap()
            parent[name] = child
        parent = child
    last = key[-1]
    if value is None:
        if last in parent:
            del parent[last]
        return
    old = parent.get(last)
    if isinstance(value, list) and isinstance(old, CommentedSeq):
        _set_items(old, value)
    elif isinstance(value, dict) and isinstance(old, CommentedMap):
        for name in [k for k in old if k not in value]:
            del old[name]
        for name, item in value.items():
            set_value(old, (name,), item)
    elif last not in parent or not _same(old, value):
        parent[last] = _styled(old, CommentedSeq(value) if isinstance(value, list) else value)


def _set_items(items: CommentedSeq, values: Sequence[Any]) -> None:
    for index, value in enumerate(values):
        if index < len(items):
            if not _same(items[index], value):
                items[index] = _styled(items[index], value)
        else:
            items.append(value)
    del items[len(values) :]


def get_value(root: Any, key: Key) -> Any:
    node = root
    for name in key:
        if not isinstance(node, dict) or name not in node:
            return None
        node = node[name]
    return node
