"""A review session: which card comes next, what to ask, how a review is recorded and taken back.

Pure logic over a Store, the decks' cards, a clock and a random Generator; what
to ask for a card is its kind's (``dlstudy.cards.kinds``), and the terminal
loop lives in cli/interactive.py. Every grade, suspend and bury is committed
before the next card is chosen, and each can be undone (``undo``), in order.

Which cards come up: due cards (earliest first), then new cards up to the
daily allowance, then cards of learning steps due within 20 minutes. A card
whose family (``dlstudy.cards.families``: its note's other cards, its related
notes' cards) was already reviewed today or shown in this session is held
back until the next study day, unless the session is told to show them
(``together``) or the card's exam is tomorrow. A cram session shows every
selected card once, keeps a family's cards apart, and leaves the schedule
alone: its suspend and bury only set a card aside for the session.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Callable, Sequence

import numpy as np

from dlstudy.cards import kinds
from dlstudy.cards.families import Relations, held_back, spread_out
from dlstudy.cards.model import Card
from dlstudy.cards.prompts import Checked, Prompt
from dlstudy.cards.records import NEW, CardRow
from dlstudy.cards.scheduling import AGAIN, EASY, GOOD, HARD, make_scheduler, next_state
from dlstudy.cards.store import Store
from dlstudy.clock import Clock, day_start, study_day
from dlstudy.config import Config

LEARN_AHEAD = timedelta(minutes=20)  # like Anki: a learning step due this soon is shown rather than waited for


@dataclass(frozen=True)
class Graded:
    card: Card
    rating: int
    review_id: int
    reviewed_at: datetime
    due: datetime | None  # None for cram reviews

    @property
    def interval(self) -> timedelta | None:
        """How long until the card's next review, from the moment it was graded."""
        return None if self.due is None else self.due - self.reviewed_at


@dataclass(frozen=True)
class Action:
    """Something ``undo`` can take back: a grade, a suspend or a bury."""

    kind: str  # "grade", "suspend", "bury"
    card: Card
    graded: Graded | None = None
    before: CardRow | None = None  # the card's row before a suspend or bury
    stored: bool = True  # False: a cram session only set the card aside


