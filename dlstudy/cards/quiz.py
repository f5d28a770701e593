"""A review session: which card comes next, what to ask, how a review is recorded.

Pure logic over a Store, the decks' cards, a clock and a random Generator; what
to ask for a card is its kind's (``dlstudy.cards.kinds``), and the terminal
loop lives in cli/interactive.py. Every grade is committed before the next
card is chosen.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Sequence

import numpy as np

from dlstudy.cards import kinds
from dlstudy.cards.model import Card, Deck
from dlstudy.cards.prompts import Checked, Prompt
from dlstudy.cards.scheduling import make_scheduler, next_state
from dlstudy.cards.store import CardRow, Store
from dlstudy.clock import Clock
from dlstudy.config import Config
from dlstudy.errors import DlstudyError
from dlstudy.suggest import did_you_mean

LEARN_AHEAD = timedelta(minutes=20)  # like Anki: a learning step due this soon is shown rather than waited for


@dataclass(frozen=True)
class Graded:
    card: Card
    rating: int
    review_id: int
    due: datetime | None  # None for cram reviews


def select_cards(decks: Sequence[Deck], words: Sequence[str]) -> list[Card]:
    """Cards of the decks or tags named by ``words`` (all cards when none)."""
    cards = [card for deck in decks for card in deck.cards]
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
        """What to ask, as the card's kind says (a problem card gets a fresh variant, solving in the background)."""
        return kinds.get(card.kind).prompt(card, self)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Run ``fn`` on the session's background thread (a problem's oracle, while its statement is read)."""
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=1)
        return self._pool.submit(fn, *args)

    # -- checking auto-graded prompts

    def check(self, prompt: Prompt, text: str) -> Checked:
        """Grade a typed answer; AnswerFormatError when the text is not of the right form."""
        if prompt.checker is None:
            raise ValueError(f"{prompt.card.id} is graded by the student, not checked")
        return prompt.checker(text)

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
