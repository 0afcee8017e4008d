"""Lexicon labelling functions: spaCy-style token patterns over lemmas, from ``weak_rules.json``.

Each function of the rules file is registered under its name there (the file is where the
name is written), its lemma constraints compiled into the word forms that have those
lemmas (:func:`builder.nlp.lemma_forms`), so that matching needs no lemmatizer.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Optional

from spacy.lang.en.lex_attrs import like_num
from spacy.lang.en.stop_words import STOP_WORDS

from ..errors import ConfigError
from ..labelset import event_types
from ..nlp import lemma_forms
from .base import RULES_PATH, VETO, BatchByLoop, Doc, register, word_positions


@dataclass(frozen=True)
class WeakRules:
    """The contents of ``weak_rules.json``."""

    version: str
    min_confidence: float
    type_priority: tuple[str, ...]
    functions: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, path: Path = RULES_PATH) -> "WeakRules":
        data = json.loads(path.read_text(encoding="utf-8"))
        known = set(event_types()) | {VETO}
        for name, fn in data["functions"].items():
            if fn["type"] not in known:
                raise ConfigError(f"{path} -> functions -> {name} -> type: {fn['type']!r} is not one of {sorted(known)}")
        functions = {name: {**fn, "patterns": [_compile_lemmas(p) for p in fn["patterns"]]} for name, fn in data["functions"].items()}
        return cls(data["version"], float(data["min_confidence"]), tuple(data["type_priority"]), functions)

    def words(self, names: Iterable[str]) -> set[str]:
        """Every lower-case word the patterns of the named functions can match."""
        words: set[str] = set()
        for name in names:
            for pattern in self.functions.get(name, {}).get("patterns", []):
                for token in pattern["pattern"]:
                    lower = token.get("LOWER")
                    if isinstance(lower, str):
                        words.add(lower)
                    elif isinstance(lower, dict):
                        words.update(lower.get("IN", []))
        return words


def _compile_lemmas(pattern: dict[str, Any]) -> dict[str, Any]:
    """Rewrite ``LEMMA`` token constraints as ``LOWER`` constraints over the forms of those lemmas."""
    forms = lemma_forms()
    tokens = []
    for token in pattern["pattern"]:
        token = dict(token)
        lemma = token.pop("LEMMA", None)
        if lemma is not None:
            lemmas = lemma["IN"] if isinstance(lemma, dict) else [lemma]
            token["LOWER"] = {"IN": sorted({f for l in lemmas for f in forms.get(l.lower(), {l.lower()})})}
        tokens.append(token)
    return {**pattern, "pattern": tokens}


class _Variant(NamedTuple):
    """One fixed-length form of a pattern (each optional token present or absent)."""

    key: str
    tests: tuple[tuple[Optional[frozenset], Optional[Callable[[str], bool]]], ...]  # (words, predicate) per token


_PREDICATES: dict[str, Callable[[str], bool]] = {"IS_ALPHA": str.isalpha, "LIKE_NUM": like_num}


def _variants(key: str, pattern: list[dict[str, Any]]) -> list[_Variant]:
    """Expand a spaCy token pattern (``LOWER`` string or ``IN`` list, ``IS_ALPHA``, ``LIKE_NUM``,
    ``"OP": "?"``) into its fixed-length variants."""
    forms: list[list[tuple]] = [[]]
    for token in pattern:
        words, predicate = None, None
        for attr, value in token.items():
            if attr == "OP":
                if value != "?":
                    raise ValueError(f"operator {value!r} is not supported (only '?')")
            elif attr == "LOWER":
                if isinstance(value, str):
                    words = frozenset([value])
                elif isinstance(value, dict) and set(value) == {"IN"}:
                    words = frozenset(value["IN"])
                else:
                    raise ValueError(f"LOWER must be a string or {{'IN': [...]}}, not {value!r}")
            elif attr in _PREDICATES and value is True:
                predicate = _PREDICATES[attr]
            else:
                raise ValueError(f"token attribute {attr}={value!r} is not supported")
        test = (words, predicate)
        forms = [f + [test] for f in forms] + (forms if token.get("OP") == "?" else [])
    return [_Variant(key, tuple(f)) for f in forms if f]


class LexiconFunction(BatchByLoop):
    """A labelling function made of spaCy-style token patterns, lemma constraints compiled to word forms.

    Patterns use spaCy's ``Matcher`` syntax and semantics: a pattern made only of word
    constraints gives every match (like the ``PhraseMatcher``); one with a ``IS_ALPHA`` or
    ``LIKE_NUM`` token keeps the longest non-overlapping matches (``greedy="LONGEST"``).
    ``tests/test_tokens.py`` checks the matches against spaCy's own matchers.
    """

    def __init__(self, name: str, spec: dict[str, Any]):
        self.name = name
        self.type = spec["type"]
        self.confidence: dict[str, float] = {}
        self.generic: set[str] = set()  # patterns of G5 priority-3 words
        self.trigger_token: dict[str, tuple[int, Optional[int]]] = {}  # patterns whose trigger is part of the match: token slice
        self.longest: set[str] = set()  # patterns with a predicate token: greedy LONGEST
        # anchor word -> (variant, offset of the anchor token in it): each variant is found
        # from the positions of the words of one of its tokens (rare words make few candidates).
        index: dict[str, list[tuple[str, tuple, int, int]]] = defaultdict(list)  # (key, tests, offset, length)
        for i, pattern in enumerate(spec["patterns"]):
            key = pattern["id"]
            try:
                variants = _variants(key, pattern["pattern"])
                if "trigger_token" in pattern:
                    self.trigger_token[key] = _trigger_slice(pattern["trigger_token"], min(len(v.tests) for v in variants))
            except (ValueError, KeyError, TypeError) as e:
                raise ConfigError(f"{RULES_PATH} -> functions -> {name} -> patterns -> {i}: {e}") from e
            for v in variants:
                # Anchor on the first token with a word constraint, preferring one without stop words.
                constrained = [k for k, (words, _) in enumerate(v.tests) if words is not None]
                offset = next((k for k in constrained if STOP_WORDS.isdisjoint(v.tests[k][0])), constrained[0] if constrained else None)
                if offset is None:
                    raise ConfigError(f"{RULES_PATH} -> functions -> {name} -> patterns -> {i}: a pattern needs at least one word constraint")
                for w in v.tests[offset][0]:
                    index[w].append((v.key, v.tests, offset, len(v.tests)))
            if any(token.keys() & _PREDICATES.keys() for token in pattern["pattern"]):
                self.longest.add(key)
            self.confidence[key] = float(pattern.get("confidence", 1.0))
            if pattern.get("generic"):
                self.generic.add(key)
        self.index = dict(index)
        #: A text with none of these words gets no span from this function.
        self.anchors = frozenset(self.index)

    def matches(self, words: list[str], at: Optional[Mapping[str, list[int]]] = None) -> list[tuple[str, int, int]]:
        """``(pattern id, start, end)`` token matches, with spaCy's matcher semantics.

        ``at``, where the words of interest occur in ``words`` (computed when not given),
        must cover every anchor word of this function that occurs.
        """
        if at is None:
            at = word_positions(words, self.anchors)
        found: list[tuple[str, int, int]] = []
        n = len(words)
        for w in self.anchors.intersection(at):
            entries = self.index[w]
            for p in at[w]:
                for key, tests, offset, length in entries:
                    if length == 1:  # the anchor is the whole pattern
                        found.append((key, p, p + 1))
                        continue
                    start = p - offset
                    end = start + length
                    if start < 0 or end > n:
                        continue
                    for (allowed, predicate), word in zip(tests, words[start:end]):
                        if (allowed is not None and word not in allowed) or (predicate is not None and not predicate(word)):
                            break
                    else:
                        found.append((key, start, end))
        if self.longest and found:
            found = _longest(found, self.longest)
        return found

    def __call__(self, doc: Doc) -> None:
        spans: dict[tuple[int, int], float] = {}
        generic: set[tuple[int, int]] = set()
        for key, start, end in self.matches(doc.words, doc.at):
            if key in self.trigger_token:  # the trigger is part of the match (G1): "25 dead", "set ... ablaze"
                tokens = range(start, end)[slice(*self.trigger_token[key])]
                start, end = tokens[0], tokens[-1] + 1
            span = doc.char_span(start, end)
            spans[span] = max(spans.get(span, 0.0), self.confidence[key])
            if key in self.generic:
                generic.add(span)
        doc.spans[self.name] = [(s, e, self.type, c) for (s, e), c in spans.items()]
        if generic:
            doc.generic[self.name] = generic


def _longest(found: list[tuple[str, int, int]], keys: set[str]) -> list[tuple[str, int, int]]:
    """spaCy's ``greedy="LONGEST"`` filter for the patterns in ``keys``: per pattern, the
    longest matches first, each kept when it overlaps none kept before."""
    out = [m for m in found if m[0] not in keys]
    for key in keys.intersection(m[0] for m in found):
        kept: list[tuple[str, int, int]] = []
        for m in sorted((m for m in found if m[0] == key), key=lambda m: (m[2] - m[1], -m[1]), reverse=True):
            if all(m[2] <= k[1] or k[2] <= m[1] for k in kept):
                kept.append(m)
        out.extend(sorted(set(kept), key=lambda m: m[1]))
    return out


def _trigger_slice(value: Any, shortest: int) -> tuple[int, Optional[int]]:
    """A pattern's ``trigger_token`` as slice bounds over the matched tokens: one token index
    (-1: the last) or a ``[start, end]`` slice (``end`` null: to the last token), which must
    keep a token of the shortest match (``shortest`` tokens)."""
    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if is_int(value) and -shortest <= value < shortest:
        return value, (value + 1) or None
    if isinstance(value, list) and len(value) == 2 and is_int(value[0]) and (value[1] is None or is_int(value[1])) and range(shortest)[slice(*value)]:
        return value[0], value[1]
    raise ValueError(f"trigger_token: expected a token index or a [start, end] slice that keeps a token of a {shortest}-token match, got {value!r}")


def lexicon(name: str, rules: WeakRules) -> LexiconFunction:
    """The factory of every lexicon function: its patterns are those of ``rules`` under ``name``."""
    if name not in rules.functions:
        raise ConfigError(f"{RULES_PATH}: no patterns for registered labelling function {name!r}")
    return LexiconFunction(name, rules.functions[name])


def function_names(path: Path = RULES_PATH) -> list[str]:
    """The names of the functions of a rules file, in its order (without compiling their patterns)."""
    try:
        return list(json.loads(path.read_text(encoding="utf-8"))["functions"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{path}: cannot read the labelling functions ({e!r})") from e


for _name in function_names():
    register(_name)(lexicon)
