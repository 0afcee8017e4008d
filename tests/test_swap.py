"""Replacing a set of files and folders as one step (builder/swap.py), also under SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from builder.swap import PREFIX, FolderBusy, reading, recover, replace_together

ROOT = Path(__file__).resolve().parents[1]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes), transaction folders included."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def make_old(folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "records.jsonl").write_text("old records\n")
    (folder / "report").mkdir()
    (folder / "report" / "quality.json").write_text("old report\n")
    (folder / "gone.jsonl").write_text("old only\n")
    (folder / "untouched.txt").write_text("not part of the set\n")
    return snapshot(folder)


def stage_new(staging: Path) -> None:
    (staging / "records.jsonl").write_text("new records\n")
    (staging / "report").mkdir()
    (staging / "report" / "quality.json").write_text("new report\n")
    (staging / "report" / "extra.json").write_text("new report file\n")
    (staging / "added.jsonl").write_text("new only\n")


NEW = {
    "records.jsonl": b"new records\n",
    "report/quality.json": b"new report\n",
    "report/extra.json": b"new report file\n",
    "added.jsonl": b"new only\n",
    "untouched.txt": b"not part of the set\n",
}


def test_files_and_folders_are_replaced_together_and_the_old_ones_kept(tmp_path: Path):
    folder = tmp_path / "build"
    old = make_old(folder)
    with replace_together(folder, remove=["gone.jsonl"], keep=".previous/1") as staging:
        assert staging.parent.parent == folder and staging.parent.name.startswith(PREFIX)
        stage_new(staging)
        assert snapshot(folder).keys() >= old.keys()  # nothing moves before the block ends
        assert (folder / "records.jsonl").read_text() == "old records\n"
    after = snapshot(folder)
    kept = {k[len(".previous/1/"):]: v for k, v in after.items() if k.startswith(".previous/1/")}
    assert {k: v for k, v in after.items() if not k.startswith(".previous/")} == NEW
    assert kept == {k: v for k, v in old.items() if k != "untouched.txt"}
    assert not list(folder.glob(f"{PREFIX}*"))


def test_an_error_in_the_block_changes_nothing_and_leaves_nothing(tmp_path: Path):
    folder = tmp_path / "build"
    old = make_old(folder)
    with pytest.raises(RuntimeError, match="stage failed"):
        with replace_together(folder, remove=["gone.jsonl"], keep=".previous/1") as staging:
            stage_new(staging)
            raise RuntimeError("stage failed")
    assert snapshot(folder) == old


def test_nothing_staged_commits_nothing(tmp_path: Path):
    folder = tmp_path / "build"
    old = make_old(folder)
    with replace_together(folder, remove=["not-there.jsonl"], keep=".previous/1"):
        pass
    assert snapshot(folder) == old and not (folder / ".previous").exists()


def test_without_keep_the_old_entries_are_deleted(tmp_path: Path):
    folder = tmp_path / "build"
    make_old(folder)
    with replace_together(folder, remove=["gone.jsonl"]) as staging:
        stage_new(staging)
    assert snapshot(folder) == NEW


@pytest.mark.parametrize("name", ["", ".swap-x", "a/b", ".."])
def test_names_that_are_not_plain_entries_are_refused(tmp_path: Path, name: str):
    with pytest.raises(ValueError, match="not a plain entry name"):
        with replace_together(tmp_path, remove=[name]):
            pass


def test_a_second_writer_is_refused_and_recover_leaves_a_live_writer_alone(tmp_path: Path):
    folder = tmp_path / "build"
    old = make_old(folder)
    with replace_together(folder) as staging:
        stage_new(staging)
        with pytest.raises(FolderBusy, match="another process is writing"):
            with replace_together(folder):
                pass
        found = recover(folder)
        assert found.busy and not found
        assert staging.exists()
    assert snapshot(folder) == {**NEW, "gone.jsonl": old["gone.jsonl"]}


def test_reading_recovers_first(tmp_path: Path):
    folder = tmp_path / "build"
    make_old(folder)
    leftover = folder / f"{PREFIX}dead" / "new"
    leftover.mkdir(parents=True)
    (leftover / "records.jsonl").write_text("half-staged\n")
    with reading(folder):
        assert not list(folder.glob(f"{PREFIX}*"))
        assert (folder / "records.jsonl").read_text() == "old records\n"


# ---------------------------------------------------------------------------------------
# Killed while committing

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from builder import swap

    folder, kill_at, files = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    calls = 0

    def counting(step):
        def counted(a, b):
            global calls
            calls += 1
            if calls == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return step(a, b)
        return counted

    swap.os.rename = counting(os.rename)
    swap._exchange = counting(swap._exchange)
    with swap.replace_together(folder, remove=["gone.jsonl"], keep=".previous/1") as staging:
        (staging / "records.jsonl").write_text("new records\\n")
        (staging / "report").mkdir()
        (staging / "report" / "quality.json").write_text("new report\\n")
        (staging / "report" / "extra.json").write_text("new report file\\n")
        (staging / "added.jsonl").write_text("new only\\n")
        for i in range(files):  # more entries, so that random kills land between renames
            (staging / f"part-{i:03d}.jsonl").write_text(f"new {i}")
        print("staged", flush=True)
    print("renames", calls, flush=True)
    """
)


