"""The labelling interface: the label set as Label Studio needs it and its XML config (no server).

The labelling interface has these controls on one ``<Text name="text">``:

* ``trigger`` (``<Labels>``): event triggers, one label per region, the event type;
* ``argtype`` (``<Choices>``, one per annotation): which event type's roles to offer;
* ``argument_<TYPE>`` (``<Labels>``, one per event type, shown while ``argtype`` is that
  type): argument spans, labelled with a role of that type;
* ``<Relations>``: trigger -> argument, labelled with the role;
* ``realis`` (``<Choices perRegion="true">``): the realis of a trigger region.

Annotations made before the per-type controls used one ``argument`` control for every role;
they are still read, and a project whose annotations use it keeps it, hidden
(:func:`with_legacy_argument`).

Around the text, the task's ``context`` (outlet, title, date) and the sentences before and
after it (``prev``, ``next``) are shown as plain text that cannot be labelled.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence

from ..errors import ConfigError

TEXT = "text"
TRIGGER = "trigger"
#: The choice of the event type whose roles are offered (a task-level ``choices`` result, not
#: part of the events).
ARGTYPE = "argtype"
#: Per event type, the argument labels of that type's roles are the control ``argument_<TYPE>``.
ARGUMENT_PREFIX = "argument_"
#: The one argument control of annotations made before the per-type controls (all roles).
ARGUMENT = "argument"
REALIS = "realis"
RELATION = "relation"
#: Task data keys of the text and of the context shown around it.
CONTEXT, PREV, NEXT = "context", "prev", "next"


def argument_control(event_type: str) -> str:
    """The name of the argument control of an event type's roles (``argument_ATTACK``)."""
    return f"{ARGUMENT_PREFIX}{event_type}"

# Used when the guidelines give no colour for an event type or role.
_PALETTES = {
    "trigger": ("#D62728", "#1F77B4", "#7B3294", "#E69F00", "#2CA02C", "#8C564B"),
    "argument": ("#17BECF", "#BCBD22", "#E377C2", "#7F7F7F", "#9EDAE5", "#C5B0D5", "#FFBB78", "#98DF8A", "#FF9896", "#C49C94"),
}


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
        from .. import labelset

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

    def roles_of(self, event_type: str) -> tuple[str, ...]:
        """The roles an event type's arguments can have, in label-set order.

        A role whose event types the guidelines do not list is a role of every type.
        """
        return tuple(r for r in self.roles if event_type in self.role_types.get(r, (event_type,)))

    def argument_controls(self) -> dict[str, str]:
        """Argument control name -> its event type (``argument_ATTACK`` -> ``ATTACK``)."""
        return {argument_control(t): t for t in self.event_types}

    def controls(self) -> dict[str, tuple[str, ...]]:
        """Label values per control name (``trigger``, ``argtype``, ``argument_<TYPE>``,
        the old ``argument``, ``relation``, ``realis``)."""
        return {
            TRIGGER: self.event_types,
            ARGTYPE: self.event_types,
            **{name: self.roles_of(t) for name, t in self.argument_controls().items()},
            ARGUMENT: self.roles,
            RELATION: self.roles,
            REALIS: self.realis,
        }


# ---------------------------------------------------------------------------------------
# The labelling config (XML)

#: The context sentences: grey, smaller, not selectable. The bottom margin of the sentence
#: before keeps the relation arrows, drawn about 25 px above the text, off it.
_CONTEXT_STYLE = "color: #8c8c8c; font-size: 13px; font-weight: normal; line-height: 1.4; padding: 0 8px; user-select: none; "
PREV_STYLE = _CONTEXT_STYLE + "margin: 2px 0 30px"
NEXT_STYLE = _CONTEXT_STYLE + "margin: 4px 0 2px"
#: The caption of the argument-type row, on the row's left.
ARGTYPE_CAPTION = "Argument roles of:"
ARGTYPE_ROW_STYLE = "display: flex; align-items: center; gap: 12px; margin-top: 6px"
ARGTYPE_CAPTION_STYLE = "font-size: 14px; font-weight: 600; margin: 0; white-space: nowrap"


def _labels(parent: ET.Element, name: str, values: Sequence[str], labels: LabelSet) -> ET.Element:
    """A ``<Labels>`` control with the guidelines' colours and hints (a role's hint names its types)."""
    group = ET.SubElement(parent, "Labels", name=name, toName=TEXT, choice="single", showInline="true")
    section = TRIGGER if name == TRIGGER else ARGUMENT
    for v in values:
        label = {"value": v, "background": labels.colors.get(section, {}).get(v, "#7F7F7F")}
        hint = labels.hints.get(section, {}).get(v)
        if section == ARGUMENT and labels.role_types.get(v):
            hint = f"{hint or v} [{', '.join(labels.role_types[v])}]"
        if hint:
            label["hint"] = hint
        ET.SubElement(group, "Label", label)
    return group


