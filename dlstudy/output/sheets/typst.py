"""Sheets as Typst, compiled to a PDF by the typst package (no TeX install).

Math goes through ``typstmath`` (LaTeX -> Typst, with every fix-up in one place).
"""

from __future__ import annotations

from typing import Sequence

from dlstudy.output.markup import typst_parts, typst_text
from dlstudy.output.sheets.model import UNBREAKABLE_STEPS, SheetFormat, SheetProblem, SheetVersion, version_label, version_line


_PREAMBLE = """\
#set document(title: {title}, date: none)
#set page(paper: "a4", margin: (x: 1.8cm, top: 1.6cm, bottom: 1.8cm))
#set text(font: "New Computer Modern", size: 10.5pt, lang: "en")
#set par(justify: false, leading: 0.62em)
#set enum(numbering: "1.", spacing: 0.9em)
#let meta(body) = text(size: 8.5pt, fill: luma(80), body)
#let mono(body) = text(font: "DejaVu Sans Mono", size: 7.5pt, body)
#let rule() = line(length: 100%, stroke: 0.4pt + luma(150))
// Matrices in display style even inside a sentence (inline ones shrink their entries to script size),
// and fractions inside them at full size.
#show math.mat: it => {
  show math.frac: f => math.display(f)
  math.display(it)
}
#let head(title, tag) = block(sticky: true, above: 1.3em, below: 0.7em,
  grid(columns: (1fr, auto), column-gutter: 1em, align: (left + top, right + top), strong(title), mono(tag)))
// Worked solutions: formulas in display style (readable fractions), one per line.
#let worked(body) = {
  show math.equation.where(block: false): it => math.display(it)
  body
}
"""


def document(versions: Sequence[SheetVersion], title: str, solutions: str) -> str:
    out = [_PREAMBLE.replace("{title}", _string(title))]
    for version in versions:
        out.append(_page_setup(title, version, "sheet"))
        out.append(_header(title, version, key=False))
        for problem in version.problems:
            out.append(_problem(problem, solutions))
        if solutions == "key":
            out.append(_page_setup(title, version, "answer key", reset=False))
            out.append(_header(title, version, key=True))
            for problem in version.problems:
                out.append(_key_entry(problem))
    return "\n".join(out)


def _string(words: str) -> str:
    return '"' + words.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _page_setup(title: str, version: SheetVersion, what: str, reset: bool = True) -> str:
    footer = typst_text(f"{version_label(version)} · {what}")
    lines = [
        "#pagebreak(weak: true)",
        f"#set page(footer: context meta[{footer} #h(1fr) #counter(page).display()])",
    ]
    if reset:
        lines.append("#counter(page).update(1)")
    return "\n".join(lines)


def _header(title: str, version: SheetVersion, key: bool) -> str:
    heading = f"Answer key: {title}" if key else title
    lines = [
        "#grid(columns: (1fr, auto), align: (left + bottom, right + bottom),",
        f"  text(size: 15pt, weight: \"bold\")[{typst_text(heading)}],",
        "  " + ("[]" if key else "[Name: #box(width: 5.5cm, stroke: (bottom: 0.5pt))[]]") + ")",
        "#v(-0.3em)",
        f"#meta[{typst_text(version_line(version))} #h(1fr) {typst_text('Regenerate this sheet: ')}"
        f"#mono[{typst_text(version.command)}] \\",
        f"#h(1fr){typst_text('Each problem: ')}#mono[{typst_text('dlstudy generate ID --seed S')}]"
        f"{typst_text(' with the id and seed printed beside it')}]",
        "#v(-0.5em)",
        "#rule()",
    ]
    return "\n".join(lines)


def _problem_head(problem: SheetProblem) -> str:
    title = _string(f"{problem.number}. {problem.variant.template.title}")
    return f"#head({title}, {_string(f'{problem.id} --seed {problem.seed}')})"


def _problem(problem: SheetProblem, solutions: str) -> str:
    lines = [_problem_head(problem), typst_parts(problem.statement)]
    choices = problem.variant.template.answer.choices if problem.variant.template.answer.kind == "choice" else ()
    if choices:
        lines.append("#enum(numbering: \"a)\", " + ", ".join(f"[{typst_text(c)}]" for c in choices) + ")")
    if solutions == "inline":
        lines.append(
            "#block(fill: luma(244), inset: 7pt, radius: 3pt, width: 100%)["
            + _solution(problem)
            + "]"
        )
    elif solutions == "key" or solutions == "none":
        lines.append(f"#v({problem.space:.1f}cm)")
    return _keep_together(problem, "\n".join(lines))


def _keep_together(problem: SheetProblem, body: str) -> str:
    """A problem never splits across pages, unless it is longer than a page could hold."""
    breakable = "true" if len(problem.steps) > UNBREAKABLE_STEPS else "false"
    return f"#block(breakable: {breakable}, width: 100%)[\n{body}\n]"


def _solution(problem: SheetProblem) -> str:
    steps = ", ".join(
        f"[{typst_parts(step.what)}{typst_text(': ')}{_formula(step.formula)} \\ {typst_parts(step.work)}]"
        for step in problem.steps
    )
    answer = f"#block(sticky: true, below: 0.8em)[*Answer:* {typst_parts(problem.answer)}]"
    return f"#worked[{answer}\n#enum({steps})]"


def _formula(latex: str) -> str:
    from dlstudy.output.typstmath import inline

    return inline(latex)


def _key_entry(problem: SheetProblem) -> str:
    return _keep_together(problem, f"{_problem_head(problem)}\n{_solution(problem)}")


def _render(versions: Sequence[SheetVersion], title: str, solutions: str) -> tuple[str, str]:
    return document(versions, title, solutions), ""


def _compile(text: str) -> bytes:
    from dlstudy.output import typstmath

    try:
        return typstmath.compile_pdf(text)
    except Exception as exc:  # a Typst error is a bug in the conversion, not the user's
        message = str(getattr(exc, "message", exc)).splitlines()[0]
        raise RuntimeError(f"Typst could not compile the sheet: {message}") from exc


FORMAT = SheetFormat("pdf", ".pdf", _render, _compile)
