"""Exam-date planning: the schedule aims at high recall on the exam day, with the work spread evenly.

``dlstudy exam set 2026-12-15 [DECKS]`` stores the date (per deck, or for every
deck); from then on, for a card of those decks:

* **Every card is seen again before the exam.** FSRS schedules a review as
  usual; when that review would fall on or after the exam day, it is moved to
  a day before it. Which day: the latest day whose review still leaves the
  card at ``exam_retention`` (0.95 by default) on the exam morning — FSRS's own
  retrievability of the card at the exam, were it last reviewed that day —
  and, among those, the day with the fewest cards due (a load balancer, as
  in Anki's), avoiding days on which a card of its family is due (related
  cards are shown on different days). When every such day is already at the
  daily target, an earlier day below it is taken (the card then simply gets
  one more review before the exam); when there is none either, a card that
  FSRS expects at ``desired_retention`` (90 %) on the exam morning is left
  where FSRS put it. A review
  after which FSRS already expects ``exam_retention`` on the exam morning is
  left alone too: the card has been seen recently enough.
* **No day piles up**: a review FSRS puts before the exam on a day already at
  the target moves by up to 15 % of its interval (at least a day) to a lighter
  day.
* **New cards are all introduced in time**: the daily allowance rises to what
  is left divided by the days left, keeping the last two days before the exam
  for reviews, and on a light day to the daily target (so the work is front-
  loaded and the last days are not the heaviest).
* **A daily target**: the planner simulates the days until the exam (every
  answer Good, FSRS's own scheduling, the same placement) and spreads the total
  over them; the quiz shows it, and ``stats`` shows the predicted recall on the
  exam morning per topic, both if you stop now and if you follow the plan.
* **The evening before**: ``dlstudy exam cram`` reviews the exam's cards
  weakest first (lowest predicted recall at the exam) without touching the
  schedule.

Setting an exam moves the cards already scheduled past it into their windows
the same way. Clearing it leaves the schedule as it is (reviews that were
moved earlier simply come earlier; FSRS handles an early review). Days are
study days (``dlstudy.clock.study_day``); the exam is taken to start at
09:00 local time on its day.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable, Mapping, Sequence

from dlstudy.cards.records import NEW, REVIEW, CardRow
from dlstudy.cards.scheduling import GOOD, next_state, to_fsrs
from dlstudy.cards.store import Store
from dlstudy.clock import DAY_STARTS_AT, day_start, study_day
from dlstudy.errors import DlstudyError

EXAMS_KEY = "exams"  # settings: {"*": "2026-12-15", "cnn": "2026-12-10"}; "*" is every deck without its own date
ALL = "*"
EXAM_HOUR = 9  # an exam starts at 09:00 local time on its day
EVENING = 18  # when the simulated student studies (local hour)
BALANCE = 0.15  # a review due before the exam may move by this share of its interval to a lighter day
NEW_CARDS_STOP = 2  # days before the exam from which no new card comes in: the last ones are for reviews


# ---------------------------------------------------------------------------
# The exam dates


def load_exams(store: Store) -> dict[str, date]:
    """Deck name (or ``"*"``, every other deck) -> exam day."""
    saved = store.setting(EXAMS_KEY)
    if not saved:
        return {}
    return {deck: date.fromisoformat(day) for deck, day in json.loads(saved).items()}


def save_exams(store: Store, exams: Mapping[str, date]) -> None:
    store.set_setting(EXAMS_KEY, json.dumps({k: v.isoformat() for k, v in sorted(exams.items())}) if exams else None)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DlstudyError(f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-12-15") from None


def exam_moment(day: date) -> datetime:
    """When an exam on ``day`` starts (09:00 local time), as an aware UTC datetime."""
    return day_start(day) + timedelta(hours=EXAM_HOUR - DAY_STARTS_AT)


def exam_for(exams: Mapping[str, date], deck: str, today: date) -> date | None:
    """The exam ahead of a deck's cards (its own date, else the one for every deck); None when there is none."""
    for key in (deck, ALL):
        day = exams.get(key)
        if day is not None and day > today:
            return day
    return None


# ---------------------------------------------------------------------------
# Placing a review before the exam


@dataclass
class Workload:
    """Cards due per study day (the days before the exams), kept up to date as reviews are placed."""

    per_day: Counter = field(default_factory=Counter)

    @classmethod
    def from_store(cls, store: Store, decks: Callable[[str], bool], today: date, until: date) -> "Workload":
        load = cls()
        for _, deck, due in store.due_between(day_start(today + timedelta(days=1)), day_start(until)):
            if decks(deck):
                load.per_day[study_day(due)] += 1
        return load

    def move(self, before: datetime | None, after: datetime | None) -> None:
        if before is not None:
            day = study_day(before)
            if self.per_day.get(day, 0) > 0:
                self.per_day[day] -= 1
        if after is not None:
            self.per_day[study_day(after)] += 1


