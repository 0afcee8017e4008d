"""Memory of `eventds annotate push` on the client side: streaming versus holding the file.

    python benchmarks/push_memory.py [--copies 100]

Writes a records file of ``--copies`` renamed copies of ``build/records.jsonl`` (run
``make dataset`` first) and prints the peak memory (tracemalloc) and time of the passes
``push`` makes over it (checking every record, planning the priority order and neighbours,
then building each task as it is sent, in that order), beside what holding every sentence
and task at once (the push before streaming) needed. No
Label Studio server is involved: what the server stores is not the client's memory.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import tracemalloc
from collections import deque
from pathlib import Path

from builder.studio.interface import LabelSet
from builder.studio.priority import Prioritizer
from builder.studio.push import check_sentences, plan_push, read_planned, read_sentences

ROOT = Path(__file__).resolve().parents[1]


def measure(fn) -> tuple[float, float]:
    """(peak MiB, seconds); the time is taken without tracemalloc, which slows Python down."""
    t0 = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100)
    args = parser.parse_args()
    source = ROOT / "build" / "records.jsonl"
    if not source.exists():
        raise SystemExit(f"{source}: missing; run `make dataset` first")
    records = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
    labels = LabelSet.current()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for k in range(args.copies):
                for r in records:
                    f.write(json.dumps({**r, "id": f"{r['id']}-{k}"}, ensure_ascii=False) + "\n")
        n = len(records) * args.copies
        print(f"records: {n:,} ({path.stat().st_size / 2**20:.1f} MiB)")
        plan = plan_push(path, Prioritizer())
        rows = [
            ("check pass (ids and versions kept)", lambda: check_sentences(path, labels)),
            ("plan pass (offsets, neighbours, priority)", lambda: plan_push(path, Prioritizer())),
            ("send pass (one record at a time, in order)", lambda: deque(read_planned(path, plan, labels), maxlen=0)),
            ("every sentence and task held at once", lambda: list(read_sentences(path, labels))),
        ]
        for name, fn in rows:
            peak, seconds = measure(fn)
            print(f"  {name:44s} peak {peak:7.1f} MiB  {seconds:5.2f} s")


if __name__ == "__main__":
    main()
