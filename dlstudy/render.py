"""LaTeX to readable terminal Unicode.

flatlatex was chosen over pylatexenc's latex2text after running both on our
formulas: latex2text renders ``\\frac{n+2p-k}{s}`` as ``n + 2p - k/s`` (the
grouping is lost, so the formula is wrong), flatlatex as ``(n+2p-k)/s``.
flatlatex lacks a few commands we use; they are added here, in one place.
"""

from __future__ import annotations

from functools import lru_cache

_EXTRA_COMMANDS = {
    r"\left": "", r"\right": "", r"\big": "", r"\Big": "", r"\,": " ", r"\;": " ", r"\!": "", r"\quad": "  ",
    r"\lfloor": "⌊", r"\rfloor": "⌋", r"\lceil": "⌈", r"\rceil": "⌉", r"\top": "ᵀ", r"\prime": "′",
    r"\log": "log", r"\ln": "ln", r"\exp": "exp", r"\tanh": "tanh", r"\max": "max", r"\min": "min",
    r"\arg": "arg", r"\sin": "sin", r"\cos": "cos", r"\det": "det", r"\odot": "⊙", r"\mid": "|",
    r"\lVert": "‖", r"\rVert": "‖", r"\|": "‖", r"\ldots": "…", r"\cdots": "⋯", r"\approx": "≈",
}
_WRAPPERS = (r"\mathrm", r"\operatorname", r"\text", r"\textrm", r"\mathit", r"\boldsymbol")


@lru_cache(maxsize=1)
def _converter():
    import flatlatex

    converter = flatlatex.converter()
    for command, text in _EXTRA_COMMANDS.items():
        if command[1:].isalpha():
            converter.add_newcommand(rf"\newcommand{{{command}}}{{{text}}}")
    for wrapper in _WRAPPERS:
        converter.add_newcommand(rf"\newcommand{{{wrapper}}}[1]{{#1}}")
    return converter


@lru_cache(maxsize=4096)
def latex_to_unicode(latex: str) -> str:
    """``\\frac{a}{b}`` -> ``a/b``, ``\\sigma_j^2`` -> ``σⱼ²``.

    Raises ValueError when the LaTeX can't be rendered or a command is left raw.
    """
    for command, text in _EXTRA_COMMANDS.items():
        if not command[1:].isalpha():
            latex = latex.replace(command, text)
    try:
        text = _converter().convert(latex)
    except Exception as exc:  # flatlatex raises its own bare error types
        raise ValueError(f"cannot render LaTeX {latex!r}: {type(exc).__name__} {exc}") from None
    if "\\" in text:
        raise ValueError(f"LaTeX {latex!r} leaves a raw command in {text!r}")
    return text
