"""Casualty counts: normalise a count phrase and find the one that belongs to a trigger.

``parse_count`` turns a count phrase as written (``"at least 25"``, ``"two dozen"``,
``"between 10 and 15"``, ``"dozens"``) into the ``count`` object of a CASUALTY event
(``schema/sentence.schema.json``, ``$defs.count``)::

    {"value": int | None, "min": int | None, "max": int | None, "qualifier": str}

Conventions (``min``/``max`` are the integer bounds the phrase implies, ``None`` where it
states none; ``value`` is the number as written, ``None`` when there is no single one):

=============  ==========================  =====  ======  ======
qualifier      example                     value  min     max
=============  ==========================  =====  ======  ======
``exact``      ``25``, ``two dozen``       n      n       n
``at_least``   ``at least 25``             n      n       None
``more_than``  ``more than 40``, ``over``  n      n + 1   None
``at_most``    ``up to 30``, ``as many``   n      None    n
``fewer_than`` ``fewer than 10``           n      None    n - 1
``about``      ``about 100``, ``nearly``   n      None    None
``range``      ``10-15``, ``between ...``  None   lo      hi
``at_least``   ``dozens``, ``hundreds``    None   24/200  None
=============  ==========================  =====  ======  ======

Vague plurals give a lower bound only: ``dozens`` >= 24, ``scores`` >= 40,
``hundreds`` >= 200, ``thousands`` >= 2,000, ``tens of thousands`` >= 20,000,
``hundreds of thousands`` >= 200,000, ``millions`` >= 2,000,000; ``several``/``a few``/
``many`` + ``dozen``/``hundred``/``thousand`` >= 2 x the unit. ``a``/``an``, ``several``,
``some``, ``many`` alone are not counts (guidelines R-9).

Standard library only; every function is pure.
"""

from __future__ import annotations

import re
from typing import Optional

__all__ = ["parse_count", "find_count", "QUALIFIER_PHRASES"]

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}
_SCALES = {"thousand": 1_000, "million": 1_000_000}

# Lower bounds of vague plurals ("dozens" = at least two dozen).
_VAGUE = {
    "dozens": 24,
    "scores": 40,
    "hundreds": 200,
    "thousands": 2_000,
    "tens of thousands": 20_000,
    "hundreds of thousands": 200_000,
    "millions": 2_000_000,
}
_VAGUE_UNITS = {"dozen": 12, "hundred": 100, "thousand": 1_000}
_VAGUE_DETERMINERS = ("several", "a few", "many")

# Qualifier phrases as written -> qualifier. Matched at the start of the phrase, longest first.
QUALIFIER_PHRASES: dict[str, str] = {
    "at least": "at_least",
    "no fewer than": "at_least",
    "no less than": "at_least",
    "not less than": "at_least",
    "a minimum of": "at_least",
    "more than": "more_than",
    "over": "more_than",
    "upwards of": "more_than",
    "in excess of": "more_than",
    "above": "more_than",
    "greater than": "more_than",
    "up to": "at_most",
    "as many as": "at_most",
    "at most": "at_most",
    "no more than": "at_most",
    "not more than": "at_most",
    "a maximum of": "at_most",
    "fewer than": "fewer_than",
    "less than": "fewer_than",
    "under": "fewer_than",
    "below": "fewer_than",
    "about": "about",
    "around": "about",
    "nearly": "about",
    "almost": "about",
    "some": "about",
    "approximately": "about",
    "approx.": "about",
    "roughly": "about",
    "close to": "about",
    "an estimated": "about",
    "estimated": "about",
    "circa": "about",
}
_QUALIFIERS_LONGEST_FIRST = sorted(QUALIFIER_PHRASES, key=len, reverse=True)
_QUALIFIERS_BY_FIRST_WORD: dict[str, list[str]] = {}  # a phrase can only open ``s`` if its first word does
for _phrase in _QUALIFIERS_LONGEST_FIRST:
    _QUALIFIERS_BY_FIRST_WORD.setdefault(_phrase.split(" ", 1)[0], []).append(_phrase)

