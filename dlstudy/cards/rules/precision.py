"""``typed-precision``: a typed card with a real, vector or matrix answer declares its precision and states it.

``sigfigs: N`` or ``decimals: N`` in the note, and the same in the front ("to 3
significant figures", "to 2 decimals", or "exactly" when the answer has no
more decimals), so the student knows how precise to be.
"""

from __future__ import annotations

import re
from typing import Iterable

from dlstudy.cards.model import Note
from dlstudy.cards.rules import note_rule
from dlstudy.cards.rules.text import DECIMALS_TEXT, EXACT_TEXT, SIGFIGS_TEXT, count, prose

NEEDS_PRECISION = ("real", "vector", "matrix")


def decimals_in(answer: str) -> int:
    """Most decimals of any number written in the answer (0 for whole numbers; 99 in scientific notation)."""
    places = [len(m.group(1)) for m in re.finditer(r"\d\.(\d+)", str(answer))]
    if re.search(r"\de", str(answer), re.I):
        return 99  # scientific notation: state significant figures instead
    return max(places, default=0)


@note_rule("typed-precision")
def typed_precision(note: Note) -> Iterable[tuple[str | None, str]]:
    """A typed numeric answer declares its precision and the front states it."""
    fields = note.fields
    if fields.get("answer_kind") not in NEEDS_PRECISION:
        return
    sigfigs, decimals = fields.get("sigfigs"), fields.get("decimals")
    if sigfigs is None and decimals is None:
        yield "answer_kind", (
            "typed card with a numeric answer declares no precision; add `sigfigs: N` or `decimals: N` "
            "and say it in the front ('to 3 significant figures', 'to 2 decimals', or 'exactly')"
        )
        return
    front = prose(fields.get("front") or "", " ")
    said_sig = [count(m.group(1)) for m in SIGFIGS_TEXT.finditer(front)]
    said_dec = [count(m.group(1)) for m in DECIMALS_TEXT.finditer(front)]
    exact = bool(EXACT_TEXT.search(front))
    if sigfigs is not None:
        ok = said_sig == [int(sigfigs)] or (exact and not said_sig)
        wanted = f"'to {sigfigs} significant figures'"
    else:
        ok = said_dec == [int(decimals)] or (
            exact and not said_dec and decimals_in(fields.get("answer", "")) <= int(decimals)
        )
        wanted = f"'to {decimals} decimals' (or 'exactly' when the answer has no more decimals)"
    if not ok:
        yield "front", f"the front does not state the declared precision; write {wanted} in the front"
