"""Character spans <-> BIO token tags, through spaCy's strict alignment only.

A span that does not fall on token boundaries is an error, never a silent shift, and
overlapping spans (which one BIO sequence cannot hold) are an error too.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Sequence

import spacy

from .errors import EventdsError
from .labelset import event_types


class AlignmentError(EventdsError):
    """A span cannot be expressed on the tokens (misaligned or overlapping)."""


@lru_cache(maxsize=None)
def tokenizer_nlp():
    return spacy.blank("en")


def bio_labels() -> list[str]:
    """Tag names: ``O`` then ``B-``/``I-`` for each event type, in schema order."""
    return ["O"] + [f"{p}-{t}" for t in event_types() for p in ("B", "I")]


def to_bio(text: str, spans: Iterable[tuple[str, int, int]], where: str = "") -> tuple[list[str], list[bool], list[str]]:
    """Tokenise ``text`` and tag ``(type, start, end)`` spans.

    Returns:
        ``(tokens, spaces, tags)``: ``"".join(t + " " * s for t, s in zip(tokens, spaces)) == text``.

    Raises:
        AlignmentError: naming ``where`` and the span, when a span does not align to tokens
            or overlaps another.
    """
    doc = tokenizer_nlp().make_doc(text)
    tags = ["O"] * len(doc)
    for etype, start, end in sorted(spans, key=lambda s: (s[1], s[2])):
        span = doc.char_span(start, end, alignment_mode="strict")
        if span is None:
            raise AlignmentError(f"{where}: span [{start}, {end}) {text[start:end]!r} ({etype}) does not align with the tokens {[t.text for t in doc]}")
        if any(tags[i] != "O" for i in range(span.start, span.end)):
            raise AlignmentError(f"{where}: span [{start}, {end}) {text[start:end]!r} ({etype}) overlaps another event; BIO cannot hold both")
        tags[span.start] = f"B-{etype}"
        for i in range(span.start + 1, span.end):
            tags[i] = f"I-{etype}"
    return [t.text for t in doc], [bool(t.whitespace_) for t in doc], tags


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
