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

from .errors import InputError
from .io import read_jsonl
from .labelset import event_types, load_schema


@dataclass(frozen=True, order=True)
class Problem:
    """One validation problem and where it is."""

    file: str
    line: int
    path: tuple[str, ...]
    message: str
    record: str = ""

    def location(self) -> str:
        return " -> ".join([self.record, *self.path]) if self.record else " -> ".join(self.path)

    def format(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: [{self.location()}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "record": self.record, "path": list(self.path), "message": self.message}

    def github(self) -> str:
        msg = f"[{self.location()}] {self.message}".replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
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
    return Draft202012Validator(load_schema("sentence"))


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
    for split, ds in dataset.items():
        type_names = event_types()
        for i, row in enumerate(ds):
            yield str(folder / split), 0, f"{split} record {i}", _decode_row(row, type_names)


def _decode_row(row: dict[str, Any], type_names: tuple[str, ...]) -> dict[str, Any]:
    row = dict(row)
    for layer in ("events", "weak_events"):
        row[layer] = [{**e, "type": type_names[e["type"]] if isinstance(e["type"], int) else e["type"]} for e in row[layer]]
    row["labels"] = [type_names[t] if isinstance(t, int) else t for t in row["labels"]]
    return row


def detect_kind(path: Path) -> str:
    """``dataset`` for a published folder, ``jsonl-dir`` for a folder of JSONL, ``jsonl`` for a file."""
    if path.is_dir():
        return "dataset" if (path / "README.md").exists() and any(path.rglob("*.parquet")) else "jsonl-dir"
    if path.is_file():
        return "jsonl"
    raise InputError(f"{path}: no such file or folder")


def validate_path(path: str | Path, kind: Optional[str] = None) -> Report:
    """Validate a JSONL file, a folder of JSONL files, or a published dataset folder."""
    path = Path(path)
    kind = kind or detect_kind(path)
    if kind == "jsonl":
        return validate_records(iter_jsonl_records(path))
    if kind == "jsonl-dir":
        files = sorted(path.rglob("*.jsonl"))
        if not files:
            raise InputError(f"{path}: no .jsonl files in this folder")
        return validate_records(r for f in files for r in iter_jsonl_records(f))
    if kind == "dataset":
        return validate_records(iter_dataset_records(path))
    raise InputError(f"unknown input kind {kind!r}; expected jsonl, jsonl-dir or dataset")


def format_report(report: Report, fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps({"ok": report.ok, "records": report.records, "problems": [p.to_dict() for p in report.problems]}, ensure_ascii=False, indent=2)
    if fmt == "github":
        return "\n".join(p.github() for p in report.problems)
    lines = [p.format() for p in report.problems]
    lines.append(f"{report.records} records, {len(report.problems)} problems")
    return "\n".join(lines)


