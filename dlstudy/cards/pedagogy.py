"""Pedagogy rules for deck content: cards that teach.

Each rule is a pure function from parsed notes (``dlstudy.cards.decks.Note``, or
any object with the same fields) to a list of problems ``(source, message)``,
where ``source`` is the note's ``file:line`` and ``message`` says what is wrong
and what to write instead. The rules encode the minimum information principle
of spaced repetition:

* ``multi-question``: a front asks one thing (one '?', no ``and why``, no
  ``X: formula, range, derivative?`` list of asked items).
* ``reversed-giveaway``: ``reverse: true`` only when the back, shown as the
  reversed card's front, does not name the front's key term, is not a list and
  does not ask the student to produce a question.
* ``cloze-gaps``: at most ``MAX_GAP_NUMBERS`` gap numbers per note; each gap a
  term, symbol or number (at most ``MAX_GAP_WORDS`` words, no list).
* ``giveaway-step``: no derivation step starts with a word that tells its
  position (Hence, So, Thus, Finally, Result:, First, Then, Step 2, ...).
* ``typed-precision``: a typed card with a real, vector or matrix answer
  declares ``sigfigs: N`` or ``decimals: N`` and its front says so.
* ``near-duplicate``: no two notes of different decks ask and answer nearly the
  same thing (character-trigram Jaccard similarity of their normalised question
  and answer text at or above ``DUPLICATE_THRESHOLD``).

The keys ``related``, ``sigfigs``, ``decimals`` and ``lint-allow`` are read from
the note when its model has them and otherwise from the note's raw YAML (found
through ``note.source``). ``lint-allow: [rule-name, ...]`` silences a rule for
one note; use it only with a reason the card itself makes obvious.
"""

from __future__ import annotations

import functools
import re
from itertools import combinations
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

Problem = tuple[str, str]
Rule = Callable[[Sequence[Any]], list[Problem]]

MAX_GAP_NUMBERS = 3
MAX_GAP_WORDS = 4
# Near-duplicate threshold: Jaccard similarity of the character trigrams of two
# notes' normalised question + answer text. Measured on the built-in decks before
# the merge (936 notes, about 400,000 cross-deck pairs): every pair at 0.40 or
# above was a real duplicate (gradient clipping 0.56, d/dx log sigma 0.49,
# triplet loss 0.47 and 0.44, perplexity 0.46, CE vs MSE 0.43, triplet mining
# 0.41, feature scaling 0.41), and the best-scoring pair that is not a duplicate
# (softmax with two classes vs a distillation exercise with two classes) scored
# 0.38. Fronts alone separate worse: reworded copies share their answers more than
# their questions, while sibling exercises ("derivative of log sigma(x)" vs
# "derivative of sigma(x)") share their questions. Duplicates worded apart
# (e.g. two "deep vs wide" cards at 0.33) are below any safe threshold; they were
# merged by hand and are linked with `related`.
DUPLICATE_THRESHOLD = 0.40
DUPLICATE_MIN_CHARS = 25  # shorter notes have too few trigrams for a meaningful score

RULES: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    """Register a rule; notes that list ``name`` in ``lint-allow`` are skipped."""

    def register(func: Rule) -> Rule:
        @functools.wraps(func)
        def checked(notes: Sequence[Any]) -> list[Problem]:
            notes = list(notes)
            problems = func(notes)
            allowed = {note_source(n) for n in notes if name in (field(n, "lint-allow") or ())}
            return [p for p in problems if p[0] not in allowed]

        checked.rule_name = name  # type: ignore[attr-defined]
        RULES[name] = checked
        return checked

    return register