@dataclass
class Planner:
    """Where a card's next review goes so that it is seen before its exam (see the module's docstring)."""

    exams: Mapping[str, date]
    scheduler: Any  # fsrs.Scheduler
    retention: float = 0.95  # recall to aim at on the exam morning
    target: int | None = None  # cards per day; above it a review moves earlier rather than pile up
    enough: float = 0.9  # recall on the exam morning that makes a review unnecessary on a day already full
    # (the user's desired_retention)

    def exam_for(self, deck: str, now: datetime) -> date | None:
        return exam_for(self.exams, deck, study_day(now))

    def last_day(self, deck: str, now: datetime) -> bool:
        """Whether today is the last study day before the deck's exam."""
        exam = self.exam_for(deck, now)
        return exam is not None and study_day(now) >= exam - timedelta(days=1)

    def recall_at_exam(self, row: CardRow, exam: date, reviewed: date | None = None) -> float:
        """FSRS's retrievability of the card on the exam morning (as if last reviewed on ``reviewed``)."""
        if row.state == NEW or row.stability is None:
            return 0.0
        moment = exam_moment(exam)
        if reviewed is not None:
            row = replace(row, last_review=moment - timedelta(days=(exam - reviewed).days))
        return float(self.scheduler.get_card_retrievability(to_fsrs(row, moment), moment))

    def window(self, row: CardRow, exam: date, today: date) -> tuple[date, date]:
        """The days its next review may take: from the earliest that still leaves ``retention`` at the exam
        (at least the last day) to the last day before the exam."""
        last = exam - timedelta(days=1)
        first = last
        while first - timedelta(days=1) > today:
            if self.recall_at_exam(row, exam, first - timedelta(days=1)) < self.retention:
                break
            first -= timedelta(days=1)
        return first, last

    def place(
        self, row: CardRow, now: datetime, load: Workload, avoid: Iterable[date] = ()
    ) -> CardRow:
        """The row with its due moved before its exam if FSRS put it on or after the exam day."""
        exam = self.exam_for(row.deck, now)
        today = study_day(now)
        if exam is None or row.due is None or today >= exam - timedelta(days=1):
            return row  # no exam ahead, or reviewed on the last day
        if study_day(row.due) < exam:
            return self._balance(row, today, exam, load, set(avoid))
        if self.recall_at_exam(row, exam) >= self.retention:
            return row  # this review is recent enough: FSRS expects it recalled on the exam morning
        first, last = self.window(row, exam, today)
        avoid = set(avoid)
        inside = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        earlier = [today + timedelta(days=i) for i in range(1, (first - today).days)]
        day = self._pick(inside, load, avoid) or self._pick(earlier, load, avoid)
        if day is None:  # every day that would do is full
            if self.recall_at_exam(row, exam) >= self.enough:
                return row
            day = min(inside, key=lambda d: (load.per_day[d], -d.toordinal()))
        return replace(row, due=day_start(day))

    def _balance(self, row: CardRow, today: date, exam: date, load: Workload, avoid: set[date]) -> CardRow:
        """A review due before the exam, moved by up to ``BALANCE`` of its interval (a day at least, for
        intervals of two days and more) to a lighter day."""
        due = study_day(row.due)
        interval = (due - today).days
        spread = max(1, round(interval * BALANCE)) if interval >= 2 else 0
        if self.target is None or spread < 1 or load.per_day[due] < self.target and due not in avoid:
            return row
        days = [due + timedelta(days=i) for i in range(-spread, spread + 1)]
        day = self._pick([d for d in days if today < d < exam], load, avoid)
        return row if day is None or day == due else replace(row, due=day_start(day) + (row.due - day_start(due)))

    def _pick(self, days: list[date], load: Workload, avoid: set[date]) -> date | None:
        """The least loaded of ``days`` under the target (the latest of equals), avoiding ``avoid`` if it can."""
        free = [d for d in days if d not in avoid] or days
        under = [d for d in free if self.target is None or load.per_day[d] < self.target]
        return min(under, key=lambda d: (load.per_day[d], -d.toordinal())) if under else None

    def new_allowance(self, unseen: int, introduced_today: int, exam: date, now: datetime, due_today: int = 0) -> int:
        """How many new cards of an exam's decks to introduce today: enough that all are seen in time, and
        more on a light day (up to the daily target with the ``due_today`` reviews), so the last days before
        the exam are not the heaviest."""
        days = max(1, (exam - study_day(now)).days - NEW_CARDS_STOP)
        share = math.ceil((unseen + introduced_today) / days)
        fill = (self.target or 0) - due_today
        return max(0, min(unseen + introduced_today, max(share, fill)) - introduced_today)


