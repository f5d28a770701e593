r"""The LaTeX vocabulary of the printer (``mathtext.printer``): numbers, arrays, names and words as LaTeX.

The terminal shows ``[[1, 2], [3, 4]]`` and ``34944``; a printed sheet shows a
real matrix with one number of decimals per column and ``34\,944``. Typst gets
this LaTeX through ``output.typstmath``.
"""

from __future__ import annotations

import math
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

_INDEXED_NAME = re.compile(r"^([A-Za-z]+)(\d+)$")
_ACCENTED_NAME = re.compile(r"^([A-Za-z])_?(hat|tilde|bar)(?:_([A-Za-z0-9]+))?$")  # yhat, m_hat, x_hat_i


def number(x: Any, sigfigs: int = DISPLAY_SIGFIGS) -> str:
    """``1.5e-05`` -> ``1.5 \\times 10^{-5}``, ``34944`` -> ``34\\,944``; otherwise as the terminal shows it."""
    return number_text(format_number(x, sigfigs))


def number_text(text: str) -> str:
    """A number as text (``2.5``, ``1e-8``, ``34944``) in LaTeX: powers of ten, thin spaces between thousands."""
    mantissa, sep, exponent = text.partition("e")
    if not sep:
        return _thousands(text)
    power = f"10^{{{int(exponent)}}}"
    return power if mantissa in ("1", "1.0") else f"{mantissa} \\times {power}"


def _thousands(text: str) -> str:
    """``-1234567.5`` -> ``-1\\,234\\,567.5`` (whole parts of five digits or more, as SI writes them)."""
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, dot, fraction = digits.partition(".")
    if len(whole) < 5 or not whole.isdigit():
        return text
    groups = [whole[max(0, i - 3):i] for i in range(len(whole), 0, -3)][::-1]
    return sign + r"\,".join(groups) + dot + fraction


def column(entries: Any, sigfigs: int = DISPLAY_SIGFIGS) -> list[str]:
    """A column of numbers with one number of decimals, as tables print them: as many as the column's largest
    entry needs for ``sigfigs`` significant figures (-0.9100 beside 0.6652, not -0.91)."""
    values = [float(x) for x in np.asarray(entries, dtype=float).reshape(-1)]
    texts = [format_number(x, sigfigs) for x in values]
    finite = [abs(x) for x in values if math.isfinite(x)]
    if any("e" in t or t in ("nan", "inf", "-inf") for t in texts) or not finite or all(x == int(x) for x in finite):
        return [number_text(t) for t in texts]
    largest = max(finite)
    decimals = max(0, sigfigs - 1 - math.floor(math.log10(largest))) if largest else sigfigs
    if any(x and abs(x) < 10 ** -decimals for x in finite):  # a tiny entry would print as 0
        return [number_text(t) for t in texts]
    # zeros every entry ends with are dropped: [0.1, 0.25] prints 0.10, 0.25, not 0.1000, 0.2500
    while decimals and all(f"{x:.{decimals}f}".endswith("0") for x in values):
        decimals -= 1
    return [_thousands(f"{x:.{decimals}f}".replace("-0." + "0" * decimals, "0." + "0" * decimals)) for x in values]


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
        return matrix([[entry] for entry in column(array, sigfigs)])
    table = array.reshape(array.shape[0], -1)
    columns = [column(table[:, j], sigfigs) for j in range(table.shape[1])]
    return matrix([[columns[j][i] for j in range(table.shape[1])] for i in range(table.shape[0])])


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
