"""``eventds export``: the published dataset (or a records file) in the forms event-extraction
code reads, one file per split (conversions in :mod:`builder.formats`).

- ``ee``: ``<split>.jsonl``, TextEE's unified format (labels as strings);
- ``conll``: ``<split>.conll``, token, trigger BIO and one argument BIO column per event;
- ``docbin``: ``<split>.spacy``, spaCy ``DocBin`` files that ``spacy train`` reads (triggers as
  ``doc.ents`` and ``doc.spans["sc"]``, arguments in ``doc.spans["arguments"]``, events in
  ``user_data``);
- ``maven``: ``<split>.jsonl``, one MAVEN document per line.

A published folder gives its splits; a records file is split by a split manifest when one is
given, else written whole as ``all``.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterator, Optional

from . import formats
from .errors import InputError
from .io import read_jsonl

FORMATS = ("ee", "conll", "docbin", "maven")
EXTENSIONS = {"ee": "jsonl", "conll": "conll", "docbin": "spacy", "maven": "jsonl"}
WHOLE = "all"  # the split name of a records file exported without a manifest


def _published_records(folder: Path) -> Iterator[tuple[str, str, dict[str, Any]]]:
    from .validate import iter_dataset_records

    for where, _, label, row in iter_dataset_records(folder):
        split = row.pop("__split__")
        yield split, f"{folder} ({label})", row


def _file_records(path: Path, manifest: Optional[dict]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for lineno, record in read_jsonl(path):
        where = f"{path}:{lineno}"
        if manifest is None:
            split = WHOLE
        else:
            entry = manifest["documents"].get(record.get("doc_id"))
            if entry is None:
                raise InputError(f"{where} -> doc_id: document {record.get('doc_id')!r} is not in the split manifest")
            split = entry["split"]
        yield split, where, record


def read_records(path: Path, manifest: Optional[dict] = None) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """``split -> [(where, record)]`` from a published folder or a records JSONL file."""
    path = Path(path)
    if path.is_dir():
        if not (path / "README.md").exists():
            raise InputError(f"{path}: not a published dataset folder (no README.md) nor a records file")
        source = _published_records(path)
    elif path.exists():
        source = _file_records(path, manifest)
    else:
        raise InputError(f"{path}: no such file or folder")
    splits: dict[str, list] = defaultdict(list)
    for split, where, record in source:
        splits[split].append((where, record))
    return dict(splits)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def export(path: Path, fmt: str, out_dir: Path, manifest: Optional[dict] = None) -> tuple[dict[str, int], list[formats.LeftOut]]:
    """Write ``path`` in format ``fmt`` to ``out_dir``, one file per split.

    Returns:
        ``({file name: rows written}, spans left out)``: rows are sentences (documents for ``maven``).
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    splits = read_records(path, manifest)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    left_out: list[formats.LeftOut] = []
    written: dict[str, int] = {}
    for split, items in splits.items():
        target = out_dir / f"{split}.{EXTENSIONS[fmt]}"
        if fmt == "ee":
            rows = [formats.ee_row(r, w, left_out) for w, r in items]
            _write_text(target, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
            written[target.name] = len(rows)
        elif fmt == "conll":
            lines = [line for w, r in items for line in formats.conll_lines(r, w, left_out)]
            _write_text(target, "\n".join(lines) + "\n")
            written[target.name] = len(items)
        elif fmt == "maven":
            by_doc: dict[str, list] = defaultdict(list)
            for w, r in items:
                by_doc[r["doc_id"]].append(r)
            docs = [formats.maven_document(rs, f"{path} document {d}", left_out) for d, rs in by_doc.items()]
            _write_text(target, "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs))
            written[target.name] = len(docs)
        else:
            from spacy.tokens import DocBin

            docbin = DocBin(store_user_data=True)
            for w, r in items:
                docbin.add(formats.spacy_doc(r, w, left_out))
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(docbin.to_bytes())
            os.replace(tmp, target)
            written[target.name] = len(items)
    return written, left_out
