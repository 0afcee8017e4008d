"""Pull annotations from Label Studio and merge them into the human layer.

A pull merges the export into the human layer in ``annotations/`` (see
:func:`builder.studio.export.merge_human_layer`) and replaces its files as one step
(:mod:`builder.swap`), keeping the files it replaced in ``annotations/.previous/``.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Optional

from .. import pseudonyms, swap
from ..errors import ConfigError, InputError, ValidationFailed
from ..io import read_jsonl
from ..labelset import guidelines_version
from .client import StudioClient
from .export import PullStats, human_layer_from_export, merge_human_layer
from .interface import LabelSet
from .offsets import LS_OFFSET_UNIT, OffsetUnit
from .project import DEFAULT_PROJECT

EXPORT_FILE = "export.json"
HUMAN_FILE = "human.jsonl"
ANNOTATORS_FILE = "annotators.jsonl"
PREVIOUS_DIR = ".previous"  # in the pull's folder: the files each pull replaced, one folder per pull
PREVIOUS_KEPT = 10  # how many of those folders are kept


class PullRefused(ValidationFailed):
    """A pull would remove or downgrade human annotations; nothing was written."""


def _read_layer(path: Path) -> list[dict[str, Any]]:
    return [obj for _, obj in read_jsonl(path)] if path.exists() else []


def _read_export(path: Path) -> list[Any]:
    if not path.exists():
        return []
    try:
        export = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not a readable JSON export ({e})") from e
    if not isinstance(export, list):
        raise InputError(f"{path}: expected a JSON list of tasks, got {type(export).__name__}")
    return export


def _sentence_of(task: Any) -> Optional[str]:
    data = task.get("data") if isinstance(task, Mapping) else None
    sid = data.get("sentence_id") if isinstance(data, Mapping) else None
    return sid if isinstance(sid, str) else None


def merge_exports(old: list[Any], new: list[Any], outcome: Mapping[str, str]) -> list[Any]:
    """One task per sentence: from the export its human record came from.

    A sentence whose existing record stays (``unchanged``, ``kept``) keeps its earlier task;
    every other sentence of the new export takes its new task. Earlier tasks stay in
    their order; tasks of sentences new to the file follow in the new export's order.
    """
    fresh = {sid: t for t in new if (sid := _sentence_of(t)) is not None}
    stays = {sid for sid, what in outcome.items() if what in ("unchanged", "kept")}
    merged, seen = [], set()
    for t in old:
        sid = _sentence_of(t)
        merged.append(fresh[sid] if sid in fresh and sid not in stays else t)
        seen.add(sid)
    merged += [t for t in new if _sentence_of(t) not in seen]
    return merged


def _jsonl(records: list[dict[str, Any]]) -> Optional[bytes]:
    if not records:
        return None  # an empty file would not be readable JSONL: the file is removed instead
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def _previous_folder(out_dir: Path) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name, n = stamp, 1
    while (out_dir / PREVIOUS_DIR / name).exists():
        n += 1
        name = f"{stamp}-{n}"
    return f"{PREVIOUS_DIR}/{name}"


def _prune_previous(out_dir: Path, keep: int = PREVIOUS_KEPT) -> None:
    folder = out_dir / PREVIOUS_DIR
    if folder.is_dir():
        for old in sorted(p for p in folder.iterdir() if p.is_dir())[:-keep]:
            shutil.rmtree(old)


def write_pull(
    export: Any,
    out_dir: Path,
    users: Mapping[int, str],
    include_drafts: bool = False,
    labels: Optional[LabelSet] = None,
    unit: OffsetUnit = LS_OFFSET_UNIT,
    replace: bool = False,
) -> PullStats:
    """Convert an export and merge it into the human layer in ``out_dir``.

    The export is converted and checked first; then, with ``out_dir`` locked, the current
    ``human.jsonl``, ``annotators.jsonl`` and ``export.json`` are read and merged with it by
    sentence id (:func:`builder.studio.export.merge_human_layer`; :func:`merge_exports`),
    each new annotator gets a pseudonym in ``pseudonyms.json`` (see
    :mod:`builder.pseudonyms`), and the files whose content changed are replaced as one step
    (:func:`builder.swap.replace_together`). The files replaced are kept in
    ``out_dir/.previous/<UTC time>/`` (the last 10 such folders are kept). When the human
    layer and the per-annotator detail do not change, nothing is written.

    Args:
        export: the parsed Label Studio JSON export.
        out_dir: the human layer's folder.
        users: user id -> annotator name.
        include_drafts: use drafts as annotations.
        labels: the label set (default: the project's).
        unit: Label Studio's offset unit.
        replace: apply removals and downgrades instead of refusing them.

    Returns:
        The counts and, per outcome, the sentence ids.

    Raises:
        ValidationFailed: a region or relation is invalid or the export is malformed; no file
            is written.
        PullRefused: the merge would remove or downgrade human annotations (and ``replace`` is
            false); no file is written.
        InputError: a current file of the human layer cannot be read; no file is written.
        FolderBusy: another process is writing ``out_dir``.
    """
    labels = labels or LabelSet.current()
    layer = human_layer_from_export(export, labels, users, labels.version or guidelines_version(), include_drafts, unit)
    stats = layer.stats
    out_dir = Path(out_dir)
    recovered = swap.recover(out_dir)
    if recovered.rolled_forward:
        stats.recovered = "completed an interrupted pull"
    elif recovered.rolled_back:
        stats.recovered = "undid an interrupted pull"
    if not layer.records and not (out_dir / HUMAN_FILE).exists():
        return stats  # nothing to merge into and nothing to add: write nothing
    keep = _previous_folder(out_dir)
    removals: set[str] = set()
    with swap.replace_together(out_dir, remove=removals, keep=keep) as staging:
        existing = _read_layer(out_dir / HUMAN_FILE)
        existing_detail = _read_layer(out_dir / ANNOTATORS_FILE)
        old_export = _read_export(out_dir / EXPORT_FILE)
        table = pseudonyms.load(out_dir / pseudonyms.PSEUDONYMS_FILE)  # unreadable: stop before writing anything
        merge = merge_human_layer(existing, existing_detail, layer, allow_loss=replace)
        for what in ("added", "changed", "unchanged", "kept", "removed", "downgraded"):
            setattr(stats, what, merge.ids(what))
        if merge.refused:
            raise PullRefused(
                [f"{out_dir}: this pull would remove or downgrade {len(merge.refused)} human annotation(s); nothing was "
                 "written (pull again with --replace to accept, or fix them in Label Studio):", *merge.refused]
            )
        contents: dict[str, Optional[bytes]] = {
            HUMAN_FILE: _jsonl(merge.records),
            ANNOTATORS_FILE: _jsonl(merge.annotators),
        }
        current = {name: (out_dir / name).read_bytes() if (out_dir / name).exists() else None for name in contents}
        if contents == current:
            return stats
        contents[EXPORT_FILE] = (json.dumps(merge_exports(old_export, export, merge.outcome), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        extended = pseudonyms.extend(table, pseudonyms.names_in(merge.annotators) + pseudonyms.names_in(merge.records))
        if len(extended) > len(table):
            with (staging / pseudonyms.PSEUDONYMS_FILE).open("w", encoding="utf-8", newline="\n") as fh:
                pseudonyms.dump(fh, extended)
            stats.written.append(pseudonyms.PSEUDONYMS_FILE)
        for name, data in contents.items():
            path = out_dir / name
            if data is None:
                if path.exists():
                    removals.add(name)
                    stats.written.append(f"{name} (removed: empty)")
            elif not path.exists() or path.read_bytes() != data:
                (staging / name).write_bytes(data)
                stats.written.append(name)
    stats.written.sort()
    if (out_dir / keep).exists():
        stats.previous = str(out_dir / keep)
        _prune_previous(out_dir)
    return stats


def pull(
    client: StudioClient,
    project_title: str = DEFAULT_PROJECT,
    out_dir: Path = Path("annotations"),
    include_drafts: bool = False,
    labels: Optional[LabelSet] = None,
    unit: OffsetUnit = LS_OFFSET_UNIT,
    replace: bool = False,
) -> PullStats:
    """Export a project's annotations and merge them into the human layer (see :func:`write_pull`).

    Raises:
        ConfigError: there is no such project.
        ServiceError: the server failed.
        ValidationFailed: an invalid region or a malformed export; nothing is written.
        PullRefused: the pull would remove or downgrade human annotations; nothing is written.
    """
    project = client.find_project(project_title)
    if project is None:
        raise ConfigError(f"no Label Studio project titled {project_title!r} at {client.url}; push records first")
    export = client.export(project["id"])
    return write_pull(export, out_dir, client.users(), include_drafts, labels, unit, replace)
