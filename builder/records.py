"""The records that flow between stages.

Every span in the product is a pair of character offsets with an exclusive end, measured
in Python ``str`` indices (code points) of the text it belongs to. Records are frozen
dataclasses; ``to_dict``/``from_dict`` give the JSON form described by
``schema/sentence.schema.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Optional

from .labelset import ANNOTATION_STATUSES


@dataclass(frozen=True)
class DocumentMeta:
    """What the text of an article itself says about it (``None`` where it says nothing).

    For an article extracted from an HTML page, ``site_name`` and ``canonical_url`` are as
    the page states them, ``source_url`` is where it was fetched from (a web archive's
    ``WARC-Target-URI``), ``page_sha256`` the hash of the page's bytes and ``extractor``
    the name and version of the text extractor.
    """

    outlet: Optional[str] = None
    title: Optional[str] = None
    published: Optional[str] = None
    author: Optional[str] = None
    source_file: Optional[str] = None
    site_name: Optional[str] = None
    canonical_url: Optional[str] = None
    source_url: Optional[str] = None
    page_sha256: Optional[str] = None
    extractor: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in DOCUMENT_FIELDS}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DocumentMeta":
        return cls(**{k: d.get(k) for k in DOCUMENT_FIELDS})


#: The keys of a record's ``document`` object, in order.
DOCUMENT_FIELDS = tuple(f.name for f in fields(DocumentMeta))


@dataclass(frozen=True)
class Article:
    """A raw article as ingested: its id, its untouched text and its metadata."""

    id: str
    text: str
    meta: DocumentMeta = field(default_factory=DocumentMeta)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "meta": self.meta.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Article":
        return cls(id=d["id"], text=d["text"], meta=DocumentMeta.from_dict(d.get("meta") or {}))


@dataclass(frozen=True)
class Removal:
    """One block removed from a raw article by a cleaning rule."""

    doc_id: str
    start: int
    end: int
    rule: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "start": self.start, "end": self.end, "rule": self.rule, "text": self.text}


@dataclass(frozen=True)
class Segment:
    """A run of cleaned text copied verbatim from the raw text."""

    clean_start: int
    raw_start: int
    length: int


@dataclass(frozen=True)
class CleanArticle:
    """An article after cleaning.

    ``text`` is the kept paragraphs joined by blank lines. ``segments`` maps every kept
    character back to the raw text: ``raw[seg.raw_start + i] == text[seg.clean_start + i]``
    for ``0 <= i < seg.length``. Characters not covered by a segment are the inserted
    paragraph separators.
    """

    id: str
    raw_text: str
    text: str
    meta: DocumentMeta
    segments: tuple[Segment, ...]
    removals: tuple[Removal, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written by ``eventds ingest`` (removals go to their own log)."""
        return {
            "id": self.id,
            "raw_text": self.raw_text,
            "text": self.text,
            "meta": self.meta.to_dict(),
            "segments": [[s.clean_start, s.raw_start, s.length] for s in self.segments],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CleanArticle":
        return cls(
            id=d["id"],
            raw_text=d["raw_text"],
            text=d["text"],
            meta=DocumentMeta.from_dict(d.get("meta") or {}),
            segments=tuple(Segment(*s) for s in d["segments"]),
            removals=(),
        )

    def paragraphs(self) -> list[tuple[int, int]]:
        """Return the ``(start, end)`` clean offsets of each kept paragraph."""
        return [(s.clean_start, s.clean_start + s.length) for s in self.segments]

    def to_raw(self, offset: int) -> int:
        """Map a clean offset inside a kept paragraph (or at its end) to the raw offset."""
        for seg in self.segments:
            if seg.clean_start <= offset <= seg.clean_start + seg.length:
                return seg.raw_start + offset - seg.clean_start
        raise ValueError(f"offset {offset} of document {self.id!r} is not inside a kept paragraph")


@dataclass(frozen=True)
class Argument:
    """An event argument: a role and its span in the sentence."""

    role: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "start": self.start, "end": self.end, "text": self.text}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Argument":
        return cls(role=d["role"], start=d["start"], end=d["end"], text=d["text"])


@dataclass(frozen=True)
class Event:
    """An event mention: its trigger span in the sentence, type and what is known of it.

    ``confidence`` and ``sources`` come from weak labelling (``None``/empty for a human
    event); ``realis``, ``arguments`` and ``count`` are filled where known.
    """

    type: str
    start: int
    end: int
    text: str
    confidence: Optional[float] = None
    sources: tuple[str, ...] = ()
    realis: Optional[str] = None
    arguments: tuple[Argument, ...] = ()
    count: Optional[dict[str, Any]] = None

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.start, self.end, self.type)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "confidence": self.confidence,
            "sources": list(self.sources),
            "realis": self.realis,
            "arguments": [a.to_dict() for a in self.arguments],
            "count": self.count,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Event":
        return cls(
            type=d["type"],
            start=d["start"],
            end=d["end"],
            text=d["text"],
            confidence=d.get("confidence"),
            sources=tuple(d.get("sources") or ()),
            realis=d.get("realis"),
            arguments=tuple(Argument.from_dict(a) for a in d.get("arguments") or ()),
            count=d.get("count"),
        )


@dataclass(frozen=True)
class Sentence:
    """A sentence record: the unit that is labelled, annotated, validated and published.

    ``start``/``end`` locate it in the cleaned document, ``raw_start``/``raw_end`` in the
    raw article (the sentence is a verbatim slice of both). ``events`` is the current best
    layer (human where there is one, else weak); ``weak_events`` always keeps the labeller's
    output.
    """

    id: str
    doc_id: str
    index: int
    text: str
    start: int
    end: int
    raw_start: int
    raw_end: int
    meta: DocumentMeta = field(default_factory=DocumentMeta)
    events: tuple[Event, ...] = ()
    weak_events: tuple[Event, ...] = ()
    status: str = "unlabelled"
    guidelines_version: Optional[str] = None
    labeller: Optional[str] = None
    annotators: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in ANNOTATION_STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {sorted(ANNOTATION_STATUSES)}")

    @property
    def labels(self) -> list[str]:
        """Sentence-level multi-label view: the sorted distinct event types."""
        return sorted({e.type for e in self.events})

    def with_(self, **changes: Any) -> "Sentence":
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "doc_id": self.doc_id,
            "index": self.index,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "document": self.meta.to_dict(),
            "events": [e.to_dict() for e in self.events],
            "weak_events": [e.to_dict() for e in self.weak_events],
            "labels": self.labels,
            "status": self.status,
            "guidelines_version": self.guidelines_version,
            "provenance": {
                "raw_start": self.raw_start,
                "raw_end": self.raw_end,
                "labeller": self.labeller,
                "annotators": list(self.annotators),
            },
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Sentence":
        prov = d.get("provenance") or {}
        return cls(
            id=d["id"],
            doc_id=d["doc_id"],
            index=d["index"],
            text=d["text"],
            start=d["start"],
            end=d["end"],
            raw_start=prov.get("raw_start", d["start"]),
            raw_end=prov.get("raw_end", d["end"]),
            meta=DocumentMeta.from_dict(d.get("document") or {}),
            events=tuple(Event.from_dict(e) for e in d.get("events") or ()),
            weak_events=tuple(Event.from_dict(e) for e in d.get("weak_events") or ()),
            status=d.get("status", "unlabelled"),
            guidelines_version=d.get("guidelines_version"),
            labeller=prov.get("labeller"),
            annotators=tuple(prov.get("annotators") or ()),
        )