def check(notes: Iterable[Any], rules: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
    """Every problem as ``(source, rule name, message)``, for all rules or the named ones."""
    notes = list(notes)
    found = []
    for name in rules or RULES:
        found.extend((source, name, message) for source, message in RULES[name](notes))
    return found


# ---------------------------------------------------------------------------
# Reading notes


def note_source(note: Any) -> str:
    return str(getattr(note, "source", "") or getattr(note, "id", "?"))


def field(note: Any, key: str, default: Any = None) -> Any:
    """A note's value for ``key``: from the model if it has the field, else from its raw YAML."""
    attr = key.replace("-", "_")
    if hasattr(note, attr):
        value = getattr(note, attr)
        return default if value is None else value
    raw = _raw_card(note)
    if raw is None:
        return default
    value = raw.get(key)
    return default if value is None else value


def _raw_card(note: Any) -> dict | None:
    source = str(getattr(note, "source", "") or "")
    path, _, line = source.rpartition(":")
    if not path or not line.isdigit():
        return None
    file = Path(path)
    try:
        stamp = file.stat().st_mtime_ns
    except OSError:
        return None
    return _raw_cards(str(file), stamp).get(getattr(note, "id", ""))


@functools.lru_cache(maxsize=128)
def _raw_cards(path: str, stamp: int) -> dict[str, dict]:
    from dlstudy.yamlfile import load_yaml

    try:
        data = load_yaml(Path(path))
    except Exception:  # a broken file is the structural linter's business
        return {}
    cards = data.get("cards") if isinstance(data, dict) else None
    return {str(c["id"]): c for c in cards or () if isinstance(c, dict) and "id" in c}


_MATH = re.compile(r"\$\$.*?\$\$|\$(?:\\.|[^$\\])*\$", re.S)
_CODE = re.compile(r"`[^`]*`")
_PAREN = re.compile(r"\([^()]*\)")


def prose(text: str, math: str = " M ") -> str:
    """The text with math and code replaced by ``math`` (so their commas and '?' do not count)."""
    return _CODE.sub(math, _MATH.sub(math, text.replace("\\$", "")))


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z'-]*|\d+(?:\.\d+)?", text)


# ---------------------------------------------------------------------------
# multi-question

# Things a front asks for, as in "Sigmoid: formula, range, derivative?".
_ASKED = (
    r"formulas?|range|derivatives?|definition|defin\w*|value(?: at \w+)?|constants?|purpose|intuition|idea|effect"
    r"|pros|cons|advantages?|disadvantages?|drawbacks?|benefits?|cost|costs|size|sizes|depth|result|results|structure"
    r"|layers|input|inputs|outputs?|shape|procedure|behaviou?r|approximation|where used|uses?|examples?|relation\b.*"
    r"|ingredients|connectivity pattern|design rule|building block|knobs|numbers|parameters|head|what \w+.*|why.*"
    r"|how.*|when.*|which.*|typical constants|sizes|and why.*|limitations?|properties"
)
_ASKED_ITEM = re.compile(rf"^(?:the |its |their |and |or )*(?:{_ASKED})$", re.I)
_SECOND_QUESTION = re.compile(
    r"(?:,|;|\band\b|\bor\b)\s+(?:why|how|what|when|where|which|who|whose|is it|are they|does it|do they"
    r"|is (?:lower|higher)|name|give|list|state|say|explain|describe|define|derive|write)\b",
    re.I,
)
_AND_ITS = re.compile(rf"\band (?:its|their) (?:{_ASKED})\b", re.I)
_PAIRED_LISTS = re.compile(
    r"\b(?:pros and cons|advantages and disadvantages|strengths and weaknesses|benefits and drawbacks)\b", re.I
)


_QUESTION_START = re.compile(
    r"^(?:why|how|what|when|where|which|who|whose|is|are|does|do|can|should|name|give|list|state|explain|describe"
    r"|define|derive|write|rewrite|show|compare|distinguish)\b",
    re.I,
)


def _second_question(text: str) -> str | None:
    """'and why' / ', what' joining a second question to a sentence that is already a question."""
    for match in _SECOND_QUESTION.finditer(text):
        sentence = re.split(r"[.?:;](?=\s)", text[: match.start()])[-1].strip()
        if match.group(0).lower().lstrip(", ").startswith("and") or _QUESTION_START.match(sentence):
            return match.group(0).strip()
    return None


def _question_sentences(text: str) -> list[str]:
    """Sentences that ask something: ending in '?' or starting with an imperative such as 'Give'."""
    sentences = [s.strip() for s in re.split(r"(?<=[.?!])\s+", text.strip()) if s.strip()]
    sentences = [s for s in sentences if not _precision_instruction(s)]
    return [s for s in sentences if s.endswith("?") or _QUESTION_START.match(s) and not s.endswith("?")
            and re.match(r"^(?:name|give|list|state|explain|describe|define|derive|write|rewrite|show|compare"
                         r"|distinguish)\b", s, re.I)]


def _precision_instruction(sentence: str) -> bool:
    """'Give it to 3 significant figures.' states how to answer; it is not a second question."""
    stated = _SIGFIGS_TEXT.search(sentence) or _DECIMALS_TEXT.search(sentence) or _EXACT_TEXT.search(sentence)
    return bool(stated) and len(_words(sentence)) <= 8 and not sentence.endswith("?")


def _asked_items(segment: str) -> list[str]:
    items = re.split(r",|;|\band\b|\bor\b", segment)
    return [i.strip(" ?.!") for i in items if i.strip(" ?.!")]


@rule("multi-question")
def multi_question(notes: Sequence[Any]) -> list[Problem]:
    """Fronts that ask several things at once."""
    problems = []
    for note in notes:
        front = getattr(note, "front", "") or ""
        if getattr(note, "kind", "basic") not in ("basic", "typed", "derivation") or not front:
            continue
        text = _PAREN.sub(" ", prose(front))
        why = None
        asked = _question_sentences(text)
        if len(asked) > 1:
            why = f"it asks {len(asked)} questions: " + " / ".join(a[:30] for a in asked)
        elif _second_question(text):
            why = f"'{_second_question(text)} ...' adds a second question"
        elif _AND_ITS.search(text):
            why = f"'{_AND_ITS.search(text).group(0)}' adds a second question"
        elif _PAIRED_LISTS.search(text):
            why = f"'{_PAIRED_LISTS.search(text).group(0)}' asks for two lists"
        elif ":" in text:
            asked = [i for i in _asked_items(text.rsplit(":", 1)[1]) if _ASKED_ITEM.match(i)]
            if len(asked) >= 2:
                why = f"it asks for {len(asked)} things ({', '.join(asked)})"
        if why:
            problems.append((
                note_source(note),
                f"front asks several things at once ({why}); split it into one card per question, "
                "each with a short answer, and link them with `related: [...]`",
            ))
    return problems


# ---------------------------------------------------------------------------
# reversed-giveaway

_STOPWORDS = set(
    "the a an of and or in on to for with by from as at is are be its it this that what which why how when does do "
    "vs versus between into than over under each per one two three four five formula value type give name define "
    "describe write term network networks layer layers model models learning function functions using use used".split()
)
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")


def _content_words(text: str) -> list[str]:
    plain = _LATEX_COMMAND.sub(" ", text.replace("\\mathrm", " ").replace("\\text", " "))
    plain = re.sub(r"[{}_^$\\]", " ", plain)
    return [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z-]{2,}", plain) if w.lower() not in _STOPWORDS]


def _stem(word: str) -> str:
    return word.lower().rstrip("s")[:6]


def _is_list(text: str) -> bool:
    plain = prose(text)
    if re.search(r"(?:^|\s)(?:1[.)]|\(1\)|\(a\))\s.*(?:\s2[.)]|\(2\)|\(b\))\s", plain) or re.search(r"(?m)^\s*- ", plain):
        return True
    items = [i for i in re.split(r"[;,]|\band\b|\bor\b", _PAREN.sub(" ", plain)) if i.strip()]
    short = [i for i in items if len(_words(i)) <= 3]
    return len(short) >= 3 and len(short) * 2 > len(items)  # a sentence may contain "a, b and c"


@rule("reversed-giveaway")
def reversed_giveaway(notes: Sequence[Any]) -> list[Problem]:
    """Reversed notes whose reversed card is not a fair question."""
    problems = []
    for note in notes:
        if getattr(note, "kind", "basic") != "basic" or not getattr(note, "reverse", False):
            continue
        front, back = note.front, note.back
        why = None
        if "?" in prose(front) or _QUESTION_START.match(prose(front).strip()):
            why = "the reversed card would ask the student to produce a question or an instruction"
        elif "?" in prose(back):
            why = "the back is itself a question"
        elif _is_list(back):
            why = "the back is a list, so the reversed card has no single answer"
        else:
            key = {_stem(w) for w in _content_words(_PAREN.sub(" ", front))}  # "(n-gram smoothing)" is context
            named = sorted({w for w in _content_words(back) if _stem(w) in key})
            if named:
                why = f"the back names the answer ({', '.join(named)})"
        if why:
            problems.append((
                note_source(note),
                f"reversed card gives itself away or is ill-posed: {why}; remove `reverse: true`, "
                "or make the front a bare term and the back a definition or formula that does not name it",
            ))
    return problems


# ---------------------------------------------------------------------------
# cloze-gaps


def _gap_problem(content: str) -> str | None:
    plain = prose(content, " M ")
    words = _words(plain)
    if len(words) > MAX_GAP_WORDS:
        return f"{len(words)} words"
    if re.search(r"(?<!\d),|,(?!\d)|;", plain) or re.search(r"\b(and|or)\b", plain) and len(words) > 2:
        return "a list"
    return None


@rule("cloze-gaps")
def cloze_gaps(notes: Sequence[Any]) -> list[Problem]:
    """Cloze notes with too many gap numbers, or a gap that hides a clause or a list."""
    from dlstudy.cards.decks import Gap, parse_cloze

    problems = []
    for note in notes:
        if getattr(note, "kind", "") != "cloze":
            continue
        try:
            parts = parse_cloze(note.text)
        except ValueError:
            continue  # the structural linter reports it
        gaps, in_math = [], False
        for part in parts:
            if isinstance(part, Gap):
                gaps.append((part, in_math))
            else:
                in_math ^= part.replace("\\$", "").replace("$$", "$").count("$") % 2 == 1
        numbers = sorted({g.number for g, _ in gaps})
        if len(numbers) > MAX_GAP_NUMBERS:
            problems.append((
                note_source(note),
                f"cloze note has {len(numbers)} gap numbers (at most {MAX_GAP_NUMBERS}); "
                "split it into several notes, each testing one idea, linked with `related: [...]`",
            ))
        for gap, math in gaps:
            why = None if math else _gap_problem(gap.content)  # a gap inside $...$ is one formula
            if why:
                problems.append((
                    note_source(note),
                    f"gap c{gap.number} '{gap.content[:40]}' hides {why}; "
                    f"hide a single term, symbol or number (at most {MAX_GAP_WORDS} words) and keep the clause visible",
                ))
    return problems


# ---------------------------------------------------------------------------
# giveaway-step

GIVEAWAY_WORDS = (
    "hence", "so", "thus", "therefore", "finally", "result", "first", "firstly", "second", "secondly", "third",
    "then", "next", "now", "lastly", "last", "start", "begin", "conclusion", "altogether", "in the end", "in total",
    "we get", "this gives", "which gives", "putting it together", "combining",
)
_GIVEAWAY = re.compile(
    r"^\W*(?:step\s*\d+|\d+[.)]|" + "|".join(re.escape(w) for w in GIVEAWAY_WORDS) + r")(?![\w-])", re.I
)


@rule("giveaway-step")
def giveaway_step(notes: Sequence[Any]) -> list[Problem]:
    """Derivation steps that start with a word telling their position in the chain."""
    problems = []
    for note in notes:
        for number, step in enumerate(getattr(note, "steps", ()) or (), start=1):
            match = _GIVEAWAY.match(step)
            if match:
                problems.append((
                    note_source(note),
                    f"step {number} starts with '{match.group(0).strip()}', which gives its place away in the "
                    "order exercise; start with the math itself (e.g. '$\\sigma'(x) = ...$ because ...')",
                ))
    return problems


# ---------------------------------------------------------------------------
# typed-precision

NEEDS_PRECISION = ("real", "vector", "matrix")
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_SIGFIGS_TEXT = re.compile(r"(\d+|one|two|three|four|five|six) significant (?:figures?|digits?)", re.I)
_DECIMALS_TEXT = re.compile(r"(\d+|one|two|three|four|five|six) decimals?(?: places?)?", re.I)
_EXACT_TEXT = re.compile(r"\bexact(?:ly)?\b", re.I)


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word.lower()]


