"""Every command meets malformed input with a located error, a non-zero exit and no output."""

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from builder.cli import app
from builder.validate import validate_records

from test_validate import record

GOOD = json.dumps(record())
ROOT = Path(__file__).resolve().parents[1]


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


# ---------------------------------------------------------------------------------------
# Characters no record may hold, files that are not files, articles that are not articles

SURROGATE = b'{"id": "a", "text": "A drone \\ud800 strike hit the port."}\n'
NUL = b'{"id": "a", "text": "A drone \\u0000 strike hit the port."}\n'

# (name, command, input bytes, expected exit code, expected text in the message)
RECORD_CASES = [
    ("lone surrogate: label", "label", SURROGATE, 2, "in.jsonl:1 -> text: lone surrogate U+D800 at character 8"),
    ("lone surrogate: ingest", "ingest", SURROGATE, 2, "in.jsonl:1 -> text: lone surrogate U+D800"),
    ("lone surrogate: build", "build", SURROGATE, 2, "in.jsonl:1 -> text: lone surrogate U+D800"),
    ("lone surrogate: validate", "validate", jsonl(rec(text="A drone \ud800 strike")), 2, "in.jsonl:1: [text] lone surrogate U+D800"),
    ("lone surrogate in a key", "label", b'{"id": "a", "text": "x", "\\udc00": 1}\n', 2, "in.jsonl:1 -> \\udc00: key holds"),
    ("NUL: label", "label", NUL, 2, "in.jsonl:1 -> text: NUL character at character 8"),
    ("NUL: build", "build", NUL, 2, "in.jsonl:1 -> text: NUL character"),
    ("NUL: validate", "validate", jsonl(rec(text="A drone \x00 strike")), 2, "in.jsonl:1: [text] NUL character"),
    ("NUL in metadata: ingest", "ingest", b'{"id": "a", "text": "A drone strike.", "title": "T\\u0000"}\n', 2, "in.jsonl:1 -> title: NUL character"),
    ("whitespace-only text: ingest", "ingest", jsonl({"id": "a", "text": " \n\t "}), 2, "in.jsonl:1 -> text: the article has no text (only whitespace)"),
    ("empty text: label", "label", jsonl({"id": "a", "text": "ok"}, {"id": "b", "text": ""}), 2, "in.jsonl:2 -> text: empty; there is nothing to label"),
    ("whitespace-only text: label", "label", jsonl({"id": "a", "text": " \t"}), 2, "in.jsonl:1 -> text: empty (only whitespace)"),
    ("not sentence records: split", "split", jsonl({"id": "a", "text": "A drone strike."}), 1, "in.jsonl:1: [record 1] missing field: 'doc_id'"),
    ("not sentence records: report", "report", jsonl({"id": "a", "text": "A drone strike."}), 1, "in.jsonl:1: [record 1] missing field: 'status'"),
    ("not sentence records: calibrate", "calibrate", jsonl({"id": "a", "text": "A drone strike."}), 2, "in.jsonl:1 -> doc_id: expected a str, got missing"),
    ("not sentence records: label-model", "label-model", jsonl({"id": "a", "text": "A drone strike."}), 2, "in.jsonl:1 -> doc_id: expected a str, got missing"),
    ("not sentence records: train", "train", jsonl({"id": "a", "text": "A drone strike."}), 2, "in.jsonl:1 -> doc_id: expected a str, got missing"),
    ("article over the length limit", "ingest", jsonl({"id": "a", "text": "Word. " * 200_000}), 2,
     "in.jsonl:1 -> text: the article is 1,200,000 characters long, over the limit of 1,000,000"),
]


def run_build_case(tmp_path, command, src):
    out = tmp_path / "out"
    args = {
        "validate": ["validate", str(src)],
        "ingest": ["ingest", str(src), "-o", str(out / "articles.jsonl"), "--removals", str(out / "removals.jsonl")],
        "label": ["label", str(src), "-o", str(out / "labelled.jsonl")],
        "build": ["build", "--corpus", str(src), "-o", str(out), "--annotations", str(tmp_path / "no-annotations")],
        "split": ["split", str(src), "-m", str(out / "manifest.json")],
        "report": ["report", str(src), "-o", str(out / "report")],
        "calibrate": ["calibrate", str(src), "-o", str(out / "calibration.json")],
        "label-model": ["label-model", str(src), "-o", str(out / "label-model.json")],
        "train": ["train", str(src), "-o", str(out / "model")],
    }[command]
    return CliRunner().invoke(app, args), out


@pytest.mark.parametrize("name, command, content, code, message", RECORD_CASES, ids=[c[0] for c in RECORD_CASES])
def test_malformed_records_are_refused_with_their_field(tmp_path, monkeypatch, name, command, content, code, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_bytes(content)
    result, out = run_build_case(tmp_path, command, Path("in.jsonl"))
    assert result.exit_code == code, result.output
    assert message in " ".join(result.output.split()), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()], list(out.rglob("*"))


def _symlink_loop(folder: Path) -> Path:
    folder.mkdir()
    (folder / "a.txt").symlink_to("b.txt")
    (folder / "b.txt").symlink_to("a.txt")
    return folder


def _folder_named_txt(folder: Path) -> Path:
    (folder / "x.txt").mkdir(parents=True)
    (folder / "y.txt").write_text("A drone strike hit the port.\n", encoding="utf-8")
    return folder


