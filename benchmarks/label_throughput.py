"""Throughput of the weak labeller against spaCy's bare tokenizer on the same text, same run.

    python benchmarks/label_throughput.py [--sentences 20000] [--repeats 3]

Prints sentences per second for the bare ``spacy.blank("en")`` tokenizer and for
``WeakLabeller.label_texts`` (what ``eventds label`` runs), the ratio, and peak memory.
The target: the labeller keeps at least half the tokenizer's throughput.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import time
from pathlib import Path

import spacy

from builder.label import WeakLabeller

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
    args = parser.parse_args()
    base = corpus_sentences()
    texts = list(itertools.islice(itertools.cycle(base), args.sentences))
    chars = sum(map(len, texts))

    tokenizer = spacy.blank("en")
    labeller = WeakLabeller()
    list(labeller.label_texts(texts[:200]))  # warm up lookups and matchers

    t_tok = best_of(args.repeats, lambda: [tokenizer.make_doc(t) for t in texts])
    t_lab = best_of(args.repeats, lambda: sum(1 for _ in labeller.label_texts(texts)))
    tok_rate, lab_rate = len(texts) / t_tok, len(texts) / t_lab
    print(f"sentences: {len(texts)} ({chars:,} characters), best of {args.repeats}")
    print(f"spaCy bare tokenizer : {tok_rate:10,.0f} sentences/s")
    print(f"eventds label        : {lab_rate:10,.0f} sentences/s")
    print(f"ratio label/tokenizer: {lab_rate / tok_rate:.2f} (target >= 0.50)")
    print(f"peak RSS             : {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