def _decimals_in(answer: str) -> int:
    """Most decimals of any number written in the answer (0 for whole numbers)."""
    places = [len(m.group(1)) for m in re.finditer(r"\d\.(\d+)", str(answer))]
    if re.search(r"\de", str(answer), re.I):
        return 99  # scientific notation: state significant figures instead
    return max(places, default=0)


@rule("typed-precision")
def typed_precision(notes: Sequence[Any]) -> list[Problem]:
    """Typed cards with a numeric (non-integer) answer that do not state and declare their precision."""
    problems = []
    for note in notes:
        if getattr(note, "kind", "") != "typed" or getattr(note, "answer_kind", "") not in NEEDS_PRECISION:
            continue
        sigfigs, decimals = field(note, "sigfigs"), field(note, "decimals")
        front = prose(note.front, " ")
        where = note_source(note)
        if sigfigs is None and decimals is None:
            problems.append((
                where,
                "typed card with a numeric answer declares no precision; add `sigfigs: N` or `decimals: N` "
                "and say it in the front ('to 3 significant figures', 'to 2 decimals', or 'exactly')",
            ))
            continue
        if sigfigs is not None and decimals is not None:
            problems.append((where, "declare either `sigfigs` or `decimals`, not both"))
            continue
        said_sig = [_count(m.group(1)) for m in _SIGFIGS_TEXT.finditer(front)]
        said_dec = [_count(m.group(1)) for m in _DECIMALS_TEXT.finditer(front)]
        exact = bool(_EXACT_TEXT.search(front))
        if sigfigs is not None:
            ok = said_sig == [int(sigfigs)] or (exact and not said_sig)
            wanted = f"'to {sigfigs} significant figures'"
        else:
            ok = said_dec == [int(decimals)] or (exact and not said_dec and _decimals_in(note.answer) <= int(decimals))
            wanted = f"'to {decimals} decimals'" + (" (or 'exactly' when the answer has no more decimals)")
        if not ok:
            problems.append((
                where,
                f"the front does not state the declared precision; write {wanted} in the front",
            ))
    return problems


