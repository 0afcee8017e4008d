"""Validation: JSON Schema plus the semantic checks a schema cannot express.

Every problem is reported, sorted by location, as
``FILE:LINE: [record N -> events -> 0 -> type] message``.
"""

from __future__ import annotations

import json
import weakref
from array import array
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

import fastjsonschema
import numpy as np
from jsonschema import Draft202012Validator
from jsonschema.validators import extend

from .errors import InputError, ValidationFailed
from .io import check_path, forbidden_characters, read_jsonl
from .labelset import event_types, load_schema, validator
from .spill import AppendFile, make_folder, remove_folder


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


#: Keywords that only annotate a schema: dropped from the compiled schema (nothing to check).
_ANNOTATIONS = frozenset({"title", "description", "version", "$comment", "examples"})
#: Keywords whose value maps names (of properties, definitions) to schemas.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
#: Keywords whose value is data, not a schema: kept as it is.
_DATA = frozenset({"enum", "const", "default", "required"})

#: Draft 2020-12 with a JSON array being a list or a tuple: a record is checked as the dict
#: that is written (``json.dumps`` writes a tuple as an array), not as the line read back.
_RecordValidator = extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("array", lambda _, instance: isinstance(instance, (list, tuple))),
)


def _inline(node: Any, defs: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """``node`` with its local ``{"$ref": "#/$defs/NAME"}`` replaced by the definition and
    annotation keywords left out; a recursive definition keeps its ``$ref``."""
    if isinstance(node, list):
        return [_inline(x, defs, seen) for x in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1:
        name = ref[len("#/$defs/"):]
        if name in defs and name not in seen:
            return _inline(defs[name], defs, (*seen, name))
    out = {}
    for k, v in node.items():
        if k in _SCHEMA_MAPS and isinstance(v, dict):  # names -> schemas: every name stays
            out[k] = {name: _inline(sub, defs, seen) for name, sub in v.items()}
        elif k in _DATA:
            out[k] = v
        elif k not in _ANNOTATIONS:
            out[k] = _inline(v, defs, seen)
    return out


@lru_cache(maxsize=None)
def compiled_validator(name: str = "sentence") -> Draft202012Validator:
    """The validator of ``schema/<name>.schema.json``, made once per process: its local
    ``$ref``s inlined (resolving a reference through the registry costs as much as checking a
    field) and the schema checked once, here, rather than on every call. What it reports,
    message and path, is what :func:`builder.labelset.validator` reports.
    """
    schema = load_schema(name)
    if any(isinstance(v, str) and not v.startswith("#") for v in _refs(schema)):
        return validator(name)  # a reference to another schema: keep the registry
    compiled = _inline(schema, schema.get("$defs", {}))  # keeps ``$defs``, for a recursive one
    _RecordValidator.check_schema(compiled)
    return _RecordValidator(compiled)


#: The JSON Schema keywords :func:`fast_validator` may compile: what Draft 2020-12 and
#: Draft 7 (the newest fastjsonschema compiles) read alike.
_FAST_KEYWORDS = frozenset(
    "$defs $id $ref $schema additionalProperties description enum items maximum minLength minimum "
    "oneOf pattern properties required title type uniqueItems version".split()
)


@lru_cache(maxsize=None)
def fast_validator(name: str = "sentence") -> Optional[Any]:
    """A generated-code validator of ``schema/<name>.schema.json`` (fastjsonschema), about ten
    times faster than :func:`compiled_validator`, that raises on the first problem; ``None``
    when the schema uses a keyword outside :data:`_FAST_KEYWORDS`, or a ``$ref`` beside other
    keywords (which Draft 7 reads otherwise). It only says whether a record is valid: the
    messages of an invalid one come from :func:`compiled_validator`.
    """
    schema = load_schema(name)
    if not _fast_compatible(schema):
        return None
    draft7 = {**schema, "$schema": "http://json-schema.org/draft-07/schema#"}
    draft7.pop("$id", None)  # references stay local: nothing is fetched
    return fastjsonschema.compile(draft7)


def _fast_compatible(node: Any, schema_map: bool = False) -> bool:
    if isinstance(node, list):
        return all(_fast_compatible(v) for v in node)
    if not isinstance(node, dict):
        return True
    if schema_map:  # names -> schemas: the names are not keywords
        return all(_fast_compatible(v) for v in node.values())
    if "$ref" in node and set(node) - {"$ref", "description", "title"}:
        return False
    for k, v in node.items():
        if k not in _FAST_KEYWORDS:
            return False
        if k in ("enum", "required", "pattern", "type", "description", "title", "version", "$id", "$schema", "$ref"):
            continue
        if not _fast_compatible(v, schema_map=k in ("properties", "$defs")):
            return False
    return True


def _refs(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for v in node.values():
            yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def _validator() -> Draft202012Validator:
    return compiled_validator("sentence")


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
    are unique across all records given (see :class:`StreamValidator`).
    """
    checker = StreamValidator()
    for file, line, label, obj in records:
        checker.check(obj, line, label, file)
    return checker.report()


#: Records whose ids :class:`IdTable` keeps in memory before writing them out.
ID_BLOCK = 65_536
#: The prefix of :class:`IdTable`'s scratch folders (:func:`builder.spill.make_folder`).
_SPILL_PREFIX = "eventds-ids"


def _id_block() -> dict[str, Any]:
    """An empty block of :class:`IdTable`: the records' ids back to back, where each ends, their lines and file numbers."""
    return {"ids": bytearray(), "ends": array("q"), "lines": array("q"), "files": array("I")}


class IdTable:
    """The ids of the records seen, to find those seen twice, in 8 bytes of hash per record.

    Each record's id, file and line are kept a block of :data:`ID_BLOCK` records at a time,
    then written to scratch files (:mod:`builder.spill`) and read back only for records whose
    hashes are equal: a million records hold 8 MiB, where arrays of ids and lines took about
    50 MiB and a dict of id strings to their ``FILE:LINE`` about 240.

    Duplicates are found at the end (:meth:`duplicates`): records with equal 64-bit hashes
    are grouped, and within a group the ids themselves are compared, so a hash collision
    never makes a duplicate.

    Args:
        spill_dir: where to make the scratch folder, when one is needed (default: the system's).
    """

    def __init__(self, spill_dir: Optional[str | Path] = None) -> None:
        self._hashes = array("q")
        self._spill_dir = spill_dir
        self._file_names: dict[str, int] = {}
        self._labels: dict[int, str] = {}  # only for records without a line (a dataset row)
        self._block = _id_block()
        self._written = 0  # records written out
        self._ids_written = 0  # id bytes written out
        self._spilled: Optional[dict[str, AppendFile]] = None
        self._cleanup: Optional[weakref.finalize] = None

    def __len__(self) -> int:
        return len(self._hashes)

    def add(self, sid: str, file: str, line: int, label: str) -> None:
        """Note a record's id and where it is (``label`` is kept only when it is not ``record LINE``)."""
        self._hashes.append(hash(sid))
        block = self._block
        block["lines"].append(line)
        block["files"].append(self._file_names.setdefault(file, len(self._file_names)))
        if not line or label != f"record {line}":
            self._labels[len(self._hashes) - 1] = label
        block["ids"] += sid.encode("utf-8", "surrogatepass")
        block["ends"].append(self._ids_written + len(block["ids"]))
        if len(block["lines"]) >= ID_BLOCK:
            self._write_block()

    def close(self) -> None:
        """Remove the scratch files (the table cannot be read afterwards)."""
        if self._cleanup is not None:
            self._cleanup()

    def _write_block(self) -> None:
        if self._spilled is None:
            folder = make_folder(_SPILL_PREFIX, self._spill_dir)
            self._spilled = {name: AppendFile(folder / name) for name in self._block}
            self._cleanup = weakref.finalize(self, remove_folder, folder, list(self._spilled.values()))
        for name, values in self._block.items():
            self._spilled[name].append(bytes(values))
        self._written = len(self._hashes)
        self._ids_written += len(self._block["ids"])
        self._block = _id_block()

    def _value(self, name: str, n: int) -> int:
        """Record ``n``'s ``ends``, ``lines`` or ``files``."""
        column = self._block[name]
        if n >= self._written:
            return column[n - self._written]
        assert self._spilled is not None
        return array(column.typecode, self._spilled[name].read(n * column.itemsize, column.itemsize))[0]

    def _id(self, n: int) -> str:
        start, end = self._value("ends", n - 1) if n else 0, self._value("ends", n)
        if start >= self._ids_written:  # (a block's ids are written together)
            data = bytes(self._block["ids"][start - self._ids_written : end - self._ids_written])
        else:
            assert self._spilled is not None
            data = self._spilled["ids"].read(start, end - start)
        return data.decode("utf-8", "surrogatepass")

    def _where(self, n: int, names: list[str]) -> str:
        file, line = names[self._value("files", n)], self._value("lines", n)
        return f"{file}:{line}" if line else f"{file} {self._labels[n]}"

    def duplicates(self) -> Iterator[tuple[str, str, int, str, str]]:
        """``(file, id, line, label, where of the first)`` of every record whose id an earlier record has."""
        if len(self._hashes) < 2:
            return
        hashes = np.frombuffer(self._hashes, dtype=np.int64)
        order = np.argsort(hashes, kind="stable")  # equal hashes stay in the order seen
        sorted_hashes = hashes[order]
        same = np.flatnonzero(sorted_hashes[1:] == sorted_hashes[:-1])
        if not len(same):
            return
        names = list(self._file_names)
        starts = same[np.concatenate(([True], same[1:] != same[:-1] + 1))]
        for start in starts.tolist():
            end = start + 1
            while end < len(order) and sorted_hashes[end] == sorted_hashes[start]:
                end += 1
            first: dict[str, int] = {}
            for n in order[start:end].tolist():
                sid = self._id(n)
                if sid in first:
                    line = self._value("lines", n)
                    yield names[self._value("files", n)], sid, line, self._labels.get(n, f"record {line}"), self._where(first[sid], names)
                else:
                    first[sid] = n


#: The last of :meth:`StreamValidator.inspect`'s problems when a record breaks the schema (and
#: its semantic checks, which assume a schema-valid record, were not run).
SCHEMA_BROKEN = ((), "")


class StreamValidator:
    """Validates sentence records one at a time, as they are written or read: the JSON Schema
    (:func:`fast_validator` decides, :func:`compiled_validator` words the problems of a record
    it refuses; both made once), the semantic checks (:func:`semantic_problems`)
    and, at the end, that no id is used twice (:class:`IdTable`).

    A record is checked as a dict; nothing is read back. Problems name the file, line, record
    and field, as :func:`validate_path` names them.

    Args:
        file: the file the records are written to or read from (each :meth:`check` may name another).
    """

    def __init__(self, file: str | Path = "") -> None:
        self.file = str(file)
        self.problems: list[Problem] = []
        self.records = 0
        self._validator = _validator()
        self._fast = fast_validator("sentence")
        self._ids = IdTable()

    def check(self, record: Any, line: int, label: Optional[str] = None, file: Optional[str] = None) -> None:
        """Check one record, found at ``line`` (1-based; 0 when it has none) of ``file``.

        Args:
            record: the record as it is (or will be) written.
            line: its line in the file.
            label: how messages name it; ``record LINE`` by default.
            file: where it is; :attr:`file` by default.
        """
        self.add(record.get("id") if isinstance(record, dict) else None, self.inspect(record), line, label, file)

    def inspect(self, record: Any) -> list[tuple[tuple[str, ...], str]]:
        """The ``(path, message)`` problems of one record: ``[]`` when it has none; when it
        breaks the schema, the schema's, sorted by path, then :data:`SCHEMA_BROKEN`.

        It needs no other record: where the records are made (a build's workers), each is
        inspected there and :meth:`add` ed where they are gathered."""
        errors = self._schema_errors(record)
        if errors:
            errors.sort(key=lambda e: [str(p) for p in e.absolute_path])
            return [(tuple(str(p) for p in err.absolute_path), _message(err)) for err in errors] + [SCHEMA_BROKEN]
        return [(tuple(path), message) for path, message in semantic_problems(record)]

    def add(self, record_id: Optional[str], problems: list, line: int, label: Optional[str] = None, file: Optional[str] = None) -> None:
        """Count a record :meth:`inspect` ed (maybe elsewhere) with its problems: the id of a
        record that keeps to the schema joins the id table."""
        file = self.file if file is None else file
        label = f"record {line}" if label is None else label
        self.records += 1
        broken = bool(problems) and tuple(problems[-1]) == SCHEMA_BROKEN  # made in another process, maybe
        for path, message in problems[:-1] if broken else problems:
            self.problems.append(Problem(file, line, path, message, label))
        if not broken:
            self._ids.add(record_id, file, line, label)

    def _schema_errors(self, record: Any) -> list:
        """The schema's errors on ``record``: none when the fast validator passes it, else
        every error with its message and path (the fast one stops at the first)."""
        if self._fast is not None:
            try:
                self._fast(record)
                return []
            except fastjsonschema.JsonSchemaException:
                pass
        return list(self._validator.iter_errors(record))

    def report(self) -> Report:
        """Every problem found, duplicate ids included, sorted by place."""
        duplicates = [
            Problem(file, line, ("id",), f"duplicate id {sid!r} (first at {first})", label)
            for file, sid, line, label, first in self._ids.duplicates()
        ]
        return Report(sorted(self.problems + duplicates), self.records)

    def require_valid(self) -> None:
        """Return when no record had a problem.

        Raises:
            ValidationFailed: every problem, as ``eventds validate`` prints them.
        """
        report = self.report()
        if not report.ok:
            raise ValidationFailed(format_report(report).splitlines())


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


