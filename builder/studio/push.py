"""Push sentence records to Label Studio: tasks, weak events as predictions, and (optionally) human annotations.

Tasks carry the sentence id in ``data.sentence_id``; pushes look tasks up by it, so a push
can be repeated (or resumed after a failure) without creating duplicates. A push with the
human layer also marks each task it sends a human annotation to (``meta.eventds_human``).
"""

from __future__ import annotations

import json
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional

from ..errors import ConfigError, InputError, ValidationFailed
from ..io import read_jsonl
from ..labelset import HUMAN_STATUSES
from ..records import Sentence
from ..validate import require_valid
from .client import StudioClient
from .interface import LabelSet, label_config
from .offsets import LS_OFFSET_UNIT, OffsetUnit
from .priority import Prioritizer, content_words
from .project import DEFAULT_OVERLAP, DEFAULT_PROJECT, ensure_project, register
from .results import events_from_results
from .tasks import (
    HUMAN_MARK,
    events_digest,
    human_annotation,
    human_mark,
    human_problems,
    model_version,
    prediction_problems,
    record_problems,
)
from .tasks import task as make_task


@dataclass
class PushStats:
    """What a push did."""

    project_id: int = 0
    sentences: int = 0
    created: int = 0
    predictions_updated: int = 0
    unchanged: int = 0
    data_updated: int = 0
    duplicate_tasks: int = 0
    model_versions: list[str] = field(default_factory=list)
    with_human: bool = False
    human: int = 0
    human_created: int = 0
    human_updated: int = 0
    human_unchanged: int = 0
    human_not_sent: list[str] = field(default_factory=list)
    backend: Optional[str] = None

    def rows(self) -> list[tuple[str, str]]:
        rows = [
            ("project id", str(self.project_id)),
            ("sentences", str(self.sentences)),
            ("tasks created", str(self.created)),
            ("predictions replaced", str(self.predictions_updated)),
            ("task data updated", str(self.data_updated)),
            ("unchanged", str(self.unchanged)),
            ("duplicate tasks found", str(self.duplicate_tasks)),
            ("model version", ", ".join(self.model_versions)),
            ("ML backend registered", self.backend or "-"),
        ]
        if self.with_human:
            rows += [
                ("human annotations", str(self.human)),
                ("  sent", str(self.human_created)),
                ("  updated", str(self.human_updated)),
                ("  already there", str(self.human_unchanged)),
                ("  not sent (edited in Label Studio)", str(len(self.human_not_sent))),
            ]
        return rows


def read_sentences(
    path: Path, labels: LabelSet, unit: OffsetUnit = LS_OFFSET_UNIT, with_human: bool = False
) -> Iterator[tuple[Sentence, dict[str, Any], list[str]]]:
    """Stream sentence records as ``(sentence, task, problems)``: ``problems`` says where
    its weak events would not make valid predictions (unknown label, span text mismatch).

    With ``with_human``, the task of a ``corrected`` or ``adjudicated`` sentence also holds
    its events as an annotation (``annotations``) and the mark of that annotation (``meta``),
    and ``problems`` covers that annotation too.

    Raises:
        InputError: unreadable file or line, or a duplicate sentence id.
    """
    seen: dict[str, int] = {}
    for lineno, obj in read_jsonl(path):
        s = _sentence(path, lineno, obj)
        if s.id in seen:
            raise InputError(f"{path}:{lineno}: duplicate sentence id {s.id!r} (first at line {seen[s.id]})")
        seen[s.id] = lineno
        yield s, *_task_of(s, path, lineno, labels, unit, with_human)


def _sentence(path: Path, lineno: int, obj: Any) -> Sentence:
    try:
        return Sentence.from_dict(obj)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise InputError(f"{path}:{lineno}: not a sentence record ({e!r})") from e


def _task_of(
    s: Sentence, path: Path, lineno: int, labels: LabelSet, unit: OffsetUnit, with_human: bool, **data: Any
) -> tuple[dict[str, Any], list[str]]:
    """The task of one record (``data``: its context and priority) and the problems it would have."""
    task = make_task(s, unit, **data)
    found = record_problems(s, labels, f"{path}:{lineno} sentence {s.id}")
    found += [f"{path}:{lineno} {p}" for p in prediction_problems(s, task["predictions"][0], labels, unit)]  # "sentence ID prediction ..."
    if with_human and s.status in HUMAN_STATUSES:
        annotation = human_annotation(s, unit)
        found += [f"{path}:{lineno} {p}" for p in human_problems(s, annotation, labels, unit)]
        task["annotations"] = [annotation]
        task["meta"] = {HUMAN_MARK: human_mark(s)}
    return task, found


