"""Calibrated confidence for weak events.

The aggregator's raw confidence (pattern priors combined by noisy-OR) is mapped to the
precision observed on the human layer by isotonic regression (pool adjacent violators).
The map is fitted out of fold by document group to report how well it calibrates, then on
the whole human layer, and saved in ``resources/calibration.json``, which aggregation
applies when it exists (:mod:`builder.weak.aggregate`). The weak events are made from the
functions' votes when a votes folder is given, and by running the labeller otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Optional

from .errors import InputError
from .evaluate import match
from .weak import AggregationSettings, Aggregator, WeakLabeller, span_groups
from .weak.aggregate import CALIBRATION_PATH, load_knots
from .weak.aggregate import apply_calibration as apply

__all__ = ["CALIBRATION_PATH", "apply", "ece", "fit", "isotonic", "load_knots", "outcomes"]


def isotonic(points: Iterable[tuple[float, bool]]) -> list[tuple[float, float]]:
    """Pool adjacent violators: ``(raw, correct)`` pairs -> increasing ``(raw, precision)`` knots."""
    blocks: list[list[float]] = []  # [sum_correct, count, sum_raw]
    for raw, ok in sorted(points):
        blocks.append([float(ok), 1.0, raw])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            c, n, r = blocks.pop()
            blocks[-1][0] += c
            blocks[-1][1] += n
            blocks[-1][2] += r
    return [(b[2] / b[1], b[0] / b[1]) for b in blocks]


def ece(points: list[tuple[float, bool]], bins: int = 10) -> float:
    """Expected calibration error: mean |confidence - accuracy| over equal-width bins, weighted by size."""
    if not points:
        return 0.0
    grouped: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for conf, ok in points:
        grouped[min(bins - 1, int(conf * bins))].append((conf, ok))
    return sum(abs(sum(c for c, _ in g) / len(g) - sum(ok for _, ok in g) / len(g)) * len(g) for g in grouped.values()) / len(points)


def outcomes(rows: list[dict[str, Any]], votes: Optional[Path] = None) -> list[tuple[str, float, bool]]:
    """``(doc_id, raw confidence, correct)`` for every weak event on human-annotated records,
    uncalibrated (correct: overlaps a human event of the same type, one-to-one).

    Args:
        votes: a votes folder holding the functions' votes on these records; without it
            the labelling functions are run.
    """
    groups = span_groups(((r["id"], r["text"]) for r in rows), votes, None if votes is not None else WeakLabeller(calibrated=False))
    aggregator = Aggregator(AggregationSettings.load(calibrated=False))
    names = set(groups.names)
    out = []
    for r in rows:
        weak = aggregator.events(groups.docs[r["id"]], names, r["id"], own_tokens=groups.own_tokens)
        weak_dicts = [e.to_dict() for e in weak]
        matched = {j for _, j in match(r["events"], weak_dicts, "overlap")}
        out += [(r["doc_id"], e.confidence, j in matched) for j, e in enumerate(weak)]
    return out


def fit(rows: list[dict[str, Any]], groups: dict[str, str], votes: Optional[Path] = None) -> dict[str, Any]:
    """Fit the map on every weak event, and measure out-of-fold calibration by document group.

    Args:
        votes: the functions' votes on ``rows`` (see :func:`outcomes`).
    """
    data = outcomes(rows, votes)
    if not data:
        raise InputError("no weak events on human-annotated sentences: nothing to calibrate on")
    folds = sorted({groups.get(d, d) for d, _, _ in data})
    raw_points = [(c, ok) for _, c, ok in data]
    oof = []
    for fold in folds:
        train = [(c, ok) for d, c, ok in data if groups.get(d, d) != fold]
        knots = isotonic(train)
        oof += [(apply(knots, c), ok) for d, c, ok in data if groups.get(d, d) == fold]
    return {
        "events": len(data),
        "folds": len(folds),
        "precision": round(sum(ok for _, ok in raw_points) / len(raw_points), 4),
        "ece_raw": round(ece(raw_points), 4),
        "ece_calibrated_out_of_fold": round(ece(oof), 4),
        "knots": [[round(x, 4), round(y, 4)] for x, y in isotonic(raw_points)],
    }
