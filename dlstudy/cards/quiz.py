"""A review session: which card comes next, what to ask, how a review is recorded.

Pure logic over a Store, the decks' cards, a clock and a random Generator; the
terminal loop lives in display.py. Every grade is committed before the next
card is chosen.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Sequence

import numpy as np

from dlstudy.engine.answers import CHOICE_LETTERS
from dlstudy.clock import Clock
from dlstudy.config import Config
from dlstudy.cards.decks import Card, Deck, cloze_side
from dlstudy.errors import DlstudyError
from dlstudy.suggest import did_you_mean
from dlstudy.cards.scheduling import make_scheduler, next_state, rating_for_score
from dlstudy.cards.store import CardRow, Store

LEARN_AHEAD = timedelta(minutes=20)  # like Anki: a learning step due this soon is shown rather than waited for


@dataclass(frozen=True)
class Prompt:
    """What to show for one review of a card."""

    card: Card
    mode: str  # "self" (reveal, grade yourself), "typed", "order" (type the order of steps), "problem"
    question: str  # text with $...$ math
    answer: str  # shown after the reveal / verdict
    expected: Any = None  # typed/order: the key; problem: the Solution
    variant: Any = None  # problem: the engine Variant


@dataclass(frozen=True)
class Checked:
    """An auto-graded answer."""

    score: float
    rating: int
    expected: str
    feedback: tuple[str, ...] = ()


@dataclass(frozen=True)
class Graded:
    card: Card
    rating: int
    review_id: int
    due: datetime | None  # None for cram reviews


def select_cards(decks: Sequence[Deck], words: Sequence[str]) -> list[Card]:
    """Cards of the decks or tags named by ``words`` (all cards when none)."""
    cards = [card for deck in decks for card in deck.cards()]
    if not words:
        return cards
    names = {deck.name for deck in decks}
    tags = {tag for card in cards for tag in card.tags}
    for word in words:
        if word not in names and word not in tags:
            hint = did_you_mean(word, sorted(names | tags))
            raise DlstudyError(f"'{word}' is neither a deck nor a tag{hint} (decks: {', '.join(sorted(names))})")
    wanted = set(words)
    return [card for card in cards if card.deck in wanted or wanted & set(card.tags)]


@dataclass
class QuizSession:
    store: Store
    cards: list[Card]
    config: Config
    clock: Clock
    rng: np.random.Generator
    cram: bool = False
    new_limit: int | None = None
    limit: int | None = None
    scheduler: Any = field(init=False)
    history: list[Graded] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.scheduler = make_scheduler(self.config, self.store)
        self._by_id = {card.id: card for card in self.cards}
        self._pool = None
        self._notes_seen: set[str] = set()
        self._learning: list[tuple[datetime, str]] = []  # cards seen this session and due again soon
        self._shown = 0
        now = self.clock()
        rows = self.store.cards()
        if self.cram:
            order = self.rng.permutation(len(self.cards))
            self._queue = deque(self.cards[i].id for i in order if not _suspended(rows, self.cards[i].id))
            self._new: deque[str] = deque()
            return
        self._queue = deque(card_id for card_id, _ in self.store.due(now) if card_id in self._by_id)
        new = [card.id for card in self.cards if card.id not in rows]
        allowance = self.new_limit
        if allowance is None:
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            allowance = max(0, self.config.new_per_day - self.store.new_cards_introduced(midnight))
        self._new = deque(new[:allowance])

    # -- counts

    def remaining(self) -> int:
        return len(self._queue) + len(self._new) + len(self._learning)

    # -- choosing

    def next_card(self) -> Card | None:
        if self.limit is not None and self._shown >= self.limit:
            return None
        now = self.clock()
        self._learning.sort()
        if self._learning and self._learning[0][0] <= now:
            card_id = self._learning.pop(0)[1]
        elif (card_id := self._pop_unburied(self._queue)) is not None:
            pass
        elif (card_id := self._pop_unburied(self._new)) is not None:
            pass
        elif self._learning and self._learning[0][0] <= now + LEARN_AHEAD:
            card_id = self._learning.pop(0)[1]
        else:
            return None
        self._shown += 1
        self._notes_seen.add(self._by_id[card_id].note.id)
        return self._by_id[card_id]

    def _pop_unburied(self, queue: deque) -> str | None:
        """The next card whose sibling (same note: the reverse, another cloze gap) wasn't shown this session.

        Siblings give each other away; a buried one waits for the next session, as in Anki.
        """
        while queue:
            card_id = queue.popleft()
            if self.cram or self._by_id[card_id].note.id not in self._notes_seen:
                return card_id
        return None

    def prompt(self, card: Card) -> Prompt:
        """What to ask; problem cards get a fresh variant, derivations a random mode."""
        note = card.note
        if note.kind == "basic":
            front, back = (note.back, note.front) if card.reversed else (note.front, note.back)
            return Prompt(card, "self", front, back)
        if note.kind == "cloze":
            answer = cloze_side(note.text, card.gap or 1, reveal=True)
            return Prompt(card, "self", cloze_side(note.text, card.gap or 1, reveal=False), _join(answer, note.extra))
        if note.kind == "typed":
            return Prompt(card, "typed", note.front, _join(f"Answer: {note.answer}", note.back), expected=note.answer)
        if note.kind == "derivation":
            return self._derivation_prompt(card)
        from dlstudy.engine import sampling, solving
        from dlstudy.engine.templates import get_template

        template = get_template(note.template)
        variant = sampling.sample(template, int(self.rng.integers(1_000_000)))
        # Solved in the background while the statement is on screen: a torch oracle's import overlaps reading.
        pending = self._solver().submit(solving.solve_variant, variant)
        return Prompt(card, "problem", variant.statement, "", expected=pending, variant=variant)

    def _solver(self):
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=1)
        return self._pool

    def _derivation_prompt(self, card: Card) -> Prompt:
        note = card.note
        steps = list(note.steps)
        numbered = "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
        if self.rng.random() < 0.5:
            order = self.rng.permutation(len(steps))
            while list(order) == list(range(len(steps))):
                order = self.rng.permutation(len(steps))
            shuffled = "\n".join(f"{letter}) {steps[i]}" for letter, i in zip(CHOICE_LETTERS, order))
            key = [CHOICE_LETTERS[list(order).index(i)] for i in range(len(steps))]
            question = f"{note.front}\nPut these steps in order (e.g. {' '.join(sorted(key)[:3])} ...):\n{shuffled}"
            return Prompt(card, "order", question, _join(numbered, note.back), expected=key)
        shown = int(self.rng.integers(1, len(steps)))
        given = "\n".join(f"{i}. {s}" for i, s in enumerate(steps[:shown], 1))
        question = f"{note.front}\n{given}\nWhat is step {shown + 1}?"
        return Prompt(card, "self", question, _join(f"{shown + 1}. {steps[shown]}", f"All steps:\n{numbered}"))

    # -- checking auto-graded prompts

    def check(self, prompt: Prompt, text: str) -> Checked:
        """Grade a typed / order / problem answer; AnswerFormatError when the text is not of the right form."""
        if prompt.mode == "order":
            return _check_order(prompt.expected, text)
        if prompt.mode == "typed":
            return _check_typed(prompt.card, text)
        from dlstudy.engine.checking import check

        solution = prompt.expected.result()
        verdict = check(solution.template, solution, text)
        return Checked(verdict.score, rating_for_score(verdict.score), verdict.expected, verdict.feedback)

    # -- recording

    def grade(self, card: Card, rating: int, answer: str | None = None, duration_ms: int | None = None) -> Graded:
        """Record one review, committed before this returns."""
        now = self.clock()
        if self.cram:
            review_id = self.store.record_review(card.id, card.deck, rating, now, None, duration_ms, answer)
            graded = Graded(card, rating, review_id, None)
        else:
            new_rows: list[CardRow] = []

            def schedule(row: CardRow) -> CardRow:
                new_rows.append(next_state(self.scheduler, row, rating, now))
                return new_rows[-1]

            review_id = self.store.record_review(card.id, card.deck, rating, now, schedule, duration_ms, answer)
            due = new_rows[-1].due
            if due is not None and due <= now + LEARN_AHEAD:
                self._learning.append((due, card.id))
            graded = Graded(card, rating, review_id, due)
        self.history.append(graded)
        return graded

    def undo(self) -> Card | None:
        """Take back the last grade of this session; the card comes up again next."""
        if not self.history:
            return None
        last = self.history.pop()
        self.store.undo(last.review_id)
        self._learning = [(due, cid) for due, cid in self._learning if cid != last.card.id]
        self._notes_seen.discard(last.card.note.id)
        self._queue.appendleft(last.card.id)
        self._shown = max(0, self._shown - 1)
        return last.card

    def put_back(self, card: Card) -> None:
        """A card that was on screen but not graded comes up next (after an undo)."""
        self._notes_seen.discard(card.note.id)
        self._queue.appendleft(card.id)
        self._shown = max(0, self._shown - 1)

    def suspend(self, card: Card) -> None:
        self.store.set_suspended(card.id, card.deck, True)


def _suspended(rows: dict[str, CardRow], card_id: str) -> bool:
    row = rows.get(card_id)
    return bool(row and row.suspended)


def _join(*parts: str) -> str:
    return "\n".join(p for p in parts if p)


def _check_order(key: list[str], text: str) -> Checked:
    from dlstudy.engine.answers import AnswerFormatError

    letters = [c for c in text.lower() if c in CHOICE_LETTERS]
    if len(letters) != len(key) or sorted(letters) != sorted(key):
        raise AnswerFormatError("choice", f"give all {len(key)} letters once each, e.g. {' '.join(sorted(key))}")
    right = sum(a == b for a, b in zip(letters, key)) / len(key)
    return Checked(right, rating_for_score(right), " ".join(key))


def _check_typed(card: Card, text: str) -> Checked:
    """A typed card, judged by the same comparison as problem answers (the card's rtol, exact integers)."""
    from dlstudy.engine.answers import parse_answer
    from dlstudy.engine.checking import Tolerance, compare

    note = card.note
    given = parse_answer(note.answer_kind, text, variables=(note.variable,))
    key = parse_answer(note.answer_kind, note.answer, variables=(note.variable,))
    score = compare(note.answer_kind, given, key, Tolerance(rtol=note.rtol), note.variable).score
    return Checked(score, rating_for_score(score), note.answer)
