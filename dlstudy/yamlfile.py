"""Safe YAML loading that remembers line numbers, so errors can say FILE:LINE:COL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from dlstudy.errors import LocatedError, Location

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict):
    """A mapping that knows where it starts and where each of its values starts."""

    line: int = 0
    column: int = 0
    positions: dict  # key -> (line, column) of the value


def position_of(mapping: Any, key: str | int | None = None) -> tuple[int, int]:
    """1-based (line, column) of ``mapping[key]`` (a list's item by index), or of the mapping itself, in its file."""
    positions = getattr(mapping, "positions", None) or {}
    if key is not None and key in positions:
        return positions[key]
    return getattr(mapping, "line", 0) or 1, getattr(mapping, "column", 0) or 1


class LineList(list):
    """A list that knows where it starts and where each of its items starts."""

    line: int = 0
    column: int = 0
    positions: dict  # index -> (line, column) of the item


class _LineLoader(_Base):  # type: ignore[misc, valid-type]
    pass


def _mapping(loader: Any, node: yaml.MappingNode) -> LineDict:
    seen: dict[Any, Any] = {}
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode):
            if key.value in seen:
                first = seen[key.value]
                raise yaml.MarkedYAMLError(
                    problem=f"duplicate key {key.value!r} (first on line {first.line + 1}); a key may appear once",
                    problem_mark=key.start_mark,
                )
            seen[key.value] = key.start_mark
    result = LineDict(loader.construct_mapping(node, deep=True))
    result.line = node.start_mark.line + 1
    result.column = node.start_mark.column + 1
    result.positions = {
        key.value: (value.start_mark.line + 1, value.start_mark.column + 1)
        for key, value in node.value
        if isinstance(key, yaml.ScalarNode)
    }
    return result


def _sequence(loader: Any, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_sequence(node, deep=True))
    result.line = node.start_mark.line + 1
    result.column = node.start_mark.column + 1
    result.positions = {i: (item.start_mark.line + 1, item.start_mark.column + 1) for i, item in enumerate(node.value)}
    return result


# YAML 1.1 reads 1e-8 (no dot) as a string; a problem file means the number.
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"), list("-+0123456789.")
)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def line_of(value: Any) -> int:
    return getattr(value, "line", 0) or 1


def load_yaml(path: Path) -> Any:
    """Parse ``path`` with a safe loader; a syntax error or a tag like !!python/object is a LocatedError."""
    from dlstudy.files import read_text

    text = read_text(path, "YAML file")
    try:
        loader = _LineLoader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(str(path), mark.line + 1, mark.column + 1) if mark else Location(str(path))
        raise LocatedError(where, str(exc.problem or exc.context)) from None
    except yaml.YAMLError as exc:
        raise LocatedError(Location(str(path)), str(exc)) from None
