"""spaCy pipelines used by the stages.

The default needs no download: ``spacy.blank("en")`` with a rule-based sentencizer for
segmentation; labelling needs no pipeline at run time: its lemma patterns are compiled
through the lookup table of ``spacy-lookups-data`` (:func:`lemma_forms`) and it tokenizes
with :mod:`builder.tokens`. A trained pipeline (e.g. ``en_core_web_sm``) may be named
instead when it is installed.
"""

from __future__ import annotations

import threading
import weakref
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Optional

import spacy
from spacy.language import Language

from .errors import ConfigError


@lru_cache(maxsize=None)
def lemma_forms() -> dict[str, frozenset[str]]:
    """Lemma -> the lower-case word forms whose lookup lemma it is (spacy-lookups-data, English).

    Patterns are written over lemmas and compiled into the forms that have them, so matching
    needs no lemmatizer at run time and gives exactly what the lookup lemmatizer would
    (a word's lemma is the table entry of its lower-cased form, or the form itself).
    """
    try:
        import spacy_lookups_data
        import srsly
    except ImportError as e:
        raise ConfigError("lemma patterns need the spacy-lookups-data package: pip install spacy-lookups-data") from e
    table = srsly.read_gzip_json(Path(spacy_lookups_data.__file__).parent / "data" / "en_lemma_lookup.json.gz")
    forms: dict[str, set[str]] = {}
    for form, lemma in table.items():
        forms.setdefault(lemma.lower(), set()).add(form.lower())
    return {lemma: frozenset(fs | {lemma}) for lemma, fs in forms.items()}


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
def tokenizer(model: Optional[str] = None) -> Language:
    """A pipeline used for its tokenizer only (``make_doc``): blank English by default."""
    return _load(model)


#: A pipeline keeps the new words of the first this many texts it processes within
#: :func:`bounded_vocab` in its vocabulary (most words of the texts after, and spaCy's
#: tokenizer cache, which is filled only outside a memory zone and holds 10,000 chunks).
KEPT_TEXTS = 500


class _Usage:
    def __init__(self) -> None:
        self.texts = 0
        self.lock = threading.Lock()


_USAGE: "weakref.WeakKeyDictionary[Language, _Usage]" = weakref.WeakKeyDictionary()
_USAGE_LOCK = threading.Lock()


@contextmanager
def bounded_vocab(nlp: Language) -> Iterator[None]:
    """Process one text (or a few) with ``nlp`` within: its vocabulary stops growing with the corpus.

    spaCy keeps every new word a pipeline meets (a lexeme and its strings, about 400 bytes),
    so a process that reads millions of distinct news sentences grows by hundreds of MiB of
    names, numbers and misspellings. The words of the first :data:`KEPT_TEXTS` blocks are kept;
    after that each block runs in a spaCy memory zone (``Language.memory_zone``), which frees
    the words it added when it ends. What the pipeline makes in the block (``Doc``, ``Span``,
    ``Token``) must not be used after it: take strings and offsets out inside. Tokens, sentence
    boundaries and attributes are the same either way. One thread at a time per pipeline
    (a zone swaps the vocabulary's memory pool for everyone using it).
    """
    with _USAGE_LOCK:
        usage = _USAGE.get(nlp)
        if usage is None:
            usage = _USAGE[nlp] = _Usage()
    with usage.lock:
        usage.texts += 1
        if usage.texts <= KEPT_TEXTS:
            yield
        else:
            with nlp.memory_zone():
                yield