def _zero_byte(folder: Path) -> Path:
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"")
    (folder / "b.txt").write_text("A drone strike hit the port on Monday.\n", encoding="utf-8")
    return folder


def _all_noise(folder: Path) -> Path:
    folder.mkdir()
    (folder / "a.txt").write_text("A drone strike hit the port on Monday, killing three.\n", encoding="utf-8")
    (folder / "b.txt").write_text("Leave a Reply\nYour email address will not be published.\nPost a comment\n", encoding="utf-8")
    return folder


def _huge_single_line(folder: Path) -> Path:
    folder.mkdir()
    with (folder / "a.txt").open("w", encoding="utf-8") as fh:
        fh.write("A drone strike hit the port. " * 1_800_000)  # 52 MB, one line
    return folder


def _manifest_names_a_folder(folder: Path) -> Path:
    (folder / "a.txt").mkdir(parents=True)
    (folder / "manifest.jsonl").write_text(json.dumps({"id": "a", "file": "a.txt"}) + "\n", encoding="utf-8")
    return folder


# (name, command, how to make the input under tmp_path/"src", expected exit code, expected text)
FILE_CASES = [
    ("symlink loop: ingest", "ingest", _symlink_loop, 2, "src/a.txt: symbolic link loop"),
    ("symlink loop: build", "build", _symlink_loop, 2, "src/a.txt: symbolic link loop"),
    ("symlink loop: validate", "validate", lambda f: _symlink_loop(f) / "a.txt", 2, "src/a.txt: symbolic link loop"),
    ("folder named x.txt", "ingest", _folder_named_txt, 2, "src/x.txt: is a folder, expected a text file"),
    ("manifest names a folder", "ingest", _manifest_names_a_folder, 2, "manifest.jsonl:1 -> file: src/a.txt: is a folder"),
    ("0-byte article", "ingest", _zero_byte, 2, "src/a.txt: the article has no text"),
    ("all-noise article", "build", _all_noise, 2, "b.txt: article 'b': every line was removed as scrape noise"),
    ("50 MB single-line article", "build", _huge_single_line, 2, "src/a.txt: the file is 52,200,000 bytes long, over the limit of 1,000,000 characters"),
    ("folder where a JSONL file is expected", "label", lambda f: f.mkdir() or f, 2, "src: is a folder, expected a JSONL file"),
]


@pytest.mark.parametrize("name, command, make, code, message", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_files_that_are_not_articles_are_refused_by_name(tmp_path, monkeypatch, name, command, make, code, message):
    monkeypatch.chdir(tmp_path)
    src = make(Path("src"))
    result, out = run_build_case(tmp_path, command, src)
    assert result.exit_code == code, result.output
    assert message in " ".join(result.output.split()), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()], list(out.rglob("*"))


def test_unreadable_article_is_refused_by_name(tmp_path):
    """Permissions are real: root, who reads anything, runs the command without the
    capabilities that override them."""
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "a.txt").write_text("A drone strike hit the port.\n", encoding="utf-8")
    os.chmod(folder / "a.txt", 0o000)
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    run = subprocess.run(
        [*drop, sys.executable, "-m", "builder", "ingest", str(folder), "-o", str(tmp_path / "o.jsonl"), "--removals", str(tmp_path / "r.jsonl")],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert run.returncode == 2, run.stderr
    assert f"{folder / 'a.txt'}: cannot be read: Permission denied" in " ".join(run.stderr.split())
    assert not (tmp_path / "o.jsonl").exists()


def test_label_output_naming_a_folder_is_refused(tmp_path):
    (tmp_path / "in.jsonl").write_bytes(jsonl({"id": 1, "text": "A drone strike hit the port."}))
    (tmp_path / "out").mkdir()
    result = CliRunner().invoke(app, ["label", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'out'}: is a folder; give a file path to write to" in " ".join(result.output.split())
    assert list((tmp_path / "out").iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out"]


def test_validate_names_the_file_once(tmp_path):
    (tmp_path / "in.jsonl").write_bytes(jsonl(GOOD, GOOD) + b"{oops\n")
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "in.jsonl")])
    assert result.exit_code == 2
    assert f"{tmp_path / 'in.jsonl'}:3: invalid JSON" in result.output
    assert result.output.count(str(tmp_path / "in.jsonl")) == 1, result.output


def test_version_prints_the_version():
    from builder import __version__

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == __version__


def test_a_killed_writer_leaves_nothing_the_next_run_keeps(tmp_path):
    """`label -o` killed mid-write leaves a temporary file; the next run of it removes it."""
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl(*({"id": i, "text": f"A drone strike hit the port on day {i}."} for i in range(20000))))
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "builder", "label", str(src), "-o", str(out)], cwd=ROOT, stderr=subprocess.DEVNULL)
    while not list(tmp_path.glob(".out.jsonl.*.tmp")):
        assert proc.poll() is None, "the command ended before writing"
    proc.kill()
    proc.wait()
    assert not out.exists() and len(list(tmp_path.glob(".out.jsonl.*.tmp"))) == 1
    (tmp_path / ".out.jsonl.abc123.tmp").write_text("left by an earlier version", encoding="utf-8")
    result = CliRunner().invoke(app, ["label", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]
