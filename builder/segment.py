"""Segmentation: cleaned articles -> sentence records.

Paragraph breaks are hard boundaries (each paragraph is segmented alone), sentences are
trimmed of surrounding whitespace, and each gets an id derived from its document and its
own text, so adding or removing other documents never renames it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Iterable, Iterator, Optional

from spacy.language import Language
from spacy.tokens import Doc

from .nlp import segmenter
from .records import CleanArticle, Sentence


def sentence_id(doc_id: str, text: str, occurrence: int = 1) -> str:
    """Stable sentence id: ``<doc_id>-<12 hex of sha1(text)>``, plus ``-<n>`` for the n-th repeat."""
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    return f"{doc_id}-{digest}" if occurrence == 1 else f"{doc_id}-{digest}-{occurrence}"


OPENING_QUOTES = frozenset("“‘«„‚\"'")


def sentence_bounds(doc: Doc, text: Optional[str] = None) -> list[tuple[int, int]]:
    """Character bounds of the sentences of ``doc``, an opening quote moved to the sentence it opens.

    The sentencizer splits after the token that follows a full stop, so in
    ``said. “This claim`` the quote would end the first sentence.

    Args:
        text: ``doc.text``, when the caller has it (``Doc.text`` joins every token again).
    """
    bounds = [[s.start_char, s.end_char] for s in doc.sents]
    text = doc.text if text is None else text
    for i in range(len(bounds) - 1):
        end = bounds[i][1]
        stripped_end = len(text[:end].rstrip())
        if stripped_end >= 2 and text[stripped_end - 1] in OPENING_QUOTES and text[stripped_end - 2].isspace():
            bounds[i][1] = stripped_end - 1
            bounds[i + 1][0] = stripped_end - 1
    return [(a, b) for a, b in bounds]


def segment_article(article: CleanArticle, model: Optional[str] = None, nlp: Optional[Language] = None) -> Iterator[Sentence]:
    """Split one cleaned article into sentences.

    Args:
        article: the cleaned article.
        model: a spaCy pipeline name to use instead of the blank English sentencizer.
        nlp: the :func:`builder.nlp.segmenter` of ``model`` to use (one is made, once per process, by default).

    Yields:
        Sentence records with offsets in the cleaned text and the raw text, no events.
    """
    nlp = nlp if nlp is not None else segmenter(model)
    paragraphs = article.paragraphs()
    seen: Counter[str] = Counter()
    index = 0
    texts = [article.text[s:e] for s, e in paragraphs]  # each doc's text (Doc.text would join its tokens again)
    for (p_start, _), seg, text, doc in zip(paragraphs, article.segments, texts, nlp.pipe(texts)):
        for s_start, s_end in sentence_bounds(doc, text):
            raw = text[s_start:s_end]
            stripped = raw.strip()
            if not stripped:
                continue
            lead = len(raw) - len(raw.lstrip())
            start = p_start + s_start + lead
            end = start + len(stripped)
            raw_start = seg.raw_start + (start - p_start)
            seen[stripped] += 1
            yield Sentence(
                id=sentence_id(article.id, stripped, seen[stripped]),
                doc_id=article.id,
                index=index,
                text=stripped,
                start=start,
                end=end,
                raw_start=raw_start,
                raw_end=raw_start + len(stripped),
                meta=article.meta,
            )
            index += 1


def segment(articles: Iterable[CleanArticle], model: Optional[str] = None) -> Iterator[Sentence]:
    """Segment a stream of cleaned articles."""
    for article in articles:
        yield from segment_article(article, model)
