"""The weak labeller: runs the configured labelling functions over texts and aggregates their votes.

Texts are labelled in batches: each function is called once per batch (``batch``) on the
docs that contain one of its anchor words, so that a model predicts a batch at once. The
votes can be kept (:class:`~builder.weak.votes.VotesWriter`) while the events are made
(:class:`~builder.weak.events.Aggregator`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence, Union

from ..errors import InputError
from ..records import Event, Sentence
from ..tokens import Tokens, tokenize
from .aggregate import AggregationSettings, Knots, aggregate, load_knots
from .base import Doc, LabellingFunction, SpacyTokenizer, create, with_batch, word_positions
from .config import WeakConfig
from .events import Aggregator, LabelStats, is_editor, with_weak_events
from .learned import SPAN_MODEL
from .lexicon import WeakRules
from .votes import VotesRecorder, VotesWriter, doc_from_votes, load_votes, read_index

BATCH_SIZE = 256


class WeakLabeller:
    """Runs the configured labelling functions over texts and aggregates their votes.

    Picklable (its functions, tokenizer and settings; a model loads again on first use), so
    that it can be sent to worker processes.

    Args:
        functions: names of the functions to run, in order, instead of the enabled entries
            of the configuration (with the options of their entries).
        model: an installed spaCy pipeline whose tokenizer to use instead of
            :func:`builder.tokens.tokenize` (lemma patterns are compiled to word forms, so
            the pipeline is used for its token boundaries only).
        tolerant: when True, an LF that raises on a text is counted in ``stats.failures``
            and gives no span on that text; otherwise the error propagates.
        span_model: a model folder from ``eventds train``, added as ``span_model.v1`` for the
            types where cross-validation showed it helps.
        calibrated: map the raw confidence through ``resources/calibration.json``.
        config: a ``weak_functions.json`` (:mod:`builder.weak.config`; the shipped one by default).
    """

    def __init__(
        self,
        functions: Optional[Iterable[str]] = None,
        model: Optional[str] = None,
        tolerant: bool = False,
        span_model: Optional[Path] = None,
        calibrated: bool = True,
        config: Optional[Path] = None,
    ):
        self.rules = WeakRules.load()
        self.config = WeakConfig.load(config)
        self.model = model
        self.tokenize: Callable[[str], Tokens] = tokenize if model is None else SpacyTokenizer(model)
        self.functions: dict[str, LabellingFunction] = {}
        self._plan: list[tuple[str, LabellingFunction, Optional[frozenset]]] = []  # anchors None: run on every text
        self._anchors: frozenset[str] = frozenset()
        settings = AggregationSettings(self.rules.min_confidence, self.rules.type_priority, load_knots() if calibrated else None)
        self.aggregator = Aggregator(settings)
        for fn in self.config.create(self.rules, functions):
            self.add(fn.name, fn)
        if span_model is not None:
            self.add(SPAN_MODEL, create(SPAN_MODEL, self.rules, model=str(span_model)))
        self.tolerant = tolerant
        self.stats = LabelStats()

    def add(self, name: str, fn: Callable[[Doc], None]) -> None:
        """Add (or replace) a labelling function; it runs only on texts with one of its
        ``anchors`` words, when it has that attribute, and on every text otherwise."""
        self.functions[name] = with_batch(name, fn) if not is_editor(fn) else fn
        # Editors run last, on the events the other functions' votes aggregate to.
        ordered = sorted(self.functions.items(), key=lambda item: is_editor(item[1]))
        self._plan = [(n, f, f.anchors) for n, f in ordered]
        self._anchors = frozenset().union(*(a for _, _, a in self._plan if a is not None))
        self.aggregator = Aggregator(self.aggregator.settings, [f for f in self.functions.values() if is_editor(f)])

    @property
    def version(self) -> str:
        return f"eventds-weak/{self.rules.version}"

    @property
    def calibration(self) -> Optional[Knots]:
        return self.aggregator.settings.calibration

    def make_doc(self, text: str) -> Doc:
        """Tokenize ``text`` for the labelling functions."""
        return Doc(self.tokenize(text))

    def annotate(self, doc: Doc) -> Doc:
        """Run every LF on a doc, each writing its own span group (empty when its anchors are absent)."""
        self.annotate_batch([doc])
        return doc

    def annotate_batch(self, docs: Sequence[Doc]) -> Sequence[Doc]:
        """Run every LF on ``docs``: each is called once, with the docs that contain one of its anchors."""
        anchors_all = self._anchors
        for doc in docs:
            doc.at = word_positions(doc.words, anchors_all)  # few words: the checks below stay cheap
        for name, fn, anchors in self._plan:
            chosen = []
            for doc in docs:
                doc.spans[name] = []  # in plan order, whatever the function writes
                if anchors is None or not anchors.isdisjoint(doc.at):  # type: ignore[arg-type]
                    chosen.append(doc)
            if chosen and is_editor(fn):
                voters = [n for n, f in self.functions.items() if not is_editor(f)]
                rules = [[c._asdict() for c in aggregate(doc, voters, self.aggregator.settings)] for doc in chosen]
                fn.batch(chosen, rules)
            elif chosen:
                self._run(name, fn, chosen)
        return docs

    def _run(self, name: str, fn: LabellingFunction, docs: list[Doc]) -> None:
        try:
            fn.batch(docs)
            return
        except Exception:
            if not self.tolerant:
                raise
        for doc in docs:  # which docs it fails on: each is counted
            try:
                fn(doc)
            except Exception:
                self.stats.failures[name] += 1
                doc.spans[name] = []
                doc.generic.pop(name, None)
                doc.failed.add(name)

    @property
    def own_tokens(self) -> bool:
        """Whether this labeller's docs hold the tokens of :func:`builder.tokens.tokenize`
        (those the ``bio`` config is made of), not a spaCy model's (``--model``)."""
        return self.tokenize is tokenize

    def events(self, doc: Doc, sentence_id: Any = None) -> list[Event]:
        """Aggregate the span groups of an annotated doc into events, with realis, arguments
        and counts (:meth:`builder.weak.events.Aggregator.events`), counted in ``stats``."""
        return self.aggregator.events(doc, self.functions, sentence_id, self.stats, own_tokens=self.own_tokens)

    def label_texts(
        self,
        texts: Iterable[str],
        ids: Optional[Iterable[Any]] = None,
        votes: Optional[Union[VotesWriter, VotesRecorder]] = None,
        tokens: Optional[list[Optional[Tokens]]] = None,
    ) -> Iterator[list[Event]]:
        """Yield the events of each text, in order, streaming (labelled :data:`BATCH_SIZE` at a time).

        Args:
            ids: the id of each text, named in ``stats.unplaceable_examples`` (and needed for ``votes``).
            votes: where to write every function's votes.
            tokens: each text's tokens are appended to it as the text is labelled: those of
                :func:`builder.tokens.tokenize`, which the ``bio`` config is made of, or
                ``None`` when this labeller tokenizes otherwise (``--model``).
        """
        own = self.own_tokens
        pairs = zip(texts, ids if ids is not None else itertools.repeat(None))
        while batch := list(itertools.islice(pairs, BATCH_SIZE)):
            docs = self.annotate_batch([self.make_doc(text) for text, _ in batch])
            for doc, (_, sentence_id) in zip(docs, batch):
                if votes is not None:
                    votes.write(sentence_id, doc)
                if tokens is not None:
                    tokens.append(doc.tokens if own else None)
                yield self.events(doc, sentence_id)

    def votes_writer(self, folder: Path) -> VotesWriter:
        """A writer of this labeller's votes into ``folder`` (see :mod:`builder.weak.votes`)."""
        editors = {n: {"kinds": list(f.kinds), "trusted": sorted(f.trusted)} for n, f in self.functions.items() if is_editor(f)}
        return VotesWriter(folder, list(self.functions), self.version, self.model, editors)


