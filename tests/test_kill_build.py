"""SIGKILL during `eventds build`, 30 times: old or new every time, and the next build cleans up."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_killed_builds_leave_old_or_new_and_the_next_build_cleans_up():
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "kill_build.py"), "--kills", "30", "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=1200,
    )
    figures = json.loads(run.stdout)
    assert figures["failures"] == [], figures
    assert run.returncode == 0, run.stderr
    assert figures["after_recovery"]["mixed"] == 0 and sum(figures["after_recovery"].values()) == 30
    assert figures["rerun_after_last_kill"] == "ok"
    # The kills reached the outputs being renamed into place, not only before or after it.
    assert figures["phase_at_kill"].get("at the commit: committing (journal written)", 0) >= 5, figures["phase_at_kill"]
