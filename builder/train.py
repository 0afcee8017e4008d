"""Model in the loop: a small spaCy span categorizer trained on the human layer.

The model starts from ``spacy.blank("en")`` (no pretrained weights): a hash-embedding
tok2vec under a ``spancat`` component. It becomes the labelling function ``span_model.v1``
for the event types where cross-validation by document group shows that adding it to the
rules helps; for the others it is not consulted.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Optional, Sequence

import spacy
from spacy.language import Language
from spacy.tokens import Span
from spacy.training import Example

from .bio import AlignmentError
from .errors import InputError
from .evaluate import score
from .labelset import event_types
from .split import by_document_group

if TYPE_CHECKING:
    from .weak.base import Doc as LabelDoc

SPANS_KEY = "events"
META_FILE = "eventds_model.json"
THRESHOLD = 0.5


def build_pipeline(seed: int = 0) -> Language:
    """A blank English pipeline with a span categorizer over 1-3-token spans."""
    spacy.util.fix_random_seed(seed)
    nlp = spacy.blank("en")
    spancat = nlp.add_pipe(
        "spancat",
        config={
            "spans_key": SPANS_KEY,
            "threshold": THRESHOLD,
            "suggester": {"@misc": "spacy.ngram_suggester.v1", "sizes": [1, 2, 3]},
        },
    )
    for t in event_types():
        spancat.add_label(t)
    return nlp


def make_example(nlp: Language, text: str, events: list[dict], where: str) -> Example:
    ref = nlp.make_doc(text)
    spans = []
    for e in events:
        span = ref.char_span(e["start"], e["end"], label=e["type"], alignment_mode="strict")
        if span is None:
            raise AlignmentError(f"{where}: event [{e['start']}, {e['end']}) {e.get('text')!r} does not align with the tokens")
        spans.append(span)
    ref.spans[SPANS_KEY] = spans
    return Example(nlp.make_doc(text), ref)


def train(rows: list[dict], epochs: int = 30, seed: int = 0, batch_size: int = 16) -> Language:
    """Train a span model on ``{"id", "text", "events"}`` rows of the human layer."""
    if not rows:
        raise InputError("no human-annotated sentences to train on")
    nlp = build_pipeline(seed)
    examples = [make_example(nlp, r["text"], r["events"], str(r["id"])) for r in rows]
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(seed)
    for _ in range(epochs):
        rng.shuffle(examples)
        for batch in spacy.util.minibatch(examples, size=batch_size):
            nlp.update(batch, sgd=optimizer, drop=0.1)
    return nlp


def predict(nlp: Language, texts: Iterable[str], types: Optional[Iterable[str]] = None) -> list[list[dict]]:
    """Non-overlapping predicted events per text (highest score first), restricted to ``types``."""
    keep = set(types) if types is not None else set(event_types())
    out = []
    for doc in nlp.pipe(texts):
        spans = doc.spans[SPANS_KEY]
        scored = sorted(
            ((float(spans.attrs["scores"][i].max()) if "scores" in spans.attrs else 1.0, s) for i, s in enumerate(spans)),
            key=lambda x: -x[0],
        )
        chosen: list[tuple[float, Span]] = []
        for sc, s in scored:
            if s.label_ in keep and all(s.end <= o.start or o.end <= s.start for _, o in chosen):
                chosen.append((sc, s))
        out.append(sorted(({"type": s.label_, "start": s.start_char, "end": s.end_char, "text": s.text, "confidence": round(sc, 4)} for sc, s in chosen), key=lambda e: e["start"]))
    return out


def save(nlp: Language, out_dir: Path, meta: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out_dir)
    (out_dir / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def load(model_dir: Path) -> tuple[Language, dict[str, Any]]:
    if not (model_dir / META_FILE).exists():
        raise InputError(f"{model_dir}: not a span model written by `eventds train` (no {META_FILE})")
    return spacy.load(model_dir), json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))


def merge(rules: list[dict], model: list[dict]) -> list[dict]:
    """Rules first; a model event is added where it overlaps no rule event."""
    merged = list(rules)
    for e in model:
        if all(e["end"] <= r["start"] or r["end"] <= e["start"] for r in rules):
            merged.append({**e, "sources": ["span_model.v1"]})
    return sorted(merged, key=lambda e: e["start"])


def cross_validate(rows: list[dict], groups: dict[str, str], rule_events: dict[str, list[dict]], epochs: int = 30, seed: int = 0) -> dict[str, Any]:
    """Leave-one-group-out cross-validation by document group.

    Args:
        rows: human-layer rows ``{"id", "doc_id", "text", "events"}``.
        groups: document id -> group (documents sharing text are one group).
        rule_events: sentence id -> the rule-based weak events.

    Returns:
        Scores of the rules alone, the model alone and rules + model on the held-out folds,
        the share of pre-annotations accepted unchanged, and the types where the model helps.
    """
    by_group = by_document_group(rows, groups)
    if len(by_group) < 2:
        raise InputError("cross-validation needs at least two document groups")
    pairs: dict[str, list] = {"rules": [], "model": [], "rules+model": []}
    for held_out in sorted(by_group):
        train_rows = [r for g, rs in by_group.items() if g != held_out for r in rs]
        test_rows = by_group[held_out]
        nlp = train(train_rows, epochs=epochs, seed=seed)
        predicted = predict(nlp, (r["text"] for r in test_rows))
        for r, m in zip(test_rows, predicted):
            rules = rule_events[r["id"]]
            pairs["rules"].append((r["events"], rules))
            pairs["model"].append((r["events"], m))
            pairs["rules+model"].append((r["events"], merge(rules, m)))
    result: dict[str, Any] = {"folds": len(by_group), "sentences": len(rows)}
    for name, p in pairs.items():
        d = score(p).to_dict()
        accepted = sum(1 for gold, pred in p for e in pred if any((e["type"], e["start"], e["end"]) == (g["type"], g["start"], g["end"]) for g in gold))
        total = sum(len(pred) for _, pred in p)
        result[name] = {
            "overlap_f1": {t: d["trigger_overlap"]["per_type"][t]["f1"] for t in event_types()},
            "exact_f1": {t: d["trigger_exact"]["per_type"][t]["f1"] for t in event_types()},
            "micro_overlap_f1": d["trigger_overlap"]["micro"]["f1"],
            "accepted_unchanged": round(accepted / total, 4) if total else None,
        }
    result["model_helps"] = [t for t in event_types() if result["rules+model"]["overlap_f1"][t] > result["rules"]["overlap_f1"][t]]
    return result


class SpanModelFunction:
    """The trained span model as a labelling function, for the types where it helps.

    Registered as ``span_model.v1`` (:mod:`builder.weak.learned`), which gives it its ``name``;
    it runs on every text and predicts a batch of texts at once."""

    anchors = None

    def __init__(self, model_dir: Path, name: str):
        self.name = name
        self.nlp, self.meta = load(model_dir)
        self.types = set(self.meta.get("use_types", []))

    def __call__(self, doc: "LabelDoc") -> None:
        self.batch([doc])

    def batch(self, docs: Sequence["LabelDoc"]) -> None:
        for doc, predicted in zip(docs, predict(self.nlp, [d.text for d in docs], self.types)):
            starts = set(doc.tokens.starts)
            ends = set(doc.tokens.ends)
            # only spans on the labeller's token boundaries; below rule priors, so that rules win ties
            doc.spans[self.name] = [(e["start"], e["end"], e["type"], e["confidence"] * 0.8) for e in predicted if e["start"] in starts and e["end"] in ends]
