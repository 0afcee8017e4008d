"""Scoring event annotations against gold: trigger level (exact and overlap), sentence level,
arguments and realis.

Matching is one-to-one within a sentence. *Exact*: same type, same offsets. *Overlap*:
same type and overlapping offsets, pairs taken greedily by largest overlap. Sentence level
compares the sets of types per sentence.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

from .errors import InputError
from .io import read_jsonl
from .labelset import event_types

Span = dict[str, Any]  # an event dict: type, start, end, text, realis?, arguments?


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: "Counts") -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


def _overlap(a: Span, b: Span) -> int:
    return max(0, min(a["end"], b["end"]) - max(a["start"], b["start"]))


def match(gold: list[Span], pred: list[Span], mode: str = "overlap", typed: bool = True) -> list[tuple[int, int]]:
    """One-to-one pairs ``(gold_index, pred_index)`` of matching events of one sentence."""
    candidates = []
    for i, g in enumerate(gold):
        for j, p in enumerate(pred):
            if typed and g["type"] != p["type"]:
                continue
            if mode == "exact":
                if (g["start"], g["end"]) == (p["start"], p["end"]):
                    candidates.append((g["end"] - g["start"], i, j))
            elif _overlap(g, p) > 0:
                candidates.append((_overlap(g, p), i, j))
    pairs, used_g, used_p = [], set(), set()
    for _, i, j in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if i not in used_g and j not in used_p:
            pairs.append((i, j))
            used_g.add(i)
            used_p.add(j)
    return sorted(pairs)


@dataclass
class Scores:
    """Scores of predictions against gold, per event type and overall."""

    exact: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    overlap: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    sentence: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    arguments: Counts = field(default_factory=Counts)
    realis_correct: int = 0
    realis_total: int = 0
    sentences: int = 0

    def to_dict(self) -> dict[str, Any]:
        types = list(event_types())

        def block(table: dict[str, Counts]) -> dict[str, Any]:
            total = Counts()
            for t in types:
                total.add(table[t])
            micro = total.to_dict()
            macro_f1 = sum(table[t].f1 for t in types) / len(types)
            return {"per_type": {t: table[t].to_dict() for t in types}, "micro": micro, "macro_f1": round(macro_f1, 4)}

        return {
            "sentences": self.sentences,
            "trigger_exact": block(self.exact),
            "trigger_overlap": block(self.overlap),
            "sentence": block(self.sentence),
            "arguments": self.arguments.to_dict() if self.arguments.tp + self.arguments.fn + self.arguments.fp else None,
            "realis_accuracy": round(self.realis_correct / self.realis_total, 4) if self.realis_total else None,
        }


def score_sentence(gold: list[Span], pred: list[Span], scores: Scores) -> None:
    """Add one sentence's comparison to ``scores``."""
    scores.sentences += 1
    for mode, table in (("exact", scores.exact), ("overlap", scores.overlap)):
        pairs = match(gold, pred, mode)
        matched_g = {i for i, _ in pairs}
        matched_p = {j for _, j in pairs}
        for i, g in enumerate(gold):
            table[g["type"]].tp += i in matched_g
            table[g["type"]].fn += i not in matched_g
        for j, p in enumerate(pred):
            table[p["type"]].fp += j not in matched_p
        if mode == "overlap":
            for i, j in pairs:
                g, p = gold[i], pred[j]
                if g.get("realis") is not None and p.get("realis") is not None:
                    scores.realis_total += 1
                    scores.realis_correct += g["realis"] == p["realis"]
                if "arguments" not in g:  # this gold does not annotate arguments
                    continue
                g_args = {(a["role"], a["start"], a["end"]) for a in g.get("arguments") or ()}
                p_args = {(a["role"], a["start"], a["end"]) for a in p.get("arguments") or ()}
                if g_args or p_args:
                    scores.arguments.tp += len(g_args & p_args)
                    scores.arguments.fp += len(p_args - g_args)
                    scores.arguments.fn += len(g_args - p_args)
    g_types = {g["type"] for g in gold}
    p_types = {p["type"] for p in pred}
    for t in event_types():
        scores.sentence[t].tp += t in g_types and t in p_types
        scores.sentence[t].fp += t in p_types and t not in g_types
        scores.sentence[t].fn += t in g_types and t not in p_types


