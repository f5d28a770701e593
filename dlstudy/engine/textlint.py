"""What a student must never read: math typed as ASCII in prose, and the formula language's code in a worked line.

Statements, step labels and parameter descriptions put math between ``$...$``
so that every output typesets it; a worked line shows what a textbook would
write, never a helper of the formula language (``ifelse``, ``concat``,
``ngram_counts``...), a comparison or a mask.  ``tests/test_templates.py``
holds every template to both rules over several seeds.
"""

from __future__ import annotations

import re

from dlstudy.mathtext.markup import split_math

# Math written as ASCII in prose: h_(t-1), D^(-1/2), x_t, sigma^2, (F - P)^2, sqrt(...), a <= b
_ASCII_MATH = [
    (re.compile(r"[A-Za-z0-9)\]]_[({A-Za-z0-9]"), "a subscript"),
    (re.compile(r"[A-Za-z0-9)\]]\^[-({A-Za-z0-9]"), "a power"),
    (re.compile(r"\b(sqrt|exp|log|ln|tanh|sigmoid|softmax|relu|argmax|argmin)\("), "a function call"),
    (re.compile(r"(<=|>=|!=|==|\*\*)"), "an operator"),
    (re.compile(r"\b(alpha|beta|gamma|delta|epsilon|eta|theta|lambda|mu|sigma|tau|phi|rho|omega|Sigma|Delta)\b"),
     "a Greek letter spelled out"),
    (re.compile(r"[A-Za-z0-9)] ?\* ?[A-Za-z0-9(]"), "a product written with *"),
]
# A placeholder {name} is a value, not math.
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")

# Helpers of the formula language that no textbook writes.
CODE_FUNCTIONS = (
    "ifelse", "concat", "ngram_counts", "outer", "cols", "rows", "len", "isint", "sort", "row", "col", "diag", "all",
    "any", "transpose",
    # cnn: sliding-window helpers (a worked line writes the operation in words or symbols instead)
    "pad", "dilate", "rot180", "xcorr2d", "maxpool2d", "avgpool2d", "l2pool2d", "maxpool_route", "lag", "cumsum",
    "cumprod",
)
_CODE = [
    (re.compile(r"\b(" + "|".join(CODE_FUNCTIONS) + r")\("), "the helper {0}()"),
    (re.compile(r"\\operatorname\{(" + "|".join(CODE_FUNCTIONS) + r")\}"), "the helper {0}()"),
    (re.compile(r"(==|!=|≠| mod |\\bmod\b|\bnot |\\lnot|\band\b|\bor\b)"), "the operator '{0}'"),
    (re.compile(r"\[\d+ ?= ?\d+"), "a comparison inside an array"),
]


def ascii_math(text: str) -> list[str]:
    """Each piece of math typed as ASCII in the prose of ``text`` (outside ``$...$``), described."""
    found = []
    try:
        parts = split_math(text)
    except ValueError as exc:
        return [str(exc)]
    for kind, content in parts:
        if kind != "text":
            continue
        prose = _PLACEHOLDER.sub("", content)
        for pattern, what in _ASCII_MATH:
            match = pattern.search(prose)
            if match:
                found.append(f"{what} in prose: {match.group(0)!r} (write it as $...$ math)")
    return found


def code_in_line(line: str) -> list[str]:
    """Each piece of the formula language's code in a rendered worked line (Unicode or LaTeX)."""
    found = []
    for pattern, what in _CODE:
        match = pattern.search(line)
        if match:
            found.append(what.format(match.group(1) if match.groups() else match.group(0)).strip() + f" in {line!r}")
    return found


# A run of three or more letters in math that is not a command or inside \text{}, \mathrm{}, \operatorname{} ...
# is typeset as a product of letters (p·o·s): a name that needs a symbol.
_WORD_IN_MATH = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")
_WRAPPED = re.compile(r"\\(?:text|textrm|mathrm|operatorname|mathit|mathbf|mathsf|texttt|textit|mbox)\s*\{[^{}]*\}")
_COMMAND = re.compile(r"\\[A-Za-z]+")


def words_in_math(latex: str) -> list[str]:
    """Multi-letter names in LaTeX math that would be set as products of letters."""
    bare = _COMMAND.sub(" ", _WRAPPED.sub(" ", latex))
    bare = _PLACEHOLDER.sub(" ", bare)
    return [f"{match.group(0)!r} in math is set as a product of letters (write \\mathrm{{{match.group(0)}}} or a symbol)"
            for match in _WORD_IN_MATH.finditer(bare)]
