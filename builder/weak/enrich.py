"""Pre-annotation beyond triggers: realis, arguments and casualty counts.

Rules follow guidelines sections 7 (realis) and 8 (arguments). They only fill what they can
find reliably from surface cues (no parser): time expressions, ``in``/``at`` + proper-name
places, weapons as instruments, ``on``/``against`` targets, ``by`` attackers and
proper-name modifiers, the count of a casualty, and the named subject of a threat.
"""

from __future__ import annotations

import re
from typing import AbstractSet, Iterator, Optional, Sequence, Union

from ..counts import find_count
from ..records import Argument, Event
from .aggregate import Candidate
from .base import Doc

MODALS = frozenset("will would could might may shall 'll wo can".split())
PLANNING = frozenset("plan plans planned planning prepare prepared preparing intend intends intended ready".split())
NEGATION = frozenset("not no never n't without nobody none".split())
#: Words that deny, foil or cancel the event they govern ("denied that its troops had opened
#: fire", "foiled a plot to bomb"), unless a role in it is what is denied (section 7, Scope).
DENIAL = frozenset("denied denies deny denying foiled foil thwarted thwart averted cancelled canceled plot plots plotted plotting".split())
ROLE = frozenset("role involvement responsibility part links link carrying carried conducting conducted behind".split())
#: Verbs after which "to" + the event says that it happened ("allowed guerrillas to ambush").
FACTIVE = frozenset("allowed enabled managed helped".split())
#: Verbs that presuppose the event they govern, so that their negation does not deny it
#: ("cannot justify the bombing": the bombing happened; section 7, Scope).
EVALUATION = frozenset("justify justified condone condoned excuse excused tolerate tolerated forgive forget".split())
AUXILIARIES = frozenset("had have has was were been is are be".split())
PRONOUNS = frozenset("it they he she we i you".split())
CONDITIONAL = frozenset("if unless whether".split())
FREQUENCY = frozenset("repeatedly repeated increasingly frequent frequently often regularly routinely usually typically habitually constantly".split())
STOP = frozenset({",", ";", ".", "!", "?", "“", "”", '"', "(", ")"})

MONTHS = "january february march april may june july august september october november december".split()
WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_MONTH = "|".join(m.capitalize() for m in MONTHS)
_DAY = "|".join(d.capitalize() for d in WEEKDAYS)
TIME_RE = re.compile(
    rf"\b(?:(?:early|late) )?(?:on )?(?:(?:{_DAY})(?: (?:night|morning|evening))?|(?:{_MONTH}) \d{{1,2}}(?:st|nd|rd|th)?(?:, \d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)? (?:{_MONTH})(?: \d{{4}})?|(?:earlier|later) this (?:week|month|year)|last (?:week|month|year|night)|yesterday|overnight)\b"
)
PLACE_RE = re.compile(r"\b(?:in|at|near|outside|inside|around)\s+((?:the\s+)?(?:[A-Z][\w’'-]*|al-[A-Z][\w’'-]*)(?:\s+(?:of\s+|al-)?[A-Z][\w’'-]*)*)")
WEAPON_RE = re.compile(
    r"\b(?:(?:more than|at least|about|around|some|nearly)\s+)?(?:(?:a dozen|dozens of|\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty)\s+)?"
    r"(?:katyusha\s+|ballistic\s+|cruise\s+|armed\s+|combat\s+)?(?:rockets?|missiles?|drones?|mortars?|shells|ieds?|car bombs?|grenades?|artillery)\b",
)  # over lower-cased text (faster than IGNORECASE)
WEAPON_RE_ANY_CASE = re.compile(WEAPON_RE.pattern, re.IGNORECASE)  # when lower-casing changes the length
NP_AFTER_RE = re.compile(r"\s*(?:on|against)\s+((?:the\s+|a\s+|an\s+)?[^,;.“”\"()]+?)(?=\s+(?:in|on|at|by|that|which|who|with|killing|wounding|injuring|near|and\s+(?:killed|wounded))\b|[,;.“”\"()]|$)")
BY_RE = re.compile(r"\s*(?:,\s*)?(?:\w+\s+){0,3}?by\s+((?:the\s+)?[A-Z][\w’'-]*(?:\s+(?:of\s+)?[A-Z][\w’'-]*)*)")
PROPER_BEFORE_RE = re.compile(r"((?:[A-Z][\w’'.-]*\s+){0,3}[A-Z][\w’'.-]*)(?:’s|'s)?\s+$")
DETERMINERS = ("the ", "a ", "an ")
NOT_PLACES = frozenset(MONTHS + WEEKDAYS + ["the", "a"])
#: Words one of which every match of TIME_RE (WEAPON_RE) contains.
TIME_WORDS = frozenset(MONTHS + WEEKDAYS + "week month year night yesterday overnight".split())
WEAPON_WORDS = frozenset("rocket rockets missile missiles drone drones mortar mortars shells ied ieds bomb bombs grenade grenades artillery".split())


