"""Inter-annotator agreement on sentences annotated by two annotators.

Per event type: span F1 between the annotators (one taken as reference; F1 is symmetric),
exact and overlap, and Cohen's kappa on the sentence-level label "has an event of this type";
overall, realis agreement and argument F1 on matched triggers. A sentence is a disagreement
when the two annotations differ in any trigger, type, realis or argument.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from .errors import InputError
from .evaluate import Counts, score
from .io import read_jsonl
from .labelset import event_types


def cohen_kappa(a: list[bool], b: list[bool]) -> float:
    """Cohen's kappa of two binary label sequences (1.0 when both are constant and equal)."""
    n = len(a)
    if n == 0:
        raise ValueError("kappa of no items")
    observed = sum(x == y for x, y in zip(a, b)) / n
    pa, pb = sum(a) / n, sum(b) / n
    expected = pa * pb + (1 - pa) * (1 - pb)
    if expected == 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1 - expected)


def _signature(events: list[dict]) -> list:
    """What two annotations must share to agree: triggers, types, realis and arguments."""
    return sorted(
        (e["type"], e["start"], e["end"], e.get("realis"), tuple(sorted((a["role"], a["start"], a["end"]) for a in e.get("arguments") or ())))
        for e in events
    )


def load_annotator_layer(path: Path) -> dict[str, dict[str, list[dict]]]:
    """Read ``annotations/annotators.jsonl``: ``{sentence_id: {annotator: events}}``.

    Ground-truth annotations (adjudications) are left out: agreement is between the
    independent annotations.
    """
    layer: dict[str, dict[str, list[dict]]] = defaultdict(dict)
    for lineno, obj in read_jsonl(path):
        where = f"{path}:{lineno}"
        for key in ("id", "annotator", "events"):
            if key not in obj:
                raise InputError(f"{where} -> {key}: missing")
        if obj.get("ground_truth"):  # an adjudication, not an independent annotation
            continue
        if obj["annotator"] in layer[obj["id"]]:
            raise InputError(f"{where}: annotator {obj['annotator']!r} annotated sentence {obj['id']!r} twice")
        layer[obj["id"]][obj["annotator"]] = obj["events"]
    return layer


def agreement(layer: dict[str, dict[str, list[dict]]]) -> dict[str, Any]:
    """Agreement over every sentence with at least two annotators (the first two by name).

    Returns:
        ``{"sentences", "annotators", "per_type": {type: {exact_f1, overlap_f1, kappa,
        a_sentences, b_sentences}}, "overall": {...}, "disagreements": [sentence ids]}``
    """
    doubled = {sid: anns for sid, anns in sorted(layer.items()) if len(anns) >= 2}
    if not doubled:
        raise InputError("no sentence has two annotations: agreement needs a doubly annotated sample")
    pairs, labels_a, labels_b, names, disagreements = [], defaultdict(list), defaultdict(list), set(), []
    for sid, anns in doubled.items():
        a, b = sorted(anns)[:2]
        names.update((a, b))
        ea, eb = anns[a], anns[b]
        pairs.append((ea, eb))
        for t in event_types():
            labels_a[t].append(any(e["type"] == t for e in ea))
            labels_b[t].append(any(e["type"] == t for e in eb))
        if _signature(ea) != _signature(eb):
            disagreements.append(sid)
    scores = score(pairs)
    per_type = {}
    for t in event_types():
        per_type[t] = {
            "exact_f1": round(scores.exact[t].f1, 4),
            "overlap_f1": round(scores.overlap[t].f1, 4),
            "kappa": round(cohen_kappa(labels_a[t], labels_b[t]), 4),
            "a_events": scores.exact[t].tp + scores.exact[t].fn,
            "b_events": scores.exact[t].tp + scores.exact[t].fp,
        }
    exact, overlap = Counts(), Counts()
    for t in event_types():
        exact.add(scores.exact[t])
        overlap.add(scores.overlap[t])
    all_a = [x for t in event_types() for x in labels_a[t]]
    all_b = [x for t in event_types() for x in labels_b[t]]
    return {
        "sentences": len(doubled),
        "annotators": sorted(names),
        "per_type": per_type,
        "overall": {"exact_f1": round(exact.f1, 4), "overlap_f1": round(overlap.f1, 4), "kappa": round(cohen_kappa(all_a, all_b), 4)},
        "realis_agreement": scores.to_dict()["realis_accuracy"],
        "argument_f1": (scores.to_dict()["arguments"] or {}).get("f1"),
        "disagreements": disagreements,
    }


def format_agreement(result: dict[str, Any]) -> Iterable[tuple[str, str]]:
    yield "doubly annotated sentences", str(result["sentences"])
    for t, v in result["per_type"].items():
        yield t, f"exact F1 {v['exact_f1']:.2f}  overlap F1 {v['overlap_f1']:.2f}  kappa {v['kappa']:.2f}"
    o = result["overall"]
    yield "all types", f"exact F1 {o['exact_f1']:.2f}  overlap F1 {o['overlap_f1']:.2f}  kappa {o['kappa']:.2f}"
    yield "sentences with disagreements", str(len(result["disagreements"]))
