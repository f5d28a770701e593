"""LaTeX to readable terminal Unicode.

flatlatex was chosen over pylatexenc's latex2text after running both on our
formulas: latex2text renders ``\\frac{n+2p-k}{s}`` as ``n + 2p - k/s`` (the
grouping is lost, so the formula is wrong), flatlatex as ``(n+2p-k)/s``.
flatlatex lacks a few commands we use; they are added here, in one place.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from dlstudy.limits import quoted

MAX_LATEX_LENGTH = 2000
MAX_LATEX_NESTING = 30

_EXTRA_COMMANDS = {
    "^{\\prime}": "′", "^\\prime": "′", "'": "′",  # primes first: flatlatex turns ' into a combining accent
    "^{\\top}": "ᵀ", "^\\top": "ᵀ", "^{T}": "ᵀ", "^{*}": "*", "^*": "*",
    r"\left": "", r"\right": "", r"\big": "", r"\Big": "", r"\,": " ", r"\;": " ", r"\!": "", r"\quad": "  ",
    r"\lfloor": "⌊", r"\rfloor": "⌋", r"\lceil": "⌈", r"\rceil": "⌉", r"\top": "ᵀ", r"\prime": "′",
    r"\odot": "⊙", r"\mid": "|", r"\le": "≤", r"\ge": "≥", r"\ne": "≠",
    r"\to": "→", r"\gets": "←", r"\langle": "⟨", r"\rangle": "⟩", r"\{": "\ue000", r"\}": "\ue001", r"\lbrace": "\ue000", r"\rbrace": "\ue001", r"\#": "#", r"\%": "%",
    r"\tfrac": r"\frac", r"\dfrac": r"\frac",
    r"\lVert": "‖", r"\rVert": "‖", r"\|": "‖", r"\ldots": "…", r"\cdots": "⋯", r"\approx": "≈",
}
# Operator names become plain letters before conversion, so \max_a renders as maxₐ, not (max)ₐ.
_OPERATOR_NAMES = re.compile(r"\\(log|ln|exp|tanh|sinh|cosh|max|min|argmax|argmin|arg|sin|cos|tan|det|dim|sup|inf|lim)(?![A-Za-z])")
# \operatorname{argmax}_a: plain letters, so the subscript lands on the name rather than on "(argmax)".
_PLAIN_NAME = re.compile(r"\\(?:operatorname|mathrm)\{([A-Za-z]+)\}")
_TEXT_WITH_SPACES = re.compile(r"\\(?:text|textrm|mathrm)\{([^{}\\]*\s[^{}\\]*)\}")
def _operator_name(match: re.Match) -> str:
    """log x -> "log x": a thin space (one flatlatex keeps) only where an operand follows the name; log(x), max_a,
    K_{\\max}, (x - \\min)/(\\max - \\min) stay tight (Kₘₐₓ, (x-min)/(max-min)), and text after a formula has its
    own space."""
    rest = match.string[match.end():].lstrip()
    return match.group(1) + ("\u2009" if rest[:1].isalnum() or rest[:1] == "\\" else "")


def _after_spaces(latex: str, index: int) -> int:
    while index < len(latex) and latex[index].isspace():
        index += 1
    return index


def _before_spaces(latex: str, index: int) -> int:
    while index > 0 and latex[index - 1].isspace():
        index -= 1
    return index


_FRACTION = re.compile(r"\\frac\s*(?=\{)")
# A command that stands for a symbol or starts a term (a letter, a function, a bracket), not an operator or spacing.
_TERM_COMMAND = re.compile(
    r"\\(?:var)?(?:alpha|beta|gamma|delta|epsilon|zeta|eta|theta|iota|kappa|lambda|mu|nu|xi|pi|rho|sigma|tau"
    r"|upsilon|phi|chi|psi|omega|ell|math[a-z]+|operatorname|boldsymbol|hat|bar|tilde|vec|dot|nabla|partial|sum"
    r"|prod|int|sqrt|frac|log|ln|exp|max|min|sin|cos|tan|tanh|sinh|cosh|det|arg|argmax|argmin|left|infty"
    r"|lVert|lvert|langle|lfloor|lceil)(?![A-Za-z])",
    re.IGNORECASE,
)


def _starts_a_term(text: str) -> bool:
    """A letter or digit on the line (x, σ, 2), or a command for one (\\sigma, \\sum, \\left(, \\lVert): not a raised
    or lowered character (ᵀ, ²) that belongs to what precedes, an operator or a closing bracket."""
    if text[:1] == "\\":
        return bool(_TERM_COMMAND.match(text))
    return bool(text) and unicodedata.category(text[0]) in ("Lu", "Ll", "Lo", "Nd")


# A function name ending where a fraction starts (spaces skipped): \ln in \ln \frac{p}{q}.
_NAME_AT_END = re.compile(_OPERATOR_NAMES.pattern + r"\Z")


def _fractions_in_parentheses(latex: str) -> str:
    """A fraction in parentheses where one line would misread it; also inside the fraction.

    After a function name ln (p)/(q) reads as ln(p)/q, so it prints as ln((p)/(q)); before a factor 1/N∑ᵢxᵢ and
    2/n(ŷ-y) read as 1/(N∑ᵢxᵢ) and 2/(n(ŷ-y)), so they print as (1/N)∑ᵢxᵢ and (2/n)(ŷ-y), but ½x, one glyph,
    stays."""
    import flatlatex.data

    out, index = [], 0
    for match in _FRACTION.finditer(latex):
        if match.start() < index:
            continue  # inside a fraction already put in parentheses (and done there)
        numerator_start = match.end()
        numerator_end = _script_group(latex, numerator_start)
        denominator_start = _after_spaces(latex, numerator_end)
        end = _script_group(latex, denominator_start)
        before = _before_spaces(latex, match.start())
        after_name = _NAME_AT_END.search(latex, max(0, before - len("\\argmax")), before) is not None
        rest = latex[_after_spaces(latex, end):]
        factor_follows = _starts_a_term(rest) or rest[:1] in ("(", "[", "{", "‖", "⌊", "⌈", "⟨")  # ‖ opens a norm here
        numbers = (_inner(latex[numerator_start:numerator_end]), _inner(latex[denominator_start:end]))
        if after_name or factor_follows and numbers not in flatlatex.data.known_fracts:  # ½, ¾: one glyph each
            inside = _fractions_in_parentheses(latex[numerator_start:end])
            out.append(latex[index:match.start()] + "(\\frac" + inside + ")")
            index = end
    out.append(latex[index:])
    return "".join(out)


def _inner(group: str) -> str:
    return (group[1:-1] if group.startswith("{") else group).strip()


_BIG_OPERATOR_CHARS = {"sum": "∑", "prod": "∏", "int": "∫"}
_BIG_OPERATORS = re.compile(r"\\(sum|prod|int)(?![A-Za-z])")
_SCRIPT = r"(\{(?:[^{}]|\{[^{}]*\})*\}|\\?[A-Za-z0-9])"  # {..} with one level of nesting, or one token
_LIMITS = re.compile(r"\\(sum|prod|int)\s*(?:_" + _SCRIPT + r"\s*\^" + _SCRIPT + r"|\^" + _SCRIPT + r"\s*_" + _SCRIPT + r")")


def _with_limits(match: re.Match) -> str:
    """``\\sum_{i=1}^{n}`` as ∑ᵢ₌₁ⁿ, or ∑[i=1..n] when a limit has no Unicode sub/superscript."""
    import flatlatex.data

    lower = match.group(2) or match.group(5)
    upper = match.group(3) or match.group(4)
    lower, upper = (latex_to_unicode(part[1:-1] if part.startswith("{") else part) for part in (lower, upper))
    sub, sup = flatlatex.data.subscript, flatlatex.data.superscript
    symbol = _BIG_OPERATOR_CHARS[match.group(1)]
    if all(c in sub for c in lower) and all(c in sup for c in upper):
        return symbol + "".join(sub[c] for c in lower) + "".join(sup[c] for c in upper) + "\u2009"
    return f"{symbol}[{lower}..{upper}]\u2009"


_WRAPPERS = (r"\mathrm", r"\operatorname", r"\text", r"\textrm", r"\mathit", r"\boldsymbol")


@lru_cache(maxsize=1)
def _converter():
    import flatlatex
    import flatlatex.data

    # Unicode has subscript h k l m n p s t (U+2095-U+209C); flatlatex's table lacks them,
    # so m_t would print as m[t]. Its table is module data read at each conversion.
    flatlatex.data.subscript.update(
        {"h": "ₕ", "k": "ₖ", "l": "ₗ", "m": "ₘ", "n": "ₙ", "p": "ₚ", "s": "ₛ", "t": "ₜ"}
    )
    converter = flatlatex.converter(allow_zw=False)  # (a+b)/c, not superscript-over-subscript glyphs
    for command, text in _EXTRA_COMMANDS.items():
        if command[1:].isalpha() and not text.startswith("\\"):
            converter.add_newcommand(rf"\newcommand{{{command}}}{{{text}}}")
    for wrapper in _WRAPPERS:
        converter.add_newcommand(rf"\newcommand{{{wrapper}}}[1]{{#1}}")
    return converter


def _script_group(latex: str, start: int) -> int:
    """The end of the group or token that a ``_`` at ``start - 1`` applies to."""
    if start >= len(latex):
        return start
    if latex[start] == "{":
        depth = 0
        for index in range(start, len(latex)):
            if latex[index] == "{" and latex[index - 1] != "\\":
                depth += 1
            elif latex[index] == "}" and latex[index - 1] != "\\":
                depth -= 1
                if depth == 0:
                    return index + 1
        return len(latex)
    if latex[start] == "\\":
        end = start + 1
        while end < len(latex) and latex[end].isalpha():
            end += 1
        return max(end, start + 2)
    return start + 1


def _one_bracketed(text: str) -> bool:
    """Whether ``text`` is one pair of parentheses and what they hold: (pos,2i), not (a)+(b)."""
    depth = 0
    for index, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if depth == 0:
            return index == len(text) - 1 and index > 0
    return False


def _plain_subscripts(latex: str) -> str:
    """A subscript Unicode cannot write (``W_{hy}``, ``k_{\\mathrm{eff}}``) as ``W_hy``, not flatlatex's ``W[hy]``."""
    import flatlatex.data

    out, index = [], 0
    while True:
        at = latex.find("_", index)
        if at < 0 or (at > 0 and latex[at - 1] == "\\"):
            if at < 0:
                out.append(latex[index:])
                return "".join(out)
            out.append(latex[index : at + 1])
            index = at + 1
            continue
        end = _script_group(latex, at + 1)
        group = latex[at + 1 : end]
        inner = group[1:-1] if group.startswith("{") else group
        _converter()  # fills the subscript table
        try:
            shown = latex_to_unicode(inner) if inner else ""
        except ValueError:
            shown = ""
        if shown and not all(c in flatlatex.data.subscript for c in shown):
            nested = _plain_subscripts(inner)
            # in parentheses unless it is one word (W_hy, T_cur, s′, ∞): ∑_(i:pᵢ>0)pᵢ shows where the subscript ends
            one_word = "_" not in shown and all(c.isalnum() or c in "′*∞" for c in shown)
            delimited = _one_bracketed(shown)  # PE_{(pos, 2i)}: in parentheses already
            out.append(latex[index:at] + "\ue002{" + (nested if one_word or delimited else f"({nested})") + "}")
            rest = latex[_after_spaces(latex, end):]
            if one_word and _starts_a_term(rest):
                out.append("\u2009")  # a letter after it is not part of it: W_ig xₜ, not W_igxₜ
        else:
            out.append(latex[index:end])
        index = end


# Sized for the ~5,000 distinct formulas of the built-in decks and templates: with 4096 entries a process
# going through all of them (a sheet of every template, the test suite) kept evicting and re-rendering them.
@lru_cache(maxsize=16384)
def latex_to_unicode(latex: str) -> str:
    """``\\frac{a}{b}`` -> ``a/b``, ``\\sigma_j^2`` -> ``σⱼ²``.

    Raises ValueError when the LaTeX can't be rendered or a command is left raw,
    or is longer or more deeply nested than any formula (flatlatex takes
    seconds on thousands of nested braces).
    """
    if len(latex) > MAX_LATEX_LENGTH:
        raise ValueError(f"a formula of {len(latex)} characters is too long (the limit is {MAX_LATEX_LENGTH})")
    depth = deepest = 0
    for char in latex:
        depth += (char == "{") - (char == "}")
        deepest = max(deepest, depth)
    if deepest > MAX_LATEX_NESTING:
        raise ValueError(f"braces nested {deepest} deep in {quoted(latex)} (the limit is {MAX_LATEX_NESTING})")
    for command, text in _EXTRA_COMMANDS.items():
        if not command[1:].isalpha() or text.startswith("\\"):
            latex = latex.replace(command, text)
    latex = _fractions_in_parentheses(latex)
    latex = _OPERATOR_NAMES.sub(_operator_name, latex)
    latex = _plain_subscripts(latex)
    # big operators with limits are rendered here: ∑ᵢ₌₁ⁿ rather than flatlatex's (∑ᵢ₌₁)ⁿ
    latex = _LIMITS.sub(_with_limits, latex)
    latex = _BIG_OPERATORS.sub(lambda m: _BIG_OPERATOR_CHARS[m.group(1)], latex)
    latex = _PLAIN_NAME.sub(lambda m: m.group(1) + " ", latex)
    # flatlatex drops spaces; a no-break space survives it
    latex = _TEXT_WITH_SPACES.sub(lambda m: m.group(1).replace(" ", "\u00a0"), latex)
    try:
        text = _converter().convert(latex)
    except Exception as exc:  # flatlatex raises its own bare error types
        raise ValueError(f"cannot render LaTeX {quoted(latex)}: {type(exc).__name__} {quoted(str(exc))}") from None
    text = text.replace("\ue000", "{").replace("\ue001", "}")  # literal braces, kept out of flatlatex's grouping
    text = text.replace("\ue002", "_")
    if "\\" in text:
        raise ValueError(f"LaTeX {quoted(latex)} leaves a raw command in {quoted(text)}")
    return text
