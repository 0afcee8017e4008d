"""A dataset repository runs `eventds validate` as a pre-commit hook from this repository."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_validate import mutate, record

ROOT = Path(__file__).resolve().parents[1]


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.slow
def test_hook_passes_a_valid_file_and_rejects_an_invalid_one(tmp_path):
    pre_commit = Path(sys.executable).parent / "pre-commit"
    assert pre_commit.exists(), "pre-commit is not installed: pip install -e '.[test]'"
    repo = tmp_path / "dataset-repo"
    (repo / "data").mkdir(parents=True)
    (repo / "data" / "good.jsonl").write_text(json.dumps(record()) + "\n", encoding="utf-8")
    (repo / "data" / "bad.jsonl").write_text(json.dumps(mutate(["events", 0, "type"], "ATACK")) + "\n", encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}

    def run(path):
        return subprocess.run(
            [str(pre_commit), "try-repo", str(ROOT), "eventds-validate", "--files", path, "--verbose"],
            cwd=repo, env=env, capture_output=True, text=True, timeout=900,
        )

    good = run("data/good.jsonl")
    assert good.returncode == 0, good.stdout + good.stderr
    bad = run("data/bad.jsonl")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "data/bad.jsonl:1: [record 1 -> events -> 0 -> type] 'ATACK' is not one of" in bad.stdout
