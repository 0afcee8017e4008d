"""Validation: JSON Schema plus the semantic checks a schema cannot express.

Every problem is reported, sorted by location, as
``FILE:LINE: [record N -> events -> 0 -> type] message``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from jsonschema import Draft202012Validator

from .errors import InputError, ValidationFailed
from .io import check_path, forbidden_characters, read_jsonl
from .labelset import event_types, validator


@dataclass(frozen=True, order=True)
class Problem:
    """One validation problem and where it is."""

    file: str
    line: int
    path: tuple[str, ...]
    message: str
    record: str = ""

    @classmethod
    def from_message(cls, file: str, message: str) -> "Problem":
        """A problem from an error message that may already start with ``FILE:`` or ``FILE:LINE:``."""
        line = 0
        if message.startswith(file + ":"):
            rest = message[len(file) + 1:]
            number, sep, after = rest.partition(":")
            if sep and number.isdigit():
                line, rest = int(number), after
            elif number.split(" ", 1)[0].isdigit():  # "FILE:3 -> text: ..."
                head, _, after = rest.partition(": ")
                line, rest = int(head.split(" ", 1)[0]), f"[{head.split(' -> ', 1)[1]}] {after}" if " -> " in head else after
            message = rest.strip()
        return cls(file, line, (), message)

    def location(self) -> str:
        return " -> ".join([self.record, *self.path]) if self.record else " -> ".join(self.path)

    def format(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        location = self.location()
        return f"{where}: [{location}] {self.message}" if location else f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "record": self.record, "path": list(self.path), "message": self.message}

    def github(self) -> str:
        location = self.location()
        msg = (f"[{location}] {self.message}" if location else self.message).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        line = f",line={self.line}" if self.line else ""
        return f"::error file={self.file}{line}::{msg}"


@dataclass
class Report:
    problems: list[Problem]
    records: int

    @property
    def ok(self) -> bool:
        return not self.problems


def _validator() -> Draft202012Validator:
    return validator("sentence")


def _span_problems(text: str, span: dict, path: list[str], what: str) -> Iterator[tuple[list[str], str]]:
    start, end = span.get("start"), span.get("end")
    if not (isinstance(start, int) and isinstance(end, int)):
        return
    if not 0 <= start < end <= len(text):
        yield path, f"{what} offsets [{start}, {end}) are not inside the sentence (0 <= start < end <= {len(text)})"
    elif span.get("text") != text[start:end]:
        yield path + ["text"], f"{span.get('text')!r} does not equal the sentence text[{start}:{end}] = {text[start:end]!r}"


def semantic_problems(record: dict[str, Any]) -> Iterator[tuple[list[str], str]]:
    """Yield ``(path, message)`` for what the schema cannot check (assumes a schema-valid record)."""
    text = record["text"]
    for key in ("id", "doc_id", "text"):
        for _, what in forbidden_characters(record[key]):
            yield [key], what
    if record["end"] - record["start"] != len(text):
        yield ["end"], f"end - start = {record['end'] - record['start']} but the text has {len(text)} characters"
    prov = record["provenance"]
    if prov["raw_end"] - prov["raw_start"] != len(text):
        yield ["provenance", "raw_end"], f"raw_end - raw_start = {prov['raw_end'] - prov['raw_start']} but the text has {len(text)} characters"
    if text != text.strip():
        yield ["text"], "sentence text has leading or trailing whitespace"
    for layer in ("events", "weak_events"):
        for i, event in enumerate(record[layer]):
            yield from _span_problems(text, event, [layer, str(i)], "trigger")
            for j, arg in enumerate(event["arguments"]):
                yield from _span_problems(text, arg, [layer, str(i), "arguments", str(j)], "argument")
            count = event.get("count")
            if count and count["min"] is not None and count["max"] is not None and count["min"] > count["max"]:
                yield [layer, str(i), "count"], f"min {count['min']} is greater than max {count['max']}"
    labels = sorted({e["type"] for e in record["events"]})
    if record["labels"] != labels:
        yield ["labels"], f"{record['labels']} does not agree with the event types {labels}"
    if record["status"] == "unlabelled" and record["events"]:
        yield ["status"], "status is 'unlabelled' but the record has events"


def validate_records(records: Iterable[tuple[str, int, str, Any]]) -> Report:
    """Validate ``(file, line, record_label, object)`` tuples; collect every problem.

    Checks the JSON Schema, span offsets and texts, labels against events, and that ids
    are unique across all records given.
    """
    validator = _validator()
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    n = 0
    for file, line, label, obj in records:
        n += 1
        errors = sorted(validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path])
        for err in errors:
            problems.append(Problem(file, line, tuple(str(p) for p in err.absolute_path), _message(err), label))
        if errors:
            continue
        for path, message in semantic_problems(obj):
            problems.append(Problem(file, line, tuple(path), message, label))
        where = f"{file}:{line}" if line else f"{file} {label}"
        if obj["id"] in first_seen:
            problems.append(Problem(file, line, ("id",), f"duplicate id {obj['id']!r} (first at {first_seen[obj['id']]})", label))
        else:
            first_seen[obj["id"]] = where
    return Report(sorted(problems), n)


def _message(err: Any) -> str:
    if err.validator == "enum":
        return f"{err.instance!r} is not one of {err.validator_value}"
    if err.validator == "additionalProperties":
        return f"unknown field: {err.message}"
    if err.validator == "required":
        return f"missing field: {err.message}"
    return err.message


def iter_jsonl_records(path: Path) -> Iterator[tuple[str, int, str, Any]]:
    for lineno, obj in read_jsonl(path):
        yield str(path), lineno, f"record {lineno}", obj


def iter_dataset_records(folder: Path) -> Iterator[tuple[str, int, str, Any]]:
    """Records of a published dataset folder's default config, ClassLabels decoded to names."""
    from .publish import load_published

    dataset = load_published(folder)
    type_names = event_types()
    for split, ds in dataset.items():
        for i, row in enumerate(ds):
            yield str(folder / split), 0, f"{split} record {i}", {**_decode_row(row, type_names), "__split__": split}


