"""Sentence records -> Label Studio tasks, predictions and human annotations, and their checks before sending."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, Mapping, Optional, Sequence

from ..records import Event, Sentence
from .interface import ARGTYPE, REALIS, RELATION, TEXT, TRIGGER, LabelSet, argument_control
from .offsets import LS_OFFSET_UNIT, OffsetMap, OffsetUnit
from .results import annotatable, events_from_results, sort_events

DEFAULT_MODEL_VERSION = "eventds-weak"
#: Key in a task's ``meta`` under which ``annotate push --with-human`` records the human
#: annotation it sent (see :func:`human_mark`).
HUMAN_MARK = "eventds_human"


# ---------------------------------------------------------------------------------------
# Records -> tasks and predictions


def task_data(sentence: Sentence, prev: str = "", next: str = "", priority: Optional[float] = None) -> dict[str, Any]:  # noqa: A002
    """The ``data`` of the Label Studio task for one sentence.

    ``sentence_id`` is the stable key by which pushes find the task again; ``prev`` and
    ``next`` are the neighbouring sentences of its document, shown as context (empty when
    there are none); ``priority`` (:mod:`builder.studio.priority`) is written when given.
    """
    meta = sentence.meta.to_dict()
    context = " · ".join(str(v) for v in (meta["outlet"], meta["title"], meta["published"]) if v) or sentence.doc_id
    data = {
        TEXT: sentence.text,
        "sentence_id": sentence.id,
        "doc_id": sentence.doc_id,
        "index": sentence.index,
        "document": meta,
        "context": context,
        "prev": prev,
        "next": next,
    }
    if priority is not None:
        data["priority"] = priority
    return data


def event_results(
    events: Sequence[Event], text: str, unit: OffsetUnit = LS_OFFSET_UNIT, id_prefix: str = "e"
) -> list[dict[str, Any]]:
    """Label Studio result items (regions, realis choices, relations) for events of one text.

    Each event becomes a ``trigger`` region (with its confidence as ``score`` when known), a
    ``realis`` choice on that region when known, and per argument a region of its event
    type's argument control (``argument_ATTACK``...) joined to the trigger by a relation
    labelled with the role. Region ids are deterministic (``e0``, ``e0a1``...) so that
    repeated pushes send identical predictions.

    When there are arguments, an ``argtype`` choice (the type of the first event with
    arguments) comes too: the page then opens offering that type's roles, and Label Studio
    1.23 submits the regions of controls inside a ``visibleWhen="choice-selected"`` view
    only when the annotation has some choice (without one, accepting the pre-annotation
    would silently drop every argument of an event without realis).
    """
    offsets = OffsetMap(text, unit)
    triggers: list[dict[str, Any]] = []
    choices: list[dict[str, Any]] = []
    arguments: list[dict[str, Any]] = []
    relations: list[dict[str, Any]] = []

    def span(start: int, end: int, s_text: str) -> dict[str, Any]:
        return {"start": offsets.to_ls(start), "end": offsets.to_ls(end), "text": s_text}

    for i, event in enumerate(events):
        rid = f"{id_prefix}{i}"
        region: dict[str, Any] = {
            "id": rid,
            "from_name": TRIGGER,
            "to_name": TEXT,
            "type": "labels",
            "value": {**span(event.start, event.end, event.text), "labels": [event.type]},
        }
        if event.confidence is not None:
            region["score"] = event.confidence
        triggers.append(region)
        if event.realis is not None:
            choices.append(
                {
                    "id": rid,
                    "from_name": REALIS,
                    "to_name": TEXT,
                    "type": "choices",
                    "value": {**span(event.start, event.end, event.text), "choices": [event.realis]},
                }
            )
        for j, arg in enumerate(event.arguments):
            aid = f"{rid}a{j}"
            arguments.append(
                {
                    "id": aid,
                    "from_name": argument_control(event.type),
                    "to_name": TEXT,
                    "type": "labels",
                    "value": {**span(arg.start, arg.end, arg.text), "labels": [arg.role]},
                }
            )
            relations.append({"from_id": rid, "to_id": aid, "type": RELATION, "direction": "right", "labels": [arg.role]})
    with_arguments = [e.type for e in events if e.arguments]
    argtype = [
        {"id": f"{id_prefix}{ARGTYPE}", "from_name": ARGTYPE, "to_name": TEXT, "type": "choices", "value": {"choices": with_arguments[:1]}}
    ] if with_arguments else []
    return triggers + choices + argtype + arguments + relations


def prediction_score(events: Sequence[Event]) -> Optional[float]:
    """Overall score of a prediction: the mean confidence of its events (``None`` if none has one)."""
    scores = [e.confidence for e in events if e.confidence is not None]
    return round(sum(scores) / len(scores), 6) if scores else None


def model_version(sentence: Sentence) -> str:
    """The model version of a sentence's weak prediction: its labeller name and version."""
    return sentence.labeller or DEFAULT_MODEL_VERSION


def prediction(sentence: Sentence, unit: OffsetUnit = LS_OFFSET_UNIT) -> dict[str, Any]:
    """The Label Studio prediction holding a sentence's weak events."""
    return {
        "model_version": model_version(sentence),
        "score": prediction_score(sentence.weak_events),
        "result": event_results(sentence.weak_events, sentence.text, unit),
    }


