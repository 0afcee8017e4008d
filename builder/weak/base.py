"""What every labelling function shares: the document it sees, its protocol, and the registry.

A labelling function (LF) has a versioned name (``family.vN``), written once, in its
registration: the registry calls the factory with that name, and the function keeps it as
its ``name``. It writes only its own span group, ``doc.spans[self.name]``, with the event
type (or :data:`VETO`) as the span label (skweak's convention), and, for the G5 generic
words among its spans, ``doc.generic[self.name]``. Its ``anchors`` (a set of words) let the
labeller skip texts that contain none of them; ``None`` runs it on every text. ``batch``
annotates several docs in one call (a model predicts a batch at once); :class:`Looping`
gives one that loops to a function without its own.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import AbstractSet, Any, Callable, Container, Optional, Protocol, Sequence, runtime_checkable

from ..errors import ConfigError
from ..nlp import bounded_vocab, tokenizer
from ..tokens import Tokens

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
#: The lexicon functions' patterns and the aggregation settings.
RULES_PATH = RESOURCES / "weak_rules.json"
VETO = "VETO"

#: One vote: ``(start, end, label, confidence)``, character offsets with an exclusive end;
#: the label is an event type or :data:`VETO`.
Span = tuple[int, int, str, float]


class Doc:
    """What the labelling functions see of one text: its tokens and the span groups they write.

    The labeller's light counterpart of a spaCy ``Doc`` (building one per sentence, with its
    ``Token`` and ``Span`` objects, would cost more than the whole labelling budget). Each
    function writes only ``spans[its name]`` (and ``generic[its name]``: those of its spans
    that are G5 generic words).
    """

    __slots__ = ("tokens", "text", "words", "spans", "generic", "failed", "at", "_wordset")

    def __init__(self, tokens: Tokens):
        self.tokens = tokens
        self.text = tokens.text
        self.words = tokens.words
        self.spans: dict[str, list[Span]] = {}
        #: Per function, the spans matched only as generic attack words (G5).
        self.generic: dict[str, set[tuple[int, int]]] = {}
        #: Functions that raised on this text (counted by a tolerant labeller).
        self.failed: set[str] = set()
        #: Where each anchor word of the labelling functions occurs (set by the labeller).
        self.at: Optional[dict[str, list[int]]] = None
        self._wordset: Optional[set[str]] = None

    @property
    def wordset(self) -> set[str]:
        """The distinct lower-case words."""
        if self._wordset is None:
            self._wordset = set(self.words)
        return self._wordset

    def char_span(self, start: int, end: int) -> tuple[int, int]:
        """Character offsets of tokens ``start`` to ``end`` (exclusive)."""
        return self.tokens.starts[start], self.tokens.ends[end - 1]

    def token_at(self, char: int) -> int:
        """Index of the token that contains (or last starts before) character ``char``."""
        return bisect.bisect_right(self.tokens.starts, char) - 1

    def generic_spans(self, names: Optional[Container[str]] = None) -> set[tuple[int, int]]:
        """The G5 generic spans of the functions in ``names`` (all by default)."""
        return {span for name, spans in self.generic.items() if names is None or name in names for span in spans}


def word_positions(words: list[str], wanted: AbstractSet[str]) -> dict[str, list[int]]:
    """Where each word of ``wanted`` that occurs in ``words`` is, in order."""
    at = {}
    for w in wanted.intersection(words):
        # Most words occur once: ``index`` and ``count`` scan in C.
        at[w] = [words.index(w)] if words.count(w) == 1 else [i for i, x in enumerate(words) if x == w]
    return at


@runtime_checkable
class LabellingFunction(Protocol):
    """One source of weak labels: rules or a learned model alike.

    Attributes:
        name: the versioned name it was registered under (``family.vN``).
        anchors: the lower-case words it starts from; a text without any of them gets no
            span from it and it is not called. ``None``: it runs on every text.
    """

    name: str
    anchors: Optional[frozenset[str]]

    def __call__(self, doc: Doc) -> None:
        """Write ``doc.spans[self.name]`` (and ``doc.generic[self.name]``), nothing else."""

    def batch(self, docs: Sequence[Doc]) -> None:
        """Annotate each of ``docs`` as :meth:`__call__` would."""


class BatchByLoop:
    """Base class of the functions that annotate one doc at a time: ``batch`` calls the function on each."""

    def batch(self, docs: Sequence[Doc]) -> None:
        for doc in docs:
            self(doc)


class Looping:
    """A callable made a :class:`LabellingFunction` named ``name``: its ``anchors`` (``None``
    when it has none) and its own ``batch``, or one that loops."""

    def __init__(self, name: str, fn: Callable[[Doc], None]):
        self.name = name
        self.fn = fn
        self.anchors: Optional[frozenset[str]] = getattr(fn, "anchors", None)

    def __call__(self, doc: Doc) -> None:
        self.fn(doc)

    def batch(self, docs: Sequence[Doc]) -> None:
        own = getattr(self.fn, "batch", None)
        if callable(own):
            own(docs)
            return
        for doc in docs:
            self.fn(doc)


def with_batch(name: str, fn: Callable[[Doc], None]) -> LabellingFunction:
    """``fn`` as a :class:`LabellingFunction` named ``name``: itself when it is one, else
    wrapped in :class:`Looping`.

    Raises:
        ConfigError: ``fn`` carries another name than ``name``.
    """
    own = getattr(fn, "name", None)
    if own is not None and own != name:
        raise ConfigError(f"labelling function {name!r} calls itself {own!r}: a function keeps the name it is registered under")
    if own == name and callable(getattr(fn, "batch", None)) and hasattr(fn, "anchors"):
        return fn  # type: ignore[return-value]
    return Looping(name, fn)


#: A factory is called as ``factory(name, rules, **options)`` (``rules``: the
#: :class:`~builder.weak.lexicon.WeakRules`) and gives a function whose ``name`` is ``name``.
Factory = Callable[..., LabellingFunction]
#: Every labelling function, by versioned name.
REGISTRY: dict[str, Factory] = {}
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*\.v[0-9]+")


class OptionError(ConfigError):
    """A factory refused one of its options; ``field`` names it (for the config file's message)."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def register(name: str) -> Callable[[Factory], Factory]:
    """Register a labelling-function factory under a versioned name (``family.vN``).

    Raises:
        ConfigError: the name is not ``family.vN`` or is registered already.
    """
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(f"labelling function name {name!r} is not of the form family.vN (lower case, e.g. attack_lexicon.v7)")

    def decorator(factory: Factory) -> Factory:
        if name in REGISTRY:
            raise ConfigError(f"labelling function {name!r} is registered twice")
        REGISTRY[name] = factory
        return factory

    return decorator


def create(name: str, rules: Any, **options: Any) -> LabellingFunction:
    """Make the function registered as ``name``, with its ``options``.

    Raises:
        ConfigError: no function is registered as ``name``, or an option is refused.
    """
    if name not in REGISTRY:
        raise ConfigError(f"unknown labelling function {name!r}; registered: {sorted(REGISTRY)}")
    return with_batch(name, REGISTRY[name](name, rules, **options))


class SpacyTokenizer:
    """Tokens from an installed spaCy pipeline's tokenizer (``None``: blank English), slower
    than :func:`builder.tokens.tokenize`. Pickles as its model name; the pipeline loads on first use."""

    def __init__(self, model: Optional[str]):
        self.model = model
        self._nlp: Any = None

    def __call__(self, text: str) -> Tokens:
        if self._nlp is None:
            self._nlp = tokenizer(self.model)
        with bounded_vocab(self._nlp):
            doc = self._nlp.make_doc(text)
            return Tokens(text, [t.lower_ for t in doc], [t.idx for t in doc], ends=[t.idx + len(t) for t in doc])

    def __getstate__(self) -> dict[str, Any]:
        return {"model": self.model, "_nlp": None}


def spacy_tokenizer(model: Optional[str]) -> Callable[[str], Tokens]:
    """Tokens from an installed spaCy pipeline (see :class:`SpacyTokenizer`)."""
    return SpacyTokenizer(model)

