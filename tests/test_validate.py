import json

import pytest
from typer.testing import CliRunner

from builder.cli import app
from builder.validate import IdTable, StreamValidator, validate_path, validate_records

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


def test_the_stream_validator_reports_what_validating_the_written_file_reports(tmp_path):
    bad = record(id="doc-b")
    bad["events"][0]["type"] = "ATACK"
    records = [record(), bad, record(), mutate(["labels"], ["STRIKE"])]
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    checker = StreamValidator(path)
    for line, r in enumerate(records, 1):
        checker.check(r, line)
    assert checker.report() == validate_path(path)
    assert [p.format() for p in checker.report().problems] == [
        f"{path}:2: [record 2 -> events -> 0 -> type] 'ATACK' is not one of ['ATTACK', 'STRIKE', 'CASUALTY', 'THREAT']",
        f"{path}:3: [record 3 -> id] duplicate id 'doc-abc' (first at {path}:1)",
        f"{path}:4: [record 4 -> id] duplicate id 'doc-abc' (first at {path}:1)",
        f"{path}:4: [record 4 -> labels] ['STRIKE'] does not agree with the event types ['CASUALTY', 'STRIKE']",
    ]


def test_the_stream_validator_takes_a_tuple_as_the_array_it_is_written_as():
    checker = StreamValidator("f.jsonl")
    r = record()
    r["events"][0]["sources"] = ("strike_lexicon.v1",)
    checker.check(r, 1)
    assert checker.report().ok


def test_ids_with_the_same_hash_are_told_apart_by_their_text(monkeypatch):
    """A hash collision is never a duplicate: ids whose hashes are equal are compared."""
    monkeypatch.setattr("builder.validate.hash", lambda _: 42, raising=False)
    table = IdTable()
    for line, sid in enumerate(["a", "b", "a", "c", "b"], 1):
        table.add(sid, "f.jsonl", line, f"record {line}")
    assert sorted(table.duplicates()) == [("f.jsonl", "a", 3, "record 3", "f.jsonl:1"), ("f.jsonl", "b", 5, "record 5", "f.jsonl:2")]


@pytest.mark.parametrize("block", [1, 2, 3, 1000])
def test_ids_kept_on_disk_a_block_at_a_time_name_their_duplicates_as_in_memory(monkeypatch, tmp_path, block):
    """Ids, files and lines written out every ``block`` records (an id's first and second
    use on disk, in memory, or one in each; labels of dataset rows; ids of other scripts)
    name the same duplicates; the scratch folder goes when the table is closed."""
    monkeypatch.setattr("builder.validate.ID_BLOCK", block)
    monkeypatch.setattr("builder.validate.hash", lambda sid: len(sid), raising=False)  # collisions too
    table = IdTable(spill_dir=tmp_path)
    ids = ["doc-a", "doc-b", "é-ü", "doc-a", "doc-c", "é-ü", "doc-b", "x", "doc-a"]
    for line, sid in enumerate(ids, 1):
        table.add(sid, "f.jsonl" if line < 6 else "g.jsonl", line if line != 7 else 0, f"record {line}" if line != 7 else "train row 3")
    assert sorted(table.duplicates()) == [
        ("f.jsonl", "doc-a", 4, "record 4", "f.jsonl:1"),
        ("g.jsonl", "doc-a", 9, "record 9", "f.jsonl:1"),
        ("g.jsonl", "doc-b", 0, "train row 3", "f.jsonl:2"),
        ("g.jsonl", "é-ü", 6, "record 6", "f.jsonl:3"),
    ]
    folders = list(tmp_path.glob("eventds-ids-*"))
    assert len(folders) == (1 if block < len(ids) else 0)
    table.close()
    assert not list(tmp_path.glob("eventds-ids-*"))


def test_a_build_with_an_invalid_record_names_it_in_the_build_folder_and_publishes_nothing(tmp_path, monkeypatch):
    from builder import human, pipeline
    from builder.errors import ValidationFailed
    from builder.records import Event

    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "a.txt").write_text("A drone strike hit the port on Monday.\n\nOfficials said nothing else.\n", encoding="utf-8")
    real = human.apply_human_layer

    def corrupt(sentences, layer):
        for n, s in enumerate(real(sentences, layer)):
            yield s.with_(events=(Event("ATACK", 2, 7, s.text[2:7]),)) if n == 1 else s

    monkeypatch.setattr(human, "apply_human_layer", corrupt)  # where the records are made
    out = tmp_path / "build"
    with pytest.raises(ValidationFailed) as e:
        pipeline.build(folder, out, annotations_dir=tmp_path / "none")
    assert any(p.startswith(f"{out / 'records.jsonl'}:2: [record 2 -> events -> 0 -> type] 'ATACK' is not one of") for p in e.value.problems), e.value.problems
    assert not (out / "dataset").exists()


def _paths(obj, path=()):
    """The path of every value in ``obj``, itself first."""
    yield path
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for k, v in items:
        yield from _paths(v, (*path, k))


def mutated(base: dict, rng, values: list, changes: int) -> dict:
    """A copy of ``base`` with ``changes`` random values replaced by one of ``values``,
    removed, or joined by an unknown field."""
    import copy

    bad = copy.deepcopy(base)
    for _ in range(changes):
        *parents, key = rng.choice(list(_paths(bad))[1:])
        target = bad
        for k in parents:
            target = target[k]
        roll = rng.random()
        if roll < 0.15 and isinstance(target, dict):
            del target[key]
        elif roll < 0.25 and isinstance(target, dict):
            target["bogus"] = 1
        else:
            target[key] = rng.choice(values)
    return bad


def test_the_compiled_validator_reports_what_the_schema_validator_reports():
    """Inlined references change no message or path: 400 records, each with one field replaced,
    removed or added, against builder.labelset.validator."""
    import random

    from builder.labelset import validator
    from builder.validate import _message, compiled_validator

    reference, compiled = validator("sentence"), compiled_validator("sentence")
    rng = random.Random(0)
    values = ["x", "", 1, -1, 1.5, None, True, [], {}, [1], {"a": 1}, "ATACK"]
    base = record()
    for _ in range(400):
        bad = mutated(base, rng, values, 1)
        found = [sorted((tuple(map(str, e.absolute_path)), _message(e)) for e in v.iter_errors(bad)) for v in (reference, compiled)]
        assert found[0] == found[1], bad


def test_the_fast_validator_passes_exactly_the_records_the_schema_passes():
    """fastjsonschema (Draft 7 code) decides validity as the stream's Draft 2020-12 validator
    does (a tuple counts as an array in both): 1,000 records with one or two fields replaced,
    removed or added, valid ones included."""
    import random

    import fastjsonschema

    from builder.validate import compiled_validator, fast_validator

    reference, fast = compiled_validator("sentence"), fast_validator("sentence")
    assert fast is not None
    rng = random.Random(1)
    values = ["x", "", "ATTACK", "actual", 0, 1, -1, 1.5, None, True, False, [], {}, [1], ["ATTACK"], {"a": 1}, (), ("x",)]
    base = record()
    verdicts = []
    for _ in range(1000):
        bad = mutated(base, rng, values, rng.choice((1, 2)))
        valid = not any(True for _ in reference.iter_errors(bad))
        try:
            fast(bad)
            fast_valid = True
        except fastjsonschema.JsonSchemaException:
            fast_valid = False
        assert fast_valid == valid, bad
        verdicts.append(valid)
    assert 0 < sum(verdicts) < len(verdicts)  # both kinds were tried
