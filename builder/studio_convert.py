"""Pure conversions between sentence records and Label Studio tasks, predictions and annotations.

Nothing here talks to a server, so every function can be tested (and property-tested) alone.

Offsets: records count Python code points. Label Studio 1.23 stores ``start``/``end`` of text
regions in code points too (checked against the real labelling page: a span selected after
an emoji and a span imported by us both come back as code-point offsets; ``\\r\\n`` counts
two). Older Label Studio versions counted UTF-16 code units, so the unit is a parameter
(``LS_OFFSET_UNIT``) and every conversion goes through :class:`OffsetMap`; after converting,
every region's ``value.text`` is compared with the task text, so a wrong unit can never
produce a silently shifted span.

The labelling interface has four controls on one ``<Text name="text">``:

* ``trigger`` (``<Labels>``): event triggers, one label per region, the event type;
* ``argument`` (``<Labels>``): argument spans, labelled with a role;
* ``<Relations>``: trigger -> argument, labelled with the role;
* ``realis`` (``<Choices perRegion="true">``): the realis of a trigger region.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Literal, Mapping, Optional, Sequence

from .errors import ValidationFailed
from .labelset import HUMAN_STATUSES
from .records import Argument, Event, Sentence

OffsetUnit = Literal["codepoint", "utf16"]

#: The unit Label Studio 1.23 uses for text region offsets (see the module docstring).
LS_OFFSET_UNIT: OffsetUnit = "codepoint"

TEXT = "text"
TRIGGER = "trigger"
ARGUMENT = "argument"
REALIS = "realis"
RELATION = "relation"
DEFAULT_MODEL_VERSION = "eventds-weak"
#: Key in a task's ``meta`` under which ``annotate push --with-human`` records the human
#: annotation it sent (see :func:`human_mark`).
HUMAN_MARK = "eventds_human"
#: Status order: a pull that would lower a sentence's status is a downgrade.
STATUS_RANK = {"corrected": 1, "adjudicated": 2}

# Used when the guidelines give no colour for an event type or role.
_PALETTES = {
    "trigger": ("#D62728", "#1F77B4", "#7B3294", "#E69F00", "#2CA02C", "#8C564B"),
    "argument": ("#17BECF", "#BCBD22", "#E377C2", "#7F7F7F", "#9EDAE5", "#C5B0D5", "#FFBB78", "#98DF8A", "#FF9896", "#C49C94"),
}


class OffsetError(ValueError):
    """An offset that does not fall on a character boundary of its text."""


# ---------------------------------------------------------------------------------------
# Offsets


class OffsetMap:
    """Offsets of one text, converted between Python code points and Label Studio's unit.

    Args:
        text: the task text.
        unit: the unit Label Studio counts in (``"codepoint"`` or ``"utf16"``).
    """

    def __init__(self, text: str, unit: OffsetUnit = LS_OFFSET_UNIT):
        if unit not in ("codepoint", "utf16"):
            raise ValueError(f"unknown offset unit {unit!r}")
        self.text = text
        self.unit = unit
        self._units: Optional[list[int]] = None  # code units before code point i (utf16 only)
        if unit == "utf16" and any(ord(c) > 0xFFFF for c in text):
            units = [0]
            for c in text:
                units.append(units[-1] + (2 if ord(c) > 0xFFFF else 1))
            self._units = units

    @property
    def ls_length(self) -> int:
        """Length of the text in Label Studio's unit."""
        return self._units[-1] if self._units else len(self.text)

    def to_ls(self, offset: int) -> int:
        """Convert a code-point offset (``0 <= offset <= len(text)``) to Label Studio's unit.

        Raises:
            OffsetError: the offset is outside the text.
        """
        if not 0 <= offset <= len(self.text):
            raise OffsetError(f"offset {offset} is outside the text (length {len(self.text)})")
        return self._units[offset] if self._units else offset

    def from_ls(self, offset: int) -> int:
        """Convert an offset in Label Studio's unit back to a code-point offset.

        Raises:
            OffsetError: the offset is outside the text or splits a surrogate pair.
        """
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise OffsetError(f"offset {offset!r} is not an integer")
        if not 0 <= offset <= self.ls_length:
            raise OffsetError(f"offset {offset} is outside the text (length {self.ls_length} in {self.unit} units)")
        if self._units is None:
            return offset
        i = bisect.bisect_left(self._units, offset)
        if self._units[i] != offset:
            raise OffsetError(f"offset {offset} falls inside the surrogate pair of {self.text[i - 1]!r}")
        return i


# ---------------------------------------------------------------------------------------
# The label set as the labelling interface needs it


def _hint(entry: Any) -> Optional[str]:
    if isinstance(entry, str):
        return entry or None
    if isinstance(entry, Mapping) and isinstance(entry.get("hint"), str):
        return entry["hint"] or None
    return None


