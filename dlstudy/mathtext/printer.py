"""Expressions printed for people: readable Unicode for the terminal."""

from __future__ import annotations

from typing import Any, Mapping

from dlstudy.mathtext.expr import Array, Binary, Call, ExprError, Group, Index, Name, Node, Num, Unary
from dlstudy.mathtext.functions import evaluate
from dlstudy.mathtext.numbers import format_number


_PRECEDENCE = {
    "or": 1, "and": 2, "not": 3,
    "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4,
    "+": 5, "-": 5,
    "*": 6, "/": 6, "@": 6, "%": 6,
    "neg": 7,
    "^": 8,
}
_SHOW_OP = {"*": "·", "-": "−", "@": "", "<=": "≤", ">=": "≥", "!=": "≠", "%": " mod "}
_SHOW_FUNC = {"sqrt": ("√(", ")"), "floor": ("⌊", "⌋"), "ceil": ("⌈", "⌉"), "abs": ("|", "|")}


def to_text(node: Node, values: Mapping[str, Any] | None = None) -> str:
    """Readable Unicode for ``node``.

    With ``values``, scalar variables are replaced by their numbers, which is
    how a worked step shows "the formula with the numbers substituted".
    """
    def show(n: Node, parent: int = 0) -> str:
        if isinstance(n, Num):
            return n.text
        if isinstance(n, Name):
            if values is not None and n.id in values and is_scalar(values[n.id]):
                text = format_number(values[n.id])
                return f"({text})" if text.startswith("-") and parent > 0 else text
            return n.id
        if isinstance(n, Group):
            return "(" + show(n.inner) + ")"
        if isinstance(n, Unary):
            if n.op == "'":
                return show(n.operand, 9) + "ᵀ"
            if n.op == "not":
                return "not " + show(n.operand, 3)
            inner = show(n.operand, _PRECEDENCE["neg"])
            text = ("−" if n.op == "-" else "+") + inner
            return f"({text})" if parent > _PRECEDENCE["neg"] else text
        if isinstance(n, Binary):
            prec = _PRECEDENCE[n.op]
            # power is right-associative, everything else left-associative
            left = show(n.left, prec + 1 if n.op == "^" else prec)
            right = show(n.right, prec if n.op == "^" else prec + 1)
            if n.op == "^":
                text = f"{left}^{right}"
            elif n.op in ("*", "@", "/", "%"):
                text = f"{left}{_SHOW_OP.get(n.op, n.op)}{right}"
            else:
                text = f"{left} {_SHOW_OP.get(n.op, n.op)} {right}"
            return f"({text})" if parent > prec else text
        if isinstance(n, Call):
            args = ", ".join(show(a) for a in n.args)
            if n.func in _SHOW_FUNC and len(n.args) == 1:
                opener, closer = _SHOW_FUNC[n.func]
                return f"{opener}{args}{closer}"
            return f"{n.func}({args})"
        if isinstance(n, Index):
            if values is not None and isinstance(n.target, Name) and all(isinstance(i, Num) for i in n.indices):
                try:  # a known entry such as V[1]: show its number
                    entry = evaluate(n, values)
                except ExprError:
                    entry = None
                if entry is not None and is_scalar(entry):
                    text = format_number(entry)
                    return f"({text})" if text.startswith("-") and parent > 0 else text
            return show(n.target, 9) + "[" + ", ".join(show(i) for i in n.indices) + "]"
        if isinstance(n, Array):
            if n.items and all(isinstance(item, Array) for item in n.items):
                return "[" + "; ".join(", ".join(show(x) for x in row.items) for row in n.items) + "]"
            return "[" + ", ".join(show(x) for x in n.items) + "]"
        raise TypeError(f"not an expression node: {n!r}")

    return show(node)


def is_scalar(value: Any) -> bool:
    return isinstance(value, (int, float)) or (hasattr(value, "ndim") and value.ndim == 0)
