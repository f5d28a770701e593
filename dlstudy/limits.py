"""Every resource limit in one place: what a user's input may cost before dlstudy refuses it.

Each refusal is one line (exit 2) that names the limit; see ``check_size``.
"""

from __future__ import annotations

from dlstudy.errors import DlstudyError

# The work an oracle may do for a student's own numbers, in array elements (or loop steps):
# 10^7 float64 entries are 80 MB, and NumPy sweeps them in well under a second.
MAX_WORK = 10**7


def check_work(work: float, what: str) -> None:
    """Refuse at once when an exercise would cost more than MAX_WORK."""
    if not work <= MAX_WORK:
        raise DlstudyError(
            f"too large to compute here: {what} is {work:.3g}, the limit is {MAX_WORK:.0e}; use smaller sizes"
        )
