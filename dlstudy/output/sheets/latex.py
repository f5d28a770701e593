"""Sheets as a standalone LaTeX document for pdflatex."""

from __future__ import annotations

from typing import Sequence

from dlstudy.output.markup import tex_breakable, tex_parts, tex_text
from dlstudy.output.sheets.model import UNBREAKABLE_STEPS, SheetFormat, SheetProblem, SheetVersion, utf8, version_line


def _tt(words: str) -> str:
    return r"\texttt{" + tex_text(words).replace("-", "-{}") + "}"


_PREAMBLE = r"""\documentclass[11pt,a4paper]{article}
\usepackage{amsmath,amssymb}
\usepackage[margin=1.8cm]{geometry}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5em}
\setlength{\emergencystretch}{2em}
\newcommand{\meta}[1]{{\small #1}}
"""


def document(versions: Sequence[SheetVersion], title: str, solutions: str) -> str:
    out = [
        _PREAMBLE,
        r"\pagestyle{plain}",
        r"\begin{document}",
    ]
    for index, version in enumerate(versions):
        if index:
            out.append(r"\clearpage\setcounter{page}{1}")
        out.append(_header(title, version, key=False))
        for problem in version.problems:
            out.append(_problem(problem, solutions))
        if solutions == "key":
            out.append(r"\clearpage")
            out.append(_header(title, version, key=True))
            for problem in version.problems:
                out.append(_keep_together(problem, _problem_head(problem) + "\n" + _solution(problem)))
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


def _header(title: str, version: SheetVersion, key: bool) -> str:
    heading = f"Answer key: {title}" if key else title
    name = "" if key else r"\hfill Name: \underline{\hspace{5.5cm}}"
    return "\n".join([
        rf"{{\Large\bfseries {tex_text(heading)}}}{name}\par",
        rf"\meta{{{tex_text(version_line(version))} \hfill regenerate: {_tt(version.command)}}}\par",
        rf"\meta{{Each problem: {_tt('dlstudy generate ID --seed S')} with the id and seed printed beside it.}}\par",
        r"\hrule",
    ])


def _problem_head(problem: SheetProblem) -> str:
    return (
        rf"\medskip\textbf{{{tex_text(f'{problem.number}. {problem.variant.template.title}')}}}"
        rf"\hfill\meta{{{_tt(f'{problem.id} --seed {problem.seed}')}}}\par"
    )


def _problem(problem: SheetProblem, solutions: str) -> str:
    lines = [_problem_head(problem), tex_parts(problem.statement) + r"\par"]
    template = problem.variant.template
    if template.answer.kind == "choice":
        lines.append(r"\begin{enumerate}\renewcommand{\labelenumi}{\alph{enumi})}")
        lines.extend(rf"\item {tex_text(c)}" for c in template.answer.choices)
        lines.append(r"\end{enumerate}")
    if solutions == "inline":
        lines.append(_solution(problem))
    else:
        lines.append(rf"\vspace{{{problem.space:.1f}cm}}")
    return _keep_together(problem, "\n".join(lines))


def _keep_together(problem: SheetProblem, body: str) -> str:
    """A problem never splits across pages, unless it is longer than a page could hold."""
    if len(problem.steps) > UNBREAKABLE_STEPS:
        return body
    return "\\par\\noindent\\begin{minipage}{\\linewidth}\n" + body + "\n\\end{minipage}\\par"


def _solution(problem: SheetProblem) -> str:
    lines = [rf"\textbf{{Answer:}} {tex_parts(problem.answer)}\par", r"\begin{enumerate}"]
    for step in problem.steps:
        lines.append(rf"\item {tex_parts(step.what)}: ${tex_breakable(step.formula)}$\\ {tex_parts(step.work)}")
    lines.append(r"\end{enumerate}")
    return "\n".join(lines)


def _render(versions: Sequence[SheetVersion], title: str, solutions: str) -> tuple[str, str]:
    return document(versions, title, solutions), ""


FORMAT = SheetFormat("tex", ".tex", _render, utf8)
