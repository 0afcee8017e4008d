"""Every command meets malformed input with a located error, a non-zero exit and no output."""

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from builder.cli import app
from builder.validate import validate_records

from test_validate import record

GOOD = json.dumps(record())


def jsonl(*objs):
    return "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs).encode("utf-8")


def rec(**changes):
    r = copy.deepcopy(record())
    for path, value in changes.items():
        target = r
        keys = path.split("__")
        for k in keys[:-1]:
            target = target[int(k)] if k.isdigit() else target[k]
        last = keys[-1]
        if value is DELETE:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value
    return r


DELETE = object()

# (name, command, input bytes, input file name, expected exit code, expected text in the message)
CASES = [
    ("truncated json", "validate", GOOD.encode()[:50] + b"\n", "in.jsonl", 2, "in.jsonl:1: invalid JSON"),
    ("wrong type", "validate", jsonl(rec(index="0")), "in.jsonl", 1, "in.jsonl:1: [record 1 -> index] '0' is not of type 'integer'"),
    ("missing field", "validate", jsonl(rec(text=DELETE)), "in.jsonl", 1, "[record 1] missing field: 'text'"),
    ("unknown field", "validate", jsonl(rec(colour="red")), "in.jsonl", 1, "[record 1] unknown field"),
    ("unknown label", "validate", jsonl(rec(events__0__type="ATACK")), "in.jsonl", 1, "[record 1 -> events -> 0 -> type] 'ATACK' is not one of"),
    ("unknown role", "validate", jsonl(rec(events__1__arguments__0__role="killer")), "in.jsonl", 1, "[record 1 -> events -> 1 -> arguments -> 0 -> role]"),
    ("offset out of range", "validate", jsonl(rec(events__0__end=500)), "in.jsonl", 1, "[record 1 -> events -> 0] trigger offsets [7, 500)"),
    ("reversed offsets", "validate", jsonl(rec(events__0__start=19, events__0__end=7)), "in.jsonl", 1, "[record 1 -> events -> 0] trigger offsets [19, 7)"),
    ("span text mismatch", "validate", jsonl(rec(events__0__text="drone strikes")), "in.jsonl", 1, "[record 1 -> events -> 0 -> text] 'drone strikes' does not equal"),
    ("non-utf8", "validate", GOOD.encode() + b"\n\xff\xfe\n", "in.jsonl", 2, "in.jsonl:2: not valid UTF-8"),
    ("utf-8 bom", "validate", b"\xef\xbb\xbf" + GOOD.encode() + b"\n", "in.jsonl", 2, "in.jsonl:1: file starts with a UTF-8 byte-order mark"),
    ("empty file", "validate", b"", "in.jsonl", 2, "in.jsonl: empty file"),
    ("duplicate ids", "validate", jsonl(GOOD, GOOD), "in.jsonl", 1, "in.jsonl:2: [record 2 -> id] duplicate id 'doc-abc' (first at "),
    ("binary file", "validate", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "in.jsonl", 2, "in.jsonl:1: NUL byte"),
    ("very long line", "validate", b'{"id": "' + b"x" * (9 * 1024 * 1024) + b'"}\n', "in.jsonl", 2, "in.jsonl:1: line is 9,437,"),
    ("labels disagree", "validate", jsonl(rec(labels=["THREAT"])), "in.jsonl", 1, "[record 1 -> labels]"),
    ("json array line", "validate", b"[1, 2]\n", "in.jsonl", 2, "in.jsonl:1: expected a JSON object, got list"),
    ("bad manifest split", "validate", json.dumps({"version": 1, "seed": "s", "ratios": {"train": 1, "validation": 0, "test": 0}, "grouping": {"method": "x"}, "documents": {"d": {"split": "dev", "group": "g"}}}).encode(), "manifest.json", 1, "[manifest -> documents -> d -> split] 'dev' is not one of"),
    ("export: relation to a missing region", "validate", json.dumps([{"id": 7, "data": {"text": "A drone strike hit.", "sentence_id": "s-1"}, "annotations": [{"id": 3, "result": [
        {"id": "r1", "from_name": "trigger", "to_name": "text", "type": "labels", "value": {"start": 2, "end": 14, "text": "drone strike", "labels": ["STRIKE"]}},
        {"from_id": "r1", "to_id": "r9", "type": "relation", "labels": ["target"]}]}]}]).encode(), "export.json", 1, "task 7 (sentence s-1) annotation 3 relation 'r1' -> 'r9': points to missing region 'r9'"),
    ("export: region text mismatch", "validate", json.dumps([{"id": 8, "data": {"text": "A drone strike hit.", "sentence_id": "s-2"}, "annotations": [{"id": 4, "result": [
        {"id": "r1", "from_name": "trigger", "to_name": "text", "type": "labels", "value": {"start": 2, "end": 14, "text": "drone strikes", "labels": ["STRIKE"]}}]}]}]).encode(), "export.json", 1, "task 8 (sentence s-2) annotation 4 region r1"),
    ("export: unknown label", "validate", json.dumps([{"id": 9, "data": {"text": "A drone strike hit.", "sentence_id": "s-3"}, "annotations": [{"id": 5, "result": [
        {"id": "r1", "from_name": "trigger", "to_name": "text", "type": "labels", "value": {"start": 2, "end": 14, "text": "drone strike", "labels": ["AIRSTRIKE"]}}]}]}]).encode(), "export.json", 1, "task 9 (sentence s-3) annotation 5 region r1: trigger label 'AIRSTRIKE' is not in the label set"),
    ("export: not the export shape", "validate", json.dumps([{"id": "x", "data": {}, "annotations": []}]).encode(), "export.json", 1, "[export -> 0 -> data] missing field: 'text'"),
    ("ingest: article without text", "ingest", jsonl({"id": "a", "text": "Fine."}, {"id": "b", "body": "x"}), "in.jsonl", 2, "in.jsonl:2 -> text: missing"),
    ("ingest: duplicate article id", "ingest", jsonl({"id": "a", "text": "x"}, {"id": "a", "text": "y"}), "in.jsonl", 2, "in.jsonl:2 -> id: duplicate id 'a'"),
    ("ingest: non-utf8 jsonl", "ingest", b'{"id": "a", "text": "caf\xe9"}\n', "in.jsonl", 2, "in.jsonl:1: not valid UTF-8"),
    ("ingest: metadata of wrong type", "ingest", jsonl({"id": "a", "text": "x", "published": 2020}), "in.jsonl", 2, "in.jsonl:1 -> published: expected a string or null, got int"),
    ("label: no text", "label", jsonl({"id": 1, "text": "ok"}, {"id": 2}), "in.jsonl", 2, "in.jsonl:2 -> text: missing"),
    ("label: id of wrong type", "label", jsonl({"id": [1], "text": "ok"}), "in.jsonl", 2, "in.jsonl:1 -> id: missing, or not a string or integer"),
    ("label: truncated json", "label", b'{"id": 1, "text": "A drone str', "in.jsonl", 2, "in.jsonl:1: invalid JSON"),
    ("label: duplicate ids", "label", jsonl({"id": 1, "text": "a"}, {"id": 1, "text": "b"}), "in.jsonl", 2, "in.jsonl:2 -> id: duplicate id 1"),
    ("publish: invalid record", "publish", jsonl(rec(events__0__type="ATACK")), "records.jsonl", 1, "records.jsonl:1: [record 1 -> events -> 0 -> type]"),
    ("publish: document not in manifest", "publish", jsonl(rec(doc_id="unknown-doc")), "records.jsonl", 2, "records.jsonl:1 -> doc_id: document 'unknown-doc' is not in the split manifest"),
    ("publish: annotator without a pseudonym", "publish", jsonl(rec(status="corrected", provenance__annotators=["someone@example.org"])), "records.jsonl", 2,
     "records.jsonl:1 -> provenance -> annotators: 'someone@example.org' has no pseudonym"),
]


