"""Speed targets of the problem engine, measured side by side in one run.

    python bench/run.py            # all measurements
    python bench/run.py --quick    # fewer repetitions

Targets (issue 2):
  1. `dlstudy --help` wall time <= 1.25x a hello-world typer app.
  2. `dlstudy check` with a NumPy oracle <= 0.7 s; with a torch oracle <= bare `import torch` + 0.5 s.
  3. In `drill`, checking the first answer after a few seconds of reading does not wait for torch.
  4. After warm-up, generate + oracle + formula-verify >= 500 variants/s across all templates.

Targets (issue 3), with 5,000 cards and 50,000 review rows:
  5. Time to the first card on screen <= 0.5 s; grading a card <= 20 ms.

Targets (`dlstudy sheet`):
  6. A 20-problem sheet with its key to PDF <= 1.5 s end to end; 30 versions <= 10 s.

Targets (hostile input; tests/test_security.py checks that each is refused):
  7. A huge power (9**9**9**9) or nesting thousands deep is refused in <= 1 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HELLO = """
import typer
app = typer.Typer()
@app.command()
def hello(name: str = "world"):
    \"\"\"Say hello.\"\"\"
    typer.echo(f"hello {name}")
app()
"""


def wall(argv: list[str], runs: int, stdin: str | None = None) -> float:
    """Median wall time of ``argv`` over ``runs`` runs."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, input=stdin, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def dlstudy(*args: str) -> list[str]:
    exe = shutil.which("dlstudy") or str(Path(sys.executable).with_name("dlstudy"))
    return [exe, *args]


def bench_help(runs: int) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(HELLO)
    hello_times, ours = [], []
    for _ in range(runs):  # interleaved so both see the same machine load
        hello_times.append(wall([sys.executable, f.name, "--help"], 1))
        ours.append(wall(dlstudy("--help"), 1))
    os.unlink(f.name)
    h, d = statistics.median(hello_times), statistics.median(ours)
    print(f"--help: dlstudy {d:.3f}s, hello-world typer {h:.3f}s, ratio {d / h:.2f} (target <= 1.25)")


def bench_check(runs: int) -> None:
    numpy_check = wall(
        dlstudy("check", "conv-output-size", "n=227", "k=11", "p=0", "s=4", "d=1", "--answer", "55"), runs
    )
    print(f"check, NumPy oracle (conv-output-size): {numpy_check:.3f}s (target <= 0.7)")
    torch_template = _torch_template()
    if torch_template is None:
        print("check, torch oracle: no torch-oracle template registered")
        return
    template_id, args, answer = torch_template
    torch_check = wall(dlstudy("check", template_id, *args, "--answer", answer), runs)
    bare = wall([sys.executable, "-c", "import torch"], runs)
    print(
        f"check, torch oracle ({template_id}): {torch_check:.3f}s; bare import torch {bare:.3f}s; "
        f"overhead {torch_check - bare:.3f}s (target <= 0.5)"
    )


def _torch_template() -> tuple[str, list[str], str] | None:
    """A template whose oracle imports torch, with generated params, as CLI arguments."""
    import json

    from dlstudy.engine import oracles, sampling, solving
    from dlstudy.engine.templates import all_templates

    for template in all_templates():
        before = "torch" in sys.modules
        variant = sampling.sample(template, 0)
        solution = solving.solve_variant(variant)
        if not before and "torch" in sys.modules:
            params = variant.to_dict()["params"]
            args = [f"{k}={json.dumps(v) if isinstance(v, list) else v}" for k, v in params.items()]
            answer = solution.answer_text.split(")")[0] if template.answer.kind == "choice" else solution.answer_text
            return template.id, args, answer
    del oracles
    return None


