"""SIGKILL `eventds build` at random moments: the build folder must hold all the old outputs or
all the new ones, the dataset folder must exist throughout, and the next build must succeed
and leave nothing behind.

Each round restores a finished build of corpus A, starts a build of corpus B (one article
changed, one added) into the same folder and kills it:

- half the rounds at a moment drawn uniformly over the length of a whole build;
- half the moment the swap's journal appears (the commit), plus 0-4 ms, so that kills land
  while the outputs are being renamed into place, a window of milliseconds.

After each kill the folder is read as any later command reads it (after
``builder.swap.recover``) and compared with the finished A and B builds, file by file.

    python benchmarks/kill_build.py --kills 30          # prints the figures, exit 1 on any mix
"""

from __future__ import annotations

import argparse
import hashlib
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from builder import swap  # noqa: E402

ARTICLES = sorted((ROOT / "corpus").glob("*.txt"))


def snapshot(folder: Path) -> dict[str, str]:
    """Every file of a build folder outside the swap's transaction folders: path -> sha256."""
    files = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if p.is_file() and not rel.parts[0].startswith(swap.PREFIX):
            files[rel.as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return files


def make_corpora(tmp: Path) -> tuple[Path, Path]:
    a, b = tmp / "corpus-a", tmp / "corpus-b"
    a.mkdir()
    b.mkdir()
    shutil.copy(ARTICLES[2], a / "user-0.txt")
    shutil.copy(ARTICLES[3], a / "user-1.txt")
    shutil.copy(ARTICLES[2], b / "user-0.txt")
    lines = ARTICLES[3].read_text(encoding="utf-8").splitlines(keepends=True)
    (b / "user-1.txt").write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")  # changed
    shutil.copy(ARTICLES[4], b / "user-2.txt")  # added
    return a, b


def build_command(corpus: Path, out: Path, tmp: Path) -> list[str]:
    return [sys.executable, "-m", "builder", "build", "--corpus", str(corpus), "-o", str(out), "--annotations", str(tmp / "no-annotations")]


def run(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
    return time.perf_counter() - t


def journal_appeared(out: Path) -> bool:
    try:
        with os.scandir(out) as it:
            return any(e.name.startswith(swap.PREFIX) and os.path.exists(os.path.join(e.path, swap.JOURNAL)) for e in it)
    except FileNotFoundError:
        return False


def phase(out: Path, old: dict, new: dict) -> str:
    """Where the build was when killed, read from what it left."""
    txs = [p for p in out.glob(f"{swap.PREFIX}*")]
    if any((p / swap.JOURNAL).exists() for p in txs):
        return "committing (journal written)"
    if txs:
        return "staging (no journal yet)"
    state = snapshot(out)
    return "not started writing" if state == old else "finished" if state == new else "mixed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}

    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        corpus_a, corpus_b = make_corpora(tmp)
        pristine, out = tmp / "pristine", tmp / "out"
        run(build_command(corpus_a, pristine, tmp), env)
        old = snapshot(pristine)
        shutil.copytree(pristine, tmp / "expected-new")
        duration = run(build_command(corpus_b, tmp / "expected-new", tmp), env)
        new = snapshot(tmp / "expected-new")
        assert old != new

        phases: Counter = Counter()
        outcomes: Counter = Counter()
        failures: list[str] = []
        for i in range(args.kills):
            shutil.rmtree(out, ignore_errors=True)
            shutil.copytree(pristine, out)
            targeted = i % 2 == 1
            proc = subprocess.Popen(build_command(corpus_b, out, tmp), env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if targeted:
                deadline = time.monotonic() + 5 * duration
                while proc.poll() is None and not journal_appeared(out) and time.monotonic() < deadline:
                    pass
                time.sleep(rng.uniform(0, 0.004))
            else:
                time.sleep(rng.uniform(0, 1.05 * duration))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if not (out / "dataset" / "README.md").exists():
                failures.append(f"round {i}: the dataset folder was missing after the kill")
            phases[("at the commit: " if targeted else "at random: ") + phase(out, old, new)] += 1
            swap.recover(out)
            state = snapshot(out)
            outcome = "old" if state == old else "new" if state == new else "mixed"
            outcomes[outcome] += 1
            if outcome == "mixed":
                failures.append(f"round {i}: {sorted(k for k in set(old) | set(new) if state.get(k) not in (old.get(k), new.get(k)) or (k in state) != (k in old if state.get(k) == old.get(k) else k in new))}")
            if any(out.glob(f"{swap.PREFIX}*")):
                failures.append(f"round {i}: recover left a transaction folder")

        rerun = subprocess.run(build_command(corpus_b, out, tmp), env=env, cwd=ROOT, capture_output=True, text=True)
        clean = rerun.returncode == 0 and snapshot(out) == new and not [p.name for p in out.iterdir() if p.name.startswith(".")]
        if not clean:
            failures.append(f"the build after the last kill: exit {rerun.returncode}, leftovers {[p.name for p in out.iterdir() if p.name.startswith('.')]}")

    figures = {
        "kills": args.kills,
        "build_seconds": round(duration, 2),
        "phase_at_kill": dict(sorted(phases.items())),
        "after_recovery": {k: outcomes[k] for k in ("old", "new", "mixed")},
        "rerun_after_last_kill": "ok" if clean else "failed",
        "failures": failures,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"{args.kills} SIGKILLs of `eventds build` (a whole build takes {duration:.1f} s)")
        for name, n in figures["phase_at_kill"].items():
            print(f"  killed {name}: {n}")
        print(f"after recovery: old {outcomes['old']}, new {outcomes['new']}, mixed {outcomes['mixed']}")
        print(f"build after the last kill: {figures['rerun_after_last_kill']}; failures: {len(failures)}")
        for f in failures:
            print(f"  {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
