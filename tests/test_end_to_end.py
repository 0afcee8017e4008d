"""The whole build on the embedded corpus, as `make dataset` runs it."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builder.cli import app
from builder.publish import load_published

ROOT = Path(__file__).resolve().parents[1]
NOISE = [
    "moderates all comments", "Post a comment", "Leave a Reply", "Source link", "Support SouthFront",
    "Consider helping us", "Your support helps us", "Your donation", "A+ A-", "Click to see full-size image",
    "Join our commenting forum", "Thank you for registering", "Photo:", "Associated Press", "2,500 $",
    "Your email address will not be published", "Lawk Ghafuri", "International Correspondent",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("build")
    shutil.copy(ROOT / "splits" / "manifest.json", tmp / "manifest.json")
    result = CliRunner().invoke(
        app, ["build", "-o", str(tmp / "build"), "-m", str(tmp / "manifest.json"), "--annotations", str(ROOT / "annotations")]
    )
    assert result.exit_code == 0, result.output
    return tmp, result.output


@pytest.mark.slow
def test_build_summary_table(built):
    _, output = built
    for row in ("documents", "removed blocks", "sentences", "events ATTACK", "sentences in test"):
        assert row in output


@pytest.mark.slow
def test_published_dataset_loads_offline_and_validates(built):
    tmp, _ = built
    ds = load_published(tmp / "build" / "dataset")
    assert set(ds) == {"train", "validation", "test"} and all(len(ds[s]) for s in ds)
    result = CliRunner().invoke(app, ["validate", str(tmp / "build" / "dataset")])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_no_scrape_noise_is_published_and_the_doubled_body_appears_once(built):
    tmp, _ = built
    rows = [json.loads(l) for l in (tmp / "build" / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    for row in rows:
        for noise in NOISE:
            assert noise not in row["text"], (row["id"], noise)
    doubled = [r["text"] for r in rows if r["doc_id"] == "001_feb1b3a331c06813"]
    assert len(doubled) == len(set(doubled))
    assert sum("scathing attack on Kadhimi" in t for t in doubled) == 1
    removals = [json.loads(l) for l in (tmp / "build" / "removals.jsonl").read_text(encoding="utf-8").splitlines()]
    raw = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "corpus").glob("*.txt")}
    for r in removals:
        assert raw[r["doc_id"]][r["start"] : r["end"]] == r["text"]


@pytest.mark.slow
def test_sentences_are_verbatim_slices_of_the_raw_articles(built):
    tmp, _ = built
    raw = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "corpus").glob("*.txt")}
    for line in (tmp / "build" / "records.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        assert raw[r["doc_id"]][r["provenance"]["raw_start"] : r["provenance"]["raw_end"]] == r["text"]


@pytest.mark.slow
def test_committed_manifest_is_kept(built):
    tmp, _ = built
    committed = json.loads((ROOT / "splits" / "manifest.json").read_text(encoding="utf-8"))
    rebuilt = json.loads((tmp / "manifest.json").read_text(encoding="utf-8"))
    for doc, entry in committed["documents"].items():
        assert rebuilt["documents"][doc]["split"] == entry["split"]
