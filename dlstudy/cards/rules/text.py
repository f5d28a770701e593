"""Reading deck text for the rules: prose without its math and code, words, sentences that ask, stated precision."""

from __future__ import annotations

import re

MATH = re.compile(r"\$\$.*?\$\$|\$(?:\\.|[^$\\])*\$", re.S)
CODE = re.compile(r"`[^`]*`")
PAREN = re.compile(r"\([^()]*\)")

# A sentence that asks: a question word or an imperative first.
QUESTION_START = re.compile(
    r"^(?:why|how|what|when|where|which|who|whose|is|are|does|do|can|should|name|give|list|state|explain|describe"
    r"|define|derive|write|rewrite|show|compare|distinguish)\b",
    re.I,
)
IMPERATIVE_START = re.compile(
    r"^(?:name|give|list|state|explain|describe|define|derive|write|rewrite|show|compare|distinguish)\b", re.I
)

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
SIGFIGS_TEXT = re.compile(r"(\d+|one|two|three|four|five|six) significant (?:figures?|digits?)", re.I)
DECIMALS_TEXT = re.compile(r"(\d+|one|two|three|four|five|six) decimals?(?: places?)?", re.I)
EXACT_TEXT = re.compile(r"\bexact(?:ly)?\b", re.I)


def prose(text: str, math: str = " M ") -> str:
    """The text with math and code replaced by ``math`` (so their commas and '?' do not count)."""
    return CODE.sub(math, MATH.sub(math, text.replace("\\$", "")))


def words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z'-]*|\d+(?:\.\d+)?", text)


def count(word: str) -> int:
    """'3' or 'three' as 3."""
    return int(word) if word.isdigit() else NUMBER_WORDS[word.lower()]


def precision_instruction(sentence: str) -> bool:
    """'Give it to 3 significant figures.' says how to answer; it is not a second question."""
    stated = SIGFIGS_TEXT.search(sentence) or DECIMALS_TEXT.search(sentence) or EXACT_TEXT.search(sentence)
    return bool(stated) and len(words(sentence)) <= 8 and not sentence.endswith("?")


def is_list(text: str) -> bool:
    """Numbered items, dashes, or mostly short items separated by commas, 'and', 'or'."""
    plain = prose(text)
    if re.search(r"(?:^|\s)(?:1[.)]|\(1\)|\(a\))\s.*(?:\s2[.)]|\(2\)|\(b\))\s", plain) or re.search(r"(?m)^\s*- ", plain):
        return True
    items = [i for i in re.split(r"[;,]|\band\b|\bor\b", PAREN.sub(" ", plain)) if i.strip()]
    short = [i for i in items if len(words(i)) <= 3]
    return len(short) >= 3 and len(short) * 2 > len(items)  # a sentence may contain "a, b and c"