def bench_drill() -> None:
    """Time from sending the first answer (after 4 s of reading) to the verdict."""
    proc = subprocess.Popen(
        dlstudy("drill", "-n", "1", "--seed", "1"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.stdout is not None and proc.stdin is not None
    lines = []
    while True:  # wait for the statement
        line = proc.stdout.readline()
        lines.append(line)
        if line.startswith("1/1") or not line:
            break
    time.sleep(4.0)  # the student reads
    start = time.perf_counter()
    proc.stdin.write("skip\n")
    proc.stdin.flush()
    for line in proc.stdout:
        if line.startswith("Answer:"):
            break
    waited = time.perf_counter() - start
    proc.communicate()
    print(f"drill: first verdict {waited:.3f}s after the answer (after 4 s of reading; target: no wait for torch)")


def bench_throughput(seconds: float) -> None:
    from dlstudy.engine import sampling, solving
    from dlstudy.engine.templates import all_templates

    templates = all_templates()
    for template in templates:  # warm-up: imports, caches
        solving.solve(template, sampling.sample(template, 0).params)
    count, seed, start = 0, 1, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for template in templates:
            variant = sampling.sample(template, seed)
            solving.solve_variant(variant)  # runs the oracle and verifies every formula
            count += 1
        seed += 1
    elapsed = time.perf_counter() - start
    print(f"throughput: {count / elapsed:.0f} variants/s over {len(templates)} templates (target >= 500)")


def _synthetic_collection(home: Path, cards: int = 5000, reviews: int = 50_000) -> Path:
    """A deck of ``cards`` cards and a database with ``reviews`` review rows, like a student months in."""
    import json
    import random
    from datetime import datetime, timedelta, timezone

    from dlstudy.cards.records import iso
    from dlstudy.cards.store import Store

    deck = home / "synthetic.yaml"
    lines = ["deck: synthetic", "title: Synthetic collection", "cards:"]
    for i in range(cards):
        lines.append(f"  - {{id: syn-{i}, front: 'Card {i}: what is $\\frac{{a_{{{i}}}}}{{b}}$?', back: 'It is $x^{{{i % 7}}}$.'}}")
    deck.write_text("\n".join(lines) + "\n")
    rng = random.Random(0)
    now = datetime.now(timezone.utc)
    with Store(home / "reviews.sqlite3") as store:
        store.db.execute("BEGIN")
        store.db.executemany(
            "INSERT INTO cards (card_id, deck, state, step, stability, difficulty, due, last_review, suspended)"
            " VALUES (?, 'synthetic', 2, NULL, ?, ?, ?, ?, 0)",
            [
                (f"syn-{i}", rng.uniform(1, 100), rng.uniform(1, 10), iso(now + timedelta(days=rng.uniform(-5, 30))),
                 iso(now - timedelta(days=rng.uniform(1, 30))))
                for i in range(cards)
            ],
        )
        store.db.executemany(
            "INSERT INTO reviews (card_id, deck, rating, reviewed_at, duration_ms, answer, cram, state_before)"
            " VALUES (?, 'synthetic', ?, ?, 4000, NULL, 0, ?)",
            [
                (f"syn-{rng.randrange(cards)}", rng.choice((1, 3, 3, 3, 4)), iso(now - timedelta(days=rng.uniform(0, 180))),
                 json.dumps({"card_id": "x", "deck": "synthetic", "state": 2, "step": None, "stability": 5.0,
                             "difficulty": 5.0, "due": None, "last_review": None, "suspended": False}))
                for _ in range(reviews)
            ],
        )
        store.db.execute("COMMIT")
    return deck


def bench_quiz(runs: int) -> None:
    """Time to the first card on screen, and time to grade a card, with 5,000 cards and 50,000 reviews."""
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        deck = _synthetic_collection(home)
        env = {**os.environ, "DLSTUDY_HOME": str(home), "COLUMNS": "200"}
        subprocess.run(dlstudy("decks", "--deck", str(deck)), env=env, capture_output=True)  # validates, fills the cache
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            proc = subprocess.Popen(
                dlstudy("quiz", "synthetic", "--deck", str(deck)), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                text=True, env=env,
            )
            assert proc.stdout is not None and proc.stdin is not None
            for line in proc.stdout:
                if line.startswith("[Enter]") or line.startswith("Card ") or "syn-" in line:
                    break
            times.append(time.perf_counter() - start)
            proc.stdin.close()
            proc.kill()
            proc.wait()
        print(f"quiz: first card on screen {statistics.median(times):.3f}s with 5,000 cards and 50,000 reviews (target <= 0.5)")

        os.environ["DLSTUDY_HOME"] = str(home)
        from dlstudy.cards import study

        quiz = study.start_quiz(["synthetic"], [str(deck)], seed=0)
        grades = []
        for _ in range(200):
            card = quiz.next_card()
            if card is None:
                break
            start = time.perf_counter()
            quiz.grade(card, int(np.random.default_rng(len(grades)).integers(1, 5)))
            grades.append(time.perf_counter() - start)
        quiz.store.close()
        print(f"quiz: grading a card {statistics.median(grades) * 1000:.1f} ms median, "
              f"{max(grades) * 1000:.1f} ms max over {len(grades)} grades (target <= 20 ms)")


# Generates every template once with torch unimportable: the ones that still work have NumPy oracles only.
NUMPY_ORACLES = """
import sys
sys.modules["torch"] = None
from dlstudy.engine import exercises
from dlstudy.engine.templates import template_ids
for template_id in template_ids():
    try:
        exercises.generate(template_id, 1)
    except ImportError:
        continue
    print(template_id)
"""


def bench_sheet(runs: int) -> None:
    """`dlstudy sheet -n 20` to PDF with its key, as a subprocess; and 30 versions into a folder."""
    numpy_ids = subprocess.run([sys.executable, "-c", NUMPY_ORACLES], capture_output=True, text=True).stdout.split()
    chosen = numpy_ids[:: max(1, len(numpy_ids) // 20)][:20]  # spread over the topics
    with tempfile.TemporaryDirectory() as tmp:
        numpy_only = wall(dlstudy("sheet", *chosen, "-n", "20", "--seed", "1", "-o", f"{tmp}/a.pdf"), runs)
        print(f"sheet -n 20 with key to PDF, 20 of the {len(numpy_ids)} NumPy-oracle templates (no torch import): "
              f"{numpy_only:.3f}s (target <= 1.5)")
        # Seeds 1-5 over all templates: each draws several torch-oracle templates.
        every = [wall(dlstudy("sheet", "-n", "20", "--seed", str(seed), "-o", f"{tmp}/b.pdf"), runs) for seed in range(1, 6)]
        bare = wall([sys.executable, "-c", "import torch"], runs)
        print(
            f"sheet -n 20 with key to PDF, all templates, seeds 1-5: {min(every):.3f}-{max(every):.3f}s "
            f"(target <= 1.5); bare import torch {bare:.3f}s"
        )
        versions = wall(dlstudy("sheet", "-n", "20", "--seed", "1", "--versions", "30", "-o", f"{tmp}/v"), max(1, runs // 3))
        print(f"sheet -n 20 --versions 30 (30 PDFs, all templates): {versions:.3f}s (target <= 10)")


def bench_hostile(runs: int) -> None:
    """How long refusing each hostile answer takes (evaluated, some would run for hours)."""
    from dlstudy.engine.answers import AnswerFormatError, parse_answer
    from dlstudy.engine.symbolic import to_sympy
    from dlstudy.mathtext import expr, parsing

    cases = {
        "real 9**9**9**9": lambda: parse_answer("real", "9**9**9**9"),
        "expression x + 9**9**9**9": lambda: parse_answer("expression", "x + 9**9**9**9"),
        "sympy guard x + 9^9^9^9": lambda: to_sympy(parsing.parse("x + 9^9^9^9")),
        "5,000 nested parentheses": lambda: parse_answer("expression", "(" * 5000 + "1" + ")" * 5000),
        "10,000 unary minus signs": lambda: parse_answer("expression", "-" * 10000 + "1"),
        "3,000 nested brackets": lambda: parse_answer("expression", "[" * 3000 + "]" * 3000),
    }
    for name, refuse in cases.items():
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            try:
                refuse()
            except (AnswerFormatError, expr.ExprError):
                pass
            times.append(time.perf_counter() - start)
        print(f"hostile input refused: {name}: {statistics.median(times) * 1000:.1f} ms (target <= 1000 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    runs = 3 if args.quick else 10
    bench_help(runs)
    bench_check(runs)
    bench_drill()
    bench_throughput(2.0 if args.quick else 5.0)
    bench_quiz(runs)
    bench_sheet(runs)
    bench_hostile(runs)


if __name__ == "__main__":
    main()
