"""Which task to annotate next: a priority per task that Label Studio's data manager sorts on.

Label Studio's free edition has no active-learning queue, but its data manager sorts tasks by
any field of their data, and its label stream follows the order of the tab it starts from. So
every task carries ``data.priority`` (0 to 1, higher first), made of three signals:

- **disagreement** (weight 0.5): the learned functions change the rules' events (a span
  added, removed or retyped) - a correction there teaches the most;
- **uncertainty** (0.3): an event whose confidence is near 0.5 (1 at 0.5, 0 at 0 or 1);
- **novelty** (0.2): the share of the sentence's content words (not spaCy's English stop
  words) that no annotated sentence has.

:func:`order` gives the push order; the ML backend (:mod:`builder.studio.backend`) computes the
priorities again after each retraining and updates the tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence

from spacy.lang.en.stop_words import STOP_WORDS

from ..tokens import tokenize

WEIGHTS = {"disagreement": 0.5, "uncertainty": 0.3, "novelty": 0.2}
#: Words shorter than this, stop words and words without a letter do not count for novelty.
MIN_WORD = 3
#: The name of the data manager tab that shows unannotated tasks by priority.
VIEW_TITLE = "eventds: next to annotate"


def content_words(text: str) -> set[str]:
    """The lower-case words of ``text`` that count for novelty."""
    return {w for w in tokenize(text).words if len(w) >= MIN_WORD and w not in STOP_WORDS and any(c.isalpha() for c in w)}


def _spans(events: Iterable[Any]) -> set[tuple[int, int, str]]:
    out = set()
    for e in events:
        if isinstance(e, Mapping):
            out.add((e["start"], e["end"], e["type"]))
        else:
            out.add((e.start, e.end, e.type))
    return out


def _confidence(e: Any) -> Optional[float]:
    return e.get("confidence") if isinstance(e, Mapping) else e.confidence


@dataclass
class Prioritizer:
    """Scores sentences against the words of the sentences already annotated."""

    seen: set[str] = field(default_factory=set)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "Prioritizer":
        seen: set[str] = set()
        for t in texts:
            seen |= content_words(t)
        return cls(seen)

    def signals(self, text: str, events: Sequence[Any], rule_events: Optional[Sequence[Any]] = None) -> dict[str, float]:
        """The three signals of one sentence.

        Args:
            events: the pre-annotation (rules and learned functions).
            rule_events: the rules' events alone; ``None`` when no learned function ran
                (no disagreement then).
        """
        disagreement = float(rule_events is not None and _spans(rule_events) != _spans(events))
        confidences = [c for c in (_confidence(e) for e in events) if c is not None]
        uncertainty = max((1 - abs(2 * c - 1) for c in confidences), default=0.0)
        words = content_words(text)
        novelty = len(words - self.seen) / len(words) if words else 0.0
        return {"disagreement": disagreement, "uncertainty": uncertainty, "novelty": novelty}

    def priority(self, text: str, events: Sequence[Any], rule_events: Optional[Sequence[Any]] = None) -> float:
        """The weighted sum of :meth:`signals`, rounded to 4 places."""
        s = self.signals(text, events, rule_events)
        return round(sum(WEIGHTS[k] * v for k, v in s.items()), 4)


def order(priorities: Sequence[float]) -> list[int]:
    """Indices of ``priorities`` from the highest to the lowest (ties keep their order)."""
    return sorted(range(len(priorities)), key=lambda i: -priorities[i])
