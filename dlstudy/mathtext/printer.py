"""The one math printer: expressions, values and authors' formulas in two styles.

``UNICODE`` is what the terminal shows (``⌊(227 + 2·0 − 11)/4⌋ + 1``);
``LATEX`` is what sheets, Markdown and Anki (MathJax) typeset, and what the
PDF gets after ``output.typstmath`` turns it into Typst.  Every output asks this
module (directly, or through the pieces of ``lines``); nothing else walks an
expression tree to show it.
"""

from __future__ import annotations

from typing import Any, Mapping

from dlstudy.mathtext import latex as tex
from dlstudy.mathtext.expr import Array, Binary, Call, ExprError, Group, Index, Name, Node, Num, Slice, Unary
from dlstudy.mathtext.functions import evaluate
from dlstudy.mathtext.numbers import DISPLAY_SIGFIGS, format_number, format_value

UNICODE = "unicode"
LATEX = "latex"
STYLES = (UNICODE, LATEX)

_PRECEDENCE = {
    "or": 1, "and": 2, "not": 3,
    "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4,
    "+": 5, "-": 5,
    "*": 6, "/": 6, "@": 6, "%": 6,
    "neg": 7,
    "^": 8,
}
_POSTFIX = 9  # transpose and indexing bind tightest


def is_scalar(value: Any) -> bool:
    return isinstance(value, (int, float)) or (hasattr(value, "ndim") and value.ndim == 0)


class _Walker:
    """Shows a tree; the two styles differ only in the hooks below."""

    def __init__(self, values: Mapping[str, Any] | None, symbols: Mapping[str, str] | None = None) -> None:
        self.values = values
        self.symbols = symbols or {}

    # -- hooks
    def number_literal(self, text: str) -> str:
        raise NotImplementedError

    def number(self, value: Any) -> str:
        raise NotImplementedError

    def name(self, identifier: str) -> str:
        raise NotImplementedError

    def symbol(self, latex: str) -> str:
        raise NotImplementedError

    def group(self, inner: str) -> str:
        raise NotImplementedError

    def binary(self, node: Binary, parent: int) -> str:
        raise NotImplementedError

    def call(self, node: Call) -> str:
        raise NotImplementedError

    def array(self, node: Array) -> str:
        raise NotImplementedError

    transpose = not_ = minus = ""

    # -- the walk, shared
    def scalar(self, value: Any, parent: int) -> str:
        shown = self.number(value)
        return f"({shown})" if shown.startswith("-") and parent > 0 else shown

    def show(self, n: Node, parent: int = 0) -> str:
        if isinstance(n, Num):
            return self.number_literal(n.text)
        if isinstance(n, Name):
            if self.values is not None and n.id in self.values and is_scalar(self.values[n.id]):
                return self.scalar(self.values[n.id], parent)
            if n.id in self.symbols:
                return self.symbol(self.symbols[n.id])
            return self.name(n.id)
        if isinstance(n, Group):
            return self.group(self.show(n.inner))
        if isinstance(n, Unary):
            if n.op == "'":
                return self.show(n.operand, _POSTFIX) + self.transpose
            if n.op == "not":
                return self.not_ + self.show(n.operand, _PRECEDENCE["not"])
            shown = (self.minus if n.op == "-" else "+") + self.show(n.operand, _PRECEDENCE["neg"])
            return self.group(shown) if parent > _PRECEDENCE["neg"] else shown
        if isinstance(n, Binary):
            return self.binary(n, parent)
        if isinstance(n, Call):
            return self.call(n)
        if isinstance(n, Index):
            if self.values is not None and isinstance(n.target, Name) and all(isinstance(i, Num) for i in n.indices):
                try:  # a known entry such as V[1]: show its number
                    entry = evaluate(n, self.values)
                except ExprError:
                    entry = None
                if entry is not None and is_scalar(entry):
                    return self.scalar(entry, parent)
            return self.show(n.target, _POSTFIX) + "[" + ", ".join(self.show(i) for i in n.indices) + "]"
        if isinstance(n, Slice):
            return f"{self.show(n.start)}:{self.show(n.stop)}"
        if isinstance(n, Array):
            return self.array(n)
        raise TypeError(f"not an expression node: {n!r}")


class _Unicode(_Walker):
    transpose, not_, minus = "ᵀ", "not ", "−"
    _OPS = {"*": "·", "-": "−", "@": "", "<=": "≤", ">=": "≥", "!=": "≠", "%": " mod "}
    _FENCES = {"sqrt": ("√(", ")"), "floor": ("⌊", "⌋"), "ceil": ("⌈", "⌉"), "abs": ("|", "|")}

    def number_literal(self, text: str) -> str:
        return text

    def number(self, value: Any) -> str:
        return format_number(value)

    def name(self, identifier: str) -> str:
        return formula(tex.name(identifier), UNICODE)

    def symbol(self, latex: str) -> str:
        return formula(latex, UNICODE)

    def group(self, inner: str) -> str:
        return f"({inner})"

    def binary(self, n: Binary, parent: int) -> str:
        prec = _PRECEDENCE[n.op]
        # power is right-associative, everything else left-associative
        left = self.show(n.left, prec + 1 if n.op == "^" else prec)
        right = self.show(n.right, prec if n.op == "^" else prec + 1)
        if n.op == "^":
            shown = f"{left}^{right}"
        elif n.op in ("*", "@", "/", "%"):
            shown = f"{left}{self._OPS.get(n.op, n.op)}{right}"
        else:
            shown = f"{left} {self._OPS.get(n.op, n.op)} {right}"
        return f"({shown})" if parent > prec else shown

    def call(self, n: Call) -> str:
        args = ", ".join(self.show(a) for a in n.args)
        if n.func == "step" and len(n.args) == 1:  # the unit step as an indicator, as textbooks write it
            return f"𝟙[{args} > 0]"
        if n.func in self._FENCES and len(n.args) == 1:
            opener, closer = self._FENCES[n.func]
            return f"{opener}{args}{closer}"
        return f"{n.func}({args})"

    def array(self, n: Array) -> str:
        if n.items and all(isinstance(item, Array) for item in n.items):
            return "[" + "; ".join(", ".join(self.show(x) for x in row.items) for row in n.items) + "]"  # type: ignore[union-attr]
        return "[" + ", ".join(self.show(x) for x in n.items) + "]"


