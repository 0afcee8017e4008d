"""Where a learned function is trusted: per kind of edit and event type, from what annotators
did with its votes.

A learned function votes on every sentence, and its votes are kept whether or not they reach
the pre-annotations. Compared with the rules' events of a sentence, its spans make edits:
``add`` a span where the rules are silent, ``remove`` a rule event none of its spans overlaps,
``retype`` a rule event it gives another type. Once annotators have corrected a sentence,
each edit was either right (an added or retyped span is in the human layer with its type; a
removed event is not) or wrong. An edit of one kind and type is trusted when, over at least
``min_seen`` cases (or, with fewer cases of its own and none against it, over its kind's cases
of every type), the lower Wilson bound of how often it was right (``z`` standard errors
below) reaches ``threshold``: an edit right with probability ``p`` raises F1 when ``p`` is
above about half the current F1, so 0.5 is where it stops paying, and a bound rather than the
share itself keeps a few lucky cases from trusting an edit that does not pay (5 of 10 right
is not enough; 8 of 10 is). Until then those edits stay out of the pre-annotations, and the
rules' events stand. A function that votes only where it finds a trigger
(``kinds=("add",)``) is never asked about removals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from math import sqrt
from pathlib import Path
from typing import Any, Iterable, Mapping, NamedTuple, Optional, Sequence

from ..errors import InputError
from ..labelset import event_types

Span = tuple[int, int, str, float]
KINDS = ("add", "remove", "retype")


class Edit(NamedTuple):
    """One change a learned function's spans make to the rules' events of a sentence."""

    kind: str  # add, remove or retype
    type: str  # the event type after the edit (remove: the removed event's type)
    start: int
    end: int
    confidence: float
    rule: Optional[int]  # index of the rule event it changes (None for add)


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def edits(rule_events: Sequence[Mapping[str, Any]], spans: Iterable[Span], kinds: Iterable[str] = KINDS) -> list[Edit]:
    """The edits ``spans`` make to ``rule_events`` (of the given kinds)."""
    kinds = frozenset(kinds)
    spans = list(spans)
    out = []
    for i, r in enumerate(rule_events):
        over = [s for s in spans if _overlaps((s[0], s[1]), (r["start"], r["end"]))]
        if not over:
            if "remove" in kinds:
                out.append(Edit("remove", r["type"], r["start"], r["end"], 1.0, i))
        elif "retype" in kinds and all(s[2] != r["type"] for s in over):
            best = max(over, key=lambda s: s[3])
            out.append(Edit("retype", best[2], r["start"], r["end"], best[3], i))
    if "add" in kinds:
        taken = [(r["start"], r["end"]) for r in rule_events]
        out += [Edit("add", t, s, e, c, None) for s, e, t, c in spans if not any(_overlaps((s, e), x) for x in taken)]
    return out


def right(edit: Edit, gold: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the human layer ``gold`` of the sentence agrees with ``edit``."""
    hit = any(g["type"] == edit.type and _overlaps((edit.start, edit.end), (g["start"], g["end"])) for g in gold)
    return not hit if edit.kind == "remove" else hit


def _key(kind: str, etype: str) -> str:
    return f"{kind}:{etype}"


def wilson_lower(right: int, seen: int, z: float) -> float:
    """The lower Wilson score bound of a share of ``right`` in ``seen`` cases, ``z`` standard
    errors below it (``z`` 0: the share itself)."""
    if not seen:
        return 0.0
    p, z2 = right / seen, z * z
    centre = p + z2 / (2 * seen)
    spread = z * sqrt(p * (1 - p) / seen + z2 / (4 * seen * seen))
    return (centre - spread) / (1 + z2 / seen)


@dataclass
class Trust:
    """Right and wrong edits of a learned function, per kind and event type."""

    kinds: tuple[str, ...] = KINDS
    min_seen: int = 10
    threshold: float = 0.5
    z: float = 1.0
    right: dict[str, int] = field(default_factory=dict)
    wrong: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown:
            raise InputError(f"trust: unknown kinds of edit {unknown}; known: {list(KINDS)}")
        for kind in self.kinds:
            for t in event_types():
                self.right.setdefault(_key(kind, t), 0)
                self.wrong.setdefault(_key(kind, t), 0)

    def observe(self, rule_events: Sequence[Mapping[str, Any]], spans: Iterable[Span], gold: Sequence[Mapping[str, Any]]) -> None:
        """Count the edits of one sentence the annotators have corrected."""
        for edit in edits(rule_events, spans, self.kinds):
            key = _key(edit.kind, edit.type)
            (self.right if right(edit, gold) else self.wrong)[key] += 1

    def precision(self, kind: str, etype: str) -> Optional[float]:
        key = _key(kind, etype)
        seen = self.right[key] + self.wrong[key]
        return self.right[key] / seen if seen else None

    def trusted(self) -> frozenset[str]:
        """The ``kind:TYPE`` edits that go into the pre-annotations.

        An edit with ``min_seen`` cases of its own is judged on them (the lower bound of its
        share right). One with fewer is judged on its kind's cases over every type (edits are
        rare, and one type's few cases say little), unless the few it has already fall below
        the threshold.
        """
        out = set()
        for kind in self.kinds:
            keys = [_key(kind, t) for t in event_types()]
            right_k = sum(self.right[k] for k in keys)
            seen_k = right_k + sum(self.wrong[k] for k in keys)
            pooled = seen_k >= self.min_seen and wilson_lower(right_k, seen_k, self.z) >= self.threshold
            for k in keys:
                seen = self.right[k] + self.wrong[k]
                own = self.right[k] / seen if seen else None
                if seen >= self.min_seen:
                    if wilson_lower(self.right[k], seen, self.z) >= self.threshold:
                        out.add(k)
                elif pooled and (own is None or own >= self.threshold):
                    out.add(k)
        return frozenset(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kinds": list(self.kinds),
            "min_seen": self.min_seen,
            "threshold": self.threshold,
            "z": self.z,
            "right": dict(self.right),
            "wrong": dict(self.wrong),
            "trusted": sorted(self.trusted()),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "trust") -> "Trust":
        try:
            trust = cls(tuple(data.get("kinds", KINDS)), int(data.get("min_seen", 10)), float(data.get("threshold", 0.5)), float(data.get("z", 1.0)))
            for key in trust.right:
                trust.right[key] = int(data["right"].get(key, 0))
                trust.wrong[key] = int(data["wrong"].get(key, 0))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise InputError(f"{where}: not a trust record ({e!r})") from e
        return trust

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "Trust":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise InputError(f"{path}: cannot read the trust record ({e})") from e
        return cls.from_dict(data, str(path))


def combine(rule_events: Sequence[Mapping[str, Any]], spans: Iterable[Span], trusted: Iterable[str], kinds: Iterable[str] = KINDS) -> list[dict[str, Any]]:
    """The rules' events with the learned function's trusted edits applied, by offset."""
    trusted = frozenset(trusted)
    events: list[Optional[dict[str, Any]]] = [dict(e) for e in rule_events]
    added = []
    for edit in edits(rule_events, spans, kinds):
        if _key(edit.kind, edit.type) not in trusted:
            continue
        if edit.kind == "remove":
            events[edit.rule] = None
        elif edit.kind == "retype":
            events[edit.rule] = {**events[edit.rule], "type": edit.type, "confidence": edit.confidence}
        else:
            added.append({"type": edit.type, "start": edit.start, "end": edit.end, "confidence": edit.confidence})
    return sorted([e for e in events if e is not None] + added, key=lambda e: (e["start"], e["end"]))
