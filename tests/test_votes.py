"""Every labelling function's votes kept beside the records, and read back instead of running
the functions: aggregation as its own step, and the report, label model and calibration."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builder.calibrate import fit
from builder.cli import app
from builder.errors import InputError
from builder.labelmodel import compare
from builder.records import Sentence
from builder.report import quality
from builder.split import document_groups, load_manifest
from builder.weak import (
    INDEX_FILE,
    AggregationSettings,
    Aggregator,
    ContextFunction,
    LexiconFunction,
    WeakLabeller,
    aggregate_sentences,
    aggregate_votes,
    label_sentences,
    read_index,
    read_votes,
)

from test_validate import record

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "splits" / "manifest.json"


@pytest.fixture(scope="module")
def labeller():
    return WeakLabeller()


@pytest.fixture(scope="module")
def corpus_sentences():
    """The embedded corpus as the build segments it, before labelling."""
    from builder.clean import clean
    from builder.ingest import read_articles
    from builder.segment import segment

    return list(segment(clean(read_articles(None))))


def forbid_functions(monkeypatch) -> None:
    """From now on, fail the test if a labelling function is called or a labeller is made."""

    def ran(*args, **kwargs):
        raise AssertionError("a labelling function ran")

    for cls in (LexiconFunction, ContextFunction):
        monkeypatch.setattr(cls, "__call__", ran)
        monkeypatch.setattr(cls, "batch", ran)
    monkeypatch.setattr(WeakLabeller, "__init__", ran)


def human_rows() -> list[dict]:
    rows = []
    for line in (ROOT / "annotations" / "human.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows.append({**r, "doc_id": r["id"].rsplit("-", 1)[0]})
    return rows


def write_votes(labeller, folder: Path, rows: list[dict]) -> Path:
    with labeller.votes_writer(folder) as votes:
        for _ in labeller.label_texts([r["text"] for r in rows], [r["id"] for r in rows], votes):
            pass
    return folder


def test_votes_aggregate_to_the_events_of_labelling_on_the_embedded_corpus(tmp_path, labeller, corpus_sentences):
    """Labelling the embedded corpus directly and aggregating its kept votes give the same records."""
    with labeller.votes_writer(tmp_path / "votes") as votes:
        direct = list(label_sentences(corpus_sentences, labeller, votes))
    assert sum(len(s.weak_events) for s in direct) > 100
    again = list(aggregate_sentences(corpus_sentences, tmp_path / "votes", Aggregator(AggregationSettings.load())))
    assert again == direct


def test_votes_aggregate_to_the_events_of_labelling_on_the_held_out_sets(tmp_path, labeller):
    texts = [json.loads(l)["text"] for f in sorted((ROOT / "tests" / "data").glob("heldout*.jsonl")) for l in f.read_text(encoding="utf-8").splitlines()]
    ids = [f"t{i}" for i in range(len(texts))]
    with labeller.votes_writer(tmp_path / "votes") as votes:
        direct = list(labeller.label_texts(texts, ids, votes))
    aggregator = Aggregator(AggregationSettings.load())
    read = list(read_votes(tmp_path / "votes"))
    assert [sid for sid, _ in read] == ids
    assert [aggregate_votes(text, v, aggregator) for text, (_, v) in zip(texts, read)] == direct


def test_a_votes_folder_has_one_file_per_function_and_one_line_per_sentence(tmp_path, labeller):
    rows = [{"id": "a", "text": "Airstrikes pounded the positions."}, {"id": "b", "text": "Stocks rose on Monday."}]
    folder = write_votes(labeller, tmp_path / "votes", rows)
    index = json.loads((folder / INDEX_FILE).read_text(encoding="utf-8"))
    assert index["functions"] == list(labeller.functions) and index["sentences"] == 2 and index["labeller"] == labeller.version
    assert sorted(p.name for p in folder.glob("*.jsonl")) == sorted(f"{n}.jsonl" for n in labeller.functions)
    strike = [json.loads(l) for l in (folder / "strike_lexicon.v5.jsonl").read_text(encoding="utf-8").splitlines()]
    assert strike == [{"id": "a", "spans": [[0, 10, "STRIKE", strike[0]["spans"][0][3]]]}, {"id": "b", "spans": []}]
    # a G5 generic word keeps its mark beside the spans
    folder = write_votes(labeller, tmp_path / "generic", [{"id": "g", "text": "Rockets landed on the base."}])
    [(_, votes)] = read_votes(folder)
    assert any(v.generic for v in votes.values())


def test_a_failed_function_is_marked_in_its_votes(tmp_path):
    labeller = WeakLabeller(tolerant=True)

    def broken(doc):
        raise RuntimeError("boom")

    labeller.add("broken.v1", broken)
    folder = write_votes(labeller, tmp_path / "votes", [{"id": 1, "text": "A drone strike hit."}])
    assert json.loads((folder / "broken.v1.jsonl").read_text(encoding="utf-8")) == {"id": 1, "spans": [], "failed": True}
    [(_, votes)] = read_votes(folder)
    assert votes["broken.v1"].failed


def test_misaligned_or_malformed_votes_are_named(tmp_path, labeller):
    folder = write_votes(labeller, tmp_path / "votes", [{"id": "a", "text": "A drone strike hit."}, {"id": "b", "text": "Gunmen attacked."}])
    path = folder / "attack_lexicon.v7.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(lines[1] + "\n" + lines[0] + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"attack_lexicon.v7.jsonl:1 -> id: 'b', where .*strike_lexicon.v5.jsonl:1 has 'a'; the votes files are not aligned"):
        list(read_votes(folder))
    path.write_text(lines[0] + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="attack_lexicon.v7.jsonl: ends before"):
        list(read_votes(folder))
    path.write_text(json.dumps({"id": "a", "spans": [[0, 4, "ATTACK"]]}) + "\n" + lines[1] + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"attack_lexicon.v7.jsonl:1 -> spans -> 0: expected \[start, end, label, confidence\]"):
        list(read_votes(folder))
    (folder / "sense_veto.v7.jsonl").unlink()
    with pytest.raises(InputError, match="sense_veto.v7.jsonl: missing"):
        list(read_votes(folder))


def labelled_file(tmp_path: Path, lines: list[dict]) -> tuple[Path, Path]:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(l, ensure_ascii=False) + "\n" for l in lines), encoding="utf-8")
    out = tmp_path / "out" / "labelled.jsonl"
    result = CliRunner().invoke(app, ["label", str(src), "-o", str(out), "--votes", str(tmp_path / "out" / "votes")])
    assert result.exit_code == 0, result.output
    return out, tmp_path / "out" / "votes"


def test_label_keeps_votes_and_aggregate_makes_the_same_events_without_running_a_function(tmp_path, monkeypatch):
    lines = [
        {"id": 1, "text": "Shelling of Kharkiv killed three civilians on Tuesday.", "source": "wire"},
        {"id": "b", "text": "The minister vowed to retaliate 🚀 if attacked again."},
        {"id": "c", "text": "Stocks rose on Monday."},
    ]
    out, votes = labelled_file(tmp_path, lines)
    assert read_index(votes).functions == tuple(WeakLabeller().functions)

    def ran(*args, **kwargs):
        raise AssertionError("a labelling function ran")

    for cls in (LexiconFunction, ContextFunction):
        monkeypatch.setattr(cls, "batch", ran)
    result = CliRunner().invoke(app, ["aggregate", str(out), "-o", str(tmp_path / "again.jsonl")])  # votes/ beside the file
    assert result.exit_code == 0, result.output
    assert (tmp_path / "again.jsonl").read_text(encoding="utf-8") == out.read_text(encoding="utf-8")
    assert "aggregate" in result.output and "votes" in result.output


def test_aggregate_follows_the_votes_not_the_rules(tmp_path):
    out, votes = labelled_file(tmp_path, [{"id": "c", "text": "Stocks rose on Monday."}])
    (votes / "attack_lexicon.v7.jsonl").write_text(json.dumps({"id": "c", "spans": [[0, 6, "ATTACK", 0.9]]}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["aggregate", str(out), "--votes", str(votes), "-o", str(tmp_path / "again.jsonl")])
    assert result.exit_code == 0, result.output
    [row] = [json.loads(l) for l in (tmp_path / "again.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(e["type"], e["text"], e["sources"]) for e in row["events"]] == [("ATTACK", "Stocks", ["attack_lexicon.v7"])]


def test_aggregate_refuses_records_without_votes(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": 1, "text": "A drone strike hit."}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["aggregate", str(src), "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 2 and "no votes folder beside the records" in " ".join(result.output.split())
    out, votes = labelled_file(tmp_path, [{"id": 1, "text": "A drone strike hit."}])
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"id": 2, "text": "A drone strike hit."}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["aggregate", str(other), "--votes", str(votes), "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 2 and "no votes for sentence 2" in " ".join(result.output.split())
    assert not (tmp_path / "out.jsonl").exists()


def test_aggregate_keeps_the_human_layer_of_sentence_records(tmp_path, labeller):
    text = "Gunmen attacked a convoy near the town on Monday, police said."
    human = Sentence.from_dict(record(id="doc-1", text=text, end=len(text), events=[], labels=[], status="corrected"))
    weak = Sentence.from_dict(record(id="doc-2", text=text, end=len(text), events=[], labels=[], status="unlabelled"))
    with labeller.votes_writer(tmp_path / "votes") as votes:
        direct = list(label_sentences([human, weak], labeller, votes))
    again = list(aggregate_sentences([human, weak], tmp_path / "votes", labeller.aggregator))
    assert again == direct
    assert again[0].events == () and again[0].status == "corrected" and again[0].weak_events
    assert again[1].events == again[1].weak_events and again[1].status == "weak"


def test_label_model_reads_votes_and_runs_no_function(tmp_path, labeller, monkeypatch):
    rows = human_rows()
    groups = document_groups(load_manifest(MANIFEST))
    folder = write_votes(labeller, tmp_path / "votes", rows)
    from_labeller = compare(rows, groups, labeller=labeller)
    forbid_functions(monkeypatch)
    from_votes = compare(rows, groups, votes=folder)
    assert (from_votes.pop("votes"), from_labeller.pop("votes")) == (str(folder), None)
    assert from_votes == from_labeller
    with pytest.raises(AssertionError, match="a labelling function ran"):
        compare(rows, groups)


def test_calibration_reads_votes_and_runs_no_function(tmp_path, labeller, monkeypatch):
    rows = human_rows()
    groups = document_groups(load_manifest(MANIFEST))
    folder = write_votes(labeller, tmp_path / "votes", rows)
    from_labeller = fit(rows, groups)
    forbid_functions(monkeypatch)
    from_votes = fit(rows, groups, votes=folder)
    assert from_votes == from_labeller and from_votes["events"] > 100
    with pytest.raises(AssertionError, match="a labelling function ran"):
        fit(rows, groups)


def two_records(tmp_path: Path) -> Path:
    wrong_text = "Gunmen attacked a convoy near the town on Monday, police said."
    rows = [
        record(id="doc-1", text=wrong_text, end=len(wrong_text), events=[], labels=[], status="corrected",
               provenance={"raw_start": 0, "raw_end": len(wrong_text), "labeller": "eventds-weak/weak_rules.v1", "annotators": []}),
        record(id="doc-2", status="corrected"),
    ]
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_report_reads_the_votes_and_follows_them_not_the_rules(tmp_path, labeller, monkeypatch):
    path = two_records(tmp_path)
    rows = [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines()]
    folder = write_votes(labeller, tmp_path / "votes", rows)
    # attack_lexicon.v7 votes THREAT on "Gunmen" of doc-1 instead of ATTACK on "attacked"
    lines = [json.loads(l) for l in (folder / "attack_lexicon.v7.jsonl").read_text(encoding="utf-8").splitlines()]
    assert lines[0]["spans"] and lines[0]["spans"][0][2] == "ATTACK"
    lines[0]["spans"] = [[0, 6, "THREAT", 0.7]]
    (folder / "attack_lexicon.v7.jsonl").write_text("".join(json.dumps(l) + "\n" for l in lines), encoding="utf-8")
    forbid_functions(monkeypatch)
    q = quality(path, votes=folder)
    attack = q["labelling_functions"]["attack_lexicon.v7"]
    assert attack["wrong"] == {"THREAT": [{"id": "doc-1", "text": rows[0]["text"], "span": "Gunmen", "start": 0, "end": 6, "gold": []}]}
    assert list(q["labelling_functions"]) == list(labeller.functions)


def test_report_command_says_where_the_votes_came_from(tmp_path, labeller):
    path = two_records(tmp_path)
    manifest = tmp_path / "manifest.json"
    shutil.copy(MANIFEST, manifest)
    result = CliRunner().invoke(app, ["report", str(path), "-m", str(manifest), "-o", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert "the labelling functions were run again" in " ".join(result.output.split())
    rows = [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines()]
    write_votes(labeller, tmp_path / "votes", rows)
    result = CliRunner().invoke(app, ["report", str(path), "-m", str(manifest), "-o", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert f"labelling-function votes read from {tmp_path / 'votes'}" in " ".join(result.output.split())


@pytest.mark.slow
def test_a_build_keeps_votes_that_aggregate_report_and_calibrate_read(tmp_path, monkeypatch):
    """On the embedded corpus build: the votes in OUT/votes/ aggregate to the very records the
    build wrote, and report, label-model and calibrate read them."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["build", "-o", "out"])
    assert result.exit_code == 0, result.output
    records = (tmp_path / "out" / "records.jsonl").read_text(encoding="utf-8")
    index = read_index(tmp_path / "out" / "votes")
    assert index.sentences == len(records.splitlines()) == 147 and index.functions == tuple(WeakLabeller().functions)
    assert runner.invoke(app, ["validate", "out"]).exit_code == 0

    def ran(*args, **kwargs):
        raise AssertionError("a labelling function ran")

    for cls in (LexiconFunction, ContextFunction):
        monkeypatch.setattr(cls, "batch", ran)
        monkeypatch.setattr(cls, "__call__", ran)
    result = runner.invoke(app, ["aggregate", "out/records.jsonl", "-o", "again.jsonl"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "again.jsonl").read_text(encoding="utf-8") == records
    for command in (
        ["report", "out/records.jsonl", "-m", "out/manifest.json", "-o", "report"],
        ["label-model", "out/records.jsonl", "-m", "out/manifest.json"],
        ["calibrate", "out/records.jsonl", "-m", "out/manifest.json", "-o", "calibration.json"],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output
        assert "labelling-function votes read from out/votes" in " ".join(result.output.split()), command
    assert (tmp_path / "report" / "quality.json").read_text(encoding="utf-8") == (tmp_path / "out" / "report" / "quality.json").read_text(encoding="utf-8")
