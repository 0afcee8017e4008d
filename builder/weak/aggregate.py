"""Aggregation: the span groups of the labelling functions combined into candidate events.

Vetoes drop what they overlap, agreeing votes on a span combine their confidences by
noisy-OR, type conflicts on one span go to the heavier vote (then to ``type_priority``),
overlapping spans keep the longest, and a generic word yields to a specific trigger of
the same event (G5). The raw confidence is then mapped through the calibration map
(``resources/calibration.json``, fitted by :mod:`builder.calibrate`).

Aggregation reads only the span groups, wherever they come from: a labeller that has just
run the functions, or their votes read back from files (:mod:`builder.weak.votes`).
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Container, Iterable, NamedTuple, Optional, Sequence

from ..errors import ConfigError
from .base import RESOURCES, RULES_PATH, VETO, Doc

CALIBRATION_PATH = RESOURCES / "calibration.json"

#: Increasing ``(raw, calibrated)`` knots of the calibration map.
Knots = tuple[tuple[float, float], ...]


class Candidate(NamedTuple):
    """An aggregated event before enrichment."""

    type: str
    start: int
    end: int
    confidence: float
    sources: tuple[str, ...]


@dataclass(frozen=True)
class AggregationSettings:
    """What aggregation needs besides the votes: the ``min_confidence`` and ``type_priority``
    of ``weak_rules.json``, and the calibration map (``None``: raw confidence)."""

    min_confidence: float
    type_priority: tuple[str, ...]
    calibration: Optional[Knots] = None

    @classmethod
    def load(cls, path: Path = RULES_PATH, calibrated: bool = True) -> "AggregationSettings":
        """The settings of a rules file (its patterns are not compiled), with the calibration map when ``calibrated``."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(float(data["min_confidence"]), tuple(data["type_priority"]), load_knots() if calibrated else None)
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"{path}: cannot read min_confidence and type_priority ({e!r})") from e


def aggregate(doc: Doc, names: Container[str], settings: AggregationSettings) -> list[Candidate]:
    """Combine the span groups of ``doc`` written by the functions in ``names`` into
    non-overlapping events, sorted by offset.

    Events under ``settings.min_confidence`` (raw) are dropped; the others get their raw
    confidence mapped through ``settings.calibration`` when given.
    """
    groups = [(name, spans) for name, spans in doc.spans.items() if spans and name in names]
    if not groups:
        return []
    vetoes = [(s, e) for _, spans in groups for s, e, label, _ in spans if label == VETO]
    votes: dict[tuple[int, int], dict[str, list[tuple[str, float]]]] = {}
    for name, spans in groups:
        for start, end, label, conf in spans:
            if label == VETO or (vetoes and any(start < ve and vs < end for vs, ve in vetoes)):
                continue
            votes.setdefault((start, end), {}).setdefault(label, []).append((name, conf))
    if not votes:
        return []

    candidates = []
    priority = _priority(settings.type_priority)
    for (start, end), by_type in votes.items():
        if len(by_type) == 1:
            ((best, voters),) = by_type.items()
            score = voters[0][1] if len(voters) == 1 else _noisy_or(c for _, c in voters)
        else:
            scored = {t: _noisy_or(c for _, c in v) for t, v in by_type.items()}
            best = min(scored, key=lambda t: (-scored[t], priority.get(t, len(priority))))
            score, voters = scored[best], by_type[best]
        candidates.append((start, end, best, score, tuple(sorted(n for n, _ in voters)) if len(voters) > 1 else (voters[0][0],)))

    if len(candidates) == 1:
        chosen = candidates
    else:
        chosen = []
        for cand in sorted(candidates, key=lambda c: (c[0] - c[1], -c[3], c[0])):
            start, end, etype, conf, sources = cand
            overlapping = [i for i, c in enumerate(chosen) if start < c[1] and c[0] < end]
            if not overlapping:
                chosen.append(cand)
                continue
            # A shorter span inside a kept one of the same type adds its voters to it.
            for i in overlapping:
                k_start, k_end, k_type, k_conf, k_sources = chosen[i]
                if k_type != etype:
                    continue
                if set(sources) - set(k_sources):  # an independent function agrees
                    k_conf = _noisy_or([k_conf, conf])
                chosen[i] = (k_start, k_end, k_type, k_conf, tuple(sorted(set(k_sources) | set(sources))))

    # G5: a generic word (targeted, hit, struck; a "massacre" that restates a killing) is not
    # a trigger when a specific word of the sentence expresses the event: an ATTACK or
    # STRIKE word for the first, a CASUALTY word for the second.
    generic = doc.generic_spans(names) if doc.generic else None
    if generic:
        specific = {_G5_FAMILY.get(c[2], c[2]) for c in chosen if (c[0], c[1]) not in generic}
        chosen = [c for c in chosen if not ((c[0], c[1]) in generic and _G5_FAMILY.get(c[2], c[2]) in specific)]

    minimum = settings.min_confidence
    calibration = settings.calibration
    return [
        Candidate(t, s, e, round(apply_calibration(calibration, c) if calibration else c, 4), src)
        for s, e, t, c, src in (sorted(chosen) if len(chosen) > 1 else chosen)
        if c >= minimum
    ]


#: Types whose words express the same event for G5 (an attack is an ATTACK or a STRIKE).
_G5_FAMILY = {"STRIKE": "ATTACK"}


@lru_cache(maxsize=None)
def _priority(type_priority: tuple[str, ...]) -> dict[str, int]:
    return {t: i for i, t in enumerate(type_priority)}


def _noisy_or(confidences: Iterable[float]) -> float:
    p = 1.0
    for c in confidences:
        p *= 1.0 - c
    return 1.0 - p


def apply_calibration(knots: Sequence[tuple[float, float]], raw: float) -> float:
    """Interpolate the calibration map at ``raw`` (flat beyond the end knots)."""
    if not knots:
        return raw
    i = bisect.bisect_left(knots, (raw,))
    if i == 0:
        return knots[0][1]
    if i == len(knots):
        return knots[-1][1]
    (x0, y0), (x1, y1) = knots[i - 1], knots[i]
    return y0 if x1 == x0 else y0 + (y1 - y0) * (raw - x0) / (x1 - x0)


@lru_cache(maxsize=None)
def load_knots(path: Path = CALIBRATION_PATH) -> Optional[Knots]:
    """The knots of a calibration map written by ``eventds calibrate`` (``None`` when there is none)."""
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return tuple((float(x), float(y)) for x, y in data["knots"])