def child(tmp_path: Path) -> Path:
    path = tmp_path / "commit_child.py"
    path.write_text(CHILD)
    return path


def visible(folder: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(folder).items() if not k.startswith(".previous/")}


def make_dir(folder: Path, files: int = 0) -> Path:
    make_old(folder)
    for i in range(files):
        (folder / f"part-{i:03d}.jsonl").write_text(f"old {i}")
    return folder


def new_state(files: int) -> dict[str, bytes]:
    return {**NEW, **{f"part-{i:03d}.jsonl": f"new {i}".encode() for i in range(files)}}


def child_command(script: Path, folder: Path, kill_at: int = 0, files: int = 0) -> list[str]:
    return [sys.executable, str(script), str(folder), str(kill_at), str(files)]


CHILD_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def test_a_kill_at_every_rename_leaves_old_or_new_after_recover(tmp_path: Path):
    """Deterministic: the child kills itself at its k-th rename or exchange, for every k of a
    commit; a replaced entry is never missing, even before recovery."""
    script = child(tmp_path)
    total = subprocess.run(child_command(script, make_dir(tmp_path / "probe")), capture_output=True, text=True, env=CHILD_ENV, timeout=60)
    renames = int(total.stdout.split("renames")[1])
    assert renames >= 8  # journal + 2 per replaced entry + removal + keep
    outcomes = []
    for k in range(1, renames + 1):
        folder = make_dir(tmp_path / f"k{k}")
        old = snapshot(folder)
        done = subprocess.run(child_command(script, folder, k), capture_output=True, text=True, env=CHILD_ENV, timeout=60)
        assert done.returncode == -signal.SIGKILL, done.stderr
        assert (folder / "records.jsonl").is_file() and (folder / "report" / "quality.json").is_file(), k
        found = recover(folder)
        assert not list(folder.glob(f"{PREFIX}*"))
        now = visible(folder)
        if now == old:
            outcomes.append("old")
            assert found.rolled_back and k == 1  # only a kill before the journal's rename rolls back
        else:
            assert now == NEW, k
            outcomes.append("new")
            kept = {key[len(".previous/1/"):]: v for key, v in snapshot(folder).items() if key.startswith(".previous/1/")}
            assert kept == {key: v for key, v in old.items() if key != "untouched.txt"}
    assert outcomes == ["old"] + ["new"] * (renames - 1)


def test_random_kills_while_committing_leave_old_or_new(tmp_path: Path):
    """SIGKILL at a random moment after staging, 40 times; recover() must give old or new."""
    files = 150
    script = child(tmp_path)
    rng = random.Random(14)

    def start(folder: Path) -> tuple[subprocess.Popen, float]:
        proc = subprocess.Popen(child_command(script, folder, 0, files), stdout=subprocess.PIPE, text=True, env=CHILD_ENV)
        assert proc.stdout.readline().strip() == "staged"
        return proc, time.monotonic()

    # How long a whole commit takes here, to spread the kills over it.
    folder = make_dir(tmp_path / "timing", files)
    proc, t0 = start(folder)
    proc.wait(30)
    commit_seconds = time.monotonic() - t0

    counts = {"old": 0, "new": 0, "rolled forward": 0}
    for n in range(40):
        folder = make_dir(tmp_path / f"run{n}", files)
        old = snapshot(folder)
        proc, _ = start(folder)
        time.sleep(rng.uniform(0, commit_seconds * 1.1))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        found = recover(folder)
        assert not list(folder.glob(f"{PREFIX}*"))
        now = visible(folder)
        if now == old:
            counts["old"] += 1
        else:
            assert now == new_state(files), f"run {n}: neither old nor new"
            counts["new"] += 1
            counts["rolled forward"] += bool(found.rolled_forward)
        # The folder works again: a new commit goes through and leaves nothing behind.
        with replace_together(folder) as staging:
            (staging / "records.jsonl").write_text("after\n")
        assert (folder / "records.jsonl").read_text() == "after\n" and not list(folder.glob(f"{PREFIX}*"))
    print(f"\n40 kills during a commit of {files + 5} entries ({commit_seconds * 1000:.0f} ms): {counts}")
    assert counts["old"] + counts["new"] == 40