@dataclass(frozen=True)
class Progress:
    position: int  # the card on screen is the position-th of the session
    total: int  # cards shown so far + cards still to come today


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
    relations: Relations | None = None  # families across every loaded deck (default: the session's cards)
    together: bool = False  # show related cards on the same day
    planner: Any = None  # cards.exam.Planner when an exam is set
    order: Sequence[str] | None = None  # cram: the order to show the cards in (default: shuffled)
    forecast: Any = None  # cards.exam.Forecast of the exam ahead (for the CLI to show the daily target)
    exam: Any = None  # the exam day an exam cram is for
    scheduler: Any = field(init=False)
    history: list[Action] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.scheduler = make_scheduler(self.config, self.store)
        self._preview_scheduler = make_scheduler(replace(self.config, fuzz=False), self.store)
        self._by_id = {card.id: card for card in self.cards}
        if self.relations is None:
            self.relations = Relations({c.note.id: c.note for c in self.cards}.values(), ((c.id, c.note.id) for c in self.cards))
        self._pool = None
        self._learning: list[tuple[datetime, str]] = []  # cards seen this session and due again soon
        self._shown = 0
        self._current: Card | None = None
        self._set_aside: set[str] = set()  # cram: suspended or buried for this session only
        now = self.clock()
        self.today = study_day(now)
        rows = self.store.cards()
        # note id -> ids of its cards reviewed today or shown in this session (what holds a family back)
        self._seen: dict[str, set[str]] = {}
        self._seen_before: set[str] = set() if self.cram else self.store.reviewed_since(day_start(self.today))
        for card_id in self._seen_before:
            note = self.relations.note_of.get(card_id)
            if note is not None:
                self._seen.setdefault(note, set()).add(card_id)
        self._load = None
        if self.cram:
            ids = [c.id for c in self.cards if not _suspended(rows, c.id)]
            if self.order is None:
                ids = [ids[i] for i in self.rng.permutation(len(ids))]
            else:
                wanted = set(ids)
                ids = [i for i in self.order if i in wanted]
            self._queue: list[str] = ids
            self._new: list[str] = []
            self._new_left = 0
            self._deferred: set[str] = set()
            return
        self._queue = [card_id for card_id, _ in self.store.due(now) if card_id in self._by_id]
        new = [c.id for c in self.cards if _is_new(rows.get(c.id), now)]
        self._new = spread_out(self._exam_first(new, now), lambda c: self._by_id[c].note.id, self.relations.family)
        self._new_left = self._new_allowance(new, rows, now)  # new cards this session may still introduce

    # -- what is left

    def remaining(self) -> int:
        """Cards still to come today: due and new ones as the session will show them (one card of a family a
        day), and learning steps; the card on screen is not counted."""
        if self.cram:
            count = len([c for c in self._queue if c not in self._set_aside])
        else:
            count = self._pending()[0] + len(self._learning)
        return count if self.limit is None else min(count, max(0, self.limit - self._shown))

    def held_back(self) -> int:
        """Cards due (or new, within the allowance) that wait for the next study day because a card of their
        family was seen today."""
        return 0 if self.cram else self._pending()[1]

    def _pending(self) -> tuple[int, int]:
        """(cards to come, cards held back) among the due and new ones, going through them as ``next_card``
        will: a card shown holds back the rest of its family."""
        coming = held = 0
        extra: dict[str, set[str]] = {}
        new_left = self._new_left
        for queue in (self._queue, self._new):
            for card_id in queue:
                if queue is self._new and new_left <= 0:
                    break
                if self._held(card_id, extra):
                    held += 1
                    continue
                coming += 1
                new_left -= queue is self._new
                card = self._by_id[card_id]
                extra.setdefault(card.note.id, set()).add(card_id)
        return coming, held

    def progress(self) -> Progress:
        return Progress(self._shown, self._shown + self.remaining())

    # -- choosing

    def next_card(self) -> Card | None:
        if self.limit is not None and self._shown >= self.limit:
            return None
        now = self.clock()
        self._learning.sort()
        card_id = None
        if self._learning and self._learning[0][0] <= now:
            card_id = self._learning.pop(0)[1]
        if card_id is None:
            card_id = self._pop(self._queue)
        if card_id is None and self._new_left > 0:
            card_id = self._pop(self._new)
            self._new_left -= card_id is not None
        if card_id is None and self._learning and self._learning[0][0] <= now + LEARN_AHEAD:
            card_id = self._learning.pop(0)[1]
        if card_id is None:
            return None
        self._shown += 1
        card = self._by_id[card_id]
        self._seen.setdefault(card.note.id, set()).add(card.id)
        self._current = card
        return card

    def _pop(self, queue: list[str]) -> str | None:
        """The first card of ``queue`` not held back by its family (a cram session puts those at the end once)."""
        index = 0
        while index < len(queue):
            card_id = queue[index]
            if not self.cram:
                if not self._held(card_id):
                    return queue.pop(index)
                index += 1
            elif card_id in self._set_aside:
                index += 1
            elif self._held(card_id) and card_id not in self._deferred and index < len(queue) - 1:
                self._deferred.add(card_id)
                queue.append(queue.pop(index))  # later in the cram, after the rest of its family's turn
            else:
                return queue.pop(index)
        return None

    def _held(self, card_id: str, extra: dict[str, set[str]] | None = None) -> bool:
        """Whether a card of the card's family was seen today (or is in ``extra``, cards about to be)."""
        if self.together:
            return False
        card = self._by_id[card_id]
        family = self.relations.family.get(card.note.id, (card.note.id,))
        if len(family) == 1 and len(self.relations.cards_of.get(card.note.id, ())) <= 1:
            return False  # a card on its own
        if not self.cram and self.planner is not None and self.planner.last_day(card.deck, self.clock()):
            return False  # the exam is tomorrow: seeing every card matters more than keeping them apart
        seen = self._seen
        if extra:
            seen = {note: self._seen.get(note, set()) | extra.get(note, set()) for note in family}
        return held_back(card.note.id, card.id, seen, self.relations.family)

    def _exam_first(self, new: list[str], now: datetime) -> list[str]:
        if self.planner is None:
            return new
        far = self.today + timedelta(days=100_000)
        return sorted(new, key=lambda c: self.planner.exam_for(self._by_id[c].deck, now) or far)

    def _new_allowance(self, new: list[str], rows: dict[str, CardRow], now: datetime) -> int:
        """The daily allowance (``new_per_day``) less the cards introduced today; with an exam ahead, what
        the planner needs instead (``exam.Planner.new_allowance``)."""
        if self.new_limit is not None:
            return self.new_limit
        introduced = self.store.new_cards_introduced(day_start(self.today))
        if self.planner is not None:
            by_exam: dict[Any, int] = Counter(self.planner.exam_for(self._by_id[c].deck, now) for c in new)
            by_exam.pop(None, None)
            if by_exam:
                due_today = len(self._queue) + len(self._seen_before)
                return max(self.planner.new_allowance(unseen, introduced, exam, now, due_today)
                           for exam, unseen in by_exam.items())
        return max(0, self.config.new_per_day - introduced)

    # -- asking

    def prompt(self, card: Card) -> Prompt:
        """What to ask, as the card's kind says (a problem card gets a fresh variant, solving in the background)."""
        return kinds.get(card.kind).prompt(card, self)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Run ``fn`` on the session's background thread (a problem's oracle, while its statement is read)."""
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=1)
        return self._pool.submit(fn, *args)

    def check(self, prompt: Prompt, text: str) -> Checked:
        """Grade a typed answer; AnswerFormatError when the text is not of the right form."""
        if prompt.checker is None:
            raise ValueError(f"{prompt.card.id} is graded by the student, not checked")
        return prompt.checker(text)

    def preview(self, card: Card) -> dict[int, timedelta] | None:
        """How long until the next review for each grade (before fuzz); None in a cram session."""
        if self.cram:
            return None
        now = self.clock()
        row = self.store.card(card.id) or CardRow(card.id, card.deck)
        result = {}
        for rating in (AGAIN, HARD, GOOD, EASY):
            after = self._placed(card, row, next_state(self._preview_scheduler, row, rating, now), now)
            result[rating] = after.due - now if after.due is not None else timedelta(0)
        return result

    def _placed(self, card: Card, before: CardRow, after: CardRow, now: datetime) -> CardRow:
        """The next state as the exam planner moves it (unchanged without an exam)."""
        if self.planner is None:
            return after
        if self._load is None:
            from dlstudy.cards.exam import Workload

            until = max(self.planner.exams.values()) + timedelta(days=1)
            self._load = Workload.from_store(self.store, lambda deck: self.planner.exam_for(deck, now) is not None,
                                             self.today, until)
        avoid = set()
        for other in self.relations.kin(card.note.id, card.id):
            row = self.store.card(other)
            if row is not None and row.due is not None:
                avoid.add(study_day(row.due))
        return self.planner.place(after, now, self._load, avoid)

    # -- recording

    def grade(self, card: Card, rating: int, answer: str | None = None, duration_ms: int | None = None) -> Graded:
        """Record one review, committed before this returns."""
        now = self.clock()
        if self.cram:
            review_id = self.store.record_review(card.id, card.deck, rating, now, None, duration_ms, answer)
            graded = Graded(card, rating, review_id, now, None)
        else:
            new_rows: list[CardRow] = []

            def schedule(row: CardRow) -> CardRow:
                new_rows.append(self._placed(card, row, next_state(self.scheduler, row, rating, now), now))
                if self._load is not None:
                    self._load.move(row.due if row.state != NEW else None, new_rows[-1].due)
                return new_rows[-1]

            review_id = self.store.record_review(card.id, card.deck, rating, now, schedule, duration_ms, answer)
            due = new_rows[-1].due
            if due is not None and due <= now + LEARN_AHEAD:
                self._learning.append((due, card.id))
            graded = Graded(card, rating, review_id, now, due)
        self.history.append(Action("grade", card, graded))
        self._current = None
        return graded

    def suspend(self, card: Card) -> Action:
        """Suspend the card (a cram session: set it aside for this session)."""
        return self._hide("suspend", card)

    def bury(self, card: Card) -> Action:
        """Hide the card until the next study day (a cram session: set it aside for this session)."""
        return self._hide("bury", card)

    def _hide(self, kind: str, card: Card) -> Action:
        if self.cram:
            self._set_aside.add(card.id)
            action = Action(kind, card, stored=False)
        elif kind == "suspend":
            action = Action(kind, card, before=self.store.set_suspended(card.id, card.deck, True))
        else:
            until = day_start(self.today + timedelta(days=1))
            action = Action(kind, card, before=self.store.set_buried(card.id, card.deck, until))
        self._learning = [(due, cid) for due, cid in self._learning if cid != card.id]
        self.history.append(action)
        self._current = None
        return action

    def undo(self) -> Action | None:
        """Take back the last grade, suspend or bury of this session; that card comes up next.

        A card on screen (not graded yet) goes back to where it was.
        """
        if self._current is not None:
            self._unshow(self._current)
            self._current = None
        if not self.history:
            return None
        action = self.history.pop()
        card = action.card
        if action.kind == "grade":
            assert action.graded is not None
            self.store.undo(action.graded.review_id)
            self._learning = [(due, cid) for due, cid in self._learning if cid != card.id]
            self._load = None  # recount the workload from the store
        elif action.stored:
            self.store.restore(card.id, action.before)
        else:
            self._set_aside.discard(card.id)
        self._unshow(card)
        return action

    def _unshow(self, card: Card) -> None:
        """The card goes back to the front of the queue, as if not shown yet."""
        seen = self._seen.get(card.note.id)
        if seen is not None and card.id not in self._seen_before:
            seen.discard(card.id)
        if card.id in self._queue:
            self._queue.remove(card.id)
        self._queue.insert(0, card.id)
        self._shown = max(0, self._shown - 1)

    def stop(self) -> None:
        """Quit with a card on screen: it counts as still to come."""
        if self._current is not None:
            self._unshow(self._current)
            self._current = None

    def summary(self) -> dict[str, Any]:
        """What this session did, for its last line."""
        grades = [a.graded for a in self.history if a.kind == "grade" and a.graded is not None]
        ratings = Counter(g.rating for g in grades)
        return {
            "cram": self.cram,
            "reviewed": len(grades),
            "cards": len({g.card.id for g in grades}),
            "ratings": {rating: ratings[rating] for rating in (AGAIN, HARD, GOOD, EASY) if ratings[rating]},
            "suspended": sum(a.kind == "suspend" for a in self.history),
            "buried": sum(a.kind == "bury" for a in self.history),
            "left": self.remaining(),
            "held_back": self.held_back(),
        }

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self.store.close()


def _suspended(rows: dict[str, CardRow], card_id: str) -> bool:
    row = rows.get(card_id)
    return bool(row and row.suspended)


def _is_new(row: CardRow | None, now: datetime) -> bool:
    """Never reviewed, not suspended, not buried."""
    return row is None or (row.state == NEW and not row.suspended and not row.buried(now))
