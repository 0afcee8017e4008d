"""What a build writes, and where: only inside its output folder, all of it or none of it,
and nothing that misstates the records it describes."""

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builder.cli import app

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
EMBEDDED_FILES = sorted(CORPUS.glob("*.txt"))


def user_corpus(folder: Path, n: int = 2) -> Path:
    """A corpus of ``n`` real articles under ids of the user's own (no human layer matches them)."""
    folder.mkdir(parents=True)
    for i, src in enumerate(EMBEDDED_FILES[:n]):
        shutil.copy(src, folder / f"user-{i}.txt")
    return folder


def build(*args: str):
    return CliRunner().invoke(app, ["build", *args])


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path -> sha256)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_build_writes_nothing_outside_its_output_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    user_corpus(tmp_path / "corpus")
    (tmp_path / "splits").mkdir()
    (tmp_path / "splits" / "manifest.json").write_text('{"kept": "as it was"}\n', encoding="utf-8")
    before = tree(tmp_path)
    result = build("--corpus", "corpus", "-o", "out")
    assert result.exit_code == 0, result.output
    after = {k: v for k, v in tree(tmp_path).items() if not k.startswith("out/")}
    assert after == before
    assert {"records.jsonl", "removals.jsonl", "duplicates.jsonl", "manifest.json", "report/quality.json", "dataset/README.md"} <= set(tree(tmp_path / "out"))


