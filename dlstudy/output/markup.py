"""Text and math in each output's markup: Typst, LaTeX (pdflatex) and Markdown.

Every printed output holds ``Part``s: ``("text", words)`` or ``("math",
LaTeX)``. Words are escaped so no character of them is ever markup; math is
converted (Typst) or passed on in a form the target's math reader takes.
"""

from __future__ import annotations

import re
from typing import Sequence

from dlstudy.mathtext import latex as latexmath

Part = tuple[str, str]  # ("text", words) or ("math", LaTeX)


# ---------------------------------------------------------------------------
# Typst


def typst_text(words: str) -> str:
    """Plain text in Typst markup: a string literal, so no character is ever markup."""
    if not words:
        return ""
    escaped = words.replace("\\", "\\\\").replace('"', '\\"')
    return f'#"{escaped}";'


def typst_parts(parts: Sequence[Part]) -> str:
    from dlstudy.output.typstmath import inline

    return "".join(typst_text(c) if kind == "text" else inline(c) for kind, c in parts)


# ---------------------------------------------------------------------------
# LaTeX (pdflatex)

# Characters of template text that pdflatex's default input encoding cannot take, and what to write instead.
_TEX_UNICODE = {
    "·": r"\ensuremath{\cdot}", "−": r"\ensuremath{-}", "×": r"\ensuremath{\times}", "∂": r"\ensuremath{\partial}",
    "‖": r"\ensuremath{\|}", "ᵀ": r"\ensuremath{^{\top}}", "²": r"\ensuremath{^{2}}", "³": r"\ensuremath{^{3}}",
    "√": r"\ensuremath{\surd}", "∞": r"\ensuremath{\infty}", "≠": r"\ensuremath{\neq}", "≤": r"\ensuremath{\leq}",
    "≥": r"\ensuremath{\geq}", "≈": r"\ensuremath{\approx}", "→": r"\ensuremath{\rightarrow}", "½": r"\ensuremath{\tfrac{1}{2}}",
    "ŷ": r"\ensuremath{\hat{y}}", "…": r"\ldots{}", "–": "--", "—": "---", "’": "'", "‘": "`", "“": "``", "”": "''",
    "é": r"\'e", "ü": r'\"u', "ö": r'\"o', "ä": r'\"a', "\u00a0": "~", "\u2009": r"\,",
    "∑": r"\ensuremath{\sum}", "∈": r"\ensuremath{\in}", "∩": r"\ensuremath{\cap}", "∪": r"\ensuremath{\cup}",
    "⌊": r"\ensuremath{\lfloor}", "⌋": r"\ensuremath{\rfloor}", "⌈": r"\ensuremath{\lceil}", "⌉": r"\ensuremath{\rceil}",
    "ε": r"\ensuremath{\varepsilon}", "φ": r"\ensuremath{\varphi}",
    **{char: rf"\ensuremath{{\{name}}}" for name, char in latexmath.GREEK.items() if name not in ("epsilon", "phi")},
}
_TEX_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
    "_": r"\_", "^": r"\^{}", "~": r"\~{}", "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
}
_COMBINING_HAT = re.compile(r"(\w)\u0302")


def tex_text(words: str) -> str:
    """Plain text for pdflatex: specials escaped, non-ASCII characters as LaTeX commands."""
    out = []
    for ch in words:
        if ch in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[ch])
        elif ch in _TEX_UNICODE:
            out.append(_TEX_UNICODE[ch])
        else:
            out.append(ch)
    text = "".join(out)
    return _COMBINING_HAT.sub(lambda m: rf"\ensuremath{{\hat{{{m.group(1)}}}}}", text)


def tex_breakable(latex: str) -> str:
    """TeX breaks inline math only after operators: let it break after a comma too."""
    return re.sub(r",(\\[ ,;]|\s)", r",\\allowbreak\1", latex)


def tex_parts(parts: Sequence[Part]) -> str:
    return "".join(tex_text(c) if kind == "text" else f"${tex_breakable(c)}$" for kind, c in parts)


# ---------------------------------------------------------------------------
# Markdown ($...$ math for GitHub and Obsidian)

_MD_SPECIAL = re.compile(r"([\\`*_$<>\[\]|#~])")


def md_text(words: str) -> str:
    """Plain text in Markdown: every character that could start markup or math is escaped."""
    return _MD_SPECIAL.sub(r"\\\1", words)


# Inside $...$ GitHub may still apply Markdown's backslash escapes (\\ -> \, \| -> |): spell those
# commands without backslash-punctuation.  MathJax (GitHub, Obsidian) knows every replacement.
_MD_MATH_SAFE = {
    "\\\\": r"\cr ", "\\|": r"\Vert ", "\\{": r"\lbrace ", "\\}": r"\rbrace ",
    "\\,": r"\mspace{3mu}", "\\:": r"\mspace{4mu}", "\\;": r"\mspace{5mu}", "\\!": r"\mspace{-3mu}",
    "\\_": r"\text{_}",
}
_MD_MATH_UNSAFE = re.compile("|".join(re.escape(k) for k in _MD_MATH_SAFE))


def md_math(latex: str) -> str:
    """Inline math for GitHub and Obsidian: ``$...$`` on one line, no backslash-punctuation inside."""
    safe = _MD_MATH_UNSAFE.sub(lambda m: _MD_MATH_SAFE[m.group(0)], latex)
    return "$" + " ".join(safe.split()) + "$"


def markdown_parts(parts: Sequence[Part]) -> str:
    return "".join(md_text(c) if kind == "text" else md_math(c) for kind, c in parts)