# Precompiled (the module-level cache of ``re`` costs more than these small searches).
_SPACED_DASH = re.compile(r"\s*-\s*")
_DIGIT_DASH_DIGIT = re.compile(r"\d\s*-\s*\d")
_FINAL_DOT = re.compile(r"\.$")
_FINAL_OF = re.compile(r"\s+of$")
_DIGITS = re.compile(r"((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(?: (hundred|thousand|million))?")
_RANGE_SEPARATORS = {"": re.compile(r" (?:to|or) "), "between ": re.compile(r" (?:and|to|-) "), "from ": re.compile(r" (?:to|-) ")}
_DIGIT_RANGE = re.compile(r"(\d[\d,]*)-(\d[\d,]*)")
_NEXT_SENTENCE = re.compile(r"\s+[\"'\u201c\u2018(]?[A-Z0-9]")
_LAST_WORD = re.compile(r"([\w.]+)$")
_YEAR = re.compile(r"(?:1[89]|20)\d\d")
_WORD = re.compile(r"\w+")
_GAP_WORD = re.compile(r"\w+(?:[-'\u2019.]\w+)*")
_GAP_PUNCT = re.compile(r"[^\w\s\-'\u2019.]")
_PRECEDING_WORD = re.compile(r"[\w'\u2019-]+")
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212"), "-")


def _normalise(text: str) -> str:
    """Lower-case, unify dashes and spaces, drop surrounding punctuation and a trailing "of".

    text (str): The phrase as written.
    RETURNS (str): The normalised phrase, possibly empty.
    """
    s = text.translate(_DASHES).replace("\u00a0", " ").replace("\u202f", " ").lower()
    s = _SPACED_DASH.sub("-", s) if _DIGIT_DASH_DIGIT.search(s) else s
    s = " ".join(s.split())
    s = s.strip(" ,;:!?\"'()[]\u2018\u2019\u201c\u201d")
    s = _FINAL_DOT.sub("", s) if not s.endswith("approx.") else s
    s = _FINAL_OF.sub("", s)
    return s


