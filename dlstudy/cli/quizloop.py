"""The quiz loop: show a card, read keys, grade, undo, suspend, bury; a summary at the end.

CLI layer over ``cards.quiz.QuizSession`` (which decides and records
everything). In a terminal every command is one keypress (``cli.keys``);
piped, one key or answer per line, as before:

    [Enter] reveal, 1-4 grade (a digit at the reveal grades at once), u undo, s suspend, b bury,
    e where the card is written, ? keys, q quit. Typed cards: a line with the answer; an empty line
    (or "skip") shows the answer and the student grades themself.
"""

from __future__ import annotations

import time

from rich.markup import escape as esc

from dlstudy.cards.markup import render_math
from dlstudy.cards.scheduling import AGAIN, EASY, GOOD, HARD, RATING_NAMES
from dlstudy.cli.keys import Input
from dlstudy.cli.terminal import console, interval_text, solution
from dlstudy.engine.answers import AnswerFormatError

RATING_KEYS = {"1": AGAIN, "2": HARD, "3": GOOD, "4": EASY, "again": AGAIN, "hard": HARD, "good": GOOD, "easy": EASY}
COMMANDS = {"u": "undo", "undo": "undo", "s": "suspend", "suspend": "suspend", "b": "bury", "bury": "bury",
            "q": "quit", "quit": "quit", "e": "where", "where": "where", "?": "help", "help": "help"}
TYPED_COMMANDS = {k: v for k, v in COMMANDS.items() if k != "e"}  # "e" is an answer (Euler's number)
REVEAL = ("", "enter", "space", "skip")


def keys_help(cram: bool) -> list[str]:
    hide = "for this cram only" if cram else ""
    return [
        "Space/Enter  show the answer (typed card: Enter on an empty line, or skip)",
        "1 2 3 4      Again · Hard · Good · Easy; each shows when the card is back",
        "Space/Enter  after the answer: Good (typed card: the suggested grade)",
        "u            undo the last grade, suspend or bury; that card comes back",
        f"s            suspend the card {hide or '(dlstudy unsuspend ID brings it back)'}",
        f"b            bury the card {hide or 'until tomorrow'}",
        "e            where the card is written (file:line:column)",
        "q            quit (Ctrl-C too); every grade so far is saved",
    ]


def quiz(session) -> None:
    """The review loop over a QuizSession; every grade is committed by the session before the next card."""
    inp = Input(console)
    _banner(session, inp)
    interrupted = stopped = False
    try:
        while (card := session.next_card()) is not None:
            outcome = _card(session, inp, card)
            if outcome == "quit":
                session.stop()
                stopped = True
                break
    except KeyboardInterrupt:
        interrupted = True
        session.stop()
        console.print()
    finally:
        session.close()
    _summary(session, stopped or interrupted)
    if interrupted:
        raise SystemExit(130)


def _banner(session, inp: Input) -> None:
    count = session.remaining()
    keys = "Space show · 1-4 grade · u undo · s suspend · b bury · e where · q quit · ? keys" if inp.keys else \
        "Enter reveal · 1 Again · 2 Hard · 3 Good · 4 Easy · u undo · s suspend · b bury · e where · q quit"
    if session.cram:
        exam = f" for the exam on {session.exam}, weakest first" if session.exam else ""
        console.print(f"[bold]Cram[/bold]{exam}: {count} card(s); your schedule is not changed. {keys}")
        return
    console.print(f"[bold]Quiz[/bold]: {count} card(s) for today. {keys}")
    forecast = session.forecast
    if forecast is not None and forecast.days:
        today = forecast.days[0]
        last = forecast.days[-1].day
        console.print(
            f"[bold]Exam plan[/bold]: {len(forecast.days)} study day(s) to go (last {last}); "
            f"daily target {forecast.target} cards, today {today.due} due + {today.new} new.",
        )