@dataclass(frozen=True)
class LabelSet:
    """Event types, argument roles and realis values, with the guidelines' hints and colours.

    Hints and colours are optional: a label without them still works.
    """

    event_types: tuple[str, ...]
    roles: tuple[str, ...]
    realis: tuple[str, ...]
    version: Optional[str] = None
    hints: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # control -> label -> hint
    colors: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # control -> label -> colour
    role_types: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # role -> event types

    @classmethod
    def current(cls) -> "LabelSet":
        """The project's label set: names from the record schema, hints/colours from the guidelines."""
        from . import labelset

        try:
            g = labelset.guidelines()
        except (FileNotFoundError, ValueError):
            g = {}
        types, roles, realis = labelset.event_types(), labelset.argument_roles(), labelset.realis_values()
        sections = {TRIGGER: g.get("event_types"), ARGUMENT: g.get("argument_roles"), REALIS: g.get("realis")}
        hints: dict[str, dict[str, str]] = {}
        colors: dict[str, dict[str, str]] = {}
        for control, names in ((TRIGGER, types), (ARGUMENT, roles), (REALIS, realis)):
            section = sections[control] if isinstance(sections[control], Mapping) else {}
            hints[control] = {n: h for n in names if (h := _hint(section.get(n)))}
            colors[control] = {}
            for i, n in enumerate(names):
                entry = section.get(n)
                color = entry.get("color") if isinstance(entry, Mapping) else None
                palette = _PALETTES.get(control, _PALETTES[ARGUMENT])
                colors[control][n] = color if isinstance(color, str) and color else palette[i % len(palette)]
        role_section = sections[ARGUMENT] if isinstance(sections[ARGUMENT], Mapping) else {}
        role_types = {
            r: tuple(t for t in role_section[r]["types"] if isinstance(t, str))
            for r in roles
            if isinstance(role_section.get(r), Mapping) and isinstance(role_section[r].get("types"), list)
        }
        version = g.get("version")
        return cls(types, roles, realis, str(version) if version is not None else None, hints, colors, role_types)

    def controls(self) -> dict[str, tuple[str, ...]]:
        """Label values per control name (``trigger``, ``argument``, ``relation``, ``realis``)."""
        return {TRIGGER: self.event_types, ARGUMENT: self.roles, RELATION: self.roles, REALIS: self.realis}


# ---------------------------------------------------------------------------------------
# Records -> tasks and predictions


def task_data(sentence: Sentence) -> dict[str, Any]:
    """The ``data`` of the Label Studio task for one sentence.

    ``sentence_id`` is the stable key by which pushes find the task again.
    """
    meta = sentence.meta.to_dict()
    context = " · ".join(str(v) for v in (meta["outlet"], meta["title"], meta["published"]) if v) or sentence.doc_id
    return {
        TEXT: sentence.text,
        "sentence_id": sentence.id,
        "doc_id": sentence.doc_id,
        "index": sentence.index,
        "document": meta,
        "context": context,
    }


def event_results(
    events: Sequence[Event], text: str, unit: OffsetUnit = LS_OFFSET_UNIT, id_prefix: str = "e"
) -> list[dict[str, Any]]:
    """Label Studio result items (regions, realis choices, relations) for events of one text.

    Each event becomes a ``trigger`` region (with its confidence as ``score`` when known), a
    ``realis`` choice on that region when known, and per argument an ``argument`` region
    joined to the trigger by a relation labelled with the role. Region ids are deterministic
    (``e0``, ``e0a1``...) so that repeated pushes send identical predictions.
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
                    "from_name": ARGUMENT,
                    "to_name": TEXT,
                    "type": "labels",
                    "value": {**span(arg.start, arg.end, arg.text), "labels": [arg.role]},
                }
            )
            relations.append({"from_id": rid, "to_id": aid, "type": RELATION, "direction": "right", "labels": [arg.role]})
    return triggers + choices + arguments + relations


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


def task(sentence: Sentence, unit: OffsetUnit = LS_OFFSET_UNIT) -> dict[str, Any]:
    """A task to import: the sentence's data and its weak events as a prediction."""
    return {"data": task_data(sentence), "predictions": [prediction(sentence, unit)]}


