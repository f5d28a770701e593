"""Commands on problem templates: problems, generate, solve, check, drill."""

from typing import List, Optional

import typer

from dlstudy.cli.base import JSON_HELP, PARAMS_HELP, app, print_json
from dlstudy.errors import DlstudyError


@app.command("problems")
def problems_command(
    problem_id: Optional[str] = typer.Argument(None, metavar="[ID]", help="Show one template: its statement, parameters and an example."),
    topic: Optional[str] = typer.Option(None, "--topic", "-t", help="Only this topic, e.g. cnn."),
    search: List[str] = typer.Option([], "--search", "-S", help="Only templates mentioning these words (ids, titles, tags, statements), e.g. lstm."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List the problem templates, find them by words, or show one with every parameter it takes."""
    from dlstudy.engine import exercises
    from dlstudy.engine.templates import get_template, headings

    if search and problem_id is not None:  # `--search lstm gates`: the word after the first is searched too
        search, problem_id = [*search, problem_id], None
    if problem_id is not None:
        described = exercises.describe(problem_id)
        if as_json:
            print_json(described)
            return
        from dlstudy.cli import terminal

        terminal.problem_details(described)
        return
    listed = headings(topic)
    if search:
        found = {t.id for t in exercises.search(search)}
        listed = [heading for heading in listed if heading.id in found]
        if not listed:
            raise DlstudyError(f"no problem mentions {' '.join(search)!r}; list them all with `dlstudy problems`")
    if as_json:
        print_json([get_template(heading.id).summary() for heading in listed])
        return
    from dlstudy.cli import terminal

    terminal.problem_table(listed)


@app.command("generate")
def generate_command(
    problem_id: str = typer.Argument(..., metavar="ID", help="Template id (see `dlstudy problems`)."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", min=0, max=2**63 - 1, help="Seed; the same seed gives the same variant."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Generate one variant of a problem, with its answer key and worked solution."""
    from dlstudy.engine import exercises

    variant, solution = exercises.generate(problem_id, seed)
    if as_json:
        print_json(variant.to_dict(solution))
        return
    from dlstudy.cli import terminal

    terminal.variant(variant)
    terminal.solution(solution)


@app.command("solve")
def solve_command(
    problem_id: str = typer.Argument(..., metavar="ID", help="Template id (see `dlstudy problems`)."),
    params: List[str] = typer.Argument(None, metavar="NAME=VALUE...", help=PARAMS_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Answer and worked steps for the numbers of your own exercise."""
    from dlstudy.engine import exercises

    solution = exercises.solve_numbers(problem_id, params or [])
    if as_json:
        print_json(exercises.solution_dict(solution))
        return
    from dlstudy.cli import terminal

    terminal.solution(solution)


@app.command("check")
def check_command(
    problem_id: str = typer.Argument(..., metavar="ID", help="Template id (see `dlstudy problems`)."),
    params: List[str] = typer.Argument(None, metavar="NAME=VALUE...", help=PARAMS_HELP),
    answer: List[str] = typer.Option(
        [], "--answer", "-a",
        help="Your answer, e.g. 55x55x96 or 3/4; repeat it for a question with several parts (in order, or part=value).",
    ),
    steps: bool = typer.Option(False, "--steps", help="Enter each intermediate quantity in turn; stop at the first wrong one."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", min=0, max=2**63 - 1, help="Check against the variant `generate --seed` printed instead of NAME=VALUE."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Check your answer (exit 0 right, 1 wrong, 2 bad input), with feedback and the worked solution."""
    from dlstudy.engine import exercises

    if steps == bool(answer):
        raise DlstudyError("give either --answer TEXT or --steps")
    solution = exercises.solution_for(problem_id, params or [], seed)
    if steps:
        from dlstudy.cli import interactive

        verdicts = interactive.step_check(solution, quiet=as_json)
        if as_json:
            print_json({"id": solution.template.id, "correct": all(v.correct for v in verdicts),
                        "steps": [v.to_dict() for v in verdicts]})
        raise typer.Exit(0 if verdicts and all(v.correct for v in verdicts) else 1)
    from dlstudy.engine.checking import check, check_parts

    template = solution.template
    named = len(answer) == 1 and answer[0].partition("=")[0].strip() in template.answer.asked
    if len(answer) == 1 and not named:  # one value: the main quantity (the question's final answer)
        verdicts = (check(template, solution, answer[0]),)
        asked = (template.answer.step,)
    else:
        verdicts = check_parts(template, solution, answer)
        asked = template.answer.asked
    correct = all(v.correct for v in verdicts) and len(verdicts) == len(asked)
    if as_json:
        if len(asked) == 1 and len(verdicts) == 1:
            print_json({"id": template.id, **verdicts[0].to_dict(), "steps": [s.to_dict() for s in solution.steps]})
        else:
            print_json({"id": template.id, "correct": correct,
                        "score": round(sum(v.score for v in verdicts) / len(asked), 4),
                        "parts": [v.to_dict() for v in verdicts], "steps": [s.to_dict() for s in solution.steps]})
    else:
        from dlstudy.cli import terminal

        for part in verdicts:
            terminal.verdict(part, label=template.step(part.step).what if len(asked) > 1 else "")
        terminal.solution(solution)
    raise typer.Exit(0 if correct else 1)


@app.command("drill")
def drill_command(
    selection: List[str] = typer.Argument(None, metavar="[TOPIC|ID]...", help="Topics, template ids or words; by default the problems most worth drilling."),
    count: int = typer.Option(5, "-n", "--count", min=1, max=1000, help="How many problems (at most 1,000)."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", min=0, max=2**63 - 1, help="Seed for a reproducible session."),
) -> None:
    """An interactive session of randomized problems, checked as you answer.

    Without TOPIC or ID, the problems you are weakest at and those due again
    come first (each problem's mastery is an FSRS memory state fitted to your
    drills and problem cards; `dlstudy stats` shows it), then ones you never
    tried. A session never repeats a variant, nor the same question back to
    back. Type `skip` to see the solution (counts as not solved), `quit` or
    Ctrl-C to stop; every answer is saved as you go. With stdin not a
    terminal, one answer is read per line, so a session can be scripted.
    """
    from dlstudy.cards import study
    from dlstudy.cli import interactive

    interactive.drill(study.start_drill(selection or [], count, seed))
