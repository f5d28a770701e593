"""Sheets as Markdown with $...$ math (GitHub, Obsidian); the answer key is a file of its own."""

from __future__ import annotations

from typing import Sequence

from dlstudy.engine.answers import CHOICE_LETTERS
from dlstudy.output.markup import markdown_parts, md_math, md_text
from dlstudy.output.sheets.model import SheetFormat, SheetProblem, SheetVersion, utf8, version_line


def documents(versions: Sequence[SheetVersion], title: str, solutions: str) -> tuple[str, str]:
    """The sheet and its separate answer key (empty unless solutions == "key")."""
    sheet: list[str] = []
    key: list[str] = []
    for index, version in enumerate(versions):
        if index:
            sheet.append("---\n")
            key.append("---\n")
        sheet.extend(_header(title, version, key=False))
        for problem in version.problems:
            sheet.extend(_problem(problem, solutions))
        if solutions == "key":
            key.extend(_header(title, version, key=True))
            for problem in version.problems:
                key.extend(_problem_head(problem))
                key.extend(_solution(problem))
    return "\n".join(sheet).rstrip() + "\n", ("\n".join(key).rstrip() + "\n" if key else "")


def _header(title: str, version: SheetVersion, key: bool) -> list[str]:
    heading = f"Answer key: {title}" if key else title
    return [
        f"# {md_text(heading)}",
        "",
        f"{md_text(version_line(version))} · regenerate: `{version.command}`  ",
        "Each problem: `dlstudy generate ID --seed S` with the id and seed printed beside it.",
        "",
    ]


def _problem_head(problem: SheetProblem) -> list[str]:
    return [
        f"## {problem.number}. {md_text(problem.variant.template.title)}",
        "",
        f"`{problem.id} --seed {problem.seed}`",
        "",
    ]


def _problem(problem: SheetProblem, solutions: str) -> list[str]:
    lines = [*_problem_head(problem), markdown_parts(problem.statement), ""]
    template = problem.variant.template
    if template.answer.kind == "choice":
        lines.extend(f"- {letter}) {md_text(c)}" for letter, c in zip(CHOICE_LETTERS, template.answer.choices))
        lines.append("")
    if solutions == "inline":
        lines.extend(_solution(problem))
    return lines


def _solution(problem: SheetProblem) -> list[str]:
    lines = [f"**Answer:** {markdown_parts(problem.answer)}", ""]
    for i, step in enumerate(problem.steps, 1):
        lines.append(f"{i}. {markdown_parts(step.what)}: {md_math(step.formula)}  ")
        lines.append(f"   {markdown_parts(step.work)}")
    lines.append("")
    return lines


FORMAT = SheetFormat("md", ".md", documents, utf8, separate_key=True)