def realis(doc: Doc, event: Union[Event, Candidate]) -> str:
    """ACTUAL, GENERIC or OTHER for an event of ``doc`` (guidelines section 7, tests in order).

    A trigger coordinated with the one before it shares its realis (see :func:`enrich`)."""
    words = doc.words
    i = doc.token_at(event.start)
    before = []
    j = i - 1
    while j >= 0 and len(before) < 6 and words[j] not in (";", ".", "“", "”"):
        before.append(words[j])
        j -= 1
    near = before[:3]
    if event.type == "THREAT":
        return "GENERIC" if not FREQUENCY.isdisjoint(before) else "ACTUAL"
    presupposed = not EVALUATION.isdisjoint(near)  # "cannot justify the bombing"
    infinitive = bool(near) and near[0] == "to" and FACTIVE.isdisjoint(near) and words[i] != "death"  # not "hacked to death"
    if (any(w in MODALS or w in PLANNING for w in near) and not presupposed) or infinitive or (near and near[0] == "any") or "any" in near[:2]:
        return "OTHER"
    if (not NEGATION.isdisjoint(near) and not presupposed) or not CONDITIONAL.isdisjoint(before):
        return "OTHER"
    if not DENIAL.isdisjoint(before) and ROLE.isdisjoint(before):
        return "OTHER"
    if "have" in near and any(w in MODALS for w in before):
        return "OTHER"  # "would almost certainly have been hit"
    if len(near) >= 2 and near[1] in ("had", "should", "were") and near[0] in PRONOUNS:
        return "OTHER"  # a counterfactual: "had it detonated"
    if "no" in before[:4] and not AUXILIARIES.isdisjoint(before[: before.index("no")]):
        return "OTHER"  # "no civilians had been killed"
    if "face" in near[:2] and "or" in before:
        return "OTHER"  # an ultimatum's alternative: "withdraw or face an assault"
    if not FREQUENCY.isdisjoint(doc.wordset):
        return "GENERIC"
    return "ACTUAL"


def _proper_before(text: str, end: int) -> Optional[re.Match]:
    """Up to four capitalised words ending right before ``end`` (the regex sees only the last 80 characters)."""
    # Quick refusal: the last word before the trailing space must be capitalised.
    before = text[max(0, end - 80) : end]
    stripped = before.rstrip()
    if len(stripped) == len(before) or not stripped or not stripped.rsplit(None, 1)[-1][:1].isupper():
        return None
    start = max(0, end - 80)
    m = PROPER_BEFORE_RE.search(text, start, end)
    return m if m and m.end() == end else None


def _strip_det(text: str, start: int) -> tuple[str, int]:
    for det in DETERMINERS:
        if text.lower().startswith(det):
            return text[len(det) :], start + len(det)
    return text, start


def _arg(role: str, text: str, start: int, end: int) -> Optional[Argument]:
    value = text[start:end].strip()
    if not value:
        return None
    start += len(text[start:end]) - len(text[start:end].lstrip())
    return Argument(role, start, start + len(value), value)


def _nearest(event_spans: list[tuple[int, int]], start: int, end: int) -> int:
    return min(range(len(event_spans)), key=lambda k: min(abs(event_spans[k][0] - end), abs(start - event_spans[k][1])))