def task(sentence: Sentence, unit: OffsetUnit = LS_OFFSET_UNIT, **data: Any) -> dict[str, Any]:
    """A task to import: the sentence's data (``data``: its context and priority, as
    :func:`task_data` takes them) and its weak events as a prediction."""
    return {"data": task_data(sentence, **data), "predictions": [prediction(sentence, unit)]}


def events_digest(events: Iterable[Event]) -> str:
    """A fingerprint of what an annotation determines of some events (see :func:`~builder.studio.results.annotatable`),
    independent of their order and of confidences and sources."""
    canonical = [e.to_dict() for e in sort_events(annotatable(e) for e in events)]
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def human_mark(sentence: Sentence) -> dict[str, Any]:
    """What a task's ``meta`` records of the human annotation pushed to it.

    The digest of its events identifies the annotation (an unedited one converts back to the
    same digest); status, annotators and guidelines version are what Label Studio cannot
    hold, so that a pull gives back the same human record.
    """
    return {
        "events": events_digest(sentence.events),
        "status": sentence.status,
        "annotators": list(sentence.annotators),
        "guidelines_version": sentence.guidelines_version,
    }


def human_annotation(sentence: Sentence, unit: OffsetUnit = LS_OFFSET_UNIT) -> dict[str, Any]:
    """The Label Studio annotation holding a sentence's human events (``corrected`` or
    ``adjudicated``); an adjudicated sentence's annotation is the task's ground truth."""
    return {
        "result": event_results(sentence.events, sentence.text, unit, id_prefix="h"),
        "ground_truth": sentence.status == "adjudicated",
    }


def human_problems(sentence: Sentence, annotation: Mapping[str, Any], labels: LabelSet, unit: OffsetUnit = LS_OFFSET_UNIT) -> list[str]:
    """Check a human annotation as pull would, and that it gives back the sentence's events."""
    where = f"sentence {sentence.id} human annotation"
    problems = []
    for i, e in enumerate(sentence.events):
        if e.type not in labels.event_types:
            problems.append(f"{where} events {i}: type {e.type!r} is not in the label set ({', '.join(labels.event_types)})")
        if e.realis is not None and e.realis not in labels.realis:
            problems.append(f"{where} events {i}: realis {e.realis!r} is not one of {', '.join(labels.realis)}")
        problems += [p for j, a in enumerate(e.arguments) if (p := _role_problem(f"{where} events {i} argument {j}", e.type, a.role, labels))]
    if problems:
        return problems
    events, problems = events_from_results(annotation.get("result"), sentence.text, labels, where, unit)
    if not problems and events != sort_events(annotatable(e) for e in sentence.events):
        problems.append(f"{where}: does not convert back to the sentence's events")
    return problems


# ---------------------------------------------------------------------------------------
# Checks before sending


def record_problems(sentence: Sentence, labels: LabelSet, where: str) -> list[str]:
    """Problems of a sentence's weak events that would make an invalid prediction."""
    problems = []
    for i, e in enumerate(sentence.weak_events):
        w = f"{where} weak_events {i}"
        if e.type not in labels.event_types:
            problems.append(f"{w}: type {e.type!r} is not in the label set ({', '.join(labels.event_types)})")
        if e.realis is not None and e.realis not in labels.realis:
            problems.append(f"{w}: realis {e.realis!r} is not one of {', '.join(labels.realis)}")
        for what, s in [("trigger", e), *((f"argument {j}", a) for j, a in enumerate(e.arguments))]:
            if not (0 <= s.start < s.end <= len(sentence.text)) or sentence.text[s.start : s.end] != s.text:
                problems.append(f"{w} {what}: text {s.text!r} does not equal the sentence text at [{s.start}, {s.end})")
            role = getattr(s, "role", None)
            if role is not None and (problem := _role_problem(f"{w} {what}", e.type, role, labels)):
                problems.append(problem)
    return problems


def _role_problem(where: str, event_type: str, role: str, labels: LabelSet) -> Optional[str]:
    """Why an argument's role cannot be annotated on an event of ``event_type`` (``None`` if it can)."""
    if role not in labels.roles:
        return f"{where}: role {role!r} is not in the label set ({', '.join(labels.roles)})"
    if event_type in labels.event_types and role not in labels.roles_of(event_type):
        return f"{where}: role {role!r} is not a role of {event_type} (its roles: {', '.join(labels.roles_of(event_type))})"
    return None


def prediction_problems(sentence: Sentence, pred: Mapping[str, Any], labels: LabelSet, unit: OffsetUnit = LS_OFFSET_UNIT) -> list[str]:
    """Check a prediction as pull would check an annotation, and that it reproduces the weak events."""
    where = f"sentence {sentence.id} prediction"
    events, problems = events_from_results(pred.get("result"), sentence.text, labels, where, unit)
    if not problems and events != sort_events(annotatable(e) for e in sentence.weak_events):
        problems.append(f"{where}: does not convert back to the sentence's weak events")
    return problems