@dataclass
class PushPlan:
    """Where each record is in the file, its neighbours in its document, and its priority.

    Arrays of numbers (about 32 bytes a record), so that the records can be sent in priority
    order while the file stays on disk.
    """

    offsets: array = field(default_factory=lambda: array("q"))  # byte offset of each record's line
    lines: array = field(default_factory=lambda: array("q"))  # its line number
    prev: array = field(default_factory=lambda: array("q"))  # the record before it in its document, or -1
    next: array = field(default_factory=lambda: array("q"))  # the record after it, or -1
    priority: array = field(default_factory=lambda: array("d"))

    def order(self) -> list[int]:
        """Record positions from the highest priority to the lowest (file order among equals)."""
        return sorted(range(len(self.priority)), key=lambda i: -self.priority[i])


def plan_push(path: Path, prioritizer: Prioritizer) -> PushPlan:
    """Read the records once more (checked already) for :class:`PushPlan`.

    Neighbours are the records just before and after in the file when they are of the same
    document with the index one less or more (a build writes a document's sentences together).
    """
    plan = PushPlan()
    last: Optional[tuple[str, int]] = None
    with open(path, "rb") as fh:
        offset, lineno = 0, 0
        for raw in fh:
            here, offset, lineno = offset, offset + len(raw), lineno + 1
            if not raw.strip():
                continue
            s = _sentence(path, lineno, json.loads(raw))
            i = len(plan.offsets)
            plan.offsets.append(here)
            plan.lines.append(lineno)
            plan.next.append(-1)
            adjacent = last is not None and last == (s.doc_id, s.index - 1)
            plan.prev.append(i - 1 if adjacent else -1)
            if adjacent:
                plan.next[i - 1] = i
            last = (s.doc_id, s.index)
            plan.priority.append(prioritizer.priority(s.text, s.weak_events))
    return plan


def read_planned(
    path: Path, plan: PushPlan, labels: LabelSet, unit: OffsetUnit = LS_OFFSET_UNIT, with_human: bool = False
) -> Iterator[tuple[Sentence, dict[str, Any], list[str]]]:
    """As :func:`read_sentences`, in the plan's priority order, each task with its neighbours
    (``prev``, ``next``) and ``priority`` in its data."""
    with open(path, "rb") as fh:

        def at(i: int) -> Sentence:
            fh.seek(plan.offsets[i])
            try:
                return _sentence(path, plan.lines[i], json.loads(fh.readline()))
            except ValueError as e:
                raise InputError(f"{path}:{plan.lines[i]}: the file changed during the push ({e})") from e

        for i in plan.order():
            s = at(i)
            prev = at(plan.prev[i]).text if plan.prev[i] >= 0 else ""
            nxt = at(plan.next[i]).text if plan.next[i] >= 0 else ""
            yield s, *_task_of(s, path, plan.lines[i], labels, unit, with_human, prev=prev, next=nxt, priority=plan.priority[i])


def check_sentences(
    path: Path, labels: LabelSet, unit: OffsetUnit = LS_OFFSET_UNIT, with_human: bool = False
) -> tuple[list[str], Counter, Prioritizer]:
    """Read a whole records file, keeping only the sentence ids (in order), the model
    versions of their predictions, and the words of the human-annotated ones (for priorities).

    Raises:
        InputError: unreadable file or line, or a duplicate sentence id.
        ValidationFailed: every problem of every record, together.
    """
    ids: list[str] = []
    versions: Counter = Counter()
    problems: list[str] = []
    seen: set[str] = set()
    for s, _, found in read_sentences(path, labels, unit, with_human):
        problems += found
        ids.append(s.id)
        versions[model_version(s)] += 1
        if s.status in HUMAN_STATUSES:
            seen |= content_words(s.text)
    if problems:
        raise ValidationFailed(problems)
    return ids, versions, Prioritizer(seen)