def arguments(text: str, events: Sequence[Union[Event, Candidate]], words: Optional[AbstractSet[str]] = None) -> tuple[list[list[Argument]], list[Optional[dict]]]:
    """Arguments for each event of a sentence, by surface rules, and the parsed casualty
    count of each event (``None`` for others); one entry per event.

    ``words``, the set of lower-case words of ``text`` when the caller has it, lets the rules
    skip the expressions whose key words are absent (a speed-up only).
    """
    found: list[list[Argument]] = [[] for _ in events]
    counts: list[Optional[dict]] = [None] * len(events)
    if not events:
        return found, counts
    bounds = [(e.start, e.end) for e in events]
    occupied = list(bounds)

    arg_spans: set[tuple[int, int]] = set()

    def free(s: int, e: int) -> bool:
        """No overlap with a trigger, nor with another argument region unless it is the same span (G9)."""
        return all(e <= a or b <= s for a, b in occupied) and all((s, e) == (a, b) or e <= a or b <= s for a, b in arg_spans)

    def attach(k: int, arg: Optional[Argument]) -> None:
        if arg and free(arg.start, arg.end) and all(a.role != arg.role for a in found[k]):
            found[k].append(arg)
            arg_spans.add((arg.start, arg.end))

    violent = [k for k, ev in enumerate(events) if ev.type != "THREAT"]

    def owners(s: int, e: int, role: str) -> list[int]:
        """Who gets a time or place: the nearest event; every violent event when the
        sentence has a single attack (its casualties share its time and place)."""
        k = _nearest(bounds, s, e)
        attacks = [i for i in violent if events[i].type in ("ATTACK", "STRIKE")]
        if events[k].type != "THREAT" and len(attacks) == 1:
            return violent
        if role == "place" and events[k].type == "THREAT":
            return []
        return [k]

    for m in TIME_RE.finditer(text) if words is None or not TIME_WORDS.isdisjoint(words) else ():
        s, e = m.span()
        if m.group(0).startswith("on "):
            s += 3
        for k in owners(s, e, "time"):
            attach(k, _arg("time", text, s, e))
    for m in PLACE_RE.finditer(text):
        s, e = m.span(1)
        value, s = _strip_det(m.group(1), s)
        if value.split()[0].lower() in NOT_PLACES:
            continue
        for k in owners(s, s + len(value), "place"):
            attach(k, _arg("place", text, s, s + len(value)))
    for k, ev in enumerate(events):
        if ev.type in ("ATTACK", "STRIKE"):
            m = NP_AFTER_RE.match(text, ev.end)
            if m and len(m.group(1).split()) <= 8:
                value, s = _strip_det(m.group(1), m.start(1))
                attach(k, _arg("target", text, s, s + len(value)))
            m = BY_RE.match(text, ev.end)
            if m:
                value, s = _strip_det(m.group(1), m.start(1))
                attach(k, _arg("attacker", text, s, s + len(value)))
            m = _proper_before(text, ev.start)
            if m and m.group(1).split()[-1] not in ("The", "A", "An"):
                value = m.group(1)
                attach(k, _arg("attacker", text, m.start(1), m.start(1) + len(value)))
        elif ev.type == "THREAT":
            m = _proper_before(text, ev.start)
            if m and m.group(1).split()[0] not in ("The", "A", "An"):
                attach(k, _arg("threatener", text, m.start(1), m.start(1) + len(m.group(1))))
        elif ev.type == "CASUALTY":
            hit = find_count(text, ev.start, ev.end)
            if hit:
                s, e, counts[k] = hit
                attach(k, _arg("count", text, s, e))
    weapons = _weapons(text) if words is None or not WEAPON_WORDS.isdisjoint(words) else ()
    for m in weapons:
        s, e = m.span()
        candidates = [k for k, ev in enumerate(events) if ev.type in ("ATTACK", "STRIKE")]
        if candidates and free(s, e):
            k = min(candidates, key=lambda c: min(abs(bounds[c][0] - e), abs(s - bounds[c][1])))
            attach(k, _arg("instrument", text, s, e))
    return found, counts


def _weapons(text: str) -> Iterator[re.Match]:
    lower = text.lower()
    return WEAPON_RE.finditer(lower) if len(lower) == len(text) else WEAPON_RE_ANY_CASE.finditer(text)


def enrich(doc: Doc, candidates: list[Candidate]) -> list[Event]:
    """Events with realis, arguments and (for CASUALTY) a normalised count filled in."""
    if not candidates:
        return []
    text = doc.text
    args, counts = arguments(text, candidates, doc.wordset)
    realises = [realis(doc, c) for c in candidates]
    for k in range(1, len(candidates)):
        # G7: "plan to expand air strikes and ground raids": coordinated triggers share the realis
        between = text[candidates[k - 1].end : candidates[k].start].split()
        if between and between[0] in ("and", "or") and len(between) <= 2:
            realises[k] = realises[k - 1]
    return [
        Event(
            type=c.type,
            start=c.start,
            end=c.end,
            text=text[c.start : c.end],
            confidence=c.confidence,
            sources=c.sources,
            realis=r,
            arguments=tuple(sorted(ev_args, key=lambda a: (a.start, a.role))) if len(ev_args) > 1 else tuple(ev_args),
            count=count,
        )
        for c, r, ev_args, count in zip(candidates, realises, args, counts)
    ]
