"""Every resource limit in one place: what a user's input may cost before dlstudy refuses it.

Each refusal is one line (exit 2) that names the limit; see ``check_size``.
"""

from __future__ import annotations

from dlstudy.errors import DlstudyError

# Expressions (formulas, answers): length in characters, parenthesis nesting, and the parsed tree's depth and
# size -- a left-deep chain such as 1+1+...+1 (1,000 terms) nests no parenthesis but is 1,000 levels deep.
MAX_EXPRESSION_LENGTH = 2000
MAX_NESTING = 60
MAX_TREE_DEPTH = 150
MAX_TREE_NODES = 4000
# Any array an expression builds (outer products, broadcasting), checked before it is allocated: 8 MB.
MAX_ARRAY_ELEMENTS = 10**6
# Text a user typed, quoted back in an error message.
MAX_QUOTED = 80

# The work an oracle may do for a student's own numbers, in array elements (or loop steps):
# 10^7 float64 entries are 80 MB, and NumPy sweeps them in well under a second.
MAX_WORK = 10**7


def check_work(work: float, what: str) -> None:
    """Refuse at once when an exercise would cost more than MAX_WORK."""
    if not work <= MAX_WORK:
        raise DlstudyError(
            f"too large to compute here: {what} is {work:.3g}, the limit is {MAX_WORK:.0e}; use smaller sizes"
        )


def quoted(text: str) -> str:
    """``repr`` of a user's text, cut to MAX_QUOTED characters so an error stays one readable line."""
    return repr(text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 1] + "…")