def _decode_row(row: dict[str, Any], type_names: tuple[str, ...]) -> dict[str, Any]:
    row = dict(row)
    for layer in ("events", "weak_events"):
        row[layer] = [{**e, "type": type_names[e["type"]] if isinstance(e["type"], int) else e["type"]} for e in row[layer]]
    row["labels"] = [type_names[t] if isinstance(t, int) else t for t in row["labels"]]
    return row


def _with_split_checks(
    records: Iterable[tuple[str, int, str, Any]], manifest: Optional[dict], manifest_path: str, problems: list[Problem]
) -> Iterator[tuple[str, int, str, Any]]:
    """Pass records through, noting documents in two splits and documents the manifest lacks or misplaces."""
    split_of_doc: dict[str, tuple[str, str]] = {}
    for file, line, label, obj in records:
        split = obj.pop("__split__", None) if isinstance(obj, dict) else None
        doc = obj.get("doc_id") if isinstance(obj, dict) else None
        if isinstance(doc, str):
            if split is not None:
                first = split_of_doc.setdefault(doc, (split, label))
                if first[0] != split:
                    problems.append(Problem(file, line, ("doc_id",), f"document {doc!r} is in split {split!r} and in {first[0]!r} ({first[1]})", label))
            if manifest is not None:
                entry = manifest["documents"].get(doc)
                if entry is None:
                    problems.append(Problem(file, line, ("doc_id",), f"document {doc!r} is not in the split manifest {manifest_path}", label))
                elif split is not None and entry["split"] != split:
                    problems.append(Problem(file, line, ("doc_id",), f"document {doc!r} is published in {split!r} but the manifest says {entry['split']!r}", label))
        yield file, line, label, obj


def validate_manifest(path: Path) -> Report:
    """Validate a split manifest against ``schema/split_manifest.schema.json``."""
    obj = _read_json(path)
    problems = [
        Problem(str(path), 0, tuple(str(p) for p in e.absolute_path), _message(e), "manifest")
        for e in validator("split_manifest").iter_errors(obj)
    ]
    return Report(sorted(problems), len(obj.get("documents", {})) if isinstance(obj, dict) else 0)