def score(pairs: Iterable[tuple[list[Span], list[Span]]]) -> Scores:
    """Score ``(gold_events, predicted_events)`` pairs, one per sentence."""
    scores = Scores()
    for gold, pred in pairs:
        score_sentence(gold, pred, scores)
    return scores


def _load_events(path: Path) -> dict[str, tuple[str, list[Span]]]:
    rows: dict[str, tuple[str, list[Span]]] = {}
    for lineno, obj in read_jsonl(path):
        where = f"{path}:{lineno}"
        if "id" not in obj or not isinstance(obj.get("text"), str) or not isinstance(obj.get("events"), list):
            raise InputError(f"{where}: expected an object with 'id', 'text' and an 'events' list")
        key = str(obj["id"])
        if key in rows:
            raise InputError(f"{where} -> id: duplicate id {obj['id']!r}")
        for i, e in enumerate(obj["events"]):
            for f in ("type", "start", "end"):
                if f not in e:
                    raise InputError(f"{where} -> events -> {i} -> {f}: missing")
            if obj["text"][e["start"] : e["end"]] != e.get("text", obj["text"][e["start"] : e["end"]]):
                raise InputError(f"{where} -> events -> {i} -> text: {e.get('text')!r} does not equal text[{e['start']}:{e['end']}]")
        rows[key] = (obj["text"], obj["events"])
    return rows


def evaluate_files(gold_path: Path, pred_path: Path, ids: Optional[set[str]] = None) -> Scores:
    """Score the predictions file against the gold file, joined on ``id``.

    Every gold sentence must have a prediction line with the same text (a missing line is
    an error, not a silent zero); prediction lines without gold are ignored.
    """
    gold = _load_events(gold_path)
    pred = _load_events(pred_path)
    pairs = []
    for key, (text, g_events) in gold.items():
        if ids is not None and key not in ids:
            continue
        if key not in pred:
            raise InputError(f"{pred_path}: no prediction for gold sentence {key!r}")
        if pred[key][0] != text:
            raise InputError(f"{pred_path} -> {key} -> text: differs from the gold text")
        pairs.append((g_events, pred[key][1]))
    return score(pairs)


def format_scores(scores: Scores) -> str:
    """A plain-text table of the scores."""
    d = scores.to_dict()
    lines = [f"{d['sentences']} sentences", f"{'type':<10} {'exact P/R/F1':>20} {'overlap P/R/F1':>20} {'sentence P/R/F1':>20}"]
    for t in list(event_types()):
        cells = []
        for key in ("trigger_exact", "trigger_overlap", "sentence"):
            c = d[key]["per_type"][t]
            cells.append(f"{c['precision']:.2f}/{c['recall']:.2f}/{c['f1']:.2f}")
        lines.append(f"{t:<10} {cells[0]:>20} {cells[1]:>20} {cells[2]:>20}")
    cells = []
    for key in ("trigger_exact", "trigger_overlap", "sentence"):
        c = d[key]["micro"]
        cells.append(f"{c['precision']:.2f}/{c['recall']:.2f}/{c['f1']:.2f}")
    lines.append(f"{'micro':<10} {cells[0]:>20} {cells[1]:>20} {cells[2]:>20}")
    if d["arguments"]:
        a = d["arguments"]
        lines.append(f"arguments (on overlap-matched triggers): P {a['precision']:.2f} R {a['recall']:.2f} F1 {a['f1']:.2f}")
    if d["realis_accuracy"] is not None:
        lines.append(f"realis accuracy (on overlap-matched triggers): {d['realis_accuracy']:.2f}")
    return "\n".join(lines)
