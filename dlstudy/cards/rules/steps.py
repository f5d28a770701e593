"""``giveaway-step``: no derivation step starts with a word that tells its place in the chain.

A review may show the steps shuffled and ask for their order; "Hence",
"Finally", "Step 3:" would answer it.
"""

from __future__ import annotations

import re
from typing import Iterable

from dlstudy.cards.model import Note
from dlstudy.cards.rules import note_rule

GIVEAWAY_WORDS = (
    "hence", "so", "thus", "therefore", "finally", "result", "first", "firstly", "second", "secondly", "third",
    "then", "next", "now", "lastly", "last", "start", "begin", "conclusion", "altogether", "in the end", "in total",
    "we get", "this gives", "which gives", "putting it together", "combining",
)
_GIVEAWAY = re.compile(
    r"^\W*(?:step\s*\d+|\d+[.)]|" + "|".join(re.escape(w) for w in GIVEAWAY_WORDS) + r")(?![\w-])", re.I
)


@note_rule("giveaway-step")
def giveaway_step(note: Note) -> Iterable[tuple[str | None, str]]:
    """Derivation steps start with their math, not with a word telling their place."""
    for index, step in enumerate(note.fields.get("steps") or ()):
        match = _GIVEAWAY.match(step)
        if match:
            yield f"steps[{index}]", (
                f"step {index + 1} starts with '{match.group(0).strip()}', which gives its place away in the "
                "order exercise; start with the math itself (e.g. '$\\sigma'(x) = ...$ because ...')"
            )
