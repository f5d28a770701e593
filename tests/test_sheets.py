"""`dlstudy sheet`: look inside the PDF, LaTeX and Markdown it writes.

PDF text is extracted with pypdfium2 (no poppler needed); pdflatex is used only
when it is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dlstudy.engine import exercises, sampling
from dlstudy.output import sheets
from dlstudy.output.markup import md_text
from dlstudy.cli.app import app
from dlstudy.mathtext.numbers import round_as_displayed
from dlstudy.engine.templates import all_templates, get_template

pdfium = pytest.importorskip("pypdfium2")
runner = CliRunner()
ALL = len(all_templates())  # -n ALL: plan_drill takes each template once


def displayed(value, sigfigs: int):
    """What the terminal shows: whole numbers exactly, others to ``sigfigs`` significant digits."""
    value = np.asarray(value, dtype=float)
    return np.where(value == np.round(value), value, round_as_displayed(value, sigfigs))


def pdf_pages(path: Path) -> list[str]:
    document = pdfium.PdfDocument(str(path))
    try:
        pages = [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()
    # pdfium marks some hyphens as U+FFFE; wrapped lines become single spaces
    return [" ".join(text.replace("\ufffe", "-").replace("\u2212", "-").split()) for text in pages]


@pytest.fixture(scope="module")
def every_template(tmp_path_factory):
    """One sheet holding every template once, with inline solutions, in each format."""
    out = tmp_path_factory.mktemp("every")
    return {
        fmt: sheets.make_sheets(count=ALL, seed=3, fmt=fmt, output=out / f"all.{fmt}", solutions="inline")
        for fmt in ("pdf", "tex", "md")
    }


# ---------------------------------------------------------------------------
# PDF


def test_pdf_pages_problems_and_seeds(tmp_path):
    result = sheets.make_sheets(["conv-output-size", "rnn-param-count"], count=2, seed=5, output=tmp_path / "s.pdf")
    assert result.files == (tmp_path / "s.pdf",)
    pages = pdf_pages(tmp_path / "s.pdf")
    assert len(pages) == 2  # one page of problems, the key on its own page
    sheet, key = pages
    assert "Seed 5" in sheet and "--seed 5" in sheet and "Answer key" not in sheet
    problems = result.versions[0].problems
    assert [p.number for p in problems] == [1, 2]
    for p in problems:
        assert f"{p.number}. {p.variant.template.title}" in sheet
        assert f"{p.id} --seed {p.seed}" in sheet and f"{p.id} --seed {p.seed}" in key
    assert key.startswith("Answer key") and "Seed 5" in key and key.count("Answer:") == 2


@pytest.mark.parametrize("solutions, pages, answers", [("inline", 1, 2), ("none", 1, 0)])
def test_pdf_solutions_inline_or_none(tmp_path, solutions, pages, answers):
    sheets.make_sheets(["conv-output-size"], count=2, seed=5, output=tmp_path / "s.pdf", solutions=solutions)
    text = pdf_pages(tmp_path / "s.pdf")
    assert len(text) == pages and "Answer key" not in text[0] and text[0].count("Answer:") == answers


def test_merged_versions_each_with_its_own_key(tmp_path):
    result = sheets.make_sheets(["conv-output-size"], count=2, seed=40, versions=3, merge=True, output=tmp_path / "m.pdf")
    assert result.merged and result.files == (tmp_path / "m.pdf",)
    assert [v.seed for v in result.versions] == [40, 41, 42]
    pages = pdf_pages(tmp_path / "m.pdf")
    assert len(pages) == 6
    for v in result.versions:
        sheet, key = pages[2 * v.version - 2], pages[2 * v.version - 1]
        assert f"Version {v.version} of 3 · seed {v.seed}" in sheet and key.startswith("Answer key")
        assert all(f"{p.id} --seed {p.seed}" in sheet for p in v.problems)


def test_pdf_of_every_template_shows_no_raw_markup(every_template):
    pages = pdf_pages(every_template["pdf"].files[0])
    text = "\n".join(pages)
    assert text.count("Answer:") == ALL
    raw = re.findall(r"\\[A-Za-z]+|\$|QZ\d+QZ|\b(?:mat|op|italic|upright)\(", text)
    assert raw == [], f"raw LaTeX/Typst markup in the PDF text: {sorted(set(raw))}"


def test_pdf_answers_equal_the_engine(tmp_path):
    """Parse 'Answer: N' back out of the PDF text and compare with `generate`."""
    ids = ["conv-output-size", "conv-param-count", "rnn-param-count", "binary-cross-entropy", "perplexity"]
    for seed in (1, 2):
        result = sheets.make_sheets(ids, count=len(ids), seed=seed, output=tmp_path / f"{seed}.pdf")
        # the key may run over more than one page (each page's footer says "answer key")
        key = "\n".join(page for page in pdf_pages(tmp_path / f"{seed}.pdf") if "answer key" in page)
        # thousands are separated by thin spaces on the sheet (1 982 720)
        found = [float(re.sub(r"\s", "", x)) for x in re.findall(r"Answer:\s*(-?\d{1,3}(?:[\u2009\u202f ]\d{3})*(?:\.\d+)?)", key)]
        expected = [exercises.generate(p.id, p.seed)[1] for p in result.versions[0].problems]
        assert len(found) == len(expected)
        for value, solution in zip(found, expected):
            assert value == pytest.approx(displayed(solution.answer, 4), rel=1e-9), solution.template.id


# ---------------------------------------------------------------------------
# The answer key equals the live oracle (parsed back from the Markdown)


_NUMBER = r"(-?\d+(?:\.\d+)?)(?: \\times 10\^\{(-?\d+)\})?|10\^\{(-?\d+)\}"


def parse_number(text: str) -> float:
    text = re.sub(r"(?<=\d)(?:\\,|\\mspace\{3mu\})(?=\d{3})", "", text)  # thousands separators
    match = re.fullmatch(_NUMBER, text.strip())
    assert match, f"not a number: {text!r}"
    mantissa, exponent, power = match.groups()
    if power is not None:
        return 10.0 ** int(power)
    return float(mantissa) * (10.0 ** int(exponent) if exponent else 1.0)


def parse_answer(latex: str):
    matrix = re.fullmatch(r"\\begin\{bmatrix\}(.*)\\end\{bmatrix\}", latex.strip())
    if matrix:
        rows = re.split(r"\\cr|\\\\", matrix.group(1))
        return np.array([[parse_number(cell) for cell in row.split("&")] for row in rows])
    if r"\times" in latex and "10^" not in latex:  # a shape, 3 \times 16 \times 84
        return np.array([int(d) for d in latex.split(r"\times")], dtype=float)
    return np.array(parse_number(latex))


def key_answers(markdown: str) -> list[tuple[str, int, str]]:
    """(id, seed, answer as written) for each problem of a Markdown key."""
    return re.findall(r"^`([a-z0-9-]+) --seed (\d+)`\n\n\*\*Answer:\*\* (.+)$", markdown, flags=re.M)


@pytest.fixture(scope="module")
def markdown_sheet(tmp_path_factory):
    """``sheet(seed)``: the Markdown sheet of every template with its key in a file of its own, made once per
    seed for the tests that read it (seed 3 is read by two)."""
    made = {}

    def sheet(seed: int):
        if seed not in made:
            out = tmp_path_factory.mktemp(f"markdown-{seed}")
            made[seed] = sheets.make_sheets(count=ALL, seed=seed, fmt="md", output=out / "k.md"), out / "k-key.md"
        return made[seed]

    return sheet


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_markdown_key_equals_the_engine_for_every_template(markdown_sheet, seed):
    result, key_file = markdown_sheet(seed)
    key = key_file.read_text(encoding="utf-8")
    answers = key_answers(key)
    assert len(answers) == ALL
    for problem_id, problem_seed, written in answers:
        variant, solution = exercises.generate(problem_id, int(problem_seed))  # what `generate` prints
        kind = solution.template.answer.kind
        if kind == "choice":
            assert written == md_text(solution.answer_text)
            continue
        assert written.startswith("$") and written.endswith("$"), written
        if kind == "expression":
            continue  # typeset from the same formula node that `generate` prints
        expected = np.asarray(solution.answer, dtype=float)
        sigfigs = max(4, int(solution.template.answer.sigfigs or 0))
        want = displayed(expected, sigfigs)
        got = parse_answer(written[1:-1])
        assert got.size == np.size(want), (problem_id, written)
        if np.ndim(want) == 0:
            assert np.allclose(got.reshape(np.shape(want)), want, rtol=1e-9, atol=0), (problem_id, problem_seed, written)
            continue
        # a vector or matrix prints one number of decimals per column (as many as its largest entry needs):
        # every entry is the live value rounded to the decimals written
        cells = re.findall(r"-?\d+\.(\d+)", written)
        decimals = min((len(c) for c in cells), default=0)
        assert np.allclose(got.reshape(np.shape(want)), expected, rtol=0, atol=0.5 * 10.0**-decimals * (1 + 1e-9)), (
            problem_id, problem_seed, written)
    assert {p.id for p in result.versions[0].problems} == {t.id for t in all_templates()}


# ---------------------------------------------------------------------------
# Markdown


def _math_segments(line: str) -> list[str]:
    unescaped = re.sub(r"\\.", "__", line)  # \$ is text, not a delimiter
    positions = [m.start() for m in re.finditer(r"\$", unescaped)]
    assert len(positions) % 2 == 0, f"unbalanced $ in: {line}"
    return [line[a + 1:b] for a, b in zip(positions[::2], positions[1::2])]


def test_markdown_math_is_balanced_and_github_safe(every_template, markdown_sheet):
    _, key_file = markdown_sheet(3)  # with a separate key file
    texts = [every_template["md"].files[0].read_text(encoding="utf-8"), key_file.read_text(encoding="utf-8")]
    segments = [seg for text in texts for line in text.splitlines() for seg in _math_segments(line)]
    assert len(segments) > 5 * ALL
    for seg in segments:
        assert seg and seg == seg.strip(), f"empty or padded math: {seg!r}"
        # GitHub may apply Markdown backslash escapes inside $...$: no backslash before punctuation
        assert not re.search(r"\\[^A-Za-z ]", seg), seg
        assert seg.count("{") == seg.count("}"), seg
    assert "\\begin{bmatrix}" in texts[0]


def test_same_seed_same_markdown(tmp_path):
    first = sheets.make_sheets(["rnn", "cnn"], count=6, seed=9, fmt="md", output=tmp_path / "a.md")
    second = sheets.make_sheets(["rnn", "cnn"], count=6, seed=9, fmt="md", output=tmp_path / "b.md")
    assert (tmp_path / "a.md").read_bytes() == (tmp_path / "b.md").read_bytes()
    assert (tmp_path / "a-key.md").read_bytes() == (tmp_path / "b-key.md").read_bytes()
    assert first.to_dict()["versions"] == second.to_dict()["versions"]


def test_same_seed_same_pdf_bytes(tmp_path):
    sheets.make_sheets(["rl"], count=3, seed=9, output=tmp_path / "a.pdf")
    sheets.make_sheets(["rl"], count=3, seed=9, output=tmp_path / "b.pdf")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()  # no creation date inside


def test_versions_go_to_a_folder_and_each_is_the_sheet_of_its_seed(tmp_path):
    result = sheets.make_sheets(["attention"], count=3, seed=10, versions=3, fmt="md", cwd=tmp_path)
    folder = tmp_path / "sheet-10"
    assert sorted(p.name for p in folder.iterdir()) == [
        "sheet-10-key.md", "sheet-10.md", "sheet-11-key.md", "sheet-11.md", "sheet-12-key.md", "sheet-12.md"
    ]
    assert [v.seed for v in result.versions] == [10, 11, 12]
    alone = sheets.make_sheets(["attention"], count=3, seed=11, fmt="md", cwd=tmp_path)  # sheet-11.md here
    second = (folder / "sheet-11.md").read_text(encoding="utf-8")
    assert "Version 2 of 3 · seed 11" in second
    assert second.replace("Version 2 of 3 · seed 11", "Seed 11") == (tmp_path / "sheet-11.md").read_text(encoding="utf-8")
    assert alone.versions[0].command == "dlstudy sheet attention -n 3 --seed 11" == result.versions[1].command


def test_problem_seeds_regenerate_with_generate(tmp_path):
    result = sheets.make_sheets(["lstm-cell-step", "nms-keep"], count=2, seed=4, fmt="md", output=tmp_path / "g.md")
    for p in result.versions[0].problems:
        variant, _ = exercises.generate(p.id, p.seed)
        assert variant.params.keys() == p.variant.params.keys()
        assert all(np.array_equal(variant.params[k], p.variant.params[k]) for k in variant.params)


def test_statements_show_matrices_not_python_lists(tmp_path):
    sheets.make_sheets(["scaled-dot-product-attention"], count=1, seed=1, fmt="md", output=tmp_path / "q.md")
    text = (tmp_path / "q.md").read_text(encoding="utf-8")
    assert "[[" not in text and r"\begin{bmatrix}" in text and r"\cr" in text
    template = get_template("scaled-dot-product-attention")
    variant = sampling.sample(template, 1)
    assert "[[" in variant.statement  # the terminal still shows what a student can type back


# ---------------------------------------------------------------------------
# LaTeX


def test_tex_is_a_standalone_document_with_the_key_on_new_pages(tmp_path):
    sheets.make_sheets(["lstm-cell-step", "double-dqn-action"], count=2, seed=2, fmt="tex", output=tmp_path / "s.tex")
    tex = (tmp_path / "s.tex").read_text(encoding="utf-8")
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    assert tex.count(r"\begin{document}") == 1
    body = tex.split(r"\begin{document}")[1]
    sheet, key = body.split(r"\clearpage", 1)
    assert "Answer key" in key and "Answer key" not in sheet and "Answer:" not in sheet
    assert r"\begin{bmatrix}" in sheet and "[[" not in body
    assert tex.isascii()  # pdflatex's default input encoding
    for line in tex.splitlines():
        assert len(re.findall(r"(?<!\\)\$", line)) % 2 == 0, line
    assert tex.count("{") == tex.count("}")


def test_tex_of_every_template_is_ascii_with_balanced_math(every_template):
    tex = every_template["tex"].files[0].read_text(encoding="utf-8")
    assert tex.isascii()
    assert tex.count(r"\begin{bmatrix}") == tex.count(r"\end{bmatrix}")
    for line in tex.splitlines():
        assert len(re.findall(r"(?<!\\)\$", line)) % 2 == 0, line


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_tex_compiles_with_pdflatex(every_template, tmp_path):
    source = every_template["tex"].files[0]
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-output-directory", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "all.pdf").exists()


# ---------------------------------------------------------------------------
# The command


def run(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def test_cli_writes_default_path_and_prints_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("sheet", "conv-output-size", "-n", "2", "--seed", "3", "-f", "md", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [Path(f).name for f in data["files"]] == ["sheet-3.md", "sheet-3-key.md"]
    assert all(Path(f).exists() for f in data["files"])
    _, plan = exercises.plan_drill(["conv-output-size"], 2, 3)
    assert data["versions"] == [{
        "version": 1, "seed": 3, "command": "dlstudy sheet conv-output-size -n 2 --seed 3",
        "problems": [{"number": i, "id": t.id, "seed": s} for i, (t, s) in enumerate(plan, 1)],
    }]


def test_cli_says_what_it_wrote(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("sheet", "rl", "-n", "3", "--seed", "8")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sheet-8.pdf").exists()
    assert "Wrote sheet-8.pdf: 3 problems" in result.stdout and "seed 8" in result.stdout
    assert "dlstudy sheet rl -n 3 --seed 8" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["sheet", "no-such-topic"], "not a topic or a problem id"),
        (["sheet", "-n", "0"], "-n must be between 1"),
        (["sheet", "--versions", "0"], "--versions must be between 1"),
        (["sheet", "--format", "docx"], "--format must be one of pdf, tex, md"),
        (["sheet", "--solutions", "maybe"], "--solutions must be one of"),
        (["sheet", "-f", "md", "-o", "x.pdf"], "ends in .pdf but the format is md"),
        (["sheet", "--versions", "3", "-o", "x.pdf"], "-o names a folder"),
        (["sheet", "-o", "FILE/x.pdf"], "is not a folder"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "FILE").write_text("a file, not a folder")
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert not list(tmp_path.glob("sheet-*")) and not (tmp_path / "x.pdf").exists()  # nothing written


def test_sheet_help_is_complete():
    result = run("sheet", "--help")  # that it imports nothing heavy: tests/test_imports.py
    for option in ("--count", "--seed", "--versions", "--format", "--output", "--solutions", "--title", "--merge", "--json"):
        assert option in result.stdout
