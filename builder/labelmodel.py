"""A generative label model over the labelling functions' votes, measured against voting.

Issue 7 allows one "only if it measurably beats voting on the gold layer". This module is
that measurement: a Dawid–Skene model (each labelling function has a confusion matrix over
the four event types and ``NONE``, or in the one-coin variant a single accuracy, learnt by
expectation–maximisation from the votes alone, without gold) replaces the voting step of
:func:`builder.weak.aggregate.aggregate`, and :func:`compare` scores both by
leave-one-document-group-out on the human layer. ``eventds label-model`` prints the
comparison; the labeller keeps voting unless the model wins.

The votes are read from a votes folder when one is given (:mod:`builder.weak.votes`), and
made by running the labelling functions otherwise. A candidate is a span some function
proposes; a function votes on it with the label of its own span that overlaps it (a veto
votes ``NONE``) and abstains otherwise. After decoding, the same rules as voting apply:
overlapping events keep the longest, and a generic attack word yields to a specific one (G5).
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Optional

from .evaluate import score
from .labelset import event_types
from .split import by_document_group
from .weak import VETO, AggregationSettings, Aggregator, WeakLabeller, span_groups

NONE = "NONE"

Votes = dict[str, str]  # labelling function -> label


def candidates(doc, names: Iterable[str]) -> list[tuple[int, int, Votes]]:
    """The distinct spans that functions propose in an annotated doc, each with every function's vote."""
    groups = {name: doc.spans.get(name) or [] for name in names}
    spans = sorted({(s, e) for group in groups.values() for s, e, label, _ in group if label != VETO})
    out = []
    for s, e in spans:
        votes: Votes = {}
        for name, group in groups.items():
            labels = [label for gs, ge, label, _ in group if gs < e and s < ge]
            if labels:
                votes[name] = NONE if VETO in labels else max(set(labels), key=labels.count)
        out.append((s, e, votes))
    return out


class DawidSkene:
    """Class priors and one confusion matrix per labelling function, fitted by EM (with add-one smoothing).

    With ``one_coin`` each function has a single accuracy and spreads its errors evenly over
    the other classes (the constrained model, which stays identifiable when, as here, most
    spans get one vote).
    """

    def __init__(self, classes: tuple[str, ...], iterations: int = 50, smoothing: float = 1.0, one_coin: bool = False):
        self.classes = classes
        self.one_coin = one_coin
        self.iterations = iterations
        self.smoothing = smoothing
        self.prior: dict[str, float] = {c: 1 / len(classes) for c in classes}
        self.confusion: dict[str, dict[str, dict[str, float]]] = {}  # lf -> true class -> vote -> p

    def _majority(self, votes: Votes) -> dict[str, float]:
        counts = defaultdict(float)
        for label in votes.values():
            counts[label] += 1
        total = sum(counts.values())
        return {c: counts[c] / total for c in self.classes} if total else dict(self.prior)

    def posterior(self, votes: Votes) -> dict[str, float]:
        logp = {}
        for c in self.classes:
            lp = math.log(self.prior[c])
            for lf, label in votes.items():
                lp += math.log(self.confusion.get(lf, {}).get(c, {}).get(label, 1 / len(self.classes)))
            logp[c] = lp
        top = max(logp.values())
        z = sum(math.exp(v - top) for v in logp.values())
        return {c: math.exp(v - top) / z for c, v in logp.items()}

    def fit(self, rows: list[Votes]) -> "DawidSkene":
        rows = [r for r in rows if r]
        if not rows:
            return self
        posteriors = [self._majority(r) for r in rows]
        functions = sorted({lf for r in rows for lf in r})
        # The class balance is fixed at that of the majority vote (as Snorkel fixes it): when
        # most spans have one vote, re-estimating it lets EM collapse onto the largest class.
        totals = {c: self.smoothing + sum(p[c] for p in posteriors) for c in self.classes}
        self.prior = {c: n / sum(totals.values()) for c, n in totals.items()}
        for _ in range(self.iterations):
            # M step: confusion matrices from the soft labels.
            for lf in functions:
                table = {c: {v: self.smoothing for v in self.classes} for c in self.classes}
                for r, p in zip(rows, posteriors):
                    if lf in r:
                        for c in self.classes:
                            table[c][r[lf]] += p[c]
                if self.one_coin:
                    right = sum(table[c][c] for c in self.classes)
                    accuracy = right / sum(sum(row.values()) for row in table.values())
                    k = len(self.classes)
                    self.confusion[lf] = {c: {v: accuracy if v == c else (1 - accuracy) / (k - 1) for v in self.classes} for c in self.classes}
                else:
                    self.confusion[lf] = {c: {v: n / sum(row.values()) for v, n in row.items()} for c, row in table.items()}
            # E step.
            posteriors = [self.posterior(r) for r in rows]
        return self