def events_digest(events: Iterable[Event]) -> str:
    """A fingerprint of what an annotation determines of some events (see :func:`annotatable`),
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
        problems += [f"{where} events {i} argument {j}: role {a.role!r} is not in the label set" for j, a in enumerate(e.arguments) if a.role not in labels.roles]
    if problems:
        return problems
    events, problems = events_from_results(annotation.get("result"), sentence.text, labels, where, unit)
    if not problems and events != sort_events(annotatable(e) for e in sentence.events):
        problems.append(f"{where}: does not convert back to the sentence's events")
    return problems


# ---------------------------------------------------------------------------------------
# Result items -> events (with every check)


def _label_list(value: Mapping[str, Any], key: str) -> Optional[list[str]]:
    labels = value.get(key)
    if isinstance(labels, list) and all(isinstance(x, str) for x in labels):
        return labels
    return None


def events_from_results(
    result: Any,
    text: str,
    labels: LabelSet,
    where: str,
    unit: OffsetUnit = LS_OFFSET_UNIT,
) -> tuple[list[Event], list[str]]:
    """Convert the result items of one annotation (or prediction) back to events.

    Every region is checked: known control and label, one label, offsets inside the text,
    ``value.text`` equal to the text at ``start:end`` after offset conversion. Relations
    (trigger -> argument, labelled with the role) become arguments; a per-region realis
    choice becomes ``realis``; a ``count`` argument gives the normalised ``count``.
    Argument regions not joined to any trigger are dropped.

    Args:
        result: the ``result`` list as Label Studio returns it.
        text: the task text.
        labels: the label set the regions must use.
        where: prefix for problem messages (e.g. ``"task 3 (sentence s1) annotation 7"``).
        unit: Label Studio's offset unit.

    Returns:
        ``(events, problems)``: the events sorted by position, and one message per problem
        (naming ``where`` and the region id). Events are meaningless when there are problems.
    """
    problems: list[str] = []
    if not isinstance(result, list):
        return [], [f"{where}: result is not a list ({type(result).__name__})"]
    offsets = OffsetMap(text, unit)
    allowed = {TRIGGER: set(labels.event_types), ARGUMENT: set(labels.roles)}
    regions: dict[str, tuple[str, str, int, int, str]] = {}  # id -> (control, label, start, end, text)
    realis: dict[str, str] = {}
    relations: list[tuple[int, dict[str, Any]]] = []

    def span_of(item: Mapping[str, Any], rid: str) -> Optional[tuple[int, int, str]]:
        value = item.get("value")
        if not isinstance(value, Mapping):
            problems.append(f"{where} region {rid}: no value")
            return None
        start, end, r_text = value.get("start"), value.get("end"), value.get("text")
        try:
            s, e = offsets.from_ls(start), offsets.from_ls(end)
        except OffsetError as err:
            problems.append(f"{where} region {rid}: bad offsets [{start!r}, {end!r}): {err}")
            return None
        if s >= e:
            problems.append(f"{where} region {rid}: empty or reversed span [{start}, {end})")
            return None
        if r_text != text[s:e]:
            problems.append(
                f"{where} region {rid}: region text {r_text!r} does not equal the task text at [{start}, {end}) = {text[s:e]!r}"
            )
            return None
        return s, e, r_text

    for n, item in enumerate(result):
        if not isinstance(item, Mapping):
            problems.append(f"{where} result item {n}: not an object")
            continue
        kind = item.get("type")
        if kind == RELATION:
            relations.append((n, item))
            continue
        rid = item.get("id")
        if not isinstance(rid, str) or not rid:
            problems.append(f"{where} result item {n}: region has no id")
            continue
        from_name, to_name = item.get("from_name"), item.get("to_name")
        if to_name != TEXT:
            problems.append(f"{where} region {rid}: to_name {to_name!r} is not {TEXT!r}")
            continue
        if kind == "labels" and from_name in allowed:
            value = item.get("value")
            names = _label_list(value, "labels") if isinstance(value, Mapping) else None
            if not names or len(names) != 1:
                problems.append(f"{where} region {rid}: expected exactly one {from_name} label, got {names!r}")
                continue
            if names[0] not in allowed[from_name]:
                known = ", ".join(labels.event_types if from_name == TRIGGER else labels.roles)
                problems.append(f"{where} region {rid}: {from_name} label {names[0]!r} is not in the label set ({known})")
                continue
            got = span_of(item, rid)
            if got is None:
                continue
            if rid in regions:
                problems.append(f"{where} region {rid}: region id used twice")
                continue
            regions[rid] = (from_name, names[0], *got)
        elif kind == "choices" and from_name == REALIS:
            value = item.get("value")
            names = _label_list(value, "choices") if isinstance(value, Mapping) else None
            if not names or len(names) != 1 or names[0] not in labels.realis:
                problems.append(
                    f"{where} region {rid}: realis {names!r} is not exactly one of {', '.join(labels.realis)}"
                )
                continue
            if isinstance(value, Mapping) and "start" in value and span_of(item, rid) is None:
                continue
            realis[rid] = names[0]
        else:
            problems.append(f"{where} region {rid}: unknown control {from_name!r} of type {kind!r}")

    for rid in realis:
        if rid not in regions:
            problems.append(f"{where} region {rid}: realis choice for a region that does not exist")
        elif regions[rid][0] != TRIGGER:
            problems.append(f"{where} region {rid}: realis choice on an argument region (only triggers have realis)")

    args: dict[str, list[Argument]] = defaultdict(list)
    for n, rel in relations:
        ends = rel.get("from_id"), rel.get("to_id")
        rel_name = f"relation {ends[0]!r} -> {ends[1]!r}"
        missing = [e for e in ends if e not in regions]
        if missing:
            problems.append(f"{where} {rel_name}: points to missing region {missing[0]!r}")
            continue
        controls = {regions[e][0]: e for e in ends}
        if set(controls) != {TRIGGER, ARGUMENT}:
            problems.append(f"{where} {rel_name}: must join a trigger region and an argument region")
            continue
        trig, arg = controls[TRIGGER], controls[ARGUMENT]
        roles = rel.get("labels")
        if roles in (None, []):
            roles = [regions[arg][1]]  # an unlabelled relation takes the argument region's role
        if not isinstance(roles, list) or not all(isinstance(r, str) and r in labels.roles for r in roles):
            problems.append(f"{where} {rel_name}: role {roles!r} is not in the label set ({', '.join(labels.roles)})")
            continue
        _, _, a_start, a_end, a_text = regions[arg]
        for role in roles:
            args[trig].append(Argument(role=role, start=a_start, end=a_end, text=a_text))

    events = []
    for rid, (control, label, start, end, r_text) in regions.items():
        if control != TRIGGER:
            continue
        arguments = tuple(sorted(set(args.get(rid, ())), key=lambda a: (a.start, a.end, a.role)))
        events.append(
            Event(
                type=label, start=start, end=end, text=r_text, realis=realis.get(rid), arguments=arguments,
                count=derived_count(arguments),
            )
        )
    return sort_events(events), problems


def sort_events(events: Iterable[Event]) -> list[Event]:
    """Events in a canonical order (position, type, realis), exact duplicates removed."""
    unique = list({json.dumps(e.to_dict(), sort_keys=True): e for e in events}.values())  # Events with a count are unhashable
    return sorted(unique, key=lambda e: (e.start, e.end, e.type, e.realis or "", tuple((a.start, a.end, a.role) for a in e.arguments)))


def derived_count(arguments: Iterable[Argument]) -> Optional[dict[str, Any]]:
    """The casualty count an annotation states: its one ``count`` argument, normalised.

    ``None`` when there is no ``count`` argument, several, or one that is not a count phrase.
    """
    from .counts import parse_count

    counts = [a for a in arguments if a.role == "count"]
    return parse_count(counts[0].text) if len(counts) == 1 else None


def annotatable(event: Event) -> Event:
    """What an annotation determines of an event: span, type, realis, arguments, and the
    count normalised from its ``count`` argument.

    Confidence and sources are weak-labeller output that Label Studio annotations do not
    carry; this projection is what a push/pull round trip preserves.
    """
    arguments = tuple(sorted(set(event.arguments), key=lambda a: (a.start, a.end, a.role)))
    return Event(
        type=event.type,
        start=event.start,
        end=event.end,
        text=event.text,
        realis=event.realis,
        arguments=arguments,
        count=derived_count(arguments),
    )


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
            if role is not None and role not in labels.roles:
                problems.append(f"{w} {what}: role {role!r} is not in the label set ({', '.join(labels.roles)})")
    return problems


def prediction_problems(sentence: Sentence, pred: Mapping[str, Any], labels: LabelSet, unit: OffsetUnit = LS_OFFSET_UNIT) -> list[str]:
    """Check a prediction as pull would check an annotation, and that it reproduces the weak events."""
    where = f"sentence {sentence.id} prediction"
    events, problems = events_from_results(pred.get("result"), sentence.text, labels, where, unit)
    if not problems and events != sort_events(annotatable(e) for e in sentence.weak_events):
        problems.append(f"{where}: does not convert back to the sentence's weak events")
    return problems


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


def labels_in_results(results: Iterable[Any]) -> Counter:
    """Count ``(control, label)`` pairs used by result lists (for config compatibility checks)."""
    used: Counter = Counter()
    for result in results:
        if not isinstance(result, list):
            continue
        for item in result:
            if not isinstance(item, Mapping):
                continue
            value = item.get("value") if isinstance(item.get("value"), Mapping) else {}
            if item.get("type") == RELATION:
                for label in item.get("labels") or ():
                    used[(RELATION, label)] += 1
                continue
            for key in ("labels", "choices"):
                for label in value.get(key) or ():
                    used[(str(item.get("from_name")), label)] += 1
    return used