class _Latex(_Walker):
    transpose, not_, minus = r"^{\top}", r"\lnot ", "-"
    # Functions with their own LaTeX; anything else is an \operatorname.
    _COMMANDS = {"exp", "log", "ln", "tanh", "sin", "cos", "tan", "max", "min", "det"}
    _SYMBOLS = {"sigmoid": r"\sigma", "sigma": r"\sigma", "σ": r"\sigma", "Phi": r"\Phi", "phi": r"\phi",
                "gamma": r"\Gamma"}
    _FENCES = {"floor": (r"\left\lfloor ", r" \right\rfloor"), "ceil": (r"\left\lceil ", r" \right\rceil"),
               "abs": (r"\left| ", r" \right|"), "norm": (r"\left\| ", r" \right\|")}
    _OPS = {"*": r" \cdot ", "@": " ", "%": r" \bmod ", "<": " < ", "<=": r" \le ", ">": " > ", ">=": r" \ge ",
            "==": " = ", "!=": r" \ne ", "+": " + ", "-": " - ", "and": r" \text{ and } ", "or": r" \text{ or } "}

    def number_literal(self, text: str) -> str:
        return tex.number_text(text)

    def number(self, value: Any) -> str:
        return tex.number(value)

    def name(self, identifier: str) -> str:
        return tex.name(identifier)

    def symbol(self, latex: str) -> str:
        return "{" + latex + "}"

    def group(self, inner: str) -> str:
        return tex.paren(inner)

    def binary(self, n: Binary, parent: int) -> str:
        prec = _PRECEDENCE[n.op]
        if n.op == "/":  # a fraction groups by itself: no parentheses needed inside
            shown = rf"\frac{{{self.show(_ungroup(n.left))}}}{{{self.show(_ungroup(n.right))}}}"
            return tex.paren(shown) if parent > prec else shown
        left = self.show(n.left, prec + 1 if n.op == "^" else prec)
        if n.op == "^":
            power = f"{{{left}}}^{{{self.show(_ungroup(n.right))}}}"
            return power if parent <= prec else tex.paren(power)
        shown = f"{left}{self._OPS[n.op]}{self.show(n.right, prec + 1)}"
        return tex.paren(shown) if parent > prec else shown

    def call(self, n: Call) -> str:
        args = ", ".join(self.show(a) for a in n.args)
        if n.func in self._FENCES and len(n.args) == 1:
            opener, closer = self._FENCES[n.func]
            return f"{opener}{args}{closer}"
        if n.func == "sqrt" and len(n.args) == 1:
            return rf"\sqrt{{{args}}}"
        if n.func == "step" and len(n.args) == 1:
            return rf"\mathbb{{1}}[{args} > 0]"
        if n.func in self._COMMANDS:
            head = "\\" + n.func
        elif n.func in self._SYMBOLS:
            head = self._SYMBOLS[n.func]
        else:
            head = rf"\operatorname{{{n.func.replace('_', chr(92) + '_')}}}"
        return head + tex.paren(args)

    def array(self, n: Array) -> str:
        if n.items and all(isinstance(item, Array) for item in n.items):
            return tex.matrix([[self.show(x) for x in row.items] for row in n.items])  # type: ignore[union-attr]
        return tex.matrix([[self.show(x)] for x in n.items])


def _ungroup(node: Node) -> Node:
    return node.inner if isinstance(node, Group) else node


_WALKERS = {UNICODE: _Unicode, LATEX: _Latex}


def expression(
    node: Node, style: str = UNICODE, values: Mapping[str, Any] | None = None, symbols: Mapping[str, str] | None = None
) -> str:
    """``node`` in ``style``; with ``values``, known scalars (and entries such as ``V[1]``) show their numbers.

    Substituting is how a worked step shows "the formula with the numbers in". ``symbols`` give a name's
    LaTeX where its spelling would mislead (``running_mean`` -> ``\\hat{\\mu}``, ``s2`` -> ``s^2``).
    """
    return _WALKERS[style](values, symbols).show(node)


def value(v: Any, style: str = UNICODE, sigfigs: int = DISPLAY_SIGFIGS) -> str:
    """A number, vector, matrix, shape tuple or word: ``[[1, 2], [3, 4]]`` or a ``bmatrix``."""
    return format_value(v, sigfigs) if style == UNICODE else tex.value(v, sigfigs)


def formula(latex: str, style: str = UNICODE) -> str:
    """LaTeX an author wrote, in ``style`` (Unicode through ``mathtext.unicode``)."""
    if style == LATEX:
        return latex
    from dlstudy.mathtext.unicode import latex_to_unicode

    return latex_to_unicode(latex)
