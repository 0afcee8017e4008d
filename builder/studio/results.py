"""Label Studio result items (regions, realis choices, relations) -> events, with every check."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any, Iterable, Mapping, Optional

from ..records import Argument, Event
from .interface import ARGTYPE, ARGUMENT, REALIS, RELATION, TEXT, TRIGGER, LabelSet
from .offsets import LS_OFFSET_UNIT, OffsetError, OffsetMap, OffsetUnit


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
    ``value.text`` equal to the text at ``start:end`` after offset conversion. Argument
    regions come from the per-type controls (``argument_<TYPE>``, whose label must be a role
    of that type) or from the old ``argument`` control (any role). Relations (trigger ->
    argument, labelled with a role of the trigger's type) become arguments; a relation left
    unlabelled takes the argument region's role. A per-region realis choice becomes
    ``realis``; a ``count`` argument gives the normalised ``count``. Argument regions not
    joined to any trigger are dropped, and the ``argtype`` choice (which roles the page
    offered) is ignored.

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
    # control -> (kind of region, labels it may carry, event type of a per-type argument control)
    allowed: dict[str, tuple[str, tuple[str, ...], Optional[str]]] = {
        TRIGGER: (TRIGGER, labels.event_types, None),
        ARGUMENT: (ARGUMENT, labels.roles, None),
        **{name: (ARGUMENT, labels.roles_of(t), t) for name, t in labels.argument_controls().items()},
    }
    regions: dict[str, tuple[str, str, int, int, str]] = {}  # id -> (kind, label, start, end, text)
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
        if item.get("from_name") == ARGTYPE:
            continue  # which roles the page offered, not part of the events
        rid = item.get("id")
        if not isinstance(rid, str) or not rid:
            problems.append(f"{where} result item {n}: region has no id")
            continue
        from_name, to_name = item.get("from_name"), item.get("to_name")
        if to_name != TEXT:
            problems.append(f"{where} region {rid}: to_name {to_name!r} is not {TEXT!r}")
            continue
        if kind == "labels" and isinstance(from_name, str) and from_name in allowed:
            value = item.get("value")
            names = _label_list(value, "labels") if isinstance(value, Mapping) else None
            if not names or len(names) != 1:
                problems.append(f"{where} region {rid}: expected exactly one {from_name} label, got {names!r}")
                continue
            region_kind, offered, event_type = allowed[from_name]
            if names[0] not in offered:
                if event_type is not None and names[0] in labels.roles:
                    problems.append(
                        f"{where} region {rid}: {from_name} label {names[0]!r} is not a role of {event_type} "
                        f"(its roles: {', '.join(offered)})"
                    )
                else:
                    known = ", ".join(labels.event_types if from_name == TRIGGER else labels.roles)
                    problems.append(f"{where} region {rid}: {from_name} label {names[0]!r} is not in the label set ({known})")
                continue
            got = span_of(item, rid)
            if got is None:
                continue
            if rid in regions:
                problems.append(f"{where} region {rid}: region id used twice")
                continue
            regions[rid] = (region_kind, names[0], *got)
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
        event_type = regions[trig][1]
        if wrong := [r for r in roles if r not in labels.roles_of(event_type)]:
            problems.append(
                f"{where} {rel_name}: role {wrong[0]!r} is not a role of {event_type} "
                f"(its roles: {', '.join(labels.roles_of(event_type))})"
            )
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
    from ..counts import parse_count

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
