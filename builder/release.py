"""Versioned releases of the published dataset: ``eventds publish --version X.Y.Z``.

A versioned dataset folder holds, beside the parquet files and the card:

- ``releases.json``: every release (version, counts of sentences added, removed and
  re-annotated per split, with their ids) and the sentence index of the latest one
  (sentence id -> split and a hash of its annotation);
- ``CHANGELOG.md``: the same entries for people, newest first.

A sentence is *re-annotated* when its annotation (status, events with their types, offsets,
realis, arguments and counts; not the labelling functions' ``sources`` or ``confidence``)
differs from the previous release. A release never moves a published sentence to another
split: a sentence of the previous release found in another split stops publishing.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Optional

from .errors import InputError
from .io import read_jsonl
from .split import SPLITS

RELEASES_NAME = "releases.json"
CHANGELOG_NAME = "CHANGELOG.md"
_VERSION = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
CHANGES = ("added", "removed", "reannotated")


def parse_version(version: str) -> tuple[int, int, int]:
    m = _VERSION.fullmatch(version or "")
    if m is None:
        raise InputError(f"version {version!r} is not of the form X.Y.Z (e.g. 1.0.0)")
    return tuple(int(g) for g in m.groups())  # type: ignore[return-value]


def annotation_hash(record: dict[str, Any]) -> str:
    events = [{k: v for k, v in e.items() if k not in ("sources", "confidence")} for e in record.get("events") or ()]
    events.sort(key=lambda e: (e["start"], e["end"], e["type"]))
    blob = json.dumps({"status": record.get("status"), "events": events}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def sentence_index(records_path: Path, manifest: dict) -> dict[str, dict[str, str]]:
    """``sentence id -> {"split", "annotation"}`` of a records file under a split manifest."""
    index = {}
    for lineno, record in read_jsonl(records_path):
        entry = manifest["documents"].get(record["doc_id"])
        if entry is None:
            raise InputError(f"{records_path}:{lineno} -> doc_id: document {record['doc_id']!r} is not in the split manifest; run `eventds split` first")
        index[record["id"]] = {"split": entry["split"], "annotation": annotation_hash(record)}
    return index


def load_releases(folder: Path) -> Optional[dict[str, Any]]:
    path = Path(folder) / RELEASES_NAME
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: unreadable release history: {e}") from e


def plan_release(previous: Optional[dict[str, Any]], index: dict[str, dict[str, str]], version: str) -> dict[str, Any]:
    """The new ``releases.json`` content for ``version`` over ``previous`` (``None``: first release).

    Raises:
        InputError: the version is malformed or not above the last one, or a sentence of the
            last release is in another split now.
    """
    parse_version(version)
    releases = list((previous or {}).get("releases") or [])
    before = (previous or {}).get("sentences") or {}
    if releases:
        last = releases[-1]["version"]
        if parse_version(version) <= parse_version(last):
            raise InputError(f"version {version} is not above the last release {last}; give a higher version")
    moved = sorted(i for i in index.keys() & before.keys() if index[i]["split"] != before[i]["split"])
    if moved:
        shown = ", ".join(f"{i} ({before[i]['split']} -> {index[i]['split']})" for i in moved[:10])
        raise InputError(
            f"{len(moved)} sentences of release {releases[-1]['version'] if releases else '?'} would move to another split: {shown}; "
            "a published sentence keeps its split across versions (restore the split manifest)"
        )
    changes: dict[str, dict[str, list[str]]] = {s: {c: [] for c in CHANGES} for s in SPLITS}
    for i, entry in index.items():
        split = changes.setdefault(entry["split"], {c: [] for c in CHANGES})
        if i not in before:
            split["added"].append(i)
        elif before[i]["annotation"] != entry["annotation"]:
            split["reannotated"].append(i)
    for i in before.keys() - index.keys():
        changes.setdefault(before[i]["split"], {c: [] for c in CHANGES})["removed"].append(i)
    for split in changes.values():
        for ids in split.values():
            ids.sort()
    entry = {
        "version": version,
        "previous": releases[-1]["version"] if releases else None,
        "sentences": {s: sum(1 for e in index.values() if e["split"] == s) for s in changes},
        "changes": changes,
    }
    return {"releases": releases + [entry], "sentences": dict(sorted(index.items()))}


def changelog(releases: dict[str, Any]) -> str:
    """``CHANGELOG.md``: one section per release, newest first; ids listed per split."""
    lines = ["# Changelog", "", "Sentences added, removed and re-annotated in each release, by split.", ""]
    for entry in reversed(releases["releases"]):
        since = f" (since {entry['previous']})" if entry["previous"] else " (first release)"
        lines += [f"## {entry['version']}{since}", "", "| split | sentences | added | removed | re-annotated |", "|---|---|---|---|---|"]
        for split, c in entry["changes"].items():
            lines.append(f"| {split} | {entry['sentences'].get(split, 0)} | {len(c['added'])} | {len(c['removed'])} | {len(c['reannotated'])} |")
        lines.append("")
        if entry["previous"]:  # the first release adds everything: no need to list it
            for split, c in entry["changes"].items():
                for kind, label in (("added", "Added"), ("removed", "Removed"), ("reannotated", "Re-annotated")):
                    if c[kind]:
                        lines.append(f"- {label} in `{split}`: " + ", ".join(f"`{i}`" for i in c[kind]))
            lines.append("")
    return "\n".join(lines)


def card_section(entry: dict[str, Any]) -> str:
    """The card's ``## Version`` section for a release entry."""
    totals = {k: sum(len(c[k]) for c in entry["changes"].values()) for k in CHANGES}
    since = (
        f"Since {entry['previous']}: {totals['added']} sentences added, {totals['removed']} removed, "
        f"{totals['reannotated']} re-annotated (by split in `{CHANGELOG_NAME}`)."
        if entry["previous"] else "First versioned release."
    )
    return f"## Version\n\nThis is version **{entry['version']}** of the dataset. {since} A published sentence never changes split across versions."


def write_release_files(folder: Path, releases: dict[str, Any]) -> None:
    folder = Path(folder)
    (folder / RELEASES_NAME).write_text(json.dumps(releases, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / CHANGELOG_NAME).write_text(changelog(releases) + "\n", encoding="utf-8")
