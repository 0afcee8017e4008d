"""The aggregation step: a doc's span groups -> enriched events, with the step's counts.

:class:`Aggregator` runs :func:`~builder.weak.aggregate.aggregate`, then
:func:`~builder.weak.enrich.enrich`, and drops an event whose trigger or an argument is
not on token boundaries. It reads span groups only, so the labeller (which has just run
the functions) and the votes reader (which reads what they voted) share it, and give the
same events for the same votes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Container, NamedTuple, Optional, Protocol, Sequence

from ..labelset import HUMAN_STATUSES, guidelines_version
from ..records import Event, Sentence
from ..tokens import tokenize
from .aggregate import AggregationSettings, Candidate, aggregate
from .base import Doc
from .enrich import enrich

#: How many events that cannot be placed on tokens :class:`LabelStats` keeps for a report.
UNPLACEABLE_KEPT = 100


class Unplaceable(NamedTuple):
    """An event dropped because a span of it does not fall on token boundaries."""

    sentence_id: Any  # the record's id, None when the texts came without ids
    type: str
    start: int
    end: int
    text: str  # the span that is off the tokens (the trigger or an argument)


@dataclass
class LabelStats:
    """Counts kept while labelling or aggregating: records, events per type, votes and
    failures per LF, and events dropped because they cannot be placed on tokens (with the
    first :data:`UNPLACEABLE_KEPT` of them, for a report)."""

    records: int = 0
    events: Counter = field(default_factory=Counter)
    votes: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    unplaceable: int = 0
    unplaceable_examples: list[Unplaceable] = field(default_factory=list)


class Editor(Protocol):
    """A function that edits the events the others' votes aggregate to (``edits_rules``; the
    learned tagger of :mod:`builder.weak.tagger`): its votes are kept like any function's,
    and ``edit`` applies those it is trusted with."""

    name: str
    edits_rules: bool

    def edit(self, rule_events: Sequence[dict[str, Any]], spans: Sequence[tuple[int, int, str, float]]) -> list[dict[str, Any]]: ...


class RecordedEditor:
    """An editor as a votes folder records it: its name and the edits it was trusted with."""

    edits_rules = True

    def __init__(self, name: str, kinds: Sequence[str], trusted: frozenset[str]):
        self.name = name
        self.kinds = tuple(kinds)
        self.trusted = frozenset(trusted)

    def edit(self, rule_events: Sequence[dict[str, Any]], spans: Sequence[tuple[int, int, str, float]]) -> list[dict[str, Any]]:
        from .trust import combine

        return combine(rule_events, spans, self.trusted, self.kinds)


def is_editor(fn: Any) -> bool:
    return bool(getattr(fn, "edits_rules", False))


def apply_edits(candidates: list[Candidate], doc: Doc, editors: Sequence[Editor]) -> list[Candidate]:
    """``candidates`` with each editor's trusted edits applied, from its span group in ``doc``.

    An event an editor keeps keeps its candidate; one it retypes names the editor among its
    sources; one it adds has the editor's confidence and only the editor as source.
    """
    for editor in editors:
        spans = doc.spans.get(editor.name)
        if not spans and not candidates:
            continue
        rule_events = [{"type": c.type, "start": c.start, "end": c.end, "confidence": c.confidence} for c in candidates]
        by_span = {(c.start, c.end): c for c in candidates}
        edited = []
        for e in editor.edit(rule_events, spans or []):
            c = by_span.get((e["start"], e["end"]))
            if c is None:
                edited.append(Candidate(e["type"], e["start"], e["end"], round(float(e["confidence"]), 4), (editor.name,)))
            elif c.type == e["type"]:
                edited.append(c)
            else:
                edited.append(c._replace(type=e["type"], sources=tuple(sorted({*c.sources, editor.name}))))
        candidates = edited
    return candidates


class Aggregator:
    """Span groups to events: aggregation, the trusted edits of learned functions,
    enrichment (realis, arguments, counts), and the events that do not fall on token
    boundaries dropped and counted.

    Holds only its (picklable) settings and editors; counts go to the :class:`LabelStats` it is given.
    """

    def __init__(self, settings: AggregationSettings, editors: Sequence[Editor] = ()):
        self.settings = settings
        self.editors = tuple(editors)

    def events(
        self,
        doc: Doc,
        names: Optional[Container[str]] = None,
        sentence_id: Any = None,
        stats: Optional[LabelStats] = None,
        own_tokens: bool = True,
    ) -> list[Event]:
        """The events of an annotated doc.

        An event whose trigger or an argument does not fall on the boundaries of the tokens
        the ``bio`` config is made of (:func:`builder.tokens.tokenize`, which are those of
        ``spacy.blank("en")``) is dropped and counted in ``stats.unplaceable``, with
        ``sentence_id`` kept among the first examples.

        Args:
            names: the functions whose span groups count (all of the doc's by default).
            own_tokens: whether ``doc.tokens`` are those of :func:`builder.tokens.tokenize`
                (else the text is tokenized again for the check).
        """
        if names is None:
            names = set(doc.spans)
        editors = [e for e in self.editors if e.name in names]
        candidates = aggregate(doc, [n for n in names if not any(n == e.name for e in editors)], self.settings)
        if editors:
            candidates = apply_edits(candidates, doc, editors)
        events = enrich(doc, candidates)
        if stats is not None:
            stats.records += 1
            for name, spans in doc.spans.items():
                if spans and name in names:
                    stats.votes[name] += len(spans)
        if events:
            events = self._placeable(doc, events, sentence_id, stats, own_tokens)
        if stats is not None:
            for e in events:
                stats.events[e.type] += 1
        return events

    @staticmethod
    def _placeable(doc: Doc, events: list[Event], sentence_id: Any, stats: Optional[LabelStats], own_tokens: bool) -> list[Event]:
        """The events whose spans all fall on token boundaries; the others are counted."""
        tokens = doc.tokens if own_tokens else tokenize(doc.text)
        starts, ends = set(tokens.starts), set(tokens.ends)
        kept = []
        for e in events:
            off = next(((s, t) for s, t in [(e.start, e.end), *((a.start, a.end) for a in e.arguments)] if s not in starts or t not in ends), None)
            if off is None:
                kept.append(e)
                continue
            if stats is not None:
                stats.unplaceable += 1
                if len(stats.unplaceable_examples) < UNPLACEABLE_KEPT:
                    stats.unplaceable_examples.append(Unplaceable(sentence_id, e.type, off[0], off[1], doc.text[off[0] : off[1]]))
        return kept


def with_weak_events(sentence: Sentence, events: Sequence[Event], labeller: str) -> Sentence:
    """``sentence`` with ``events`` as its weak layer (status ``weak``).

    A record that carries a human layer keeps its ``events`` and ``status``; only its
    ``weak_events`` are replaced.
    """
    human = sentence.status in HUMAN_STATUSES
    return sentence.with_(
        events=sentence.events if human else tuple(events),
        weak_events=tuple(events),
        status=sentence.status if human else "weak",
        labeller=labeller,
        guidelines_version=sentence.guidelines_version if human else guidelines_version(),
    )