@pytest.mark.slow
def test_a_named_manifest_is_kept_and_updated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    user_corpus(tmp_path / "corpus")
    result = build("--corpus", "corpus", "-o", "out", "-m", "mine.json")
    assert result.exit_code == 0, result.output
    mine = json.loads((tmp_path / "mine.json").read_text(encoding="utf-8"))
    assert set(mine["documents"]) == {"user-0", "user-1"}
    assert mine == json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_card_of_a_corpus_without_human_layer_says_so(tmp_path, monkeypatch):
    """Built beside the project's own annotations, whose sentences are not in this corpus."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "annotations", tmp_path / "annotations")
    user_corpus(tmp_path / "corpus")
    result = build("--corpus", "corpus", "-o", "out")
    assert result.exit_code == 0, result.output
    card = (tmp_path / "out" / "dataset" / "README.md").read_text(encoding="utf-8")
    assert "## No human layer" in card and "weak labels only" in card
    assert "AI annotators" not in card and "Inter-annotator agreement" not in card and "Weak-label quality" not in card
    output = " ".join(result.output.split())
    assert "warning: no human layer: no sentence matches an annotation (annotations/human.jsonl)" in output
    assert "warning: 147 human annotations in annotations match no sentence of this corpus" in output
    quality = json.loads((tmp_path / "out" / "report" / "quality.json").read_text(encoding="utf-8"))
    assert quality["human_sentences"] == 0


@pytest.mark.slow
def test_embedded_corpus_built_from_another_directory_keeps_its_human_layer(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = build("-o", "out")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "out" / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 147 and all(r["status"] in ("corrected", "adjudicated") for r in rows)
    assert not (tmp_path / "splits").exists()
    card = (tmp_path / "out" / "dataset" / "README.md").read_text(encoding="utf-8")
    statuses = {s: sum(r["status"] == s for r in rows) for s in ("corrected", "adjudicated")}
    assert f"Annotation status of the sentences: adjudicated: {statuses['adjudicated']}, corrected: {statuses['corrected']}" in card
    versions = {r["guidelines_version"] for r in rows}
    assert versions == {"1.0.0"}
    assert "Annotation guidelines versions of the records: `1.0.0` (147 sentences)" in card
    assert "## Inter-annotator agreement" in card and "## How the human layer was made" in card


@pytest.mark.slow
def test_validate_understands_a_build_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    user_corpus(tmp_path / "corpus", 3)
    assert build("--corpus", "corpus", "-o", "out").exit_code == 0
    result = CliRunner().invoke(app, ["validate", "out"])
    assert result.exit_code == 0, result.output
    n = len((tmp_path / "out" / "records.jsonl").read_text(encoding="utf-8").splitlines())
    assert f"{n} records, 0 problems" in result.output.splitlines()


@pytest.mark.slow
def test_validate_finds_a_record_of_a_build_folder_that_the_manifest_lacks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    user_corpus(tmp_path / "corpus")
    assert build("--corpus", "corpus", "-o", "out").exit_code == 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    del manifest["documents"]["user-1"]
    (tmp_path / "out" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "out"])
    assert result.exit_code == 1
    assert "document 'user-1' is not in the split manifest" in result.output


@pytest.mark.slow
def test_a_corpus_too_small_for_three_splits_is_warned_about(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    user_corpus(tmp_path / "corpus", 2)
    result = build("--corpus", "corpus", "-o", "out")
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    for split in ("validation", "test"):  # the two articles share syndicated paragraphs: one group
        assert f"warning: split '{split}' is empty: 2 documents (1 once near-duplicates are grouped) are too few to fill every split" in output


@pytest.mark.slow
def test_an_all_noise_corpus_fails_and_keeps_the_previous_build(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    user_corpus(tmp_path / "corpus")
    assert build("--corpus", "corpus", "-o", "out").exit_code == 0
    before = tree(tmp_path / "out")
    (tmp_path / "noise").mkdir()
    (tmp_path / "noise" / "a.txt").write_text("Leave a Reply\nPost a comment\nSource link\n", encoding="utf-8")
    result = build("--corpus", "noise", "-o", "out")
    assert result.exit_code == 2
    assert "a.txt: article 'a': every line was removed as scrape noise" in " ".join(result.output.split())
    assert tree(tmp_path / "out") == before
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow
def test_a_build_removes_what_killed_writers_left(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    user_corpus(tmp_path / "corpus")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".records.jsonl.k2j3.tmp").write_text("half a line", encoding="utf-8")
    (out / ".removals.jsonl.x9.tmp").write_text("", encoding="utf-8")
    (out / ".dataset.ab12").mkdir()
    (out / ".dataset.ab12" / "README.md").write_text("half a card", encoding="utf-8")
    (out / ".dataset.old").mkdir()
    (out / ".swap-q1w2" / "new").mkdir(parents=True)  # a transaction killed before its commit
    (out / ".swap-q1w2" / "new" / "records.jsonl").write_text("uncommitted", encoding="utf-8")
    result = build("--corpus", "corpus", "-o", "out")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["dataset", "duplicates.jsonl", "manifest.json", "records.jsonl", "removals.jsonl", "report", "votes"]


@pytest.mark.slow
def test_published_dataset_folder_is_readable_by_others(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    user_corpus(tmp_path / "corpus")
    old = os.umask(0o022)
    try:
        assert build("--corpus", "corpus", "-o", "out").exit_code == 0
    finally:
        os.umask(old)
    assert (tmp_path / "out" / "dataset").stat().st_mode & 0o777 == 0o755


@pytest.mark.slow
def test_a_human_event_off_the_tokens_is_left_out_of_bio_and_the_build_goes_on(tmp_path, monkeypatch):
    """A span annotated inside a token ('strike' in 'airstrikes') cannot be tagged in BIO;
    the build reports it with its sentence and publishes everything else."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text(
        "Airstrikes hit the port of Hodeidah on Monday, killing three people.\n"
        "Officials said the attack was the third this week.\n", encoding="utf-8")
    assert build("--corpus", "corpus", "-o", "out").exit_code == 0
    first = json.loads((tmp_path / "out" / "records.jsonl").read_text(encoding="utf-8").splitlines()[0])
    text = first["text"]
    assert text.startswith("Airstrikes")
    event = {"type": "STRIKE", "start": 3, "end": 9, "text": text[3:9], "confidence": None, "sources": [], "realis": "ACTUAL", "arguments": [], "count": None}
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "human.jsonl").write_text(json.dumps(
        {"id": first["id"], "text": text, "events": [event], "status": "corrected", "annotators": [], "guidelines_version": "1.2.0"}) + "\n", encoding="utf-8")
    result = build("--corpus", "corpus", "-o", "out")
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert f"out/records.jsonl:1: STRIKE event 'strike' [3, 9) of sentence {first['id']} is not on token boundaries: left out of the bio config" in output
    assert ".swap-" not in output
    stats = json.loads((tmp_path / "out" / "dataset" / "stats.json").read_text(encoding="utf-8"))
    assert stats["bio_events_left_out"] == [{"id": first["id"], "type": "STRIKE", "start": 3, "end": 9, "text": "strike"}]
    from builder.publish import load_published

    spans = load_published(tmp_path / "out" / "dataset")
    bio = load_published(tmp_path / "out" / "dataset", "bio")
    row = next(r for split in spans for r in spans[split] if r["id"] == first["id"])
    assert [e["text"] for e in row["events"]] == ["strike"]
    tags = next(r for split in bio for r in bio[split] if r["id"] == first["id"])["ner_tags"]
    assert set(tags) == {0}  # "O" only
    assert "1 events whose trigger does not fall on token boundaries are left out of `bio`" in (tmp_path / "out" / "dataset" / "README.md").read_text(encoding="utf-8")
