"""Planning and writing sheets: which problems, which files, and the threads that fill them.

    selection, -n, seed -> one seed per version (seed + v - 1) -> exercises.plan_drill
    -> sampling.sample + solving.solve (the live oracle gives the key)
    -> model.sheet_problem (each problem's math as LaTeX)
    -> the format's renderer (formats.py) -> the file(s)

Version v of a sheet made with ``--seed S`` is exactly the sheet ``--seed S+v-1``
makes, so every printed sheet names the one command that regenerates it, and
every problem its template id and seed (``dlstudy generate ID --seed N``).

Nothing here prints: ``make_sheets`` writes the files and returns what it wrote.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Sequence

from dlstudy.engine import exercises, sampling, solving
from dlstudy.errors import DlstudyError
from dlstudy.files import write_atomic
from dlstudy.engine.templates import get_template, template_ids
from dlstudy.output.sheets import formats
from dlstudy.output.sheets.model import SheetFormat, SheetResult, SheetVersion, sheet_problem

SOLUTIONS = ("key", "inline", "none")
DEFAULT_COUNT = 10
MAX_COUNT = 500
MAX_VERSIONS = 1000

Progress = Callable[[int, int], None]  # (done, total)


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
    space: float = 1.0,
) -> SheetResult:
    """Generate the sheets, write them, and say what was written; ``space`` scales the room to work in."""
    if count < 1 or count > MAX_COUNT:
        raise DlstudyError(f"-n must be between 1 and {MAX_COUNT}, got {count}")
    if versions < 1 or versions > MAX_VERSIONS:
        raise DlstudyError(f"--versions must be between 1 and {MAX_VERSIONS}, got {versions}")
    if solutions not in SOLUTIONS:
        raise DlstudyError(f"--solutions must be one of {', '.join(SOLUTIONS)}, not {solutions!r}")
    if seed is not None and seed < 0:
        raise DlstudyError(f"--seed must be >= 0, got {seed}")
    if not 0 <= space <= 5:
        raise DlstudyError(f"--space must be from 0 (no room) to 5 (five times the usual room), got {space:g}")
    available = len(exercises.selected_ids(selection))  # unknown topics and ids fail before anything is written
    seed = exercises.new_seed() if seed is None else seed
    sheet_format, targets = _targets(fmt, output, seed, versions, merge, solutions, Path(cwd) if cwd else Path.cwd())
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
                problems.append(sheet_problem(number, variant, solving.solve_variant(variant), space))
                done += 1
                if progress:
                    progress(done, total)
            command = " ".join(["dlstudy sheet", *selection, f"-n {count}", f"--seed {vseed}"])
            sheet_versions.append(SheetVersion(v, versions, vseed, tuple(problems), command))
            while submitted < len(targets) and max(targets[submitted][2]) < v:
                path, key_path, members = targets[submitted]
                rendered = _render(sheet_format, path, key_path, [sheet_versions[i] for i in members], title, solutions)
                written.append(pool.submit(_finish, sheet_format, rendered))
                submitted += 1
        files: list[Path] = []
        for future in written:
            files.extend(future.result())
            done += 1
            if progress:
                progress(done, total)
    notices = ()
    if available < count:
        notices = (f"{' '.join(selection) or 'the selection'} has {available} problem template"
                   f"{'s' if available != 1 else ''}, so {count} problems repeat some of them (with other numbers)",)
    return SheetResult(tuple(files), tuple(sheet_versions), sheet_format.name, solutions,
                       merged=merge and versions > 1, notices=notices)


def _default_title(selection: Sequence[str]) -> str:
    """``Practice: Recurrent neural networks`` for a topic (its deck's title), the ids' titles for one problem."""
    from dlstudy.cards.decks import builtin_deck_dir, load_deck, deck_files

    titles = {}
    for path in deck_files([builtin_deck_dir()]):
        try:
            deck = load_deck(path)
        except DlstudyError:
            continue
        titles.setdefault(deck.topic, deck.short_title)
    ids = set(template_ids())
    shown = ", ".join(titles.get(word) or (get_template(word).title if word in ids else word) for word in selection)
    return f"Practice: {shown}" if selection and len(shown) <= 70 else "Deep-learning practice sheet"


def _targets(
    fmt: str | None, output: Any, seed: int, versions: int, merge: bool, solutions: str, cwd: Path
) -> tuple[SheetFormat, list[tuple[Path, Path | None, list[int]]]]:
    """The format and, per file to write, (path, separate key path or None, indices of its versions)."""
    out = Path(output).expanduser() if output is not None else None
    if out is not None and not out.is_absolute():
        out = cwd / out
    suffix = out.suffix.lower() if out is not None else ""
    named = formats.by_suffix(suffix) if suffix else None
    if fmt is None:
        fmt = named.name if named is not None else "pdf"
    fmt = fmt.lower()
    if fmt not in formats.names():
        raise DlstudyError(f"--format must be one of {', '.join(formats.names())}, not {fmt!r}")
    sheet_format = formats.get(fmt)
    ext = sheet_format.suffix
    separate = versions > 1 and not merge
    if named is not None and named is not sheet_format:
        raise DlstudyError(f"-o {output} ends in {suffix} but the format is {fmt}")

    def key_of(path: Path) -> Path | None:
        return path.with_name(path.stem + "-key" + ext) if sheet_format.separate_key and solutions == "key" else None

    if separate:
        if named is not None:
            raise DlstudyError(f"with --versions {versions}, -o names a folder (or add --merge for one file), not {output}")
        folder = out if out is not None else cwd / f"sheet-{seed}"
        if folder.exists() and not folder.is_dir():
            raise DlstudyError(f"cannot write into {folder}: it is a file, not a folder")
        _check_writable(folder)
        targets = []
        for v in range(1, versions + 1):
            path = folder / f"sheet-{version_seed(seed, v)}{ext}"
            targets.append((path, key_of(path), [v - 1]))
        return sheet_format, targets
    if out is None:
        path = cwd / f"sheet-{seed}{ext}"
    elif out.is_dir():
        path = out / f"sheet-{seed}{ext}"
    else:
        path = out if suffix == ext else out.with_name(out.name + ext)
    if path.is_dir():
        raise DlstudyError(f"cannot write {path}: it is a folder")
    _check_writable(path.parent)
    return sheet_format, [(path, key_of(path), list(range(versions)))]


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
    sheet_format: SheetFormat, path: Path, key_path: Path | None, versions: list[SheetVersion], title: str, solutions: str
) -> list[tuple[Path, str]]:
    """(path, text) for each file of one output: the sheet, and its key when that is a file of its own."""
    sheet, key = sheet_format.render(versions, title, solutions)
    return [(path, sheet)] + ([(key_path, key)] if key_path is not None else [])


def _finish(sheet_format: SheetFormat, rendered: list[tuple[Path, str]]) -> list[Path]:
    """Encode (a PDF: compile) and write the files of one output."""
    for target, text in rendered:
        write_atomic(target, sheet_format.encode(text))
    return [target for target, _ in rendered]
