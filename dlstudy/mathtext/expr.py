"""A small math expression language: the only way text becomes a value.

Template formulas, constraints, common mistakes and students' answers are all parsed by ``parsing`` into
the tiny tree defined here and evaluated by walking it with a whitelist of NumPy functions (see
``functions.py``).  Nothing is ever handed to ``eval``, ``exec`` or ``sympify``: there is no attribute
access, no lambda, no import, and names resolve only to variables the caller passes in or to whitelisted
functions.  This module holds the tree's node types, the error every step raises, and the walks that
inspect a tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from dlstudy.errors import DlstudyError

CONSTANT_NAMES = ("pi", "e")


class ExprError(DlstudyError):
    """Text that is not a valid expression, or an expression that cannot be evaluated."""


# ---------------------------------------------------------------------------
# The tree


@dataclass(frozen=True, slots=True)
class Num:
    value: float
    text: str


@dataclass(frozen=True, slots=True)
class Name:
    id: str


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-", "+", "not", "'" (transpose)
    operand: "Node"


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: "Node"
    right: "Node"


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple["Node", ...]


@dataclass(frozen=True, slots=True)
class Index:
    target: "Node"
    indices: tuple["Node", ...]


@dataclass(frozen=True, slots=True)
class Slice:
    """``a:b`` inside an index: positions a to b, both included (1-based)."""

    start: "Node"
    stop: "Node"


@dataclass(frozen=True, slots=True)
class Array:
    """``[a, b]`` (items are nodes) or ``[a, b; c, d]`` (items are Array rows)."""

    items: tuple["Node", ...]


@dataclass(frozen=True, slots=True)
class Group:
    """Parentheses the author wrote; kept so rendering shows them."""

    inner: "Node"


Node = Union[Num, Name, Unary, Binary, Call, Index, Slice, Array, Group]


# ---------------------------------------------------------------------------
# Inspection


def children(n: Node) -> tuple:
    """The nodes directly under ``n``, left to right."""
    if isinstance(n, Unary):
        return (n.operand,)
    if isinstance(n, Binary):
        return (n.left, n.right)
    if isinstance(n, Call):
        return n.args
    if isinstance(n, Index):
        return (n.target, *n.indices)
    if isinstance(n, Slice):
        return (n.start, n.stop)
    if isinstance(n, Array):
        return n.items
    if isinstance(n, Group):
        return (n.inner,)
    return ()


def walk(node: Node):
    """Every node of the tree, parents before children."""
    stack: list[Any] = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))


def names(node: Node) -> set[str]:
    """Variable names used by ``node`` (function names excluded)."""
    return {n.id for n in walk(node) if isinstance(n, Name)}


def calls(node: Node) -> set[str]:
    """Function names called by ``node``."""
    return {n.func for n in walk(node) if isinstance(n, Call)}