def _same_prediction(existing: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    score = existing.get("score")
    return existing.get("result") == new["result"] and (score == new["score"] or (score is not None and new["score"] is not None and abs(score - new["score"]) < 1e-9))


def _send_human(
    client: StudioClient, existing: Mapping[str, Any], s: Sentence, task: Mapping[str, Any], labels: LabelSet, unit: OffsetUnit, stats: PushStats
) -> None:
    """Bring the human annotation of a sentence that already has a task into Label Studio.

    The task's annotations are compared with the human events by digest: an annotation equal
    to them is the human annotation (only its mark and ground-truth flag are brought up to
    date); the unedited annotation of an earlier push (equal to the task's mark) is updated
    in place; an earlier one edited or deleted in Label Studio is left alone and listed
    (pull first); otherwise the annotation is created. The mark is written after the
    annotation, so an interrupted push finds its annotation by digest and never adds a second.
    """
    task_id = existing["id"]
    wanted, mark = task["annotations"][0], task["meta"][HUMAN_MARK]
    meta = existing.get("meta") if isinstance(existing.get("meta"), Mapping) else {}
    previous = meta.get(HUMAN_MARK) if isinstance(meta.get(HUMAN_MARK), Mapping) else None
    digests: list[tuple[dict[str, Any], str]] = []
    for a in client.get(f"/api/tasks/{task_id}/annotations/") or []:
        if isinstance(a, Mapping) and not a.get("was_cancelled"):
            events, problems = events_from_results(a.get("result"), s.text, labels, "", unit)
            if not problems:
                digests.append((a, events_digest(events)))
    same = [a for a, d in digests if d == mark["events"]]
    earlier = [a for a, d in digests if previous is not None and d == previous.get("events")]
    if same:
        if bool(same[0].get("ground_truth")) != wanted["ground_truth"]:
            client.patch(f"/api/annotations/{same[0]['id']}/", {"ground_truth": wanted["ground_truth"]})
        if previous == mark and bool(same[0].get("ground_truth")) == wanted["ground_truth"]:
            stats.human_unchanged += 1
            return
        stats.human_updated += 1
    elif earlier:
        client.patch(f"/api/annotations/{earlier[0]['id']}/", dict(wanted))
        stats.human_updated += 1
    elif previous is not None:
        how = "edited" if digests else "deleted or skipped"
        stats.human_not_sent.append(f"{s.id}: task {task_id}: the human annotation pushed earlier was {how} in Label Studio; pull first")
        return
    else:
        client.post(f"/api/tasks/{task_id}/annotations/", dict(wanted))
        stats.human_created += 1
    client.patch(f"/api/tasks/{task_id}", {"meta": {**meta, HUMAN_MARK: mark}})


def push(
    client: StudioClient,
    records: Path,
    project_title: str = DEFAULT_PROJECT,
    batch_size: int = 100,
    labels: Optional[LabelSet] = None,
    unit: OffsetUnit = LS_OFFSET_UNIT,
    progress: Callable[[str, int, int], None] = lambda stage, done, total: None,
    with_human: bool = False,
    backend: Optional[tuple[str, Any]] = None,
    overlap: float = DEFAULT_OVERLAP,
) -> PushStats:
    """Push sentence records as tasks, their weak events as predictions (and, with
    ``with_human``, their human events as annotations).

    Checks the file as ``eventds validate`` does, then creates or reuses the project (config
    from the label set), imports one task per new sentence in batches (each batch with its
    predictions, and human annotations, in one atomic request), for sentences that already
    have a task replaces the prediction of the same model version when it differs and
    updates changed task data, and finally sets the project's model version to the
    labeller's so the predictions pre-annotate the tasks. Tasks are found by
    ``data.sentence_id``, so re-running (also after an interrupted push) never creates
    duplicates.

    With ``with_human``, every ``corrected`` or ``adjudicated`` sentence gets its events as
    an annotation (ground truth when adjudicated) for review, and its task a mark
    (``meta.eventds_human``: digest of the events, status, annotators, guidelines version)
    by which a pull gives back the same human record while the annotation is unedited. A
    task that already has an annotation equal to the human one gets none; see
    :func:`_send_human` for the rest.

    Tasks are sent from the highest priority (:mod:`builder.studio.priority`: uncertain
    pre-annotations and words no annotated sentence has come first) to the lowest, so that
    Label Studio's label stream, which follows task ids, serves them in that order; each
    carries ``data.priority`` and its neighbouring sentences (``prev``, ``next``). A task
    that has a priority already (set by the ML backend) keeps it.

    The file is read four times: to validate it, to check every record before anything is
    sent, to plan the order (offsets, neighbours and priorities, as arrays of numbers), and
    to send it a batch at a time in that order, so memory holds one batch and not the file.

    With ``backend`` (its URL and secret; see :mod:`builder.studio.backend`), the ML backend
    is registered with the project at the end (:func:`builder.studio.project.register`).

    Args:
        client: connection to the server.
        records: sentence records (JSONL).
        project_title: the project to create or reuse.
        batch_size: tasks (or predictions) per request.
        labels: the label set (default: the project's).
        unit: Label Studio's offset unit.
        progress: called as ``progress(stage, done, total)`` after every batch.
        with_human: send the human layer as annotations too.
        backend: ``(url, secret)`` of an ML backend to register with the project.
        overlap: the share of tasks annotated twice (:func:`~builder.studio.project.ensure_project`).

    Raises:
        InputError, ValidationFailed: bad records (nothing is sent).
        ConfigError: the config is invalid or would orphan annotations.
        ServiceError: the server failed; re-run to complete.
    """
    if batch_size < 1:
        raise ConfigError(f"batch size must be at least 1, got {batch_size}")
    labels = labels or LabelSet.current()
    records = Path(records)
    # Four passes over the file, so that memory holds one batch and not the whole file: the
    # first two check every record (nothing is sent if any is bad), the third plans the
    # order, the fourth sends.
    require_valid(records)  # what `eventds validate` rejects is never sent
    ids, versions, prioritizer = check_sentences(records, labels, unit, with_human)
    plan = plan_push(records, prioritizer)
    stats = PushStats(sentences=len(ids), model_versions=sorted(versions), with_human=with_human)
    project = ensure_project(client, project_title, label_config(labels), overlap=overlap)
    pid = stats.project_id = project["id"]

    existing: dict[str, dict[str, Any]] = {}
    for t in client.tasks(pid):
        sid = (t.get("data") or {}).get("sentence_id")
        if sid in existing:
            stats.duplicate_tasks += 1
        elif sid is not None:
            existing[sid] = t
    to_create = sum(sid not in existing for sid in ids)
    to_check = len(ids) - to_create  # sentences with a task: at most this many predictions to replace
    by_task: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if to_check:
        for pred in client.predictions(pid):
            by_task[pred.get("task")].append(pred)
    del ids

    new: list[dict[str, Any]] = []
    replace: list[dict[str, Any]] = []
    stale: list[int] = []

    def import_new() -> None:
        client.post(f"/api/projects/{pid}/import", new)
        stats.created += len(new)
        stats.human_created += sum(bool(t.get("annotations")) for t in new)
        progress("import", stats.created, to_create)
        new.clear()

    def replace_predictions() -> None:
        # New predictions first: an interruption leaves old + new, which the next push cleans up.
        client.post(f"/api/projects/{pid}/import/predictions", replace)
        for pred_id in stale:
            client.delete(f"/api/predictions/{pred_id}/")
        stats.predictions_updated += len(replace)
        progress("predictions", stats.predictions_updated, to_check)
        replace.clear()
        stale.clear()

    for s, task, problems in read_planned(records, plan, labels, unit, with_human):
        if problems:  # the file changed since the first pass
            raise ValidationFailed(problems)
        stats.human += "annotations" in task
        if s.id not in existing:
            new.append(task)
            if len(new) >= batch_size:
                import_new()
            continue
        task_id = existing[s.id]["id"]
        changed = False
        if "priority" in (existing[s.id].get("data") or {}):  # set since by the ML backend: it knows better
            task["data"]["priority"] = existing[s.id]["data"]["priority"]
        if existing[s.id].get("data") != task["data"]:
            client.patch(f"/api/tasks/{task_id}", {"data": task["data"]})
            stats.data_updated += 1
            changed = True
        if "annotations" in task:
            _send_human(client, existing[s.id], s, task, labels, unit, stats)
        pred = task["predictions"][0]
        mine = [p for p in by_task.get(task_id, []) if p.get("model_version") == pred["model_version"]]
        if len(mine) == 1 and _same_prediction(mine[0], pred):
            stats.unchanged += not changed
            continue
        replace.append({"task": task_id, **pred})
        stale.extend(p["id"] for p in mine)
        if len(replace) >= batch_size:
            replace_predictions()
    if new:
        import_new()
    if replace:
        replace_predictions()
    # Only now: Label Studio refuses a model version that no prediction has yet.
    current = str(project.get("model_version") or "")
    # A version the ML backend set (the same rules + corrections) is newer: kept.
    if versions and current != (version := versions.most_common(1)[0][0]) and not current.startswith(f"{version}+"):
        client.patch(f"/api/projects/{pid}", {"model_version": version})
    if backend is not None:
        register(client, pid, *backend)
        stats.backend = backend[0]
    return stats
