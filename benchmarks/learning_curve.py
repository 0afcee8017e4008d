"""Learning from corrections, simulated: rules alone against rules + the learned tagger.

    python benchmarks/learning_curve.py [--pool tests/data/learning] [--seed 0] [--out FILE]

The pool is news written and annotated blind from the guidelines (``tests/data/learning``),
whole articles, that no rule or model was fitted on. Its documents are shuffled (``--seed``)
and cut in two: a correction stream of the first ``--stream`` sentences (whole documents)
and a fixed evaluation part, the rest. The tagger (MiniLM-L6 fine-tuned as a BIO tagger
that also reads the rules' events, ``builder.weak.tagger``; ``--plain``: the text only)
first trains on the project's human-annotated sentences (``--base``); then the stream is
revealed 25 sentences at a time, as an annotator would correct them in Label Studio: each
batch is first pre-annotated by the rules + the tagger, the tagger's edits to the rules'
events (add, remove, retype) are counted right or wrong against the batch's gold
(``builder.weak.trust``: an edit of one kind and type reaches the pre-annotations once it
was right at least half the time over 10 cases), then the tagger goes on training on
everything revealed (and part of the base). At 0, 50, 100, 200 and 400 corrections the
evaluation part is pre-annotated and scored: micro overlap F1 and the share of sentences
whose pre-annotation an annotator would accept unchanged (same types and offsets as the
gold), for the rules alone, for the rules with the trusted edits, and with every edit.
It also prints the most that learning words from the first 200 corrections could give,
and the throughput of the labeller with and without the tagger on the pool's distinct sentences.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from builder.evaluate import match, score  # noqa: E402
from builder.io import read_jsonl  # noqa: E402
from builder.weak import CONFIG_PATH, WeakLabeller  # noqa: E402
from builder.tokens import tokenize  # noqa: E402
from builder.weak.tagger import TaggerModel, TrainConfig, snap_spans, training_examples  # noqa: E402
from builder.weak.trust import Trust, combine  # noqa: E402

CHECKPOINTS = (0, 50, 100, 200, 400)
STEP = 25


def split_pool(pool: list[dict], stream_size: int, seed: int) -> tuple[list[dict], list[dict]]:
    docs: dict[str, list[dict]] = defaultdict(list)
    for r in pool:
        docs[r["doc"]].append(r)
    order = sorted(docs)
    random.Random(seed).shuffle(order)
    stream: list[dict] = []
    held: list[dict] = []
    for d in order:
        (stream if len(stream) < stream_size else held).extend(docs[d])
    return stream[:stream_size], held + stream[stream_size:]


def snapped(texts: list[str], predictions: list[list[tuple]]) -> list[list[tuple]]:
    return [snap_spans(tokenize(text), spans) for text, spans in zip(texts, predictions)]


def key(events) -> list[tuple]:
    return sorted((e["type"], e["start"], e["end"]) for e in events)


def figures(gold: list[list[dict]], pred: list[list[dict]]) -> dict:
    d = score(zip(gold, pred)).to_dict()["trigger_overlap"]
    accepted = sum(key(g) == key(p) for g, p in zip(gold, pred))
    return {
        "micro_f1": d["micro"]["f1"],
        "precision": d["micro"]["precision"],
        "recall": d["micro"]["recall"],
        "per_type_f1": {t: v["f1"] for t, v in d["per_type"].items()},
        "accepted_unchanged": round(accepted / len(gold), 4),
    }


def errors(rows: list[dict], rules: dict[str, list[dict]]) -> tuple[Counter, Counter, int]:
    """The rules' missed and spurious triggers as ``(type, lower-case text)`` counts, and their hits."""
    missed, spurious, hits = Counter(), Counter(), 0
    for r in rows:
        pred = rules[r["id"]]
        pairs = match(r["events"], pred)
        hits += len(pairs)
        matched_g, matched_p = {i for i, _ in pairs}, {j for _, j in pairs}
        missed.update((e["type"], e["text"].lower()) for i, e in enumerate(r["events"]) if i not in matched_g)
        spurious.update((e["type"], r["text"][e["start"] : e["end"]].lower()) for j, e in enumerate(pred) if j not in matched_p)
    return missed, spurious, hits