@lru_cache(maxsize=None)
def default_labeller() -> WeakLabeller:
    return WeakLabeller()


def label_sentences(sentences: Iterable[Sentence], labeller: Optional[WeakLabeller] = None, votes: Optional[VotesWriter] = None) -> Iterator[Sentence]:
    """Attach weak events to sentence records (status ``weak``), streaming.

    Records that already carry a human layer keep their ``events`` and ``status``; only
    their ``weak_events`` are refreshed. ``votes``, when given, receives every function's votes.
    """
    labeller = labeller or default_labeller()
    buffer: list[Sentence] = []

    def flush() -> Iterator[Sentence]:
        for sent, events in zip(buffer, labeller.label_texts((s.text for s in buffer), (s.id for s in buffer), votes)):
            yield with_weak_events(sent, events, labeller.version)
        buffer.clear()

    for sentence in sentences:
        buffer.append(sentence)
        if len(buffer) >= BATCH_SIZE:
            yield from flush()
    yield from flush()


def label_jsonl_objects(
    objects: Iterable[tuple[str, int, dict[str, Any]]], labeller: Optional[WeakLabeller] = None, votes: Optional[VotesWriter] = None
) -> Iterator[dict[str, Any]]:
    """Label arbitrary ``{"id", "text", ...}`` objects, returning them with an ``events`` list.

    Args:
        objects: ``(file, line, object)`` triples, so that errors name where a bad object is.
        votes: where to write every function's votes.

    Raises:
        InputError: when an object lacks a string ``text`` or an ``id``, or ids repeat.
    """
    labeller = labeller or default_labeller()
    seen: set[Any] = set()
    buffer: list[dict[str, Any]] = []

    def flush() -> Iterator[dict[str, Any]]:
        for obj, events in zip(buffer, labeller.label_texts((o["text"] for o in buffer), (o["id"] for o in buffer), votes)):
            yield {**obj, "events": [e.to_dict() for e in events], "labeller": labeller.version}
        buffer.clear()

    for path, lineno, obj in objects:
        where = f"{path}:{lineno}"
        if "id" not in obj or not isinstance(obj["id"], (str, int)) or isinstance(obj["id"], bool):
            raise InputError(f"{where} -> id: missing, or not a string or integer")
        if not isinstance(obj.get("text"), str):
            raise InputError(f"{where} -> text: missing or not a string (got {type(obj.get('text')).__name__})")
        if not obj["text"].strip():
            raise InputError(f"{where} -> text: empty" + (" (only whitespace)" if obj["text"] else "") + "; there is nothing to label")
        if obj["id"] in seen:
            raise InputError(f"{where} -> id: duplicate id {obj['id']!r}")
        seen.add(obj["id"])
        buffer.append(obj)
        if len(buffer) >= BATCH_SIZE:
            yield from flush()
    yield from flush()


