"""A Label Studio export -> the human layer, and merging a pull into the existing human layer."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping, Optional, Sequence

from ..errors import ValidationFailed
from ..labelset import HUMAN_STATUSES
from ..records import Event
from .interface import TEXT, LabelSet
from .offsets import LS_OFFSET_UNIT, OffsetUnit
from .results import events_from_results
from .tasks import HUMAN_MARK, events_digest

#: Status order: a pull that would lower a sentence's status is a downgrade.
STATUS_RANK = {"corrected": 1, "adjudicated": 2}


# ---------------------------------------------------------------------------------------
# Export -> human layer


@dataclass
class PullStats:
    """What a pull found in the export, and what it did to the human layer.

    The id lists name the sentences of each outcome of the merge (see :func:`merge_human_layer`).
    """

    tasks: int = 0
    annotated: int = 0
    annotations: int = 0
    skipped: int = 0
    drafts_used: int = 0
    drafts_ignored: int = 0
    ground_truth: int = 0
    pushed_unedited: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    downgraded: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    previous: Optional[str] = None
    recovered: Optional[str] = None

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("tasks", str(self.tasks)),
            ("tasks with a human annotation", str(self.annotated)),
            ("completed annotations", str(self.annotations)),
            ("skipped annotations", str(self.skipped)),
            ("drafts used", str(self.drafts_used)),
            ("drafts ignored", str(self.drafts_ignored)),
            ("picked as ground truth", str(self.ground_truth)),
            ("pushed human annotations unedited", str(self.pushed_unedited)),
            ("sentences added", str(len(self.added))),
            ("sentences changed", str(len(self.changed))),
            ("sentences unchanged", str(len(self.unchanged))),
            ("sentences kept (not annotated here)", str(len(self.kept))),
            ("sentences removed", str(len(self.removed))),
            ("sentences downgraded", str(len(self.downgraded))),
            ("files written", ", ".join(self.written) or "none"),
            ("previous files", self.previous or "-"),
        ]

    def changes(self) -> list[tuple[str, str]]:
        """``(outcome, sentence id)`` for every sentence the pull added, changed, removed or downgraded."""
        return [(what, sid) for what in ("added", "changed", "downgraded", "removed") for sid in getattr(self, what)]


@dataclass
class HumanLayer:
    """A converted export: the human layer, per-annotator detail and counts.

    Attributes:
        records: one human-layer record per annotated task.
        annotators: one record per (sentence, annotator).
        stats: counts.
        tasks: per sentence id of every task, what the merge needs: ``task`` (its id),
            ``skipped`` (skipped annotations), ``marked`` (a human annotation was pushed to it).
        unedited: sentences whose chosen annotation is a pushed human annotation, unedited.
    """

    records: list[dict[str, Any]]
    annotators: list[dict[str, Any]]
    stats: PullStats
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    unedited: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Candidate:
    kind: str  # "annotation" | "draft"
    id: Any
    annotator: str
    ground_truth: bool
    when: datetime
    created_at: Optional[str]
    updated_at: Optional[str]
    lead_time: Optional[float]
    events: tuple[Event, ...]
    pushed: bool = False  # equal to the human annotation `annotate push --with-human` sent


_EPOCH = datetime(1970, 1, 1).astimezone()


def _when(obj: Mapping[str, Any]) -> datetime:
    for key in ("updated_at", "created_at"):
        value = obj.get(key)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.astimezone()
    return _EPOCH


def annotator_name(value: Any, users: Mapping[int, str]) -> str:
    """A stable annotator id from an export's ``completed_by`` (user id or user object) or a draft's ``user``."""
    if isinstance(value, Mapping):
        for key in ("email", "username"):
            if value.get(key):
                return str(value[key])
        value = value.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return users.get(value, f"user:{value}")
    if isinstance(value, str) and value:
        return value
    return "unknown"


def _pick(candidates: Sequence[_Candidate]) -> _Candidate:
    """Ground truth first, else the most recent (ties: the higher id)."""
    return max(candidates, key=lambda c: (c.ground_truth, c.when, str(c.id)))


def _mark_of(t: Mapping[str, Any], where: str, problems: list[str]) -> Optional[Mapping[str, Any]]:
    meta = t.get("meta")
    mark = meta.get(HUMAN_MARK) if isinstance(meta, Mapping) else None
    if mark is None:
        return None
    if (
        not isinstance(mark, Mapping)
        or not isinstance(mark.get("events"), str)
        or mark.get("status") not in HUMAN_STATUSES
        or not isinstance(mark.get("annotators"), list)
        or not all(isinstance(a, str) for a in mark["annotators"])
    ):
        problems.append(f"{where}: meta -> {HUMAN_MARK} is not a mark written by `eventds annotate push --with-human`")
        return None
    return mark


def human_layer_from_export(
    export: Any,
    labels: LabelSet,
    users: Mapping[int, str],
    guidelines_version: Optional[str],
    include_drafts: bool = False,
    unit: OffsetUnit = LS_OFFSET_UNIT,
) -> HumanLayer:
    """Convert a Label Studio JSON export into the human layer and per-annotator detail.

    Per task: skipped (``was_cancelled``) annotations are counted and ignored; drafts are
    ignored unless ``include_drafts``; each annotator's latest annotation is kept in the
    per-annotator detail; the human layer takes the ground-truth annotation, else the most
    recent one, and lists every annotator (the chosen one first).

    A task to which ``annotate push --with-human`` sent a human annotation carries its mark
    (``meta.eventds_human``). When the chosen annotation is still equal to it, the record
    takes status, annotators and guidelines version from the mark, so the pushed human
    layer comes back unchanged; such an annotation is no annotator's own work and is left
    out of the per-annotator detail. An edited one is an annotation like any other.

    Args:
        export: the parsed JSON export (a list of tasks).
        labels: the label set every region must use.
        users: user id -> annotator name (email) for ``completed_by``.
        guidelines_version: written into every human-layer record.
        include_drafts: treat drafts as annotations of their author.
        unit: Label Studio's offset unit.

    Raises:
        ValidationFailed: listing every problem (naming task id, sentence id, annotation and
            region); nothing is returned then.
    """
    if not isinstance(export, list):
        raise ValidationFailed([f"export: expected a JSON list of tasks, got {type(export).__name__}"])
    stats = PullStats()
    problems: list[str] = []
    records: list[dict[str, Any]] = []
    detail: list[dict[str, Any]] = []
    tasks: dict[str, dict[str, Any]] = {}
    unedited: set[str] = set()
    seen: dict[str, Any] = {}
    for n, t in enumerate(export):
        if not isinstance(t, Mapping):
            problems.append(f"export item {n}: not a task object")
            continue
        task_id = t.get("id")
        data = t.get("data")
        if not isinstance(data, Mapping) or not isinstance(data.get(TEXT), str) or not isinstance(data.get("sentence_id"), str):
            problems.append(f"task {task_id}: data has no text or sentence_id (not imported by `eventds annotate push`?)")
            continue
        text, sid = data[TEXT], data["sentence_id"]
        where_task = f"task {task_id} (sentence {sid})"
        if sid in seen:
            problems.append(f"{where_task}: sentence id also used by task {seen[sid]}")
            continue
        seen[sid] = task_id
        stats.tasks += 1
        mark = _mark_of(t, where_task, problems)
        state = tasks[sid] = {"task": task_id, "skipped": 0, "marked": mark is not None}
        anns, drafts = t.get("annotations", []), t.get("drafts", [])
        if not isinstance(anns, list) or not isinstance(drafts, list):
            problems.append(f"{where_task}: annotations or drafts is not a list")
            continue
        candidates: list[_Candidate] = []
        sources: list[tuple[str, Mapping[str, Any]]] = [("annotation", a) for a in anns]
        if include_drafts:
            sources += [("draft", d) for d in drafts]
        else:
            stats.drafts_ignored += len(drafts)
        for kind, a in sources:
            if not isinstance(a, Mapping):
                problems.append(f"{where_task}: an {kind} is not an object")
                continue
            if kind == "annotation" and a.get("was_cancelled"):
                stats.skipped += 1
                state["skipped"] += 1
                continue
            where = f"{where_task} {kind} {a.get('id')}"
            events, errs = events_from_results(a.get("result"), text, labels, where, unit)
            problems.extend(errs)
            if errs:
                continue
            who = annotator_name(a.get("completed_by") if kind == "annotation" else a.get("user"), users)
            candidates.append(
                _Candidate(
                    kind, a.get("id"), who, bool(a.get("ground_truth")) and kind == "annotation", _when(a),
                    a.get("created_at"), a.get("updated_at"), a.get("lead_time"), tuple(events),
                    pushed=mark is not None and events_digest(events) == mark["events"],
                )
            )
            stats.annotations += kind == "annotation"
            stats.drafts_used += kind == "draft"
        if not candidates:
            continue
        by_annotator: dict[str, list[_Candidate]] = defaultdict(list)
        for c in candidates:
            by_annotator[c.annotator].append(c)
        chosen = _pick(candidates)
        stats.annotated += 1
        stats.ground_truth += chosen.ground_truth
        order = sorted(by_annotator, key=lambda who: (who != chosen.annotator, min(c.when for c in by_annotator[who])))
        # A ground-truth annotation over two or more annotators' work is an adjudication.
        status = "adjudicated" if chosen.ground_truth and len(by_annotator) >= 2 else "corrected"
        annotators, version = order, guidelines_version
        if chosen.pushed and mark is not None:
            unedited.add(sid)
            stats.pushed_unedited += 1
            others = [who for who in order if any(not c.pushed for c in by_annotator[who])]
            status, version = mark["status"], mark.get("guidelines_version")
            annotators = list(dict.fromkeys([*mark["annotators"], *others]))
        records.append(
            {
                "id": sid,
                "text": text,
                "events": [e.to_dict() for e in chosen.events],
                "status": status,
                "annotators": annotators,
                "guidelines_version": version,
                "label_studio": {
                    "task": task_id,
                    chosen.kind: chosen.id,
                    "selected_by": "ground_truth" if chosen.ground_truth else "most_recent",
                    **({"pushed": True} if sid in unedited else {}),
                },
            }
        )
        for who in order:
            own = [c for c in by_annotator[who] if not c.pushed]
            if not own:
                continue
            c = _pick(own)
            detail.append(
                {
                    "id": sid,
                    "annotator": who,
                    "task": task_id,
                    "kind": c.kind,
                    c.kind: c.id,
                    "ground_truth": c.ground_truth,
                    "created_at": c.created_at,
                    "updated_at": c.updated_at,
                    "lead_time": c.lead_time,
                    "events": [e.to_dict() for e in c.events],
                }
            )
    if problems:
        raise ValidationFailed(problems)
    return HumanLayer(records, detail, stats, tasks, unedited)


# ---------------------------------------------------------------------------------------
# Merging a pull into the existing human layer


@dataclass
class Merge:
    """The human layer after a pull, and what happened to each sentence.

    Attributes:
        records: the merged human layer, by sentence id.
        annotators: the merged per-annotator detail, by sentence id and annotator.
        outcome: sentence id -> ``added``, ``changed``, ``unchanged``, ``kept``, ``removed``
            or ``downgraded`` (only sentences with a human record before or after).
        refused: one message per removal or downgrade (empty when they were allowed).
    """

    records: list[dict[str, Any]]
    annotators: list[dict[str, Any]]
    outcome: dict[str, str]
    refused: list[str]

    def ids(self, outcome: str) -> list[str]:
        return sorted(sid for sid, o in self.outcome.items() if o == outcome)


def _content(record: Mapping[str, Any]) -> dict[str, Any]:
    """What a human record says (its Label Studio ids are where it came from, not what it says)."""
    return {k: v for k, v in record.items() if k != "label_studio"}


def merge_human_layer(
    existing: Iterable[Mapping[str, Any]],
    existing_annotators: Iterable[Mapping[str, Any]],
    layer: HumanLayer,
    allow_loss: bool = False,
) -> Merge:
    """Merge a converted export into the existing human layer, by sentence id.

    Per sentence:

    * **added**: no record yet; the pulled one is taken.
    * **unchanged**: the pulled record says the same (ids of the Label Studio task aside),
      or the chosen annotation is the pushed human annotation, unedited: the existing
      record stays as it is.
    * **changed**: the pulled record differs; it replaces the existing one.
    * **downgraded**: it differs and has a lower status (``adjudicated`` -> ``corrected``).
    * **kept**: the project has no task for the sentence, or a task nobody annotated,
      skipped or was sent a human annotation: the existing record stays.
    * **removed**: the task has no completed annotation but was skipped, or the human
      annotation pushed to it is gone (deleted, or skipped): the annotation was taken away.

    Fewer events is a correction (changed), not a removal. Removals and downgrades are
    refused (listed in ``refused``, with the records unchanged) unless ``allow_loss``.

    Per-annotator detail is merged by (sentence, annotator): a pulled row replaces the row
    of the same annotator; a removed sentence loses its rows.

    Args:
        existing: the current human-layer records.
        existing_annotators: the current per-annotator rows.
        layer: the converted export.
        allow_loss: apply removals and downgrades instead of refusing them.
    """
    existing = [dict(r) for r in existing]
    existing_annotators = [dict(r) for r in existing_annotators]
    merged: dict[str, dict[str, Any]] = {r["id"]: r for r in existing}
    outcome: dict[str, str] = {}
    refused: list[str] = []
    for rec in layer.records:
        sid = rec["id"]
        old = merged.get(sid)
        if old is None:
            outcome[sid] = "added"
        elif sid in layer.unedited or _content(old) == _content(rec):
            outcome[sid] = "unchanged"
            continue
        elif STATUS_RANK.get(rec["status"], 0) < STATUS_RANK.get(old.get("status"), 0):
            outcome[sid] = "downgraded"
            where = rec.get("label_studio", {})
            refused.append(
                f"downgraded {sid}: {old.get('status')} -> {rec['status']} (task {where.get('task')}, "
                f"{'annotation' if 'annotation' in where else 'draft'} {where.get('annotation', where.get('draft'))})"
            )
        else:
            outcome[sid] = "changed"
        merged[sid] = rec
    pulled = {rec["id"] for rec in layer.records}
    for sid in sorted(set(merged) - pulled):
        state = layer.tasks.get(sid)
        if state is None or not (state["skipped"] or state["marked"]):
            outcome[sid] = "kept"
            continue
        outcome[sid] = "removed"
        why = "skipped" if state["skipped"] else "the human annotation pushed to it was deleted"
        refused.append(f"removed {sid}: task {state['task']} has no completed annotation ({why})")
    if refused and not allow_loss:
        return Merge(existing, existing_annotators, outcome, refused)
    removed = {sid for sid, o in outcome.items() if o == "removed"}
    rows: dict[tuple[str, str], dict[str, Any]] = {(r["id"], r["annotator"]): dict(r) for r in existing_annotators if r["id"] not in removed}
    for r in layer.annotators:
        rows[(r["id"], r["annotator"])] = r
    records = sorted((r for sid, r in merged.items() if sid not in removed), key=lambda r: r["id"])
    return Merge(records, [rows[k] for k in sorted(rows)], outcome, [] if allow_loss else refused)