def label_config(labels: Optional[LabelSet] = None) -> str:
    """The labelling interface (XML) for a label set.

    From the top: the document (``$context``); the trigger labels (the event types); the
    argument-type row (``argtype``) and, per event type, its roles (``argument_<TYPE>``,
    shown only while that type is chosen in the row); the sentence before (``$prev``), the
    text, the sentence after (``$next``); relations labelled with the roles; a realis
    choice per trigger region (shown while a trigger is selected). Hints from the
    guidelines show on hover; colours come from the guidelines (or a default palette).

    A project whose annotations use the old ``argument`` control needs it kept: see
    :func:`with_legacy_argument`.
    """
    labels = labels or LabelSet.current()
    view = ET.Element("View")
    ET.SubElement(view, "Header", value=f"${CONTEXT}", size="6")
    _labels(view, TRIGGER, labels.event_types, labels)
    row = ET.SubElement(view, "View", style=ARGTYPE_ROW_STYLE)
    ET.SubElement(row, "Header", value=ARGTYPE_CAPTION, size="6", style=ARGTYPE_CAPTION_STYLE)
    argtype = ET.SubElement(row, "Choices", name=ARGTYPE, toName=TEXT, choice="single-radio", showInline="true")
    for t in labels.event_types:
        ET.SubElement(argtype, "Choice", value=t)
    for name, t in labels.argument_controls().items():
        shown = ET.SubElement(view, "View", visibleWhen="choice-selected", whenTagName=ARGTYPE, whenChoiceValue=t)
        _labels(shown, name, labels.roles_of(t), labels)
    ET.SubElement(view, "Header", value=f"${PREV}", size="6", style=PREV_STYLE)
    ET.SubElement(view, "Text", name=TEXT, value=f"${TEXT}", granularity="symbol")
    ET.SubElement(view, "Header", value=f"${NEXT}", size="6", style=NEXT_STYLE)
    relations = ET.SubElement(view, "Relations")
    for role in labels.roles:
        ET.SubElement(relations, "Relation", value=role)
    realis = ET.SubElement(
        view, "Choices", name=REALIS, toName=TEXT, perRegion="true", choice="single", showInline="true",
        visibleWhen="region-selected", whenTagName=TRIGGER,
    )
    for v in labels.realis:
        attrs = {"value": v}
        if hint := labels.hints.get(REALIS, {}).get(v):
            attrs["hint"] = hint
        ET.SubElement(realis, "Choice", attrs)
    ET.indent(view)
    return ET.tostring(view, encoding="unicode")


def _legacy_argument(view: ET.Element, roles: Sequence[str], labels: LabelSet) -> None:
    """The old ``argument`` control, never shown (its regions still render in the text)."""
    hidden = ET.SubElement(view, "View", style="display: none")
    _labels(hidden, ARGUMENT, roles, labels)


def with_legacy_argument(config: str, roles: Iterable[str], labels: Optional[LabelSet] = None) -> str:
    """``config`` with the old ``argument`` control added, hidden, unless it has one already.

    The control offers every role of the config's relations and ``roles`` (those that
    annotations use), coloured as ``labels`` (default: the project's label set) colours them,
    so that old argument regions keep their colours.

    Raises:
        ConfigError: the config is not XML.
    """
    root = _parse(config)
    if any(el.get("name") == ARGUMENT for el in root.iter()):
        return config
    offered = [c.get("value", "") for el in root.iter("Relations") for c in el if c.tag == "Relation"]
    _legacy_argument(root, list(dict.fromkeys([*offered, *roles])), labels or LabelSet.current())
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")


def _parse(config: str) -> ET.Element:
    try:
        return ET.fromstring(config)
    except ET.ParseError as e:
        raise ConfigError(f"label config is not valid XML: {e}") from e


def config_labels(config: str) -> dict[str, set[str]]:
    """Label values per control name of a labelling config (relations under ``relation``).

    Raises:
        ConfigError: the config is not XML.
    """
    root = _parse(config)
    out: dict[str, set[str]] = defaultdict(set)
    for el in root.iter():
        if el.tag == "Relations":
            out[RELATION] |= {c.get("value", "") for c in el if c.tag == "Relation"}
        elif el.get("name") and el.tag.endswith(("Labels", "Choices")):
            out[el.get("name", "")] |= {c.get("value", "") for c in el if c.tag in ("Label", "Choice")}
    return dict(out)


def _normalise(config: str) -> str:
    return re.sub(r">\s+<", "><", config.strip())