def _read_json(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot be read: {e.strerror}") from e
    if not data.strip():
        raise InputError(f"{path}: empty file, expected JSON")
    if data.startswith(b"\xef\xbb\xbf"):
        raise InputError(f"{path}:1: file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not valid UTF-8 at byte {e.start}: {e.reason}") from e
    except json.JSONDecodeError as e:
        raise InputError(f"{path}:{e.lineno}: invalid JSON at column {e.colno}: {e.msg}") from e


def validate_export(path: Path) -> Report:
    """Validate a Label Studio JSON export: the schema of the part we read, then every region
    and relation as ``eventds annotate pull`` would convert them (label set, region text
    against the task text, relations to existing regions)."""
    from .studio.export import human_layer_from_export
    from .studio.interface import LabelSet

    export = _read_json(path)
    schema_problems = [
        Problem(str(path), 0, tuple(str(p) for p in e.absolute_path), _message(e), "export")
        for e in validator("ls_export").iter_errors(export)
    ]
    if schema_problems:
        return Report(sorted(schema_problems), len(export) if isinstance(export, list) else 0)
    try:
        human_layer_from_export(export, LabelSet.current(), {}, None, include_drafts=True)
    except ValidationFailed as e:
        return Report([Problem(str(path), 0, (), p) for p in e.problems], len(export))
    return Report([], len(export))


KINDS = ("jsonl", "jsonl-dir", "dataset", "manifest", "ls-export", "build")


def detect_kind(path: Path) -> str:
    """Tell what ``path`` holds: one of :data:`KINDS`."""
    if path.is_dir():
        if (path / "records.jsonl").is_file() and (path / "dataset").is_dir():
            return "build"
        return "dataset" if (path / "README.md").exists() and any(path.rglob("*.parquet")) else "jsonl-dir"
    check_path(path, "file or folder")
    if path.suffix == ".json":
        obj = _read_json(path)
        if isinstance(obj, dict) and "documents" in obj:
            return "manifest"
        if isinstance(obj, list):
            return "ls-export"
        raise InputError(f"{path}: a JSON file that is neither a split manifest (object with 'documents') nor a Label Studio export (list of tasks)")
    return "jsonl"


def validate_path(path: str | Path, kind: Optional[str] = None, manifest: Optional[str | Path] = None) -> Report:
    """Validate a JSONL file, a folder of JSONL files, a published dataset folder, a split
    manifest, a Label Studio export or a build folder (:func:`validate_build`).

    Args:
        path: what to validate.
        kind: one of :data:`KINDS`; detected when ``None``.
        manifest: a split manifest to check records against (every document listed; in a
            dataset folder, every document in the split the manifest gives).

    Raises:
        InputError: the input cannot be read at all (exit code 2, distinct from invalid content).
    """
    path = Path(path)
    kind = kind or detect_kind(path)
    if kind not in KINDS:
        raise InputError(f"unknown input kind {kind!r}; expected one of {', '.join(KINDS)}")
    if kind == "manifest":
        return validate_manifest(path)
    if kind == "ls-export":
        return validate_export(path)
    if kind == "build":
        return validate_build(path, manifest)
    manifest_obj = None
    if manifest is not None:
        m_report = validate_manifest(Path(manifest))
        if not m_report.ok:
            return m_report
        manifest_obj = _read_json(Path(manifest))
    if kind == "jsonl":
        records = iter_jsonl_records(path)
    elif kind == "jsonl-dir":
        files = sorted(path.rglob("*.jsonl"))
        if not files:
            raise InputError(f"{path}: no .jsonl files in this folder")
        records = (r for f in files for r in iter_jsonl_records(f))
    else:
        records = iter_dataset_records(path)
    extra: list[Problem] = []
    report = validate_records(_with_split_checks(records, manifest_obj, str(manifest), extra))
    return Report(sorted(report.problems + extra), report.records)


def validate_build(folder: Path, manifest: Optional[str | Path] = None) -> Report:
    """Validate a build folder: ``records.jsonl`` and ``dataset/`` against the split manifest
    (``manifest``, else the folder's ``manifest.json``), and the manifest itself.

    A build folder is read after :func:`builder.swap.recover`, so what a killed build left
    is finished or discarded first."""
    from . import swap

    with swap.reading(folder):
        manifest_path = Path(manifest) if manifest is not None else folder / "manifest.json"
        if not manifest_path.is_file():
            raise InputError(f"{folder}: a build folder without manifest.json; name the split manifest with --manifest")
        reports = [validate_manifest(manifest_path)]
        if reports[0].ok:
            reports.append(validate_path(folder / "records.jsonl", "jsonl", manifest_path))
            reports.append(validate_path(folder / "dataset", "dataset", manifest_path))
    return Report(sorted(p for r in reports for p in r.problems), reports[1].records if len(reports) > 1 else 0)


def require_valid(path: str | Path, kind: Optional[str] = "jsonl") -> Path:
    """``path``, once :func:`validate_path` finds no problem in it.

    Raises:
        InputError: the input cannot be read.
        ValidationFailed: every problem, as ``eventds validate`` prints them.
    """
    report = validate_path(path, kind)
    if not report.ok:
        raise ValidationFailed(format_report(report).splitlines())
    return Path(path)


def format_report(report: Report, fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps({"ok": report.ok, "records": report.records, "problems": [p.to_dict() for p in report.problems]}, ensure_ascii=False, indent=2)
    if fmt == "github":
        return "\n".join(p.github() for p in report.problems)
    lines = [p.format() for p in report.problems]
    lines.append(f"{report.records} records, {len(report.problems)} problems")
    return "\n".join(lines)