# ---------------------------------------------------------------------------
# near-duplicate

_FILLER = set(
    "what is are the a an of in on for to and or does do why how which when with by its it this that be give write "
    "define describe name type as from at into than each per".split()
)


def normalise(text: str) -> str:
    """Lower-case words of the text, LaTeX commands kept as words, filler words dropped."""
    text = text.replace("\\$", "")
    text = re.sub(r"\{\{c\d+::(.*?)(::[^}]*)?\}\}", r"\1", text)
    text = re.sub(r"\\([A-Za-z]+)", r" \1 ", text)
    words = re.findall(r"[a-z0-9]+", text.lower())
    return " ".join(w for w in words if w not in _FILLER)


def _trigrams(text: str) -> frozenset[str]:
    padded = f"  {text} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the character trigrams of two normalised texts (0..1)."""
    ta, tb = _trigrams(normalise(a)), _trigrams(normalise(b))
    return len(ta & tb) / len(ta | tb) if ta and tb else 0.0


def _text_of(note: Any) -> str:
    """What a note asks and answers: front or cloze text, back, typed answer, steps, extra."""
    if getattr(note, "kind", "") == "problem":
        return ""
    parts = [getattr(note, key, "") or "" for key in ("front", "text", "back", "answer", "extra")]
    return " ".join([*parts, *(getattr(note, "steps", ()) or ())])


