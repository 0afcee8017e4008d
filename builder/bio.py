"""Character spans <-> BIO token tags, through spaCy's strict alignment only.

A span that does not fall on token boundaries is an error (:class:`MisalignedSpan`), never
a silent shift, and overlapping spans (which one BIO sequence cannot hold) are an error too
(:class:`OverlappingSpans`). :func:`misaligned_spans` finds the first kind beforehand, so
that a caller can leave such spans out and report them instead of stopping.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Optional, Sequence

import spacy

from .errors import EventdsError
from .labelset import event_types


class AlignmentError(EventdsError):
    """A span cannot be expressed on the tokens (misaligned or overlapping)."""

    def __init__(self, message: str, where: str = "", span: Optional[tuple[str, int, int]] = None, text: str = ""):
        super().__init__(message)
        self.where = where
        self.span = span  # (type, start, end)
        self.text = text  # the characters of the span


class MisalignedSpan(AlignmentError):
    """A span starts or ends inside a token."""


class OverlappingSpans(AlignmentError):
    """A span overlaps another; one BIO sequence cannot hold both."""


@lru_cache(maxsize=None)
def tokenizer_nlp():
    return spacy.blank("en")


def bio_labels() -> list[str]:
    """Tag names: ``O`` then ``B-``/``I-`` for each event type, in schema order."""
    return ["O"] + [f"{p}-{t}" for t in event_types() for p in ("B", "I")]


def to_bio(
    text: str, spans: Iterable[tuple[str, int, int]], where: str = "", misaligned: Optional[list[tuple[str, int, int]]] = None
) -> tuple[list[str], list[bool], list[str]]:
    """Tokenise ``text`` and tag ``(type, start, end)`` spans.

    Args:
        misaligned: when given, a span that does not align to tokens is appended to it and
            left untagged instead of raising.

    Returns:
        ``(tokens, spaces, tags)``: ``"".join(t + " " * s for t, s in zip(tokens, spaces)) == text``.

    Raises:
        MisalignedSpan: naming ``where`` and the span, when a span does not align to tokens
            (and ``misaligned`` is not given).
        OverlappingSpans: naming ``where`` and the span, when a span overlaps another.
    """
    doc = tokenizer_nlp().make_doc(text)
    tags = ["O"] * len(doc)
    for etype, start, end in sorted(spans, key=lambda s: (s[1], s[2])):
        span = doc.char_span(start, end, alignment_mode="strict")
        if span is None and misaligned is not None:
            misaligned.append((etype, start, end))
            continue
        if span is None:
            message = f"{where}: span [{start}, {end}) {text[start:end]!r} ({etype}) does not align with the tokens {[t.text for t in doc]}"
            raise MisalignedSpan(message, where, (etype, start, end), text[start:end])
        if any(tags[i] != "O" for i in range(span.start, span.end)):
            message = f"{where}: span [{start}, {end}) {text[start:end]!r} ({etype}) overlaps another event; BIO cannot hold both"
            raise OverlappingSpans(message, where, (etype, start, end), text[start:end])
        tags[span.start] = f"B-{etype}"
        for i in range(span.start + 1, span.end):
            tags[i] = f"I-{etype}"
    return [t.text for t in doc], [bool(t.whitespace_) for t in doc], tags


def misaligned_spans(text: str, spans: Iterable[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """The ``(type, start, end)`` spans of ``spans`` that do not fall on the token boundaries
    :func:`to_bio` uses (strict alignment), in the order given."""
    doc = tokenizer_nlp().make_doc(text)
    return [(etype, start, end) for etype, start, end in spans if doc.char_span(start, end, alignment_mode="strict") is None]


def from_bio(tokens: Sequence[str], spaces: Sequence[bool], tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Turn BIO tags back into ``(type, start, end)`` character spans of the joined text."""
    spans: list[tuple[str, int, int]] = []
    offset = 0
    current: list = []
    for token, space, tag in zip(tokens, spaces, tags):
        start, end = offset, offset + len(token)
        if tag.startswith("I-") and current and current[0] == tag[2:]:
            current[2] = end
        else:
            if current:
                spans.append(tuple(current))
                current = []
            if tag != "O":
                current = [tag[2:], start, end]
        offset = end + (1 if space else 0)
    if current:
        spans.append(tuple(current))
    return spans
