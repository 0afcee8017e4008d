"""SIGKILL `eventds annotate pull` at random moments and check the human layer is all old or all new.

Starts its own Label Studio (first start about 30 s), pushes N sentences, annotates them,
pulls once (the *old* layer), changes every annotation and adds an annotator, and pulls
into a copy (the *new* layer: all four files differ). Then, K times: copy the old layer,
start `eventds annotate pull`, kill it with SIGKILL after a random delay, run
`builder.swap.recover`, check that export.json, human.jsonl, annotators.jsonl and
pseudonyms.json are all old or all new, pull again and check the result is the new layer
with no leftovers.

    python benchmarks/kill_pull.py --kills 50 --sentences 60

A third of the delays are drawn over the whole run of a pull, a third over its last 20 %,
where the files are written and swapped; the last third kill the pull the moment its commit
journal appears, while the files are being swapped. `tests/test_pull_merge.py` runs the same loop
against the test server.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from builder import swap  # noqa: E402
from builder.records import DocumentMeta, Event, Sentence  # noqa: E402
from builder.studio.client import StudioClient  # noqa: E402
from builder.studio.pull import ANNOTATORS_FILE, EXPORT_FILE, HUMAN_FILE  # noqa: E402
from builder.studio.push import push  # noqa: E402

FILES = (EXPORT_FILE, HUMAN_FILE, ANNOTATORS_FILE, "pseudonyms.json")


def sentences(n: int) -> list[Sentence]:
    out = []
    for i in range(n):
        t = f"Report {i} 🚀: militants shelled the 中文 town\u00a0“Alpha-{i}” and fired rockets."
        events = (
            Event("ATTACK", t.index("shelled"), t.index("shelled") + 7, "shelled", 0.6, ("test_lf.v1",)),
            Event("ATTACK", t.index("fired"), t.index("fired") + 5, "fired", 0.7, ("test_lf.v1",)),
        )
        out.append(Sentence(
            id=f"doc{i}-k", doc_id=f"doc{i}", index=0, text=t, start=0, end=len(t), raw_start=0, raw_end=len(t),
            meta=DocumentMeta(outlet="Test Wire", title="Test article", published="2024-05-01"),
            events=events, weak_events=events, status="weak", guidelines_version="1.0.0", labeller="eventds-weak/weak_rules.v1",
        ))
    return out


def files(folder: Path) -> dict[str, Optional[bytes]]:
    return {name: (folder / name).read_bytes() if (folder / name).exists() else None for name in FILES}


def pull_command(out: Path) -> list[str]:
    return [sys.executable, "-m", "builder", "annotate", "pull", "--out", str(out)]


def pull_env(url: str, key: str) -> dict[str, str]:
    return {**os.environ, "LABEL_STUDIO_URL": url, "LABEL_STUDIO_API_KEY": key, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}


def prepare(client: StudioClient, key: str, work: Path, n: int) -> tuple[Path, dict, dict]:
    """Push ``n`` sentences, annotate, pull the old layer; change every annotation, pull the new one.

    Returns:
        ``(old_folder, old_files, new_files)``.
    """
    records = work / "records.jsonl"
    records.write_text("".join(json.dumps(s.to_dict(), ensure_ascii=False) + "\n" for s in sentences(n)), encoding="utf-8")
    push(client, records)
    project = client.find_project("eventds")
    tasks = client.tasks(project["id"])
    preds = {p["task"]: p["result"] for p in client.predictions(project["id"])}
    for t in tasks:
        client.post(f"/api/tasks/{t['id']}/annotations/", {"result": preds[t["id"]]})
    old = work / "old"
    env = pull_env(client.url, key)
    subprocess.run(pull_command(old), env=env, check=True, capture_output=True, cwd=work)
    # A second annotator drops the second event everywhere: every file of the layer changes.
    second = client.post("/api/users/", {"email": "second@example.org", "username": "second"})
    for t in tasks:
        kept = [r for r in preds[t["id"]] if r.get("id") != "e1"]
        client.post(f"/api/tasks/{t['id']}/annotations/", {"result": kept, "completed_by": second["id"]})
    new = work / "new"
    shutil.copytree(old, new)
    subprocess.run(pull_command(new), env=env, check=True, capture_output=True, cwd=work)
    old_files, new_files = files(old), files(new)
    assert all(old_files[f] != new_files[f] for f in FILES), "every file must change"
    return old, old_files, new_files


def kill_pulls(url: str, key: str, work: Path, old: Path, old_files: dict, new_files: dict, kills: int, seed: int = 14) -> dict:
    """SIGKILL a pull ``kills`` times; after each, recover, check old-or-new, re-run, check new and clean.

    Returns:
        Counts: ``old``, ``new``, ``rolled forward``, ``rolled back``, and the seconds of a whole pull.

    Raises:
        AssertionError: a state that is neither old nor new, a failed re-run, or leftovers.
    """
    env = pull_env(url, key)
    rng = random.Random(seed)
    out = work / "kill"
    t0 = time.monotonic()
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(old, out)
    subprocess.run(pull_command(out), env=env, check=True, capture_output=True, cwd=work)
    whole = time.monotonic() - t0
    counts: Counter = Counter()
    for n in range(kills):
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(old, out)
        proc = subprocess.Popen(pull_command(out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
        if n % 3 == 2:  # the moment the journal appears: the kill lands while the files are swapped
            delay = -1.0
            while proc.poll() is None and not any(out.glob(f"{swap.PREFIX}*/{swap.JOURNAL}")):
                pass
        else:
            delay = rng.uniform(0, whole * 1.05) if n % 3 == 0 else rng.uniform(whole * 0.8, whole * 1.05)
            time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        counts["finished before the kill"] += proc.returncode == 0
        found = swap.recover(out)
        counts["rolled forward"] += bool(found.rolled_forward)
        counts["rolled back"] += bool(found.rolled_back)
        now = files(out)
        if now == old_files:
            counts["old"] += 1
        elif now == new_files:
            counts["new"] += 1
        else:
            mixed = [f for f in FILES if now[f] != old_files[f]]
            when = "at the journal" if delay < 0 else f"after {delay:.3f} s"
            raise AssertionError(f"kill {n} {when}: neither old nor new (changed: {mixed})")
        done = subprocess.run(pull_command(out), env=env, capture_output=True, text=True, cwd=work)
        assert done.returncode == 0, done.stderr
        assert files(out) == new_files, f"kill {n}: the re-run did not give the new layer"
        leftovers = list(out.glob(f"{swap.PREFIX}*")) + list(out.glob(".*.tmp"))
        assert not leftovers, f"kill {n}: leftovers {leftovers}"
    return {**counts, "seconds per pull": round(whole, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--sentences", type=int, default=60)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    from builder.studio.server import free_port, start_server

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with start_server(work / "workspace", free_port()) as server:
            client = StudioClient(server.url, server.credentials.token)
            old, old_files, new_files = prepare(client, server.credentials.token, work, args.sentences)
            t0 = time.monotonic()
            counts = kill_pulls(server.url, server.credentials.token, work, old, old_files, new_files, args.kills, args.seed)
    print(f"{args.kills} SIGKILLs of `eventds annotate pull` ({args.sentences} sentences, {time.monotonic() - t0:.0f} s):")
    for k, v in counts.items():
        print(f"  {k}: {v}")
    print("every kill left the human layer all old or all new; every re-run gave the new layer and no leftovers")


if __name__ == "__main__":
    main()
