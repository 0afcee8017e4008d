"""The human layer: sentence annotations made by people (``annotations/human.jsonl``),
read once and applied to the sentences of a build in place of their weak events."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

from .errors import InputError
from .io import read_jsonl
from .labelset import HUMAN_STATUSES
from .records import Event, Sentence

HUMAN_LAYER = "human.jsonl"


@dataclass(frozen=True)
class HumanAnnotation:
    id: str
    text: str
    events: tuple[Event, ...]
    status: str
    annotators: tuple[str, ...]
    guidelines_version: Optional[str]


def load_human_layer(path: Path) -> dict[str, HumanAnnotation]:
    """Read the human layer (``annotations/human.jsonl``) keyed by sentence id."""
    layer: dict[str, HumanAnnotation] = {}
    if not path.exists():
        return layer
    for lineno, obj in read_jsonl(path):
        where = f"{path}:{lineno}"
        try:
            ann = HumanAnnotation(
                id=obj["id"],
                text=obj["text"],
                events=tuple(Event.from_dict(e) for e in obj["events"]),
                status=obj["status"],
                annotators=tuple(obj.get("annotators") or ()),
                guidelines_version=obj.get("guidelines_version"),
            )
        except (KeyError, TypeError) as e:
            raise InputError(f"{where}: not a human-layer record ({e!r} missing or malformed)") from e
        if ann.status not in HUMAN_STATUSES:
            raise InputError(f"{where} -> status: {ann.status!r} is not 'corrected' or 'adjudicated'")
        if ann.id in layer:
            raise InputError(f"{where} -> id: duplicate sentence id {ann.id!r}")
        layer[ann.id] = ann
    return layer


def apply_human_layer(sentences: Iterable[Sentence], layer: dict[str, HumanAnnotation]) -> Iterator[Sentence]:
    """Give sentences with a human annotation its events and status; weak events stay."""
    for s in sentences:
        ann = layer.get(s.id)
        if ann is None:
            yield s
            continue
        if ann.text != s.text:
            raise InputError(f"human layer -> {s.id} -> text: annotation text differs from the sentence text")
        yield s.with_(events=ann.events, status=ann.status, annotators=ann.annotators, guidelines_version=ann.guidelines_version)