def _parse_digits(s: str) -> Optional[int]:
    """Parse digits with thousands separators, optionally followed by a scale word.

    s (str): A normalised phrase such as ``"1,200"``, ``"25"``, ``"1.5 million"``, ``"3 thousand"``.
    RETURNS (Optional[int]): The integer, or ``None`` if the phrase is not of that form or not whole.
    """
    m = _DIGITS.fullmatch(s)
    if not m:
        return None
    number, scale = m.group(1).replace(",", ""), m.group(2)
    if "." in number and not scale:
        return None
    factor = {"hundred": 100, "thousand": 1_000, "million": 1_000_000}.get(scale or "", 1)
    whole, _, frac = number.partition(".")
    value = int(whole) * factor + (int(frac) * factor // 10 ** len(frac) if frac else 0)
    if frac and int(frac) * factor % 10 ** len(frac):
        return None
    return value


def _parse_words(s: str) -> Optional[int]:
    """Parse an English number in words, up to the millions.

    Accepts ``"twenty-five"``, ``"three hundred"``, ``"one hundred and twenty"``,
    ``"a dozen"``, ``"two dozen"``, ``"half a dozen"``, ``"a thousand"``.

    s (str): A normalised phrase.
    RETURNS (Optional[int]): The integer, or ``None`` if the phrase is not a number in words.
    """
    if s == "half a dozen":
        return 6
    words = s.replace("-", " ").split()
    if not words:
        return None
    if words[0] in ("a", "an"):
        if len(words) < 2 or words[1] not in ("dozen", "hundred", "thousand", "million", "score"):
            return None
        words = ["one"] + words[1:]
    total, current = 0, 0
    prev = None  # kind of the previous word: unit, tens, hundred, scale, dozen, and
    for i, w in enumerate(words):
        if w in _UNITS:
            if prev in ("unit", "dozen") or (prev == "tens" and _UNITS[w] >= 10) or (prev == "tens" and w == "zero"):
                return None
            current += _UNITS[w]
            prev = "unit"
        elif w in _TENS:
            if prev in ("unit", "tens", "dozen"):
                return None
            current += _TENS[w]
            prev = "tens"
        elif w == "hundred":
            if prev not in ("unit", None) or current >= 100:
                return None
            current = (current or 1) * 100
            prev = "hundred"
        elif w in _SCALES:
            if prev not in ("unit", "tens", "hundred", None, "dozen"):
                return None
            total += (current or 1) * _SCALES[w]
            current = 0
            prev = "scale"
        elif w in ("dozen", "score"):
            if prev not in ("unit", "tens", None):
                return None
            current = (current or 1) * (12 if w == "dozen" else 20)
            prev = "dozen"
        elif w == "and":
            if prev not in ("hundred", "scale") or i == len(words) - 1:
                return None
            prev = "and"
        else:
            return None
    if prev == "and":
        return None
    return total + current


def _parse_number(s: str) -> Optional[int]:
    """Parse a number written in digits or in words.

    s (str): A normalised phrase without qualifier.
    RETURNS (Optional[int]): The integer, or ``None``.
    """
    if not s:
        return None
    if s[0].isdigit():
        return _parse_digits(s)
    return _parse_words(s)


def _parse_vague(s: str) -> Optional[int]:
    """Lower bound of a vague plural quantity (``"dozens"``, ``"several hundred"``).

    s (str): A normalised phrase without qualifier.
    RETURNS (Optional[int]): The lower bound, or ``None`` if ``s`` is not a vague quantity.
    """
    if s in _VAGUE:
        return _VAGUE[s]
    for det in _VAGUE_DETERMINERS:
        if s.startswith(det + " "):
            unit = s[len(det) + 1:]
            if unit in _VAGUE_UNITS:
                return 2 * _VAGUE_UNITS[unit]
    return None


def _parse_range(s: str) -> Optional[tuple[int, int]]:
    """Parse ``"10 to 15"``, ``"10-15"``, ``"between 10 and 15"``, ``"from 10 to 15"``, ``"two or three"``.

    Every occurrence of the separator is tried, so ``"between one hundred and ten and one
    hundred and twenty"`` splits where both sides are numbers.

    s (str): A normalised phrase without qualifier.
    RETURNS (Optional[tuple[int, int]]): ``(low, high)`` with ``low < high``, or ``None``.
    """
    m = _DIGIT_RANGE.fullmatch(s)
    if m:
        candidates = [(m.group(1), m.group(2))]
    else:
        body, separators = s, _RANGE_SEPARATORS[""]
        for opener in ("between ", "from "):
            if s.startswith(opener):
                body, separators = s[len(opener):], _RANGE_SEPARATORS[opener]
                break
        candidates = [(body[: sep.start()], body[sep.end():]) for sep in separators.finditer(body)]
    for left, right in candidates:
        low, high = _parse_number(left), _parse_number(right)
        if low is not None and high is not None:
            return (low, high) if low < high else None
    return None


def parse_count(text: str) -> Optional[dict]:
    """Normalise a casualty count phrase to the ``count`` object of the sentence schema.

    Handles digits with separators (``"1,200"``), numbers in words (``"twenty-five"``,
    ``"three hundred"``, ``"a dozen"``, ``"two dozen"``), vague plurals (``"dozens"``,
    ``"hundreds"``, ``"scores"``), qualifiers (``"at least"``, ``"more than"``/``"over"``,
    ``"up to"``/``"as many as"``, ``"fewer than"``/``"less than"``, ``"about"``/``"around"``/
    ``"nearly"``/``"some"``/``"approximately"``) and ranges (``"10 to 15"``, ``"10-15"``,
    ``"between 10 and 15"``). The bounds follow the table in the module docstring; a
    qualifier before a range (``"about 10 to 15"``) is absorbed by the range.

    text (str): The count phrase as written, qualifier included (``"at least 25"``). Case,
        surrounding spaces and punctuation and a trailing ``"of"`` are ignored.
    RETURNS (Optional[dict]): ``{"value", "min", "max", "qualifier"}``, or ``None`` if the
        phrase is not a count (``"a"``, ``"several"``, ``"some"``, ``"fewer than 0"``, text).
    """
    if not isinstance(text, str):
        return None
    s = _normalise(text)
    if not s:
        return None
    qualifier = None
    for phrase in _QUALIFIERS_BY_FIRST_WORD.get(s.split(" ", 1)[0], ()):
        if s.startswith(phrase + " "):
            qualifier = QUALIFIER_PHRASES[phrase]
            s = s[len(phrase) + 1:]
            break

    span = _parse_range(s)
    if span is not None:
        return {"value": None, "min": span[0], "max": span[1], "qualifier": "range"}

    low = _parse_vague(s)
    if low is not None:
        if qualifier in (None, "at_least", "more_than", "about"):
            return {"value": None, "min": low, "max": None, "qualifier": "at_least"}
        return None

    n = _parse_number(s)
    if n is None:
        return None
    if qualifier is None:
        return {"value": n, "min": n, "max": n, "qualifier": "exact"}
    if qualifier == "at_least":
        return {"value": n, "min": n, "max": None, "qualifier": qualifier}
    if qualifier == "more_than":
        return {"value": n, "min": n + 1, "max": None, "qualifier": qualifier}
    if qualifier == "at_most":
        return {"value": n, "min": None, "max": n, "qualifier": qualifier}
    if qualifier == "fewer_than":
        if n == 0:
            return None
        return {"value": n, "min": None, "max": n - 1, "qualifier": qualifier}
    return {"value": n, "min": None, "max": None, "qualifier": qualifier}


# --- finding the count of a trigger -------------------------------------------------------

# Words, numbers with separators or decimals, hyphenated compounds ("twenty-five", "10-15",
# "25-year-old", "K-1") are one token each; any other non-space character is a token of its own.
_TOKEN_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\w+(?:[-\u2010\u2011\u2013'\u2019.]\w+)*|[^\w\s]")
_MAX_PHRASE_TOKENS = 8
_MAX_GAP_WORDS = 6

# Casualty and attack words: a count is never taken across one of them.
_TRIGGER_WORD_RE = re.compile(
    r"kill\w*|wound\w*|injur\w*|dead|die[sd]?|dying|deaths?|casualt\w*|assassinat\w*|"
    r"attack\w*|strik\w*|struck|hit|hitting|shell\w*|bomb\w*|fired|explo\w*|stormed|massacre\w*",
    re.IGNORECASE,
)
# Words after a number that make it a measure, an age, a time or a date, not a head count.
_NON_COUNT_AFTER = re.compile(
    r"(?:%|per\s*cent|percent|km|kilometres?|kilometers?|miles?|metres?|meters?|kg|tonnes?|tons?|"
    r"seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|am|pm|a\.m|p\.m|gmt|utc|"
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\b",
    re.IGNORECASE,
)
_MONTH_BEFORE = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?\s*$",
    re.IGNORECASE,
)
# "no one was killed", "the one who died": pronoun "one", not a count.
_NOT_A_COUNT_BEFORE_ONE = {"no", "any", "every", "each", "the", "this", "that", "which", "not"}
_AFTER_GAP_RE = re.compile(r"\s+(?:(?:a\s+total\s+of|of)\s+)?")


def _tokens(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Token offsets of ``text[start:end]``, as absolute ``(start, end)`` pairs."""
    return [(m.start() + start, m.end() + start) for m in _TOKEN_RE.finditer(text[start:end])]


_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "gen", "col", "lt", "sgt", "capt", "maj", "cpl", "pte", "adm", "st",
    "no", "vs", "jr", "sr", "rep", "sen", "gov", "prof", "approx", "est", "co", "inc", "ltd", "mt",
}


def _is_sentence_end(text: str, i: int) -> bool:
    """Whether the character at ``i`` (``.``, ``!``, ``?``, ``;`` or a newline) ends a clause.

    A full stop ends a sentence only when it is followed by the end of the text, or by
    whitespace and an upper-case letter, digit or opening quote, and does not close an
    abbreviation (``U.S.``, ``Gen.``) or a decimal.
    """
    ch = text[i]
    if ch in ";\n":
        return True
    rest = text[i + 1:]
    if ch in "!?":
        return not rest or rest[0].isspace()
    if ch != ".":
        return False
    if rest.strip() == "":
        return True
    if not _NEXT_SENTENCE.match(rest):
        return False
    word = _LAST_WORD.search(text, max(0, i - 100), i)
    if word:
        w = word.group(1).lower()
        if len(w) == 1 or "." in w or w in _ABBREVIATIONS:
            return False
    return True


_CLAUSE_MARK = re.compile(r"[.!?;\n]")


def _clause_bounds(text: str, trigger_start: int, trigger_end: int) -> tuple[int, int]:
    """The clause around a trigger: from the previous to the next ``;`` or sentence end.

    text (str): The sentence.
    trigger_start (int): Start offset of the trigger.
    trigger_end (int): End offset of the trigger (exclusive).
    RETURNS (tuple[int, int]): ``(start, end)`` of the clause.
    """
    left = 0
    for m in reversed(list(_CLAUSE_MARK.finditer(text, 0, trigger_start))):
        if _is_sentence_end(text, m.start()):
            left = m.start() + 1
            break
    right = len(text)
    for m in _CLAUSE_MARK.finditer(text, trigger_end):
        if _is_sentence_end(text, m.start()):
            right = m.start()
            break
    return left, right


def _is_word(text: str, tok: tuple[int, int]) -> bool:
    """Whether a token is a word or number (not punctuation)."""
    return text[tok[0]].isalnum()


# Words a count phrase can start with: a speed-up only (a token that cannot start one is skipped).
_STARTERS = (
    set(_UNITS) | set(_TENS) | set(_SCALES) | set(_VAGUE) | set(_VAGUE_UNITS)
    | {w.split()[0] for w in _VAGUE} | {w.split()[0] for w in _VAGUE_DETERMINERS}
    | {q.split()[0] for q in QUALIFIER_PHRASES} | {"a", "an", "half", "between", "tens"}
)
# Where a token that can end a count phrase ends: after a digit or a number word (a
# superset: every phrase ``parse_count`` accepts ends at one of these; see tests/test_counts.py).
_NUMBER_WORDS = set(_UNITS) | set(_TENS) | set(_SCALES) | set(_VAGUE_UNITS) | set(_VAGUE) | {"score"}
_NUMBER_END_PATTERN = r"\d(?!\w)|\b(?:" + "|".join(sorted({w.split()[-1] for w in _NUMBER_WORDS}, key=len, reverse=True)) + r")(?!\w)"
_NUMBER_END = re.compile(_NUMBER_END_PATTERN)  # over lower-cased text (much faster than IGNORECASE)
_NUMBER_END_ANY_CASE = re.compile(_NUMBER_END_PATTERN, re.IGNORECASE)


def _number_ends(text: str, start: int, end: int) -> set[int]:
    """Offsets in ``text[start:end]`` where a digit or number word ends."""
    segment = text[start:end]
    lower = segment.lower()
    if len(lower) == len(segment):
        return {m.end() + start for m in _NUMBER_END.finditer(lower)}
    return {m.end() + start for m in _NUMBER_END_ANY_CASE.finditer(segment)}  # lower-casing changed a length


def _count_phrases(text: str, start: int, end: int, first_only: bool = False) -> list[tuple[int, int, dict]]:
    """All maximal count phrases in ``text[start:end]``, left to right, without overlaps.

    At each token the longest run of up to eight tokens that ``parse_count`` accepts is taken;
    numbers that are measures, ages, times, dates or bare years are dropped.

    text (str): The sentence.
    start (int): Start of the region to scan.
    end (int): End of the region to scan (exclusive).
    first_only (bool): Only the phrase that starts at the first token, if there is one.
    RETURNS (list[tuple[int, int, dict]]): ``(start, end, parsed)`` for each phrase.
    """
    found: list[tuple[int, int, dict]] = []
    if first_only:  # quick refusal: the first token cannot open a count
        first = _TOKEN_RE.match(text, start, end)
        if first is None or not (first.group()[0].isdigit() or first.group().lower() in _STARTERS):
            return found
    number_ends = _number_ends(text, start, end)
    if not number_ends:
        return found
    toks = _tokens(text, start, end)
    # Only a token that ends in a digit or a number word can end a count phrase.
    enders = [k for k, (_, e) in enumerate(toks) if e in number_ends]
    # Only a token at most eight tokens before an ender can start one.
    starts = sorted({i for j in enders for i in range(max(0, j - _MAX_PHRASE_TOKENS + 1), j + 1)})
    if first_only:
        starts = starts[:1] if starts and starts[0] == 0 else []
    next_free = 0  # phrases do not overlap: the scan goes on after the last one found
    for i in starts:
        if i < next_free:
            continue
        first = text[toks[i][0] : toks[i][1]]
        if not (first[0].isdigit() or first.lower() in _STARTERS):
            continue
        best = None
        for j in reversed([k for k in enders if i <= k < i + _MAX_PHRASE_TOKENS]):
            s, e = toks[i][0], toks[j][1]
            if not (_is_word(text, toks[i]) and _is_word(text, toks[j])):
                continue
            parsed = parse_count(text[s:e])
            if parsed is not None:
                best = (s, e, parsed, j)
                break
        if best is None:
            continue
        s, e, parsed, j = best
        next_free = j + 1
        if _NON_COUNT_AFTER.match(text, e + (len(text[e:]) - len(text[e:].lstrip()))):
            continue
        if _MONTH_BEFORE.search(text, max(0, s - 40), s):
            continue
        if _YEAR.fullmatch(text, s, e):
            continue
        previous = _WORD.findall(text, max(0, s - 40), s)
        if text[s:e].lower() == "one" and previous and previous[-1].lower() in _NOT_A_COUNT_BEFORE_ONE:
            continue
        found.append((s, e, parsed))
    return found


def find_count(text: str, trigger_start: int, trigger_end: int) -> Optional[tuple[int, int, dict]]:
    """Find the count phrase that belongs to a CASUALTY trigger in a sentence.

    The heuristic, in order:

    1. **After the trigger**: a count that follows the trigger directly, with only spaces or
       ``of`` / ``a total of`` between them (``killing 25 of the militia's fighters``,
       ``wounding three coalition troops and two Iraqis`` -> ``three``). The object count of a
       verb or gerund.
    2. **Before the trigger**: the nearest count that ends before the trigger in the same clause
       (``;`` and sentence ends are clause limits), with at most six words and no punctuation
       between them (hyphens, apostrophes and abbreviation dots allowed), no casualty or attack word in between
       (``at least 25 militia fighters were killed``, ``left at least 25 dead``), and that is not
       itself the object of another casualty word (in ``killing 12 civilians and wounding
       others`` the 12 is not taken for ``wounding``).

    Numbers followed by units, time words or month names, preceded by a month name, and bare
    years (1800-2099) are never counts; ``a``/``an``, ``several``, ``some`` alone are not counts,
    nor is the pronoun ``one`` after ``no``, ``any``, ``every``, ``each``, ``the`` (``no one was
    killed``: no count).

    text (str): The sentence.
    trigger_start (int): Start offset of the CASUALTY trigger (code points).
    trigger_end (int): End offset of the trigger (exclusive).
    RETURNS (Optional[tuple[int, int, dict]]): ``(start, end, parsed)`` of the count span,
        qualifier included (``"at least 25"``), with ``parsed`` as from ``parse_count``;
        ``None`` if the sentence states no count for the trigger.
    """
    if not (0 <= trigger_start < trigger_end <= len(text)):
        return None
    left, right = _clause_bounds(text, trigger_start, trigger_end)

    gap = _AFTER_GAP_RE.match(text, trigger_end)
    if gap is not None and gap.end() < right:
        # A phrase has at most eight tokens: 200 characters hold it.
        for s, e, parsed in _count_phrases(text, gap.end(), min(right, gap.end() + 200), first_only=True):
            return s, e, parsed

    # Quick refusal: a count before the trigger ends after the last punctuation mark there.
    marks = [m.end() for m in _GAP_PUNCT.finditer(text, left, trigger_start)]
    window = marks[-1] if marks else left
    if not _number_ends(text, window, trigger_start):
        return None
    before_trigger = _count_phrases(text, left, trigger_start)
    if not before_trigger:
        return None
    s, e, parsed = before_trigger[-1]  # the nearest one only
    between = text[e:trigger_start]
    words = _GAP_WORD.findall(between)
    if len(words) > _MAX_GAP_WORDS or any(_TRIGGER_WORD_RE.fullmatch(w) for w in words):
        return None
    if _GAP_PUNCT.search(between):
        return None
    preceding = _PRECEDING_WORD.findall(text, left, s)
    if preceding and _TRIGGER_WORD_RE.fullmatch(preceding[-1]) and not text[left:s].rstrip().endswith((",", ";")):
        return None  # the object count of another casualty word ("killing 12 ... and wounding")
    return s, e, parsed
