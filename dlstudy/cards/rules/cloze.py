"""``cloze-gaps``: a cloze note tests a few ideas, each gap one term, symbol or number.

At most ``MAX_GAP_NUMBERS`` gap numbers per note; a gap hides at most
``MAX_GAP_WORDS`` words and no list. A gap inside ``$...$`` is one formula and
may be longer.
"""

from __future__ import annotations

import re
from typing import Iterable

from dlstudy.cards.markup import Gap, parse_cloze
from dlstudy.cards.model import Note
from dlstudy.cards.rules import note_rule
from dlstudy.cards.rules.text import prose, words

MAX_GAP_NUMBERS = 3
MAX_GAP_WORDS = 4


def gap_problem(content: str) -> str | None:
    """What a gap's text hides that is more than one idea ("5 words", "a list"), or None."""
    plain = prose(content, " M ")
    found = words(plain)
    if len(found) > MAX_GAP_WORDS:
        return f"{len(found)} words"
    if re.search(r"(?<!\d),|,(?!\d)|;", plain) or re.search(r"\b(and|or)\b", plain) and len(found) > 2:
        return "a list"
    return None


@note_rule("cloze-gaps")
def cloze_gaps(note: Note) -> Iterable[tuple[str | None, str]]:
    """Few gap numbers per cloze note, each gap one term, symbol or number."""
    text = note.fields.get("text")
    if not text:
        return
    try:
        parts = parse_cloze(text)
    except ValueError:
        return  # the structural linter reports it
    gaps, in_math = [], False
    for part in parts:
        if isinstance(part, Gap):
            gaps.append((part, in_math))
        else:
            in_math ^= part.replace("\\$", "").replace("$$", "$").count("$") % 2 == 1
    numbers = sorted({g.number for g, _ in gaps})
    if len(numbers) > MAX_GAP_NUMBERS:
        yield "text", (
            f"cloze note has {len(numbers)} gap numbers (at most {MAX_GAP_NUMBERS}); "
            "split it into several notes, each testing one idea, linked with `related: [...]`"
        )
    for gap, math in gaps:
        why = None if math else gap_problem(gap.content)
        if why:
            yield "text", (
                f"gap c{gap.number} '{gap.content[:40]}' hides {why}; "
                f"hide a single term, symbol or number (at most {MAX_GAP_WORDS} words) and keep the clause visible"
            )