# ---------------------------------------------------------------------------
# The plan: a simulation of the days until the exam


@dataclass(frozen=True)
class DayPlan:
    day: date
    due: int  # reviews of cards already learned
    new: int  # cards introduced

    @property
    def cards(self) -> int:
        return self.due + self.new


@dataclass(frozen=True)
class Forecast:
    days: tuple[DayPlan, ...]  # today to the last day before the (last) exam
    target: int  # cards per day, the work spread evenly
    recall_now: dict[str, float]  # card id -> recall on its exam morning if you stop studying now
    recall_on_plan: dict[str, float]  # ... if you study every day as planned

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "days": [{"date": d.day.isoformat(), "due": d.due, "new": d.new} for d in self.days],
        }


def simulate(
    planner: Planner,
    cards: Sequence[tuple[str, str, str]],  # (card id, deck, note id) of the exams' cards, not suspended
    rows: Mapping[str, CardRow],
    now: datetime,
) -> Forecast:
    """The days until the exam(s) if every card due is reviewed and rated Good and new cards come in as
    planned: the work per day, the daily target (also set on ``planner``), the recall on the exam morning."""
    today = study_day(now)
    exams = {card_id: exam_for(planner.exams, deck, today) for card_id, deck, _ in cards}
    planned = [(c, d, n) for c, d, n in cards if exams[c] is not None]
    recall_now = {c: planner.recall_at_exam(rows[c], exams[c]) if c in rows else 0.0 for c, _, _ in planned}
    if not planned:
        return Forecast((), 0, recall_now, recall_now)
    last = max(exams[c] for c, _, _ in planned) - timedelta(days=1)
    ndays = (last - today).days + 1
    # First without a target, to learn how much work there is; then again with the work spread as the target,
    # so that no day piles up. The planner keeps the target (the quiz places reviews under it).
    planner.target = None
    days, state = _run(planner, planned, rows, exams, today, ndays)
    planner.target = _spread(days)
    days, state = _run(planner, planned, rows, exams, today, ndays)
    target = planner.target = _spread(days)
    recall_on_plan = {c: planner.recall_at_exam(state[c], exams[c]) for c, _, _ in planned}
    return Forecast(tuple(days), target, recall_now, recall_on_plan)


def _spread(days: Sequence[DayPlan]) -> int:
    """The day's share of the work, spread evenly."""
    return max(1, math.ceil(sum(d.cards for d in days) / max(1, len(days))))


def _run(planner, planned, rows, exams, today, ndays) -> tuple[list[DayPlan], dict[str, CardRow]]:
    state = {c: rows[c] for c, _, _ in planned if c in rows and rows[c].state != NEW}
    unseen: dict[date, list[str]] = {}
    for c, _, _ in planned:
        if c not in state:
            unseen.setdefault(exams[c], []).append(c)
    deck_of = {c: d for c, d, _ in planned}
    # The study day each card of ``state`` is due, in its order and updated with it: every simulated day
    # looks at every card, so each due moment is converted to local time once rather than once a day.
    due_day = {c: study_day(row.due) for c, row in state.items() if row.due is not None}
    load = Workload()
    for on in due_day.values():
        load.per_day[max(on, today)] += 1
    days = []
    for offset in range(ndays):
        day = today + timedelta(days=offset)
        moment = day_start(day) + timedelta(hours=EVENING - DAY_STARTS_AT)
        due = [c for c, on in due_day.items() if on <= day and exams[c] > day]
        new = []
        for exam, waiting in unseen.items():
            if exam <= day or not waiting:
                continue
            count = planner.new_allowance(len(waiting), 0, exam, moment, len(due) + len(new))
            new.extend(waiting[:count])
            del waiting[:count]
        for c in due:
            before = state[c]
            after = planner.place(next_state(planner.scheduler, before, GOOD, moment), moment, load)
            load.move(max(before.due, day_start(day)) if before.due else None, after.due)
            state[c], due_day[c] = after, study_day(after.due)
        for c in new:
            row = CardRow(c, deck_of[c])
            step = moment
            while row.state != REVIEW:
                row = next_state(planner.scheduler, row, GOOD, step)
                step = row.due
            row = planner.place(row, moment, load)
            load.move(None, row.due)
            state[c], due_day[c] = row, study_day(row.due)
        days.append(DayPlan(day, len(due), len(new)))
    return days, state
