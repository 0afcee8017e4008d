"""spaCy pipelines used by the stages.

The default needs no download: ``spacy.blank("en")`` with a rule-based sentencizer for
segmentation, and the lookup lemmatizer from ``spacy-lookups-data`` for labelling. A
trained pipeline (e.g. ``en_core_web_sm``) may be named instead when it is installed.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from .errors import ConfigError


@Language.component("casefold_lemmas")
def casefold_lemmas(doc: Doc) -> Doc:
    """Lower-case every lemma, re-looking up capitalised words ("Rockets" -> "rocket").

    The lookup table is keyed by the word as written, so a sentence-initial or headline
    word keeps its capital and misses the table; patterns are written in lower case.
    """
    table = doc.vocab.lookups.get_table("lemma_lookup") if doc.vocab.lookups.has_table("lemma_lookup") else {}
    for token in doc:
        lemma = token.lemma_
        if lemma == token.text and token.text != token.lower_:
            lemma = table.get(token.lower_, token.lower_)
        token.lemma_ = lemma.lower()
    return doc


def _load(model: Optional[str]) -> Language:
    if model is None:
        return spacy.blank("en")
    try:
        return spacy.load(model)
    except OSError as e:
        raise ConfigError(f"spaCy pipeline {model!r} is not installed; install it or omit --model to use the blank English pipeline") from e


@lru_cache(maxsize=None)
def segmenter(model: Optional[str] = None) -> Language:
    """A pipeline that sets sentence boundaries."""
    nlp = _load(model)
    if model is None:
        nlp.add_pipe("sentencizer")
    elif not (nlp.has_pipe("parser") or nlp.has_pipe("senter") or nlp.has_pipe("sentencizer")):
        nlp.add_pipe("sentencizer")
    return nlp


@lru_cache(maxsize=None)
def lemmatizer(model: Optional[str] = None) -> Language:
    """A pipeline that sets lower-case lemmas (lookup lemmatizer unless the model has its own)."""
    nlp = _load(model)
    if model is None:
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        try:
            nlp.initialize()
        except (ValueError, OSError) as e:
            raise ConfigError("the lookup lemmatizer needs the spacy-lookups-data package: pip install spacy-lookups-data") from e
    nlp.add_pipe("casefold_lemmas", last=True)
    return nlp
