"""What annotators corrected, remembered: a labelling function learned in milliseconds.

``corrections.v1`` learns from corrected sentences and the rules' events on them, word by
word: a trigger word annotators mark where the rules are silent (or mark with another type)
becomes a vote for that type wherever the word occurs again, and a trigger word of the rules
that annotators keep removing becomes a veto. Retypes are not learned (the rules read the
context to choose a type; a word's majority would not). It needs no model extra, so Label Studio's
ML backend (:mod:`builder.studio.backend`) retrains it after every batch of submissions and
the next pre-annotations carry what was corrected.

A word's vote must be earned: added with one type in at least half of its occurrences
where the rules were silent (``min_marked`` times at least), its confidence the share of
them (smoothed). A veto needs the rules' trigger removed in more than half of at least
``min_removed`` sentences, and no vote for the word. The memory is a JSON file
(``corrections.json``) so that a user can read and edit what was learned.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

from ..errors import InputError
from ..tokens import tokenize
from .base import VETO, Doc

MEMORY_FILE = "corrections.json"
#: An addition is learned from its first correction (``benchmarks/backend_loop.py``: requiring
#: two learned 7 words from 400 corrected sentences and no gain); a veto needs two removals.
MIN_MARKED = 1
MIN_REMOVED = 2
FORMAT = "corrections.v1"
#: Raw confidence of a vote from a word marked every time it occurred, smoothed below it by
#: how few times that was ((marked + 1) / (seen + 2) scaled into [floor, ceiling]).
CONFIDENCE_FLOOR, CONFIDENCE_CEILING = 0.5, 0.9


def _key(words: Sequence[str]) -> str:
    return " ".join(words)


def _span_words(tokens, start: int, end: int) -> Optional[tuple[int, int]]:
    """Token range ``[i, j)`` covering exactly ``start``-``end`` (None when off the tokens)."""
    starts, ends = tokens.starts, tokens.ends
    try:
        return starts.index(start), ends.index(end) + 1
    except ValueError:
        return None


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _occurrences(words: Sequence[str], key: tuple[str, ...]) -> list[int]:
    n = len(key)
    return [i for i in range(len(words) - n + 1) if tuple(words[i : i + n]) == key]


@dataclass
class CorrectionMemory:
    """What was learned: per word (or words), the type it is voted for or that it is vetoed,
    with the counts behind each."""

    votes: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> {"type", "marked", "seen"}
    vetoes: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> {"removed", "proposed"}
    sentences: int = 0

    @classmethod
    def learn(
        cls,
        examples: Iterable[tuple[str, Sequence[Mapping[str, Any]], Sequence[Mapping[str, Any]]]],
        min_marked: int = MIN_MARKED,
        min_removed: int = MIN_REMOVED,
    ) -> CorrectionMemory:
        """Learn from ``(text, human events, rule events)`` triples (events as dicts with
        ``type``, ``start``, ``end``).

        Only what annotators changed is learned: a trigger they marked where no rule event
        overlaps it (an addition), counted against the times its word occurred with no rule
        event on it; a rule event they removed, against the times the rules proposed it. A
        retype is not learned: the rules' choice of type reads the context, a word's
        majority would not.
        """
        added: dict[tuple[str, ...], Counter] = defaultdict(Counter)
        proposed: Counter = Counter()
        removed: Counter = Counter()
        sentences: list[tuple[list[str], Any, list[tuple[int, int]]]] = []
        for text, human, rules in examples:
            tokens = tokenize(text)
            words = tokens.words
            rule_spans = [(r["start"], r["end"]) for r in rules]
            sentences.append((words, tokens, rule_spans))
            for e in human:
                at = _span_words(tokens, e["start"], e["end"])
                if at is not None and not any(_overlap(span, (e["start"], e["end"])) for span in rule_spans):
                    added[tuple(words[at[0] : at[1]])][e["type"]] += 1
            for r in rules:
                at = _span_words(tokens, r["start"], r["end"])
                if at is None:
                    continue
                k = tuple(words[at[0] : at[1]])
                proposed[k] += 1
                if not any(_overlap((h["start"], h["end"]), (r["start"], r["end"])) for h in human):
                    removed[k] += 1
        silent: Counter = Counter()  # occurrences of an added word with no rule event on them
        for words, tokens, rule_spans in sentences:
            for k in added:
                for i in _occurrences(words, k):
                    span = (tokens.starts[i], tokens.ends[i + len(k) - 1])
                    silent[k] += not any(_overlap(span, r) for r in rule_spans)
        memory = cls(sentences=len(sentences))
        for k, by_type in sorted(added.items()):
            etype, n = max(sorted(by_type.items()), key=lambda item: item[1])
            if n >= min_marked and n * 2 >= silent[k]:
                memory.votes[_key(k)] = {"type": etype, "marked": n, "seen": silent[k]}
        for k, n in sorted(removed.items()):
            if n >= min_removed and n * 2 > proposed[k] and _key(k) not in memory.votes:
                memory.vetoes[_key(k)] = {"removed": n, "proposed": proposed[k]}
        return memory

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "sentences": self.sentences, "votes": self.votes, "vetoes": self.vetoes}

    def save(self, folder: Path) -> Path:
        from ..io import atomic_open

        folder.mkdir(parents=True, exist_ok=True)
        path = folder / MEMORY_FILE
        with atomic_open(path) as fh:
            fh.write(json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n")
        return path

    @classmethod
    def load(cls, folder: Path) -> "CorrectionMemory":
        """Read ``folder/corrections.json``.

        Raises:
            InputError: the file is missing, not JSON, or not of this format.
        """
        path = Path(folder) / MEMORY_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise InputError(f"{path}: cannot read the corrections memory: {e.strerror}") from e
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{e.lineno}: invalid JSON at column {e.colno}: {e.msg}") from e
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(f"{path}: not a corrections memory (expected \"format\": \"{FORMAT}\")")
        for part in ("votes", "vetoes"):
            if not isinstance(data.get(part), dict):
                raise InputError(f"{path} -> {part}: expected an object of word -> counts")
        return cls(data["votes"], data["vetoes"], int(data.get("sentences", 0)))


def _confidence(marked: int, seen: int) -> float:
    share = (marked + 1) / (max(seen, marked) + 2)
    return round(CONFIDENCE_FLOOR + (CONFIDENCE_CEILING - CONFIDENCE_FLOOR) * share, 4)


class CorrectionsFunction:
    """The labelling function of a :class:`CorrectionMemory`: a vote for each remembered
    trigger word, a veto on each word annotators keep removing."""

    def __init__(self, memory: CorrectionMemory, name: str = "corrections.v1"):
        self.name = name
        self.memory = memory
        self._keys: dict[str, list[tuple[tuple[str, ...], str, float]]] = defaultdict(list)
        for key, v in memory.votes.items():
            words = tuple(key.split(" "))
            self._keys[words[0]].append((words, v["type"], _confidence(int(v["marked"]), int(v["seen"]))))
        for key in memory.vetoes:
            words = tuple(key.split(" "))
            self._keys[words[0]].append((words, VETO, 1.0))
        self.anchors: Optional[frozenset[str]] = frozenset(self._keys)

    def __call__(self, doc: Doc) -> None:
        spans = []
        words = doc.words
        for first in self.anchors.intersection(words) if self.anchors else ():
            for key, label, conf in self._keys[first]:
                for i in _occurrences(words, key):
                    start, end = doc.char_span(i, i + len(key))
                    spans.append((start, end, label, conf))
        doc.spans[self.name] = sorted(spans)

    def batch(self, docs: Sequence[Doc]) -> None:
        for doc in docs:
            self(doc)
