"""The ML backend's loop, simulated end to end: corrections in by webhook, retraining, predictions out.

    python benchmarks/backend_loop.py [--pool tests/data/learning] [--seed 0] [--out FILE]

The pool is news written and annotated blind from the guidelines (``tests/data/learning``),
that no rule or model was fitted on, split by document as ``learning_curve.py`` splits it: a
correction stream (the first ``--stream`` sentences) and a fixed evaluation part. The stream
is revealed 25 sentences at a time to a real :class:`builder.studio.backend.Backend`, each
sentence as the ``ANNOTATION_CREATED`` webhook Label Studio sends (the gold events as the
annotation's regions); after each batch the backend retrains (the corrections memory,
``corrections.v1``). At 0, 50, 100, 200 and 400 corrections, the evaluation part is
predicted through ``/predict`` over HTTP and the regions read back as a pull reads them:
micro overlap F1 and the share of sentences an annotator would accept unchanged, rules alone
against the backend. Then the costs: training time, and ``/predict`` throughput (batches of
100 distinct sentences, over HTTP on 127.0.0.1) beside the labeller in process (the rules, what
``eventds label`` runs), with peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from learning_curve import CHECKPOINTS, STEP, figures, split_pool  # noqa: E402

from builder.io import read_jsonl  # noqa: E402
from builder.records import Event  # noqa: E402
from builder.studio.backend import Backend  # noqa: E402
from builder.studio.credentials import load_secret  # noqa: E402
from builder.studio.interface import LabelSet  # noqa: E402
from builder.studio.results import events_from_results  # noqa: E402
from builder.studio.server import free_port  # noqa: E402
from builder.studio.serving import BackendServer  # noqa: E402
from builder.studio.tasks import event_results  # noqa: E402
from builder.weak import WeakLabeller  # noqa: E402


def gold_events(row: dict) -> list[Event]:
    return [Event(type=e["type"], start=e["start"], end=e["end"], text=e["text"]) for e in row["events"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, default=ROOT / "tests" / "data" / "learning")
    parser.add_argument("--stream", type=int, default=max(CHECKPOINTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()

    pool = [r for f in sorted(args.pool.glob("*.jsonl")) for _, r in read_jsonl(f)]
    stream, held = split_pool(pool, args.stream, args.seed)
    print(f"pool {len(pool)} sentences ({len({r['doc'] for r in pool})} documents): stream {len(stream)}, evaluation {len(held)}", flush=True)
    labels = LabelSet.current()
    held_tasks = [{"id": 100000 + i, "data": {"text": r["text"], "sentence_id": r["id"]}} for i, r in enumerate(held)]
    held_gold = [r["events"] for r in held]
    rules = WeakLabeller()
    rules_only = figures(held_gold, [[e.to_dict() for e in ev] for ev in rules.label_texts([r["text"] for r in held])])

    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "workspace"
        backend = Backend(workspace, debounce=3600)  # trained by hand below, after each batch
        server = BackendServer(backend, load_secret(workspace), port=free_port())
        server.start()
        auth = {"Authorization": server.secret.header()}
        http = httpx.Client(base_url=server.url, timeout=600)
        rows, train_seconds = [], []

        def predicted() -> list[list[dict]]:
            body = http.post("/predict", json={"tasks": held_tasks}).json()
            out = []
            for t, p in zip(held_tasks, body["results"]):
                events, problems = events_from_results(p["result"], t["data"]["text"], labels, f"task {t['id']}")
                assert not problems, problems
                out.append([e.to_dict() for e in events])
            return out

        def checkpoint(n: int) -> None:
            mine = figures(held_gold, predicted())
            rows.append({"corrections": n, "rules": rules_only, "backend": mine, "model_version": backend.model_version})
            print(
                f"{n:>4} corrections | rules F1 {rules_only['micro_f1']:.3f} accepted {rules_only['accepted_unchanged']:.3f}"
                f" | backend ({backend.model_version}) F1 {mine['micro_f1']:.3f} accepted {mine['accepted_unchanged']:.3f}"
                f" P {mine['precision']:.3f} R {mine['recall']:.3f}",
                flush=True,
            )

        checkpoint(0)
        for k in range(0, len(stream), STEP):
            for i, r in enumerate(stream[k : k + STEP], start=k):
                payload = {
                    "action": "ANNOTATION_CREATED",
                    "project": {"id": 1},
                    "task": {"id": i + 1, "data": {"text": r["text"], "sentence_id": r["id"]}},
                    "annotation": {"id": i + 1, "completed_by": 1, "result": event_results(gold_events(r), r["text"])},
                }
                answer = http.post("/webhook", json=payload, headers=auth)
                assert answer.status_code == 200, answer.text
            started = time.perf_counter()
            backend.train()
            train_seconds.append(time.perf_counter() - started)
            if k + STEP in CHECKPOINTS:
                checkpoint(k + STEP)

        memory = json.loads((workspace / "backend" / "model" / "corrections.json").read_text(encoding="utf-8"))
        print(f"learned from {memory['sentences']} corrected sentences: {len(memory['votes'])} words voted, {len(memory['vetoes'])} vetoed")

        # Costs: /predict over HTTP against the rules in process, on the pool's distinct sentences.
        texts = [r["text"] for r in pool]
        tasks = [{"id": i, "data": {"text": t}} for i, t in enumerate(texts)]
        started = time.perf_counter()
        for _ in rules.label_texts(texts):
            pass
        in_process = time.perf_counter() - started
        started = time.perf_counter()
        for k in range(0, len(tasks), 100):
            assert http.post("/predict", json={"tasks": tasks[k : k + 100]}).status_code == 200
        over_http = time.perf_counter() - started
        http.close()
        server.close()

    costs = {
        "sentences": len(texts),
        "train_seconds_median": round(sorted(train_seconds)[len(train_seconds) // 2], 3),
        "train_seconds_last": round(train_seconds[-1], 3),
        "labeller_in_process_per_second": round(len(texts) / in_process),
        "predict_over_http_per_second": round(len(texts) / over_http),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(
        f"training (rules on the corrected sentences + the memory): median {costs['train_seconds_median']} s a batch,"
        f" {costs['train_seconds_last']} s on all {len(stream)}; /predict over HTTP {costs['predict_over_http_per_second']} sentences/s"
        f" (batches of 100) against the rules in process {costs['labeller_in_process_per_second']}/s; peak memory {costs['peak_rss_mb']} MB"
    )
    if args.out:
        args.out.write_text(json.dumps({"curve": rows, "costs": costs}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
