"""Character spans <-> BIO token tags, through spaCy's strict alignment only.

A span that does not fall on token boundaries is an error (:class:`MisalignedSpan`), never
a silent shift, and overlapping spans (which one BIO sequence cannot hold) are an error too
(:class:`OverlappingSpans`). :func:`misaligned_spans` finds the first kind beforehand, so
that a caller can leave such spans out and report them instead of stopping.

The tokens are spaCy's blank English tokens, found by :func:`builder.tokens.tokenize` (the
labeller's tokenizer: the same boundaries, without building a ``Doc`` per sentence) and held
in :class:`SentenceTokens`.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Iterable, Optional, Sequence

import spacy

from .errors import EventdsError
from .labelset import event_types
from .tokens import Tokens, tokenize


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


class SentenceTokens:
    """spaCy's tokens of a text as the published forms need them: token texts (original case),
    whitespace flags and strict character-span alignment, the same as
    ``tokenizer_nlp().make_doc(text)`` gives (``[t.text for t in doc]``,
    ``[bool(t.whitespace_) for t in doc]``, ``doc.char_span(start, end, alignment_mode="strict")``),
    from :func:`builder.tokens.tokenize` (spaCy's boundaries without building a ``Doc``).

    Use :func:`sentence_tokens`; the lists are shared: do not change them.
    """

    __slots__ = ("_by_end", "_by_start", "ends", "spaces", "starts", "text", "texts")

    def __init__(self, text: str, tokens: Optional[Tokens] = None) -> None:
        if tokens is None or tokens.text != text:
            tokens = tokenize(text)
        self.text = text
        self.starts: list[int] = tokens.starts
        self.ends: list[int] = tokens.ends
        self.texts: list[str] = [text[a:b] for a, b in zip(self.starts, self.ends)]
        # A token is followed by whitespace when the next one (or the end of the text) is not
        # where it ends: spaCy's tokenizer keeps the single space it splits on as a flag.
        following = self.starts[1:] + [len(text)]
        self.spaces: list[bool] = [b < nxt for b, nxt in zip(self.ends, following)]
        self._by_start: Optional[dict[int, int]] = None  # made when a span is first aligned
        self._by_end: Optional[dict[int, int]] = None

    def __len__(self) -> int:
        return len(self.starts)

    def char_span(self, start: int, end: int) -> Optional[tuple[int, int]]:
        """``(first token, last token + 1)`` of the characters ``[start, end)`` when they start
        and end on token boundaries (spaCy's strict alignment), else ``None``."""
        if self._by_start is None or self._by_end is None:
            self._by_start = {a: i for i, a in enumerate(self.starts)}
            self._by_end = {b: i for i, b in enumerate(self.ends)}
        first, last = self._by_start.get(start), self._by_end.get(end)
        if first is None or last is None:
            return None
        return first, last + 1

    def span_text(self, first: int, stop: int) -> str:
        """The text of tokens ``[first, stop)`` (``doc[first:stop].text``)."""
        return self.text[self.starts[first] : self.ends[stop - 1]] if stop > first else ""


#: The :class:`SentenceTokens` of the last texts asked for, by text.
_RECENT: dict[str, SentenceTokens] = {}
_RECENT_LOCK = threading.Lock()
RECENT_SIZE = 256


def sentence_tokens(text: str, tokens: Optional[Tokens] = None) -> SentenceTokens:
    """The :class:`SentenceTokens` of ``text``. The last :data:`RECENT_SIZE` are kept: the
    ``bio``, ``ee`` and ``arg_tags`` forms of a sentence share one tokenization.

    Args:
        tokens: what :func:`builder.tokens.tokenize` already gave for ``text`` (the weak
            labeller's tokens): used instead of tokenizing again when it is of this text.
    """
    found = _RECENT.get(text)
    if found is None:
        found = SentenceTokens(text, tokens)
        with _RECENT_LOCK:  # (the records of a cluster's worker threads are made at once)
            if len(_RECENT) >= RECENT_SIZE:
                del _RECENT[next(iter(_RECENT))]  # the oldest
            _RECENT[text] = found
    return found


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
    doc = sentence_tokens(text)
    tags = ["O"] * len(doc)
    for etype, start, end in sorted(spans, key=lambda s: (s[1], s[2])):
        span = doc.char_span(start, end)
        if span is None and misaligned is not None:
            misaligned.append((etype, start, end))
            continue
        if span is None:
            message = f"{where}: span [{start}, {end}) {text[start:end]!r} ({etype}) does not align with the tokens {doc.texts}"
            raise MisalignedSpan(message, where, (etype, start, end), text[start:end])
        first, stop = span
        if any(tags[i] != "O" for i in range(first, stop)):
            message = f"{where}: span [{start}, {end}) {text[start:end]!r} ({etype}) overlaps another event; BIO cannot hold both"
            raise OverlappingSpans(message, where, (etype, start, end), text[start:end])
        tags[first] = f"B-{etype}"
        for i in range(first + 1, stop):
            tags[i] = f"I-{etype}"
    return list(doc.texts), list(doc.spaces), tags


def misaligned_spans(text: str, spans: Iterable[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """The ``(type, start, end)`` spans of ``spans`` that do not fall on the token boundaries
    :func:`to_bio` uses (strict alignment), in the order given."""
    doc = sentence_tokens(text)
    return [(etype, start, end) for etype, start, end in spans if doc.char_span(start, end) is None]


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
