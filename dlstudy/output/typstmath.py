"""LaTeX math to Typst math: tex2typst, plus the fix-ups it needs, in one place.

Any LaTeX formula that dlstudy typesets with Typst (template steps, sheet
values, deck formulas, ...) goes through ``latex_to_typst``.  tex2typst does
the conversion; its output does not always match the symbol names of the
bundled Typst, and a few LaTeX idioms come out poorly, so:

* a **pre-pass** rewrites the LaTeX first (``_PRE``): multi-letter
  ``\\mathrm``/``\\textrm`` names become operator names (``softmax(x)``, not
  ``s o f t m a x (x)``), ``\\mathit`` words and multi-letter sub/superscripts
  (``J_{regularized}``) become one italic word, ``|x|`` and ``\\|x\\|`` pairs
  become matched fences;
* a **fix-up table** (``_POST``) renames Typst symbols that tex2typst spells
  the pre-0.14 way (``dot.circle`` -> ``dot.o``) or not at all (``lvert``).

``tests/test_typstmath.py`` compiles every step formula of every template and
fails on any Typst error, so a new formula that needs a new fix-up is caught.
tex2typst and typst are imported inside the functions (``dlstudy --help`` must
stay fast).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Sequence

# ---------------------------------------------------------------------------
# Pre-pass on the LaTeX

_PLACEHOLDER = "QZ{}QZ"  # survives tex2typst as the string "QZ<n>QZ"; swapped for Typst code afterwards
_PLACEHOLDER_OUT = re.compile(r'"QZ(\d+)QZ"')

# (pattern, replacement) applied in order; a replacement may be a function of the match.
_WORD = r"([A-Za-z][A-Za-z ]*[A-Za-z])"  # two or more letters (spaces allowed inside)
_PRE: tuple[tuple[re.Pattern[str], str], ...] = (
    # \lvert x \rvert, \lVert x \rVert: tex2typst leaves lvert/rVert, which Typst does not know
    (re.compile(r"\\lvert\b"), r"\\left|"),
    (re.compile(r"\\rvert\b"), r"\\right|"),
    (re.compile(r"\\lVert\b"), r"\\left\\|"),
    (re.compile(r"\\rVert\b"), r"\\right\\|"),
    (re.compile(r"\\operatorname\*"), r"\\operatorname"),
    # \textrm/\textup: tex2typst prints them raw ("textrm a b c")
    (re.compile(r"\\text(?:rm|up|normal)\{"), r"\\text{"),
    # \mathrm{softmax}: an upright name set as an operator ("softmax(x)", not "s o f t m a x (x)")
    (re.compile(r"\\mathrm\{([A-Za-z]{2,})\}"), r"\\operatorname{\1}"),
    # \mathrm{<s>} and other upright non-words: a text string
    (re.compile(r"\\mathrm\{([^{}\\]*[^{}\\A-Za-z][^{}\\]*)\}"), r"\\text{\1}"),
)
_ITALIC_WORD = re.compile(r"\\(?:mathit|textit)\{" + _WORD + r"\}")
_SCRIPT_WORD = re.compile(r"([_^])\{([A-Za-z]{2,})\}")
_NOT_SIZED = r"(?<!\\left)(?<!\\right)(?<!\\big)(?<!\\Big)(?<!\\bigg)(?<!\\Bigg)"
_BAR_NORM = re.compile(_NOT_SIZED + r"\\\|(.+?)" + _NOT_SIZED + r"\\\|")  # \|x\| -> \left\| x \right\|
# \big| and friends: a lone evaluation bar (f|_{x=0}), never half of a pair; \big( is just "(".
_SIZED_BAR = re.compile(r"\\(?:big|Big|bigg|Bigg)[lrm]?(\||\\\||\\vert\b|\\Vert\b)")
_SIZED = re.compile(r"\\(?:big|Big|bigg|Bigg)[lrm]?(?![A-Za-z])")


def _pair_bars(latex: str) -> str:
    r"""``|x - y|`` -> ``\left| x - y \right|``: pairs bars left to right within each brace group.

    Bare bars come out of tex2typst as spaced relation bars (``| x |``).
    """
    out: list[str] = []
    open_at: list[int | None] = [None]  # per brace depth: index in ``out`` of an unmatched bar
    i = 0
    while i < len(latex):
        ch = latex[i]
        if ch == "\\":
            match = re.match(r"\\(?:[A-Za-z]+|.)", latex[i:])
            token = match.group(0) if match else ch
            if token in (r"\left", r"\right", r"\big", r"\Big", r"\bigg", r"\Bigg") and latex[i + len(token):i + len(token) + 1] == "|":
                token += "|"
            out.append(token)
            i += len(token)
            continue
        if ch == "{":
            open_at.append(None)
        elif ch == "}" and len(open_at) > 1:
            open_at.pop()
        elif ch == "|":
            if open_at[-1] is None:
                open_at[-1] = len(out)
            else:
                out[open_at[-1]] = r"\left|"
                out.append(r"\right|")
                open_at[-1] = None
                i += 1
                continue
        out.append(ch)
        i += 1
    return "".join(out)


_NUMBER = r"-?\d+(?:\.\d+)?(?: \\times 10\^\{-?\d+\}|)|10\^\{-?\d+\}"
_NUMBER_MATRIX = re.compile(
    r"\\begin\{bmatrix\}\s*((?:(?:" + _NUMBER + r")\s*(?:&|\\\\)\s*)*(?:" + _NUMBER + r"))\s*\\end\{bmatrix\}"
)
_POWER = re.compile(r"(?:(-?\d+(?:\.\d+)?) \\times )?10\^\{(-?\d+)\}")


def _number_matrix(body: str) -> str:
    """``1 & -2 \\\\ 3.5 & 10^{-4}`` -> ``mat(delim: "[", 1, -2; 3.5, 10^(-4))``."""

    def cell(text: str) -> str:
        text = text.strip()
        power = _POWER.fullmatch(text)
        if power is None:
            return text
        mantissa, exponent = power.groups()
        return (f"{mantissa} times " if mantissa else "") + f"10^({exponent})"

    rows = [", ".join(cell(c) for c in row.split("&")) for row in body.split("\\\\")]
    return 'mat(delim: "[", ' + "; ".join(rows) + ")"


def _prepass(latex: str) -> tuple[str, list[str]]:
    """The LaTeX rewritten for tex2typst, and the Typst code of each placeholder."""
    snippets: list[str] = []

    def hold(typst_code: str) -> str:
        snippets.append(typst_code)
        return r"\text{" + _PLACEHOLDER.format(len(snippets) - 1) + "}"

    # A matrix of plain numbers (most of a worked solution) is written straight away: tex2typst
    # takes ~1 ms per formula, mostly on these, and they need no conversion beyond the syntax.
    latex = _NUMBER_MATRIX.sub(lambda m: hold(_number_matrix(m.group(1))), latex)
    for pattern, replacement in _PRE:
        latex = pattern.sub(replacement, latex)
    latex = _BAR_NORM.sub(lambda m: r"\left\|" + m.group(1) + r"\right\|", latex)
    latex = _pair_bars(latex)
    latex = _SIZED_BAR.sub(lambda m: hold("bar.v.double" if m.group(1) in ("\\|", "\\Vert") else "bar.v"), latex)
    latex = _SIZED.sub("", latex)
    latex = _ITALIC_WORD.sub(lambda m: hold(f'italic("{m.group(1)}")'), latex)
    # J_{regularized}: one italic word (tex2typst gives J_(r e g u l a r i z e d))
    latex = _SCRIPT_WORD.sub(lambda m: m.group(1) + "{" + hold(f'italic("{m.group(2)}")') + "}", latex)
    return latex, snippets


# ---------------------------------------------------------------------------
# Fix-ups on the Typst output: tex2typst's name -> the bundled Typst's name

FIXUPS: dict[str, str] = {
    "dot.circle": "dot.o",  # \odot; Typst 0.14 removed the "circle" modifier
    "plus.circle": "plus.o",  # \oplus
    "times.circle": "times.o",  # \otimes
    "minus.circle": "minus.o",  # \ominus
    "div.circle": "div.o",
    "lvert": "|",
    "rvert": "|",
    "lVert": "‖",
    "rVert": "‖",
    "lnot": "not",  # \lnot
    "bar.v.double": "‖",  # a lone \| (pairs become norm(...))
}
_FIXUP = re.compile(r"(?<![\w.\"])(" + "|".join(re.escape(k) for k in sorted(FIXUPS, key=len, reverse=True)) + r")(?![\w.])")
_SPACE_BEFORE_PAREN = re.compile(r"(?<=\")\s+(?=[(\[])")  # "softmax" (x) -> "softmax"(x): no gap before the argument
_RAW_COMMAND = re.compile(r"\\[A-Za-z]")


@lru_cache(maxsize=8192)
def latex_to_typst(latex: str) -> str:
    """Typst math for a LaTeX formula (without the ``$`` delimiters).

    Raises ValueError when the LaTeX cannot be converted.
    """
    import tex2typst

    prepared, snippets = _prepass(latex)
    try:
        typst = tex2typst.tex2typst(prepared)
    except Exception as exc:  # tex2typst raises bare ValueErrors with a JS stack trace
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"cannot convert LaTeX {latex!r} to Typst: {first}") from None
    typst = _FIXUP.sub(lambda m: FIXUPS[m.group(1)], typst)
    typst = _SPACE_BEFORE_PAREN.sub("", typst)
    typst = _PLACEHOLDER_OUT.sub(lambda m: snippets[int(m.group(1))], typst)
    if _RAW_COMMAND.search(typst.replace('\\"', "")):
        raise ValueError(f"LaTeX {latex!r} leaves a raw command in Typst {typst!r}")
    return typst


def inline(latex: str) -> str:
    """``$...$`` Typst inline math for a LaTeX formula."""
    return "$" + latex_to_typst(latex) + "$"


def display(latex: str) -> str:
    """``$ ... $`` Typst display (block) math for a LaTeX formula."""
    return "$ " + latex_to_typst(latex) + " $"


# ---------------------------------------------------------------------------
# Checking that formulas compile


def compile_pdf(source: str) -> bytes:
    """Compile a Typst document with the bundled fonts only (the same PDF on every machine)."""
    import typst

    return typst.compile(source.encode("utf-8"), format="pdf", ignore_system_fonts=True)


def compile_errors(formulas: Iterable[str]) -> list[tuple[str, str]]:
    """``(latex, error)`` for each formula that does not convert or compile; empty when all do.

    All formulas go into one document (one compile); only when it fails is each
    formula compiled alone to name the culprits.
    """
    formulas = list(dict.fromkeys(formulas))
    errors: list[tuple[str, str]] = []
    converted: list[tuple[str, str]] = []
    for latex in formulas:
        try:
            converted.append((latex, latex_to_typst(latex)))
        except ValueError as exc:
            errors.append((latex, str(exc)))
    if _compile_error(_document(t for _, t in converted)) is None:
        return errors
    for latex, typst_math in converted:
        error = _compile_error(_document([typst_math]))
        if error is not None:
            errors.append((latex, f"{error} in Typst {typst_math!r}"))
    return errors


def _document(typst_formulas: Iterable[str]) -> str:
    body = "\n\n".join(f"$ {t} $" for t in typst_formulas)
    return f"#set page(width: 20cm, height: auto, margin: 1cm)\n{body}\n"


def _compile_error(source: str) -> str | None:
    try:
        compile_pdf(source)
    except Exception as exc:  # typst.TypstError
        return str(getattr(exc, "message", exc)).splitlines()[0]
    return None


def formulas_of_templates(templates: Sequence[object] | None = None) -> list[str]:
    """Every step formula (every case) of every template."""
    from dlstudy.engine.templates import all_templates

    found: list[str] = []
    for template in templates if templates is not None else all_templates():
        for step in template.steps:  # type: ignore[attr-defined]
            found.extend(step.latex.values())
    return list(dict.fromkeys(found))
