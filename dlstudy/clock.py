"""The current time, injectable: every core function that needs "now" takes a clock.

``DLSTUDY_NOW`` (an ISO 8601 timestamp) fixes the clock for the whole process,
the way SOURCE_DATE_EPOCH fixes build dates: tests and reproducible demos set
it; users never need to.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable

from dlstudy.errors import DlstudyError

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    fixed = os.environ.get("DLSTUDY_NOW")
    if fixed:
        return parse_time(fixed, "DLSTUDY_NOW")
    return datetime.now(timezone.utc)


def parse_time(text: str, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DlstudyError(f"{what}={text!r} is not an ISO 8601 time such as 2026-11-23T09:00:00+00:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# ---------------------------------------------------------------------------
# Study days: a day starts at 04:00 local time (as in Anki), so a session past
# midnight still counts as the evening's. Burying, the daily allowance of new
# cards and exam planning all count in study days.

DAY_STARTS_AT = 4  # hours after local midnight


def study_day(moment: datetime) -> date:
    """The study day ``moment`` falls on (local time, days starting at 04:00)."""
    return (moment.astimezone() - timedelta(hours=DAY_STARTS_AT)).date()


def day_start(day: date) -> datetime:
    """When study day ``day`` starts, as an aware UTC datetime."""
    return datetime.combine(day, time(DAY_STARTS_AT)).astimezone().astimezone(timezone.utc)
