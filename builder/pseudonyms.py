"""Pseudonymous annotator ids for what is published.

Label Studio names annotators by their account, usually an e-mail address, and the human
layer keeps that name: the team's own files need it to reach a person. The published
dataset must not carry it. ``eventds publish`` replaces every annotator name with a
pseudonym (``annotator-1``, ``annotator-2``, ...) from a table kept beside the human layer,
``annotations/pseudonyms.json``. ``eventds annotate pull`` extends the table and never
changes an entry, so a person keeps their pseudonym from one release to the next.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping, TextIO

from .errors import InputError

PSEUDONYMS_FILE = "pseudonyms.json"
PREFIX = "annotator-"
_DESCRIPTION = (
    "Annotator name (Label Studio account) -> the pseudonym that `eventds publish` writes in "
    "its place. Kept by `eventds annotate pull`: entries are added, never changed. Not published."
)


def load(path: Path) -> dict[str, str]:
    """The table at ``path`` (empty when the file does not exist).

    Raises:
        InputError: the file is not a ``{"pseudonyms": {name: pseudonym}}`` object with
            distinct, non-empty pseudonyms that are not themselves e-mail addresses.
    """
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from e
    table = data.get("pseudonyms") if isinstance(data, dict) else None
    if not isinstance(table, dict):
        raise InputError(f"{path} -> pseudonyms: expected an object of annotator name -> pseudonym")
    owner: dict[str, str] = {}
    for name, pseudonym in table.items():
        if not isinstance(pseudonym, str) or not pseudonym.strip() or "@" in pseudonym:
            raise InputError(f"{path} -> pseudonyms -> {name}: expected a non-empty pseudonym without '@', got {pseudonym!r}")
        if pseudonym in owner:
            raise InputError(f"{path} -> pseudonyms -> {name}: pseudonym {pseudonym!r} is already {owner[pseudonym]!r}'s")
        owner[pseudonym] = name
    return dict(table)


def extend(table: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """``table`` with a new pseudonym for each name it lacks, numbered on in the order given."""
    out = dict(table)
    taken = set(out.values())
    number = 1 + max((int(p[len(PREFIX) :]) for p in taken if p.startswith(PREFIX) and p[len(PREFIX) :].isdigit()), default=0)
    for name in names:
        if name in out:
            continue
        while f"{PREFIX}{number}" in taken:
            number += 1
        out[name] = f"{PREFIX}{number}"
        taken.add(out[name])
    return out


def dump(f: TextIO, table: Mapping[str, str]) -> None:
    """Write ``table`` in the file's format."""
    json.dump({"description": _DESCRIPTION, "pseudonyms": dict(table)}, f, ensure_ascii=False, indent=2)
    f.write("\n")


def names_in(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Annotator names in human-layer or per-annotator records, in order of first appearance."""
    seen: dict[str, None] = {}
    for rec in records:
        if "annotator" in rec:
            seen.setdefault(rec["annotator"], None)
        for name in rec.get("annotators") or ():
            seen.setdefault(name, None)
    return list(seen)


def pseudonymise(record: dict[str, Any], table: Mapping[str, str], where: str) -> dict[str, Any]:
    """A sentence record with its annotator names (``provenance.annotators``, and event
    ``sources`` that are annotator names) replaced by their pseudonyms.

    Raises:
        InputError: an annotator has no pseudonym in ``table``; names the record and the field.
    """
    provenance = record.get("provenance") or {}
    names = provenance.get("annotators") or []
    missing = [n for n in names if n not in table]
    if missing:
        raise InputError(
            f"{where} -> provenance -> annotators: {missing[0]!r} has no pseudonym in the annotator table; "
            "run `eventds annotate pull` (which keeps annotations/pseudonyms.json), or publish with --keep-annotator-names"
        )
    if not names:
        return record

    out = {**record, "provenance": {**provenance, "annotators": [table[n] for n in names]}}
    for key in ("events", "weak_events"):
        if key in record:
            out[key] = [{**e, "sources": [table.get(s, s) for s in e["sources"]]} if e.get("sources") else e for e in record[key]]
    return out
