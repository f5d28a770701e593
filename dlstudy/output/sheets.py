"""Printable practice sheets with answer keys (``dlstudy sheet``): PDF, LaTeX or Markdown.

    selection, -n, seed -> one seed per version (seed + v - 1) -> exercises.plan_drill
    -> sampling.sample + solving.solve (the live oracle gives the key)
    -> a view of each problem whose math is LaTeX (statement values, answer, worked steps)
    -> Typst (typstmath.latex_to_typst; compiled by the typst package, no TeX install)
       | a standalone LaTeX document | Markdown with $...$ math

Version v of a sheet made with ``--seed S`` is exactly the sheet ``--seed S+v-1``
makes, so every printed sheet names the one command that regenerates it, and
every problem its template id and seed (``dlstudy generate ID --seed N``).

Nothing here prints: ``make_sheets`` writes the files and returns what it wrote.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence


from dlstudy.engine import sampling, solving
from dlstudy.mathtext import latex as latexmath
from dlstudy.mathtext import printer
from dlstudy.engine import exercises
from dlstudy.engine.answers import CHOICE_LETTERS
from dlstudy.engine.results import Solution, Variant
from dlstudy.errors import DlstudyError

FORMATS = {"pdf": ".pdf", "tex": ".tex", "md": ".md"}
SOLUTIONS = ("key", "inline", "none")
DEFAULT_COUNT = 10
MAX_COUNT = 500
MAX_VERSIONS = 1000

Part = tuple[str, str]  # ("text", words) or ("math", LaTeX)
Progress = Callable[[int, int], None]  # (done, total)


# ---------------------------------------------------------------------------
# What a sheet holds


@dataclass(frozen=True)
class StepView:
    what: str
    formula: str  # LaTeX, as the template writes it
    work: tuple[Part, ...]  # the numbers substituted, then the value


@dataclass(frozen=True)
class SheetProblem:
    number: int
    variant: Variant
    solution: Solution
    statement: tuple[Part, ...]
    answer: tuple[Part, ...]
    steps: tuple[StepView, ...]

    @property
    def id(self) -> str:
        return self.variant.template.id

    @property
    def seed(self) -> int:
        return self.variant.seed


@dataclass(frozen=True)
class SheetVersion:
    version: int  # 1-based
    of: int
    seed: int
    problems: tuple[SheetProblem, ...]
    command: str  # the command that regenerates exactly this version


@dataclass(frozen=True)
class SheetResult:
    files: tuple[Path, ...]
    versions: tuple[SheetVersion, ...]
    format: str
    solutions: str
    merged: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [str(f) for f in self.files],
            "format": self.format,
            "solutions": self.solutions,
            "merged": self.merged,
            "versions": [
                {
                    "version": v.version,
                    "seed": v.seed,
                    "command": v.command,
                    "problems": [{"number": p.number, "id": p.id, "seed": p.seed} for p in v.problems],
                }
                for v in self.versions
            ],
        }


# ---------------------------------------------------------------------------
# Problems as math: the terminal shows [[1, 2], [3, 4]]; a sheet shows a matrix


def statement_parts(variant: Variant) -> tuple[Part, ...]:
    """The statement with each ``{name}`` as text (words, plain numbers) or math (arrays, negative numbers)."""
    return printer.parts(variant.pieces, printer.LATEX)


def answer_parts(solution: Solution) -> tuple[Part, ...]:
    """The key's answer, equal to the engine's (``solution.answer_text``) entry for entry."""
    return printer.parts(solution.answer_pieces, printer.LATEX)


def step_views(solution: Solution) -> tuple[StepView, ...]:
    """Each step: its LaTeX formula, then the formula with the numbers in and its value."""
    return tuple(StepView(step.what, step.latex, printer.parts(step.work, printer.LATEX)) for step in solution.steps)


def sheet_problem(number: int, variant: Variant, solution: Solution) -> SheetProblem:
    return SheetProblem(number, variant, solution, statement_parts(variant), answer_parts(solution), step_views(solution))


# ---------------------------------------------------------------------------
# Planning and writing


def version_seed(seed: int, version: int) -> int:
    """Version v (1-based) of ``--seed S`` uses seed S + v - 1."""
    return seed + version - 1


def make_sheets(
    selection: Sequence[str] = (),
    count: int = DEFAULT_COUNT,
    seed: int | None = None,
    versions: int = 1,
    fmt: str | None = None,
    output: str | os.PathLike[str] | None = None,
    solutions: str = "key",
    title: str | None = None,
    merge: bool = False,
    progress: Progress | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> SheetResult:
    """Generate the sheets, write them, and say what was written."""
    if count < 1 or count > MAX_COUNT:
        raise DlstudyError(f"-n must be between 1 and {MAX_COUNT}, got {count}")
    if versions < 1 or versions > MAX_VERSIONS:
        raise DlstudyError(f"--versions must be between 1 and {MAX_VERSIONS}, got {versions}")
    if solutions not in SOLUTIONS:
        raise DlstudyError(f"--solutions must be one of {', '.join(SOLUTIONS)}, not {solutions!r}")
    if seed is not None and seed < 0:
        raise DlstudyError(f"--seed must be >= 0, got {seed}")
    exercises.selected_ids(selection)  # unknown topics and ids fail before anything is written
    seed = exercises.new_seed() if seed is None else seed
    fmt, targets = _targets(fmt, output, seed, versions, merge, solutions, Path(cwd) if cwd else Path.cwd())
    title = title or _default_title(selection)

    total = versions * count + len(targets)
    done = 0
    sheet_versions: list[SheetVersion] = []
    written: list[Future[list[Path]]] = []
    # Typst compiles (and files are written) on worker threads while the next versions are solved:
    # the typst package releases the GIL.
    with ThreadPoolExecutor(max_workers=2) as pool:
        submitted = 0
        for v in range(1, versions + 1):
            vseed = version_seed(seed, v)
            _, plan = exercises.plan_drill(selection, count, vseed)
            problems = []
            for number, (template, problem_seed) in enumerate(plan, 1):
                variant = sampling.sample(template, problem_seed)
                problems.append(sheet_problem(number, variant, solving.solve_variant(variant)))
                done += 1
                if progress:
                    progress(done, total)
            command = " ".join(["dlstudy sheet", *selection, f"-n {count}", f"--seed {vseed}"])
            sheet_versions.append(SheetVersion(v, versions, vseed, tuple(problems), command))
            while submitted < len(targets) and max(targets[submitted][2]) < v:
                path, key_path, members = targets[submitted]
                rendered = _render(fmt, path, key_path, [sheet_versions[i] for i in members], title, solutions)
                written.append(pool.submit(_finish, rendered))
                submitted += 1
        files: list[Path] = []
        for future in written:
            files.extend(future.result())
            done += 1
            if progress:
                progress(done, total)
    return SheetResult(tuple(files), tuple(sheet_versions), fmt, solutions, merged=merge and versions > 1)


def _default_title(selection: Sequence[str]) -> str:
    shown = ", ".join(selection)
    return f"Deep-learning practice: {shown}" if selection and len(shown) <= 40 else "Deep-learning practice sheet"


def _targets(
    fmt: str | None, output: Any, seed: int, versions: int, merge: bool, solutions: str, cwd: Path
) -> tuple[str, list[tuple[Path, Path | None, list[int]]]]:
    """The format and, per file to write, (path, Markdown key path or None, indices of its versions)."""
    out = Path(output).expanduser() if output is not None else None
    if out is not None and not out.is_absolute():
        out = cwd / out
    suffix = out.suffix.lower() if out is not None else ""
    by_suffix = {ext: name for name, ext in FORMATS.items()}
    if fmt is None:
        fmt = by_suffix.get(suffix, "pdf")
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise DlstudyError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    ext = FORMATS[fmt]
    separate = versions > 1 and not merge
    if out is not None and suffix in by_suffix and by_suffix[suffix] != fmt:
        raise DlstudyError(f"-o {output} ends in {suffix} but the format is {fmt}")

    def key_of(path: Path) -> Path | None:
        return path.with_name(path.stem + "-key.md") if fmt == "md" and solutions == "key" else None

    if separate:
        if out is not None and suffix in by_suffix:
            raise DlstudyError(f"with --versions {versions}, -o names a folder (or add --merge for one file), not {output}")
        folder = out if out is not None else cwd / f"sheet-{seed}"
        if folder.exists() and not folder.is_dir():
            raise DlstudyError(f"cannot write into {folder}: it is a file, not a folder")
        _check_writable(folder)
        targets = []
        for v in range(1, versions + 1):
            path = folder / f"sheet-{version_seed(seed, v)}{ext}"
            targets.append((path, key_of(path), [v - 1]))
        return fmt, targets
    if out is None:
        path = cwd / f"sheet-{seed}{ext}"
    elif out.is_dir():
        path = out / f"sheet-{seed}{ext}"
    else:
        path = out if suffix == ext else out.with_name(out.name + ext)
    if path.is_dir():
        raise DlstudyError(f"cannot write {path}: it is a folder")
    _check_writable(path.parent)
    return fmt, [(path, key_of(path), list(range(versions)))]


def _check_writable(folder: Path) -> None:
    """The folder exists and is writable, or can be created: fail before any work is done."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise DlstudyError(f"cannot write into {folder}: {probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise DlstudyError(f"cannot write into {folder}: permission denied")


def _render(
    fmt: str, path: Path, key_path: Path | None, versions: list[SheetVersion], title: str, solutions: str
) -> list[tuple[Path, str, bool]]:
    """(path, text, whether the text is Typst to compile) for each file of one output."""
    if fmt == "pdf":
        return [(path, typst_document(versions, title, solutions), True)]
    if fmt == "tex":
        return [(path, latex_document(versions, title, solutions), False)]
    sheet, key = markdown_documents(versions, title, solutions)
    return [(path, sheet, False)] + ([(key_path, key, False)] if key_path is not None else [])


def _finish(rendered: list[tuple[Path, str, bool]]) -> list[Path]:
    """Compile (Typst) and write the files of one output."""
    from dlstudy.output import typstmath

    for target, text, is_typst in rendered:
        if is_typst:
            try:
                data = typstmath.compile_pdf(text)
            except Exception as exc:  # a Typst error is a bug in the conversion, not the user's
                message = str(getattr(exc, "message", exc)).splitlines()[0]
                raise RuntimeError(f"Typst could not compile {target.name}: {message}") from exc
        else:
            data = text.encode("utf-8")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        except OSError as exc:
            raise DlstudyError(f"cannot write {target}: {exc.strerror or exc}") from None
    return [target for target, _, _ in rendered]


def _version_label(version: SheetVersion) -> str:
    return f"Version {version.version} of {version.of} · seed {version.seed}" if version.of > 1 else f"Seed {version.seed}"


def _version_line(version: SheetVersion) -> str:
    count = len(version.problems)
    return f"{_version_label(version)} · {count} problem{'s' if count != 1 else ''}"


def _space_for(problem: SheetProblem) -> float:
    """Centimetres of blank space left for working under a problem."""
    return min(1.0 + 0.4 * len(problem.steps), 3.0)


# ---------------------------------------------------------------------------
# Typst (PDF)


def typst_text(words: str) -> str:
    """Plain text in Typst markup: a string literal, so no character is ever markup."""
    if not words:
        return ""
    escaped = words.replace("\\", "\\\\").replace('"', '\\"')
    return f'#"{escaped}";'


def typst_parts(parts: Sequence[Part]) -> str:
    from dlstudy.output.typstmath import inline

    return "".join(typst_text(c) if kind == "text" else inline(c) for kind, c in parts)


_TYP_PREAMBLE = """\
#set document(title: {title}, date: none)
#set page(paper: "a4", margin: (x: 1.8cm, top: 1.6cm, bottom: 1.8cm))
#set text(font: "New Computer Modern", size: 10.5pt, lang: "en")
#set par(justify: false, leading: 0.62em)
#set enum(numbering: "1.", spacing: 0.9em)
#let meta(body) = text(size: 8.5pt, fill: luma(80), body)
#let mono(body) = text(font: "DejaVu Sans Mono", size: 7.5pt, body)
#let rule() = line(length: 100%, stroke: 0.4pt + luma(150))
// Matrices in display style even inside a sentence: inline ones shrink their entries to script size.
#show math.mat: it => math.display(it)
#let head(title, tag) = block(sticky: true, above: 1.3em, below: 0.7em,
  grid(columns: (1fr, auto), column-gutter: 1em, align: (left + top, right + top), strong(title), mono(tag)))
// Worked solutions: formulas in display style (readable fractions), one per line.
#let worked(body) = {
  show math.equation.where(block: false): it => math.display(it)
  body
}
"""


def typst_document(versions: Sequence[SheetVersion], title: str, solutions: str) -> str:
    out = [_TYP_PREAMBLE.replace("{title}", _typ_string(title))]
    for version in versions:
        out.append(_typ_page_setup(title, version, "sheet"))
        out.append(_typ_header(title, version, key=False))
        for problem in version.problems:
            out.append(_typ_problem(problem, solutions))
        if solutions == "key":
            out.append(_typ_page_setup(title, version, "answer key", reset=False))
            out.append(_typ_header(title, version, key=True))
            for problem in version.problems:
                out.append(_typ_key_entry(problem))
    return "\n".join(out)


def _typ_string(words: str) -> str:
    return '"' + words.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _typ_page_setup(title: str, version: SheetVersion, what: str, reset: bool = True) -> str:
    footer = typst_text(f"{_version_label(version)} · {what}")
    lines = [
        "#pagebreak(weak: true)",
        f"#set page(footer: context meta[{footer} #h(1fr) #counter(page).display()])",
    ]
    if reset:
        lines.append("#counter(page).update(1)")
    return "\n".join(lines)


def _typ_header(title: str, version: SheetVersion, key: bool) -> str:
    heading = f"Answer key: {title}" if key else title
    lines = [
        "#grid(columns: (1fr, auto), align: (left + bottom, right + bottom),",
        f"  text(size: 15pt, weight: \"bold\")[{typst_text(heading)}],",
        "  " + ("[]" if key else "[Name: #box(width: 5.5cm, stroke: (bottom: 0.5pt))[]]") + ")",
        "#v(-0.3em)",
        f"#meta[{typst_text(_version_line(version))} #h(1fr) {typst_text('Regenerate this sheet: ')}"
        f"#mono[{typst_text(version.command)}] \\",
        f"#h(1fr){typst_text('Each problem: ')}#mono[{typst_text('dlstudy generate ID --seed S')}]"
        f"{typst_text(' with the id and seed printed beside it')}]",
        "#v(-0.5em)",
        "#rule()",
    ]
    return "\n".join(lines)


def _typ_problem_head(problem: SheetProblem) -> str:
    title = _typ_string(f"{problem.number}. {problem.variant.template.title}")
    return f"#head({title}, {_typ_string(f'{problem.id} --seed {problem.seed}')})"


def _typ_problem(problem: SheetProblem, solutions: str) -> str:
    lines = [_typ_problem_head(problem), typst_parts(problem.statement)]
    choices = problem.variant.template.answer.choices if problem.variant.template.answer.kind == "choice" else ()
    if choices:
        lines.append("#enum(numbering: \"a)\", " + ", ".join(f"[{typst_text(c)}]" for c in choices) + ")")
    if solutions == "inline":
        lines.append(
            "#block(fill: luma(244), inset: 7pt, radius: 3pt, width: 100%)["
            + _typ_solution(problem)
            + "]"
        )
    elif solutions == "key" or solutions == "none":
        lines.append(f"#v({_space_for(problem):.1f}cm)")
    return "\n".join(lines)


def _typ_solution(problem: SheetProblem) -> str:
    steps = ", ".join(
        f"[{typst_text(step.what + ': ')}{_typ_formula(step.formula)} \\ {typst_parts(step.work)}]" for step in problem.steps
    )
    answer = f"#block(sticky: true, below: 0.8em)[*Answer:* {typst_parts(problem.answer)}]"
    return f"#worked[{answer}\n#enum({steps})]"


def _typ_formula(latex: str) -> str:
    from dlstudy.output.typstmath import inline

    return inline(latex)


def _typ_key_entry(problem: SheetProblem) -> str:
    return f"{_typ_problem_head(problem)}\n{_typ_solution(problem)}"


# ---------------------------------------------------------------------------
# LaTeX (a standalone document for pdflatex)

# Characters of template text that pdflatex's default input encoding cannot take, and what to write instead.
_TEX_UNICODE = {
    "·": r"\ensuremath{\cdot}", "−": r"\ensuremath{-}", "×": r"\ensuremath{\times}", "∂": r"\ensuremath{\partial}",
    "‖": r"\ensuremath{\|}", "ᵀ": r"\ensuremath{^{\top}}", "²": r"\ensuremath{^{2}}", "³": r"\ensuremath{^{3}}",
    "√": r"\ensuremath{\surd}", "∞": r"\ensuremath{\infty}", "≠": r"\ensuremath{\neq}", "≤": r"\ensuremath{\leq}",
    "≥": r"\ensuremath{\geq}", "≈": r"\ensuremath{\approx}", "→": r"\ensuremath{\rightarrow}", "½": r"\ensuremath{\tfrac{1}{2}}",
    "ŷ": r"\ensuremath{\hat{y}}", "…": r"\ldots{}", "–": "--", "—": "---", "’": "'", "‘": "`", "“": "``", "”": "''",
    "é": r"\'e", "ü": r'\"u', "ö": r'\"o', "ä": r'\"a', "\u00a0": "~",
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


def _tex_breakable(latex: str) -> str:
    """TeX breaks inline math only after operators: let it break after a comma too."""
    return re.sub(r",(\\[ ,;]|\s)", r",\\allowbreak\1", latex)


def _tex_parts(parts: Sequence[Part]) -> str:
    return "".join(tex_text(c) if kind == "text" else f"${_tex_breakable(c)}$" for kind, c in parts)


def _tex_tt(words: str) -> str:
    return r"\texttt{" + tex_text(words).replace("-", "-{}") + "}"


_TEX_PREAMBLE = r"""\documentclass[11pt,a4paper]{article}
\usepackage{amsmath,amssymb}
\usepackage[margin=1.8cm]{geometry}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5em}
\setlength{\emergencystretch}{2em}
\newcommand{\meta}[1]{{\small #1}}
"""


def latex_document(versions: Sequence[SheetVersion], title: str, solutions: str) -> str:
    out = [
        _TEX_PREAMBLE,
        r"\pagestyle{plain}",
        r"\begin{document}",
    ]
    for index, version in enumerate(versions):
        if index:
            out.append(r"\clearpage\setcounter{page}{1}")
        out.append(_tex_header(title, version, key=False))
        for problem in version.problems:
            out.append(_tex_problem(problem, solutions))
        if solutions == "key":
            out.append(r"\clearpage")
            out.append(_tex_header(title, version, key=True))
            for problem in version.problems:
                out.append(_tex_problem_head(problem))
                out.append(_tex_solution(problem))
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


def _tex_header(title: str, version: SheetVersion, key: bool) -> str:
    heading = f"Answer key: {title}" if key else title
    name = "" if key else r"\hfill Name: \underline{\hspace{5.5cm}}"
    return "\n".join([
        rf"{{\Large\bfseries {tex_text(heading)}}}{name}\par",
        rf"\meta{{{tex_text(_version_line(version))} \hfill regenerate: {_tex_tt(version.command)}}}\par",
        rf"\meta{{Each problem: {_tex_tt('dlstudy generate ID --seed S')} with the id and seed printed beside it.}}\par",
        r"\hrule",
    ])


def _tex_problem_head(problem: SheetProblem) -> str:
    return (
        rf"\medskip\textbf{{{tex_text(f'{problem.number}. {problem.variant.template.title}')}}}"
        rf"\hfill\meta{{{_tex_tt(f'{problem.id} --seed {problem.seed}')}}}\par"
    )


def _tex_problem(problem: SheetProblem, solutions: str) -> str:
    lines = [_tex_problem_head(problem), _tex_parts(problem.statement) + r"\par"]
    template = problem.variant.template
    if template.answer.kind == "choice":
        lines.append(r"\begin{enumerate}\renewcommand{\labelenumi}{\alph{enumi})}")
        lines.extend(rf"\item {tex_text(c)}" for c in template.answer.choices)
        lines.append(r"\end{enumerate}")
    if solutions == "inline":
        lines.append(_tex_solution(problem))
    else:
        lines.append(rf"\vspace{{{_space_for(problem):.1f}cm}}")
    return "\n".join(lines)


def _tex_solution(problem: SheetProblem) -> str:
    lines = [rf"\textbf{{Answer:}} {_tex_parts(problem.answer)}\par", r"\begin{enumerate}"]
    for step in problem.steps:
        lines.append(rf"\item {tex_text(step.what)}: ${_tex_breakable(step.formula)}$\\ {_tex_parts(step.work)}")
    lines.append(r"\end{enumerate}")
    return "\n".join(lines)


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


def _md_math(latex: str) -> str:
    """Inline math for GitHub and Obsidian: ``$...$`` on one line, no backslash-punctuation inside."""
    safe = _MD_MATH_UNSAFE.sub(lambda m: _MD_MATH_SAFE[m.group(0)], latex)
    return "$" + " ".join(safe.split()) + "$"


def markdown_parts(parts: Sequence[Part]) -> str:
    return "".join(md_text(c) if kind == "text" else _md_math(c) for kind, c in parts)


def markdown_documents(versions: Sequence[SheetVersion], title: str, solutions: str) -> tuple[str, str]:
    """The sheet and its separate answer key (empty unless solutions == "key")."""
    sheet: list[str] = []
    key: list[str] = []
    for index, version in enumerate(versions):
        if index:
            sheet.append("---\n")
            key.append("---\n")
        sheet.extend(_md_header(title, version, key=False))
        for problem in version.problems:
            sheet.extend(_md_problem(problem, solutions))
        if solutions == "key":
            key.extend(_md_header(title, version, key=True))
            for problem in version.problems:
                key.extend(_md_problem_head(problem))
                key.extend(_md_solution(problem))
    return "\n".join(sheet).rstrip() + "\n", ("\n".join(key).rstrip() + "\n" if key else "")


def _md_header(title: str, version: SheetVersion, key: bool) -> list[str]:
    heading = f"Answer key: {title}" if key else title
    return [
        f"# {md_text(heading)}",
        "",
        f"{md_text(_version_line(version))} · regenerate: `{version.command}`  ",
        "Each problem: `dlstudy generate ID --seed S` with the id and seed printed beside it.",
        "",
    ]


def _md_problem_head(problem: SheetProblem) -> list[str]:
    return [
        f"## {problem.number}. {md_text(problem.variant.template.title)}",
        "",
        f"`{problem.id} --seed {problem.seed}`",
        "",
    ]


def _md_problem(problem: SheetProblem, solutions: str) -> list[str]:
    lines = [*_md_problem_head(problem), markdown_parts(problem.statement), ""]
    template = problem.variant.template
    if template.answer.kind == "choice":
        lines.extend(f"- {letter}) {md_text(c)}" for letter, c in zip(CHOICE_LETTERS, template.answer.choices))
        lines.append("")
    if solutions == "inline":
        lines.extend(_md_solution(problem))
    return lines


def _md_solution(problem: SheetProblem) -> list[str]:
    lines = [f"**Answer:** {markdown_parts(problem.answer)}", ""]
    for i, step in enumerate(problem.steps, 1):
        lines.append(f"{i}. {md_text(step.what)}: {_md_math(step.formula)}  ")
        lines.append(f"   {markdown_parts(step.work)}")
    lines.append("")
    return lines
