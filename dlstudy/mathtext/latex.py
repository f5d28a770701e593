"""Numbers, arrays and expressions as LaTeX math, for printed sheets.

The terminal shows ``[[1, 2], [3, 4]]`` and ``⌊(227 + 2·0 − 11)/4⌋ + 1``
(``formatting.format_value``, ``expr.to_text``); a printed sheet shows a real
matrix and a typeset formula.  Everything here returns LaTeX; Typst gets it
through ``typstmath.latex_to_typst`` and Markdown/LaTeX use it as is.  Nothing
here changes what the terminal shows.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from dlstudy.mathtext.numbers import DISPLAY_SIGFIGS, format_number

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ", "eta": "η",
    "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π",
    "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ",
    "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
_GREEK_CHAR = {char: "\\" + name for name, char in GREEK.items()}

# Functions with their own LaTeX; anything else is an \operatorname.
_COMMAND_FUNCS = {"exp", "log", "ln", "tanh", "sin", "cos", "tan", "max", "min", "det"}
_SYMBOL_FUNCS = {"sigmoid": r"\sigma", "sigma": r"\sigma", "σ": r"\sigma", "Phi": r"\Phi", "phi": r"\phi",
                 "gamma": r"\Gamma"}
_FENCES = {"floor": (r"\left\lfloor ", r" \right\rfloor"), "ceil": (r"\left\lceil ", r" \right\rceil"),
           "abs": (r"\left| ", r" \right|"), "norm": (r"\left\| ", r" \right\|")}
_OPS = {"*": r" \cdot ", "@": " ", "%": r" \bmod ", "<": " < ", "<=": r" \le ", ">": " > ", ">=": r" \ge ",
        "==": " = ", "!=": r" \ne ", "+": " + ", "-": " - ", "and": r" \text{ and } ", "or": r" \text{ or } "}
_PRECEDENCE = {
    "or": 1, "and": 2, "not": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4,
    "+": 5, "-": 5, "*": 6, "/": 6, "@": 6, "%": 6, "neg": 7, "^": 8,
}
_INDEXED_NAME = re.compile(r"^([A-Za-z]+)(\d+)$")
_ACCENTED_NAME = re.compile(r"^([A-Za-z])_?(hat|tilde|bar)(?:_([A-Za-z0-9]+))?$")  # yhat, m_hat, x_hat_i


def number(x: Any, sigfigs: int = DISPLAY_SIGFIGS) -> str:
    """``1.5e-05`` -> ``1.5 \\times 10^{-5}``; otherwise the number as the terminal shows it."""
    return number_text(format_number(x, sigfigs))


def number_text(text: str) -> str:
    """A number as text (``2.5``, ``1e-8``) in LaTeX."""
    mantissa, sep, exponent = text.partition("e")
    if not sep:
        return text
    power = f"10^{{{int(exponent)}}}"
    return power if mantissa in ("1", "1.0") else f"{mantissa} \\times {power}"


def value(v: Any, sigfigs: int = DISPLAY_SIGFIGS) -> str:
    """A scalar, a column vector or a matrix (``bmatrix``), or a shape ``55 \\times 55 \\times 96``."""
    if isinstance(v, str):
        return text(v)
    if isinstance(v, tuple):
        return r" \times ".join(str(int(d)) for d in v)
    array = np.asarray(v)
    if array.ndim == 0:
        return number(array, sigfigs)
    if array.ndim == 1:
        return matrix([[number(x, sigfigs)] for x in array])
    return matrix([[number(x, sigfigs) for x in row] for row in array.reshape(array.shape[0], -1)])


def matrix(rows: list[list[str]]) -> str:
    body = r" \\ ".join(" & ".join(row) for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def text(words: str) -> str:
    """Plain words inside math."""
    escaped = re.sub(r"([\\{}$&#^_%~])", r"\\\1", words)
    return rf"\text{{{escaped}}}"


def name(identifier: str) -> str:
    """A variable name: ``x``, ``\\alpha``, ``W_{1}``, ``k_{eff}``, ``\\mathit{iou}``."""
    accented = _ACCENTED_NAME.match(identifier)
    if accented:
        letter, accent, sub = accented.groups()
        shown = rf"\{accent}{{{letter}}}"
        return f"{shown}_{{{_word(sub)}}}" if sub else shown
    base, sep, sub = identifier.partition("_")
    if not sep:
        indexed = _INDEXED_NAME.match(identifier)
        if indexed and indexed.group(1) not in ("log",):
            base, sub = indexed.group(1), indexed.group(2)
    shown = _word(base)
    return f"{shown}_{{{_word(sub)}}}" if sub else shown


def _word(part: str) -> str:
    if part in GREEK:
        return "\\" + part
    if len(part) == 1 and part in _GREEK_CHAR:
        return _GREEK_CHAR[part]
    if len(part) <= 1 or part.isascii() and part.isdigit():
        return part
    if all(c in _GREEK_CHAR for c in part):
        return " ".join(_GREEK_CHAR[c] for c in part)
    return rf"\mathit{{{part}}}" if part.isalpha() else part.replace("_", r"\_")


_TALL = re.compile(r"\\(?:frac|begin|sum|sqrt|prod)")


def paren(inner: str) -> str:
    """Parentheses that grow around fractions and matrices; plain ones elsewhere, so lines can break inside."""
    return rf"\left({inner}\right)" if _TALL.search(inner) else f"({inner})"
