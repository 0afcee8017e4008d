"""`eventds export`: the published dataset (or a records file) in each event-extraction format,
one file per split; the docbin files train a spaCy pipeline with `spacy train`."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builder import formats
from builder.cli import app
from builder.publish import publish

from test_formats import shared_argument_record
from test_validate import record

ROOT = Path(__file__).resolve().parents[1]


def export(*args):
    return CliRunner().invoke(app, ["export", *map(str, args)])


@pytest.fixture
def published(tmp_path):
    src = tmp_path / "records.jsonl"
    rows = [shared_argument_record(), record(id="a-1", doc_id="a"), record(id="b-1", doc_id="b", events=[], labels=[])]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    manifest = {"documents": {"d": {"split": "train"}, "a": {"split": "train"}, "b": {"split": "test"}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    publish(src, manifest, tmp_path / "dataset")
    return tmp_path


def test_ee_export_is_textee_jsonl_per_split(published):
    result = export(published / "dataset", "--format", "ee", "-o", published / "ee")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (published / "ee").iterdir()) == ["test.jsonl", "train.jsonl"]
    rows = [json.loads(l) for l in (published / "ee" / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["wnd_id"] for r in rows] == ["d-1", "a-1"]
    for r in rows:
        assert formats.textee_problems(r) == []
    assert rows[0] == formats.ee_row(shared_argument_record())  # labels as strings, as TextEE reads them


def test_a_records_file_exports_by_manifest_or_whole(published):
    result = export(published / "records.jsonl", "--format", "conll", "-o", published / "c1", "-m", published / "manifest.json")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (published / "c1").iterdir()) == ["test.conll", "train.conll"]
    result = export(published / "records.jsonl", "--format", "conll", "-o", published / "c2")
    assert result.exit_code == 0, result.output
    text = (published / "c2" / "all.conll").read_text(encoding="utf-8")
    assert text.count("# id = ") == 3
    assert "US\tO\tB-threatened\tB-target\tO\n" in text
    assert (published / "c1" / "train.conll").read_text(encoding="utf-8") in text


def test_maven_export_is_one_document_per_line(published):
    result = export(published / "dataset", "--format", "maven", "-o", published / "m")
    assert result.exit_code == 0, result.output
    docs = [json.loads(l) for l in (published / "m" / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(d["id"] for d in docs) == ["a", "d"]
    assert all({"id", "title", "content", "events", "negative_triggers"} <= d.keys() for d in docs)


def test_unknown_format_and_missing_input_fail_cleanly(published):
    result = export(published / "dataset", "--format", "brat", "-o", published / "x")
    assert result.exit_code != 0 and "unknown format 'brat'" in " ".join(result.output.split())
    result = export(published / "nothing", "--format", "ee", "-o", published / "x")
    assert result.exit_code != 0 and "no such file or folder" in result.output


def test_docbin_export_keeps_triggers_arguments_and_events(published):
    from spacy.tokens import DocBin
    import spacy

    result = export(published / "dataset", "--format", "docbin", "-o", published / "db")
    assert result.exit_code == 0, result.output
    docs = list(DocBin().from_disk(published / "db" / "train.spacy").get_docs(spacy.blank("en").vocab))
    doc = next(d for d in docs if d.user_data["id"] == "d-1")
    assert [(e.label_, e.text) for e in doc.ents] == [("THREAT", "vowed"), ("ATTACK", "attack"), ("CASUALTY", "killed")]
    assert [(s.label_, s.text) for s in doc.spans["sc"]] == [(e.label_, e.text) for e in doc.ents]
    assert {(s.label_, s.text) for s in doc.spans["arguments"]} >= {("threatened", "US forces"), ("target", "US forces")}
    attack = doc.user_data["events"][1]
    assert [(a["role"], doc[a["start"]:a["end"]].text) for a in attack["arguments"]] == [("target", "US forces"), ("place", "Basra")]


@pytest.fixture(scope="module")
def corpus_dataset(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("corpus")
    shutil.copy(ROOT / "splits" / "manifest.json", tmp / "manifest.json")  # the project's splits
    result = CliRunner().invoke(
        app, ["build", "-o", str(tmp / "build"), "-m", str(tmp / "manifest.json"), "--annotations", str(ROOT / "annotations")]
    )
    assert result.exit_code == 0, result.output
    return tmp / "build" / "dataset"


@pytest.mark.slow
def test_spacy_train_runs_one_epoch_on_the_exported_docbin(corpus_dataset, tmp_path, capsys):
    from spacy.cli.init_config import init_config
    from spacy.cli.train import train

    result = export(corpus_dataset, "--format", "docbin", "-o", tmp_path / "corpus")
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "corpus").iterdir()} == {"train.spacy", "validation.spacy", "test.spacy"}
    config = init_config(lang="en", pipeline=["ner"], optimize="efficiency", gpu=False)
    config_path = tmp_path / "config.cfg"
    config.to_disk(config_path)
    capsys.readouterr()
    train(
        config_path,
        tmp_path / "model",
        use_gpu=-1,
        overrides={
            "paths.train": str(tmp_path / "corpus" / "train.spacy"),
            "paths.dev": str(tmp_path / "corpus" / "validation.spacy"),
            "training.max_epochs": 1,
            "training.eval_frequency": 5,
        },
    )
    log = capsys.readouterr().out
    assert (tmp_path / "model" / "model-last" / "meta.json").exists()
    rows = [l.split() for l in log.splitlines() if l.strip()[:1].isdigit()]
    assert rows and {r[0] for r in rows} == {"0"}  # epoch 0 ran, and only it
    assert int(rows[-1][1]) >= 5  # several steps
    meta = json.loads((tmp_path / "model" / "model-last" / "meta.json").read_text(encoding="utf-8"))
    assert meta["pipeline"] == ["tok2vec", "ner"]
    assert set(meta["labels"]["ner"]) == {"ATTACK", "STRIKE", "CASUALTY", "THREAT"}


def test_a_span_off_the_tokens_is_reported_by_export(tmp_path):
    r = record(id="m-1", doc_id="m")  # "The US drone strike killed 25 fighters."
    r["events"][1]["arguments"].append({"role": "victim", "start": 30, "end": 35, "text": "fight"})
    (tmp_path / "records.jsonl").write_text(json.dumps(r) + "\n", encoding="utf-8")
    result = export(tmp_path / "records.jsonl", "--format", "ee", "-o", tmp_path / "ee")
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "records.jsonl:1: argument victim 'fight' [30, 35) of sentence m-1 is misaligned: left out of ee" in output
    (row,) = [json.loads(l) for l in (tmp_path / "ee" / "all.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [a["text"] for m in row["event_mentions"] for a in m["arguments"]] == ["25"]