@dataclass
class SpanGroups:
    """Every function's span groups on some texts, and where they come from.

    Attributes:
        names: the functions, in the order they ran.
        docs: sentence id -> the doc holding its span groups.
        votes: the votes folder they were read from; ``None`` when the functions ran.
        own_tokens: whether the docs hold the tokens of :func:`builder.tokens.tokenize`.
    """

    names: list[str]
    docs: dict[Any, Doc]
    votes: Optional[Path]
    own_tokens: bool = True


def span_groups(rows: Iterable[tuple[Any, str]], votes: Optional[Path] = None, labeller: Optional[WeakLabeller] = None) -> SpanGroups:
    """The span groups of ``(id, text)`` rows: read from the ``votes`` folder when given (no
    function runs), else made by running ``labeller``'s functions (a new labeller by default).

    Raises:
        InputError: a row has no votes in ``votes``.
    """
    rows = list(rows)
    if votes is not None:
        index = read_index(votes)
        tokenizer = index.tokenizer()
        found = load_votes(votes, (sid for sid, _ in rows))
        docs = {sid: doc_from_votes(text, found[sid], tokenizer) for sid, text in rows}
        return SpanGroups(list(index.functions), docs, Path(votes), tokenizer is tokenize)
    labeller = labeller or WeakLabeller()
    docs = {}
    for start in range(0, len(rows), BATCH_SIZE):
        chunk = rows[start : start + BATCH_SIZE]
        for (sid, _), doc in zip(chunk, labeller.annotate_batch([labeller.make_doc(text) for _, text in chunk])):
            docs[sid] = doc
    return SpanGroups(list(labeller.functions), docs, None, labeller.own_tokens)