def decode(doc, cands: list[tuple[int, int, Votes]], model: DawidSkene) -> list[dict[str, Any]]:
    """Events from the model's most probable class for each candidate (``NONE`` drops it)."""
    scored = []
    for s, e, votes in cands:
        post = model.posterior(votes)
        best = max(post, key=post.get)
        if best != NONE:
            scored.append((s, e, best, post[best]))
    chosen: list[tuple[int, int, str, float]] = []
    for cand in sorted(scored, key=lambda c: (c[0] - c[1], -c[3], c[0])):
        if all(cand[1] <= k[0] or k[1] <= cand[0] for k in chosen):
            chosen.append(cand)
    generic = doc.generic_spans()
    if generic and any(c[2] in ("ATTACK", "STRIKE") and (c[0], c[1]) not in generic for c in chosen):
        chosen = [c for c in chosen if not ((c[0], c[1]) in generic and c[2] in ("ATTACK", "STRIKE"))]
    return [{"type": t, "start": s, "end": e, "confidence": round(p, 4)} for s, e, t, p in sorted(chosen)]


def compare(rows: list[dict], groups: dict[str, str], labeller: Optional[WeakLabeller] = None, votes: Optional[Path] = None) -> dict[str, Any]:
    """Voting against the label model, leave-one-document-group-out on human-layer rows.

    The model is fitted on the votes of the other groups' sentences (no gold is used to fit
    it) and decodes the held-out group; both are scored against the human events.

    Args:
        labeller: runs the functions when there is no ``votes`` folder (a new one by default).
        votes: a votes folder holding the functions' votes on ``rows``; no function runs.
    """
    spans = span_groups(((r["id"], r["text"]) for r in rows), votes, labeller)
    names = spans.names
    docs = spans.docs
    aggregator = labeller.aggregator if labeller is not None and votes is None else Aggregator(AggregationSettings.load())
    classes = (*event_types(), NONE)
    by_group = by_document_group(rows, groups)
    cands = {rid: candidates(doc, names) for rid, doc in docs.items()}
    pairs: dict[str, list] = {"voting": [], "dawid_skene": [], "one_coin": []}
    multi_vote = sum(1 for cs in cands.values() for _, _, v in cs if len(v) > 1)
    for held_out in sorted(by_group):
        train = [v for g, rs in by_group.items() if g != held_out for r in rs for _, _, v in cands[r["id"]]]
        models = {"dawid_skene": DawidSkene(classes).fit(train), "one_coin": DawidSkene(classes, one_coin=True).fit(train)}
        for r in by_group[held_out]:
            voted = [e.to_dict() for e in aggregator.events(docs[r["id"]], set(names), r["id"], own_tokens=spans.own_tokens)]
            pairs["voting"].append((r["events"], voted))
            for name, model in models.items():
                pairs[name].append((r["events"], decode(docs[r["id"]], cands[r["id"]], model)))
    result: dict[str, Any] = {
        "votes": str(spans.votes) if spans.votes is not None else None,
        "folds": len(by_group),
        "sentences": len(rows),
        "candidates": sum(map(len, cands.values())),
        "candidates_with_several_votes": multi_vote,
    }
    for name, p in pairs.items():
        d = score(p).to_dict()
        result[name] = {
            "overlap_f1": {t: d["trigger_overlap"]["per_type"][t]["f1"] for t in event_types()},
            "micro_overlap_f1": d["trigger_overlap"]["micro"]["f1"],
            "micro_exact_f1": d["trigger_exact"]["micro"]["f1"],
        }
    result["label_model_wins"] = [n for n in models if result[n]["micro_overlap_f1"] > result["voting"]["micro_overlap_f1"]]
    return result