def _deck_of(note: Any) -> str:
    deck = getattr(note, "deck", "")
    if deck:
        return str(deck)
    return Path(note_source(note).rpartition(":")[0]).stem


@rule("near-duplicate")
def near_duplicate(notes: Sequence[Any], threshold: float = DUPLICATE_THRESHOLD) -> list[Problem]:
    """Notes in different decks whose questions are nearly the same text."""
    items = []
    for note in notes:
        text = normalise(_text_of(note))
        if len(text) >= DUPLICATE_MIN_CHARS:
            items.append((note, _trigrams(text)))
    problems = []
    for (a, ta), (b, tb) in combinations(items, 2):
        if _deck_of(a) == _deck_of(b):
            continue
        score = len(ta & tb) / len(ta | tb)
        if score >= threshold:
            problems.append((
                note_source(b),
                f"'{b.id}' nearly repeats '{a.id}' at {note_source(a)} (similarity {score:.2f}); "
                "merge them into one card and link the cards that remain with `related: [...]`",
            ))
    return problems


# ---------------------------------------------------------------------------
# related ids (not a pedagogy rule, but the same notes are needed to check it)


def unknown_related(notes: Sequence[Any]) -> list[Problem]:
    """``related`` entries that name no note."""
    notes = list(notes)
    ids = {n.id for n in notes}
    problems = []
    for note in notes:
        related = field(note, "related") or []
        if not isinstance(related, list):
            problems.append((note_source(note), "related must be a list of note ids, e.g. related: [conv-padding]"))
            continue
        for other in related:
            if other not in ids:
                problems.append((note_source(note), f"related id '{other}' names no note; write an existing note id"))
            elif other == note.id:
                problems.append((note_source(note), "a note cannot be related to itself; remove its own id"))
    return problems
