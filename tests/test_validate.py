import json

import pytest
from typer.testing import CliRunner

from builder.cli import app
from builder.validate import validate_path, validate_records

TEXT = "The US drone strike killed 25 fighters."


def record(**changes):
    base = {
        "id": "doc-abc",
        "doc_id": "doc",
        "index": 0,
        "text": TEXT,
        "start": 0,
        "end": len(TEXT),
        "document": {"outlet": None, "title": None, "published": None, "author": None, "source_file": None},
        "events": [
            {"type": "STRIKE", "start": 7, "end": 19, "text": "drone strike", "confidence": 0.95, "sources": ["strike_lexicon.v1"], "realis": None, "arguments": [], "count": None},
            {"type": "CASUALTY", "start": 20, "end": 26, "text": "killed", "confidence": 0.85, "sources": ["casualty_lexicon.v1"], "realis": "ACTUAL",
             "arguments": [{"role": "count", "start": 27, "end": 29, "text": "25"}], "count": {"value": 25, "min": 25, "max": 25, "qualifier": "exact"}},
        ],
        "weak_events": [],
        "labels": ["CASUALTY", "STRIKE"],
        "status": "weak",
        "guidelines_version": "1.0.0",
        "provenance": {"raw_start": 10, "raw_end": 10 + len(TEXT), "labeller": "eventds-weak/weak_rules.v1", "annotators": []},
    }
    base.update(changes)
    return base


def problems(*records):
    report = validate_records(("f.jsonl", i + 1, f"record {i + 1}", r) for i, r in enumerate(records))
    return [p.format() for p in report.problems]


def test_a_valid_record_passes():
    assert problems(record()) == []


def mutate(path, value):
    r = record()
    target = r
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return r


@pytest.mark.parametrize(
    "bad, expected",
    [
        (mutate(["events", 0, "type"], "ATACK"), "f.jsonl:1: [record 1 -> events -> 0 -> type] 'ATACK' is not one of"),
        (mutate(["events", 0, "text"], "drone"), "[record 1 -> events -> 0 -> text] 'drone' does not equal the sentence text[7:19]"),
        (mutate(["events", 0, "end"], 99), "[record 1 -> events -> 0] trigger offsets [7, 99) are not inside the sentence"),
        (mutate(["events", 1, "arguments", 0, "start"], 28), "[record 1 -> events -> 1 -> arguments -> 0 -> text]"),
        (mutate(["labels"], ["STRIKE"]), "[record 1 -> labels] ['STRIKE'] does not agree"),
        (mutate(["status"], "done"), "[record 1 -> status] 'done' is not one of"),
        (mutate(["index"], "0"), "[record 1 -> index] '0' is not of type 'integer'"),
        (mutate(["bogus"], 1), "[record 1] unknown field"),
        (mutate(["events", 1, "count", "min"], 30), "[record 1 -> events -> 1 -> count] min 30 is greater than max 25"),
    ],
)
def test_problems_name_record_and_json_path(bad, expected):
    found = problems(bad)
    assert any(expected in p for p in found), found


def test_missing_field_and_duplicate_ids():
    r = record()
    del r["text"]
    found = problems(record(), r, record())
    assert any("[record 2] missing field: 'text' is a required property" in p for p in found)
    assert any("[record 3 -> id] duplicate id 'doc-abc' (first at f.jsonl:1)" in p for p in found)


def test_all_problems_are_reported_sorted():
    r = record()
    r["events"][1]["type"] = "X"
    r["events"][0]["type"] = "Y"
    found = problems(r)
    assert len(found) == 2 and found == sorted(found)


def test_validate_command_exit_codes(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(record()) + "\n", encoding="utf-8")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(mutate(["events", 0, "type"], "ATACK")) + "\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["validate", str(good)]).exit_code == 0
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1 and "events -> 0 -> type" in result.output
    gh = runner.invoke(app, ["validate", str(bad), "--format", "github"])
    assert gh.output.startswith(f"::error file={bad},line=1::[record 1 -> events -> 0 -> type]")
    missing = runner.invoke(app, ["validate", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2


def test_folder_of_jsonl(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps(record()) + "\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(json.dumps(record(id="other")) + "\n", encoding="utf-8")
    report = validate_path(tmp_path)
    assert report.ok and report.records == 2