def ceiling(revealed: list[dict], held: list[dict], rules: dict[str, list[dict]]) -> dict:
    """What a learner that fixed every error of the rules on the evaluation part whose word it
    saw corrected among ``revealed`` (and made no new one) would score: the most that learning
    words from these corrections can give."""
    seen_missed, seen_spurious, _ = errors(revealed, rules)
    missed, spurious, hits = errors(held, rules)
    fixed_missed = sum(c for k, c in missed.items() if k in seen_missed)
    fixed_spurious = sum(c for k, c in spurious.items() if k in seen_spurious)
    tp, fp, fn = hits + fixed_missed, sum(spurious.values()) - fixed_spurious, sum(missed.values()) - fixed_missed
    return {
        "missed": sum(missed.values()),
        "spurious": sum(spurious.values()),
        "missed_seen_in_corrections": fixed_missed,
        "spurious_seen_in_corrections": fixed_spurious,
        "micro_f1": round(2 * tp / (2 * tp + fp + fn), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, default=ROOT / "tests" / "data" / "learning")
    parser.add_argument("--base", type=Path, nargs="*", default=[ROOT / "annotations" / "human.jsonl", ROOT / "annotations" / "news_gold.jsonl"])
    parser.add_argument("--stream", type=int, default=max(CHECKPOINTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=12, help="epochs on the base before any correction")
    parser.add_argument("--step-epochs", type=int, default=2, help="epochs after each batch of corrections")
    parser.add_argument("--replay", type=int, default=100, help="base sentences mixed into each step's training")
    parser.add_argument("--plain", action="store_true", help="the tagger reads the text only (by default it also reads the rules' events)")
    parser.add_argument("--kinds", default="add,remove,retype", help="the edits the tagger may make to the rules' events")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()

    pool = [r for f in sorted(args.pool.glob("*.jsonl")) for _, r in read_jsonl(f)]
    stream, held = split_pool(pool, args.stream, args.seed)
    base = training_examples([p for p in args.base if p.exists()])
    print(f"pool {len(pool)} sentences ({len({r['doc'] for r in pool})} documents): stream {len(stream)}, evaluation {len(held)}; base {len(base)} human sentences", flush=True)

    labeller = WeakLabeller()
    rules = {r["id"]: [e.to_dict() for e in ev] for r, ev in zip(pool, labeller.label_texts([r["text"] for r in pool]))}
    held_gold = [r["events"] for r in held]
    held_texts = [r["text"] for r in held]
    rules_only = figures(held_gold, [rules[r["id"]] for r in held])

    bound = ceiling(stream[:200], held, rules)
    print(
        f"rules on the evaluation part: {bound['missed']} triggers missed, {bound['spurious']} spurious; of their words,"
        f" {bound['missed_seen_in_corrections']} and {bound['spurious_seen_in_corrections']} were among the errors corrected"
        f" in the first 200 sentences: fixing all of those and nothing else would give micro F1 {bound['micro_f1']:.3f}"
        f" (rules {rules_only['micro_f1']:.3f})",
        flush=True,
    )
    kinds = tuple(args.kinds.split(","))
    for row, events in zip(base, labeller.label_texts([r["text"] for r in base])):
        row["rules"] = [e.to_dict() for e in events]
    config = TrainConfig(epochs=args.epochs, seed=args.seed, threads=2, rule_aware=not args.plain)
    model = TaggerModel.from_encoder(config=config)
    model.fit(base)
    trust = Trust(kinds=kinds)
    rng = random.Random(args.seed)
    rows = []

    def checkpoint(n: int) -> None:
        spans = snapped(held_texts, model.predict(held_texts, [rules[r["id"]] for r in held]))
        trusted = trust.trusted()
        both = figures(held_gold, [combine(rules[r["id"]], s, trusted, kinds) for r, s in zip(held, spans)])
        every = figures(held_gold, [combine(rules[r["id"]], s, trust.right.keys(), kinds) for r, s in zip(held, spans)])
        row = {"corrections": n, "rules": rules_only, "rules+tagger": both, "rules+tagger, every edit": every, "trust": trust.to_dict(), "train_seconds": round(model.seconds, 1)}
        rows.append(row)
        print(
            f"{n:>4} corrections | rules F1 {rules_only['micro_f1']:.3f} accepted {rules_only['accepted_unchanged']:.3f}"
            f" | rules+tagger F1 {both['micro_f1']:.3f} accepted {both['accepted_unchanged']:.3f} (trusted: {', '.join(sorted(trusted)) or 'none'})"
            f" | every edit F1 {every['micro_f1']:.3f} | training so far {model.seconds:.0f} s",
            flush=True,
        )

    checkpoint(0)
    revealed: list[dict] = []
    for k in range(0, len(stream), STEP):
        batch = stream[k : k + STEP]
        spans = snapped([r["text"] for r in batch], model.predict([r["text"] for r in batch], [rules[r["id"]] for r in batch]))
        for r, s in zip(batch, spans):
            trust.observe(rules[r["id"]], s, r["events"])
        revealed += [{"text": r["text"], "events": r["events"], "rules": rules[r["id"]]} for r in batch]
        model.fit(revealed + rng.sample(base, min(args.replay, len(base))), epochs=args.step_epochs)
        if k + STEP in CHECKPOINTS:
            checkpoint(k + STEP)

    # What `eventds label` runs, with and without the tagger as a configured function.
    texts = [r["text"] for r in pool]
    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp) / "tagger")
        trust.save(Path(tmp) / "tagger" / "trust.json")
        config = json.loads(CONFIG_PATH.read_text(encoding="utf-8"))
        for entry in config["functions"]:
            if entry["name"] == "tagger.v1":
                entry.update({"model": str(Path(tmp) / "tagger"), "enabled": True})
                entry.pop("types", None)
        (Path(tmp) / "weak_functions.json").write_text(json.dumps(config), encoding="utf-8")
        with_tagger = WeakLabeller(config=Path(tmp) / "weak_functions.json")
        next(with_tagger.label_texts(texts[:1]))  # the model loads on first use: not timed
        timings = {}
        for name, lab in (("rules", WeakLabeller()), ("rules+tagger", with_tagger)):
            started = time.perf_counter()
            for _ in lab.label_texts(texts):
                pass
            timings[name] = time.perf_counter() - started
    throughput = {
        "sentences": len(texts),
        "rules_per_second": round(len(texts) / timings["rules"]),
        "rules+tagger_per_second": round(len(texts) / timings["rules+tagger"]),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(
        f"WeakLabeller.label_texts (what `eventds label` runs) on the pool's {len(texts)} distinct sentences: rules {throughput['rules_per_second']}/s,"
        f" rules + tagger {throughput['rules+tagger_per_second']}/s; peak memory {throughput['peak_rss_mb']} MB"
    )
    if args.out:
        args.out.write_text(json.dumps({"curve": rows, "word_ceiling_at_200": bound, "throughput": throughput}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