def _header(session, card) -> None:
    progress = session.progress()
    console.print()
    console.rule(f"[bold]{progress.position}/{progress.total}[/bold]  {card.deck} · {card.kind}  [dim]{card.id}[/dim]",
                 align="left")


def _card(session, inp: Input, card) -> str | None:
    """Ask one card and act on the keys; 'quit' to stop."""
    prompt = session.prompt(card)
    _header(session, card)
    console.print(render_math(prompt.question), markup=False)
    started = time.monotonic()
    if prompt.self_graded:
        outcome = _self_graded(session, inp, prompt)
    else:
        outcome = _typed(session, inp, prompt)
    if outcome is None:
        return "quit"
    if isinstance(outcome, str):
        return _command(session, card, outcome)
    rating, answer = outcome
    graded = session.grade(card, rating, answer=answer, duration_ms=int((time.monotonic() - started) * 1000))
    interval = graded.interval
    when = "" if interval is None else f" · next review in {interval_text(interval)}"
    console.print(f"[dim]→ {RATING_NAMES[rating]}{when}[/dim]")
    return None


def _self_graded(session, inp: Input, prompt):
    """(rating, None) or a command name; None at end of input."""
    while True:
        key = inp.key("[Space/Enter] show answer: " if inp.keys else "[Enter] reveal: ", _shown)
        if key is None:
            return None
        word = key.lower()
        if word in RATING_KEYS and word.isdigit():  # grading at once, without looking
            console.print(render_math(prompt.answer), style="cyan", markup=False)
            return RATING_KEYS[word], None
        if word in COMMANDS:
            if _inline(session, prompt.card, COMMANDS[word]):
                continue
            return COMMANDS[word]
        break
    console.print(render_math(prompt.answer), style="cyan", markup=False)
    return _grade(session, inp, prompt.card)


def _grade(session, inp: Input, card, suggested: int | None = None):
    """Read a grade after the answer is shown; Enter takes the suggested one (typed cards)."""
    _previews(session, card, suggested)
    while True:
        prompt = "Grade: " if inp.keys else "Grade 1-4: "
        if suggested is not None:
            prompt = f"Grade (Enter: {RATING_NAMES[suggested]}): "
        key = inp.key(prompt, _shown)
        if key is None:
            return None
        word = key.lower()
        if word in RATING_KEYS:
            return RATING_KEYS[word], None
        if suggested is not None and word in ("", "enter", "space"):
            return suggested, None
        if inp.keys and word in ("enter", "space"):
            return GOOD, None  # as in Anki: Space/Enter after the answer is Good
        if word in COMMANDS:
            if _inline(session, card, COMMANDS[word]):
                continue
            return COMMANDS[word]
        console.print("  1 Again · 2 Hard · 3 Good · 4 Easy; u undo · s suspend · b bury · e where · q quit", style="yellow")


def _previews(session, card, suggested: int | None = None) -> None:
    preview = session.preview(card)
    if preview is None:
        return
    parts = []
    for rating in (AGAIN, HARD, GOOD, EASY):
        mark = "[bold]" if rating == suggested else ""
        end = "[/bold]" if mark else ""
        parts.append(f"{mark}{rating} {RATING_NAMES[rating]} {interval_text(preview[rating])}{end}")
    console.print("  " + " · ".join(parts), style="dim")


