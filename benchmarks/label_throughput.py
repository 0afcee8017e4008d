"""Throughput of the weak labeller against spaCy's bare tokenizer on the same text, same run.

    python benchmarks/label_throughput.py [--sentences 20000] [--repeats 3] [--stages] [--cold]

Prints sentences per second for the bare ``spacy.blank("en")`` tokenizer and for
``WeakLabeller.label_texts`` (what ``eventds label`` runs), the ratio, and peak memory.
The target: the labeller keeps at least half the tokenizer's throughput. ``--stages``
adds where the labeller's time goes, in microseconds per sentence.

The main figure cycles the available sentences (the corpus and the held-out set) up to
``--sentences``: after the first cycle both tokenizers find every space-delimited chunk in
their caches, the regime most favourable to spaCy (whose cache misses cost most). ``--cold``
adds the opposite regime: every distinct sentence of the corpus and of all held-out sets
once, with a fresh ``spacy.blank("en")`` and an emptied chunk cache in each repeat, so that
every word is new to both. A long real news stream lies between the two, nearer the first
as its vocabulary saturates; the first is the figure the target is checked against.
"""

from __future__ import annotations

import argparse
from collections import deque
import itertools
import json
import resource
import time
from pathlib import Path

import spacy

from builder.weak import WeakLabeller

ROOT = Path(__file__).resolve().parents[1]


def corpus_sentences() -> list[str]:
    texts = [json.loads(l)["text"] for l in (ROOT / "tests" / "data" / "heldout.jsonl").read_text(encoding="utf-8").splitlines()]
    records = ROOT / "build" / "records.jsonl"
    if records.exists():
        texts += [json.loads(l)["text"] for l in records.read_text(encoding="utf-8").splitlines()]
    return texts


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stages", action="store_true", help="also time each stage of the labeller")
    parser.add_argument("--cold", action="store_true", help="also time both on distinct sentences with fresh caches (every word new)")
    args = parser.parse_args()
    base = corpus_sentences()
    texts = list(itertools.islice(itertools.cycle(base), args.sentences))
    chars = sum(map(len, texts))

    tokenizer = spacy.blank("en")
    labeller = WeakLabeller()
    list(labeller.label_texts(texts[:200]))  # warm up lookups and matchers

    # Both consume their output without keeping it (keeping 10,000 Docs alive would slow the
    # tokenizer down with allocation and make the ratio look better than it is).
    t_tok = best_of(args.repeats, lambda: deque(map(tokenizer.make_doc, texts), maxlen=0))
    t_lab = best_of(args.repeats, lambda: deque(labeller.label_texts(texts), maxlen=0))
    tok_rate, lab_rate = len(texts) / t_tok, len(texts) / t_lab
    print(f"sentences: {len(texts)} ({chars:,} characters), best of {args.repeats}")
    print(f"spaCy bare tokenizer : {tok_rate:10,.0f} sentences/s")
    print(f"eventds label        : {lab_rate:10,.0f} sentences/s")
    print(f"ratio label/tokenizer: {lab_rate / tok_rate:.2f} (target >= 0.50)")
    print(f"peak RSS             : {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if args.stages:
        stages(labeller, tokenizer, texts, args.repeats)
    if args.cold:
        cold(labeller, args.repeats)


def cold(labeller: WeakLabeller, repeats: int) -> None:
    """Throughput when every word is new: each distinct sentence once, fresh caches on both sides."""
    from builder import tokens

    data = ROOT / "tests" / "data"
    texts = corpus_sentences() + [json.loads(l)["text"] for f in sorted(data.glob("heldout_*.jsonl")) for l in f.read_text(encoding="utf-8").splitlines()]
    texts = list(dict.fromkeys(texts))
    t_tok, t_lab = [], []
    for _ in range(repeats):
        tokenizer = spacy.blank("en").tokenizer  # a new vocabulary and an empty cache
        t0 = time.perf_counter()
        deque(map(tokenizer, texts), maxlen=0)
        t_tok.append(time.perf_counter() - t0)
        tokens._CHUNKS.clear()
        t0 = time.perf_counter()
        deque(labeller.label_texts(texts), maxlen=0)
        t_lab.append(time.perf_counter() - t0)
    tok_rate, lab_rate = len(texts) / min(t_tok), len(texts) / min(t_lab)
    print(f"cold (each of {len(texts)} distinct sentences once, fresh caches), best of {repeats}:")
    print(f"  spaCy bare tokenizer : {tok_rate:10,.0f} sentences/s")
    print(f"  eventds label        : {lab_rate:10,.0f} sentences/s")
    print(f"  ratio label/tokenizer: {lab_rate / tok_rate:.2f}")


def stages(labeller: WeakLabeller, tokenizer, texts: list[str], repeats: int) -> None:
    """Microseconds per sentence of each stage, each timed over all texts."""
    from builder.weak import aggregate, enrich

    docs = labeller.annotate_batch([labeller.make_doc(t) for t in texts])
    settings = labeller.aggregator.settings
    candidates = [aggregate(d, labeller.functions, settings) for d in docs]
    per = 1e6 / len(texts)
    print("stage (microseconds per sentence):")
    rows = [("spaCy bare tokenizer", lambda: deque(map(tokenizer.make_doc, texts), maxlen=0)), ("tokenize (builder.tokens)", lambda: deque(map(labeller.make_doc, texts), maxlen=0))]
    for name, fn in labeller.functions.items():
        anchors = getattr(fn, "anchors", None)
        rows.append((f"  {name}", lambda fn=fn, anchors=anchors: [fn(d) for d in docs if anchors is None or not anchors.isdisjoint(d.wordset)]))
    rows += [
        ("aggregate", lambda: [aggregate(d, labeller.functions, settings) for d in docs]),
        ("enrich (realis, arguments, counts)", lambda: [enrich(d, c) for d, c in zip(docs, candidates)]),
    ]
    for name, fn in rows:
        print(f"  {name:34s}{best_of(repeats, fn) * per:7.1f}")
    print(f"  sentences with events: {sum(map(bool, candidates)) / len(texts):.0%}")


if __name__ == "__main__":
    main()