def run_case(tmp_path, command, content, name):
    src = tmp_path / name
    src.write_bytes(content)
    out = tmp_path / "out"
    manifest = tmp_path / "splits.json"
    manifest.write_text(json.dumps({"version": 1, "seed": "s", "ratios": {"train": 1, "validation": 0, "test": 0}, "grouping": {"method": "x"}, "documents": {"doc": {"split": "train", "group": "g"}}}), encoding="utf-8")
    args = {
        "validate": ["validate", str(src)],
        "ingest": ["ingest", str(src), "-o", str(out / "articles.jsonl"), "--removals", str(out / "removals.jsonl")],
        "label": ["label", str(src), "-o", str(out / "labelled.jsonl")],
        "publish": ["publish", str(src), "-m", str(manifest), "-o", str(out / "dataset")],
    }[command]
    return CliRunner().invoke(app, args), out


@pytest.mark.parametrize("name, command, content, filename, code, message", CASES, ids=[c[0] for c in CASES])
def test_malformed_input_is_rejected_with_its_location_and_no_output(tmp_path, name, command, content, filename, code, message):
    result, out = run_case(tmp_path, command, content, filename)
    assert result.exit_code == code, result.output
    assert message in " ".join(result.output.split()), result.output
    assert not out.exists() or not any(out.rglob("*")), list(out.rglob("*"))


def test_there_are_at_least_twenty_cases():
    assert len(CASES) >= 20


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


def paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from paths(v, prefix + (i,))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_records_never_crash_validate(data):
    r = copy.deepcopy(record())
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(list(paths(r))))
        if not path:
            continue
        parent = r
        for key in path[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["replace", "delete", "int"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "int":
            parent[path[-1]] = data.draw(st.integers(-3, 200))
        else:
            parent[path[-1]] = data.draw(json_values)
    report = validate_records([("f.jsonl", 1, "record 1", r)])
    for p in report.problems:
        assert p.message and p.format().startswith("f.jsonl:1:")


def test_publish_can_keep_annotator_names_when_asked(tmp_path):
    """The escape hatch of the case above: a team whose annotators agreed to be named."""
    content = jsonl(rec(status="corrected", provenance__annotators=["someone@example.org"]))
    result, out = run_case(tmp_path, "publish", content, "records.jsonl")
    assert result.exit_code == 2
    src = tmp_path / "records.jsonl"  # written by run_case
    manifest = tmp_path / "splits.json"
    result = CliRunner().invoke(app, ["publish", str(src), "-m", str(manifest), "-o", str(out / "dataset"), "--keep-annotator-names"])
    assert result.exit_code == 0, result.output
    from builder.publish import load_published

    assert load_published(out / "dataset")["train"][0]["provenance"]["annotators"] == ["someone@example.org"]