def _typed(session, inp: Input, prompt):
    """An answer checked by dlstudy (typed and problem cards): (rating, text) or a command name."""
    hint = "Your answer (Enter on empty: show it): " if inp.keys else "Your answer: "
    while True:
        text = inp.line(hint)
        if text is None:
            return None
        word = text.lower()
        if word in TYPED_COMMANDS:
            if _inline(session, prompt.card, TYPED_COMMANDS[word]):
                continue
            return TYPED_COMMANDS[word]
        if word in REVEAL:  # show the answer; a miss only if the student grades it so
            _show_answer(prompt)
            return _grade(session, inp, prompt.card)
        try:
            checked = session.check(prompt, text)
        except AnswerFormatError as exc:
            console.print(f"  {exc.message}", style="yellow", markup=False)
            continue
        break
    if checked.score >= 1:
        mark = "[bold green]✓ Right[/bold green]"
    elif checked.score >= 0.5:
        mark = f"[bold yellow]½ Partly right ({_fraction(checked.score)})[/bold yellow]"
    else:
        mark = "[bold red]✗ Not right[/bold red]"
    console.print(f"{mark}: expected {esc(render_math(checked.expected))}")
    for line in checked.feedback:
        console.print(f"  → {line}", style="yellow", markup=False)
    _show_answer(prompt, checked=True)
    if not inp.keys:
        return checked.rating, text  # piped: the checker's grade, as before
    outcome = _grade(session, inp, prompt.card, suggested=checked.rating)
    if isinstance(outcome, tuple):
        return outcome[0], text
    return outcome


def _show_answer(prompt, checked: bool = False) -> None:
    """The answer (a problem's worked solution); after a verdict, without the "Answer:" line it repeats."""
    if prompt.solution is not None:
        solution(prompt.solution.result())
        return
    text = prompt.answer
    if checked and text.startswith("Answer:"):
        text = text.partition("\n")[2]
    if text:
        console.print(render_math(text), style="cyan", markup=False)


def _inline(session, card, command: str) -> bool:
    """Commands that do not leave the card (where, help): done here; True when handled."""
    if command == "where":
        console.print(f"  {card.note.source}  ({card.id})", style="dim", markup=False)
        return True
    if command == "help":
        for line in keys_help(session.cram):
            console.print(f"  {line}", style="dim", markup=False)
        return True
    return False


def _command(session, card, command: str) -> str | None:
    if command == "quit":
        return "quit"
    if command == "undo":
        action = session.undo()  # the card on screen goes back too
        if action is None:
            console.print("Nothing to undo yet.", style="yellow")
        else:
            what = {"grade": "the last grade", "suspend": "the suspend", "bury": "the bury"}[action.kind]
            console.print(f"Undid {what} ({action.card.id}); it comes up again.", style="yellow", markup=False)
        return None
    if command == "suspend":
        session.suspend(card)
        if session.cram:
            console.print("Set aside for this cram (nothing is saved; u brings it back).", style="yellow")
        else:
            console.print(f"Suspended until you unsuspend it: u undoes, or later `dlstudy unsuspend {card.id}`.",
                          style="yellow", markup=False)
        return None
    if command == "bury":
        session.bury(card)
        if session.cram:
            console.print("Set aside for this cram (nothing is saved; u brings it back).", style="yellow")
        else:
            console.print("Buried until tomorrow (u undoes).", style="yellow")
        return None
    return None


def _summary(session, stopped: bool) -> None:
    data = session.summary()
    ratings = " · ".join(f"{count} {RATING_NAMES[r]}" for r, count in data["ratings"].items())
    ratings = f" ({ratings})" if ratings else ""
    console.print()
    if data["cram"]:
        console.print(f"Crammed {data['reviewed']} card(s){ratings}; your schedule is unchanged.")
        return
    if stopped:
        console.print("Stopped; every grade so far is saved.")
    extra = []
    if data["held_back"]:
        extra.append(f"{data['held_back']} related card(s) wait until tomorrow (--siblings shows them today)")
    for what in ("suspended", "buried"):
        if data[what]:
            extra.append(f"{data[what]} {what}")
    more = "; " + "; ".join(extra) if extra else ""
    console.print(f"Reviewed {data['reviewed']} card(s){ratings}; {data['left']} left for today{more}.")


def _shown(key: str) -> str:
    return {"enter": "", "space": ""}.get(key, key)


def _fraction(score: float) -> str:
    from fractions import Fraction

    return str(Fraction(score).limit_denominator(100))
