"""Weak labelling: registered, versioned labelling functions and their aggregation.

Each labelling function (LF) writes only its own span group, ``doc.spans[lf.name]``, with
the event type as the span label (skweak's convention); an LF whose ``anchors`` (a set of
words) share none with the text is skipped. :func:`aggregate` then combines
the groups into events: vetoes drop what they overlap, agreeing votes on a span combine
their confidences by noisy-OR, type conflicts on one span go to the heavier vote (then
to ``type_priority``), and overlapping spans keep the longest.
"""

from __future__ import annotations

import bisect
import itertools
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import AbstractSet, Any, Callable, Iterable, Iterator, Mapping, NamedTuple, Optional, Sequence

from spacy.lang.en.lex_attrs import like_num
from spacy.lang.en.stop_words import STOP_WORDS

from .calibrate import apply as apply_calibration
from .calibrate import load_knots
from .errors import ConfigError, InputError
from .labelset import HUMAN_STATUSES, event_types, guidelines_version
from .nlp import lemma_forms, tokenizer
from .records import Event, Sentence
from .tokens import Tokens, tokenize

RULES_PATH = Path(__file__).parent / "resources" / "weak_rules.json"
VETO = "VETO"
BATCH_SIZE = 256

LabellingFunction = Callable[["Doc"], None]
REGISTRY: dict[str, Callable[["WeakRules"], LabellingFunction]] = {}


def register(name: str) -> Callable:
    """Register a labelling-function factory under a versioned name (``family.vN``)."""

    def decorator(factory: Callable[["WeakRules"], LabellingFunction]) -> Callable:
        if name in REGISTRY:
            raise ConfigError(f"labelling function {name!r} is registered twice")
        REGISTRY[name] = factory
        return factory

    return decorator


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


class Doc:
    """What the labelling functions see of one text: its tokens and the span groups they write.

    The labeller's light counterpart of a spaCy ``Doc`` (building one per sentence, with its
    ``Token`` and ``Span`` objects, would cost more than the whole labelling budget). Each
    function writes only ``spans[its name]``: ``(start_char, end_char, label, confidence)``.
    """

    __slots__ = ("tokens", "text", "words", "spans", "generic", "at", "_wordset")

    def __init__(self, tokens: Tokens):
        self.tokens = tokens
        self.text = tokens.text
        self.words = tokens.words
        self.spans: dict[str, list[tuple[int, int, str, float]]] = {}
        self.generic: set[tuple[int, int]] = set()  # spans matched only as generic attack words (G5)
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


class LexiconFunction:
    """A labelling function made of spaCy-style token patterns, lemma constraints compiled to word forms.

    Patterns use spaCy's ``Matcher`` syntax and semantics: a pattern made only of word
    constraints gives every match (like the ``PhraseMatcher``); one with a ``IS_ALPHA`` or
    ``LIKE_NUM`` token keeps the longest non-overlapping matches (``greedy="LONGEST"``).
    ``tests/test_label.py`` checks the matches against spaCy's own matchers.
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
        for key, start, end in self.matches(doc.words, doc.at):
            if key in self.trigger_token:  # the trigger is part of the match (G1): "25 dead", "set ... ablaze"
                tokens = range(start, end)[slice(*self.trigger_token[key])]
                start, end = tokens[0], tokens[-1] + 1
            span = doc.char_span(start, end)
            spans[span] = max(spans.get(span, 0.0), self.confidence[key])
            if key in self.generic:
                doc.generic.add(span)
        doc.spans[self.name] = [(s, e, self.type, c) for (s, e), c in spans.items()]


def word_positions(words: list[str], wanted: AbstractSet[str]) -> dict[str, list[int]]:
    """Where each word of ``wanted`` that occurs in ``words`` is, in order."""
    at = {}
    for w in wanted.intersection(words):
        # Most words occur once: ``index`` and ``count`` scan in C.
        at[w] = [words.index(w)] if words.count(w) == 1 else [i for i, x in enumerate(words) if x == w]
    return at


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


def _lexicon_factory(name: str) -> Callable[[WeakRules], LabellingFunction]:
    def factory(rules: WeakRules) -> LabellingFunction:
        if name not in rules.functions:
            raise ConfigError(f"{RULES_PATH}: no patterns for registered labelling function {name!r}")
        return LexiconFunction(name, rules.functions[name])

    return factory


def registry(rules: WeakRules) -> dict[str, Callable[[WeakRules], LabellingFunction]]:
    """Every labelling function: the lexicon functions named in the rules file, then the
    context functions registered in code (:mod:`builder.lfs`)."""
    from . import lfs  # noqa: F401  (registers the context functions)

    functions = {name: _lexicon_factory(name) for name in rules.functions}
    functions.update(REGISTRY)
    return functions


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
    """Counts kept while labelling: records, events per type, votes and failures per LF, and
    events dropped because they cannot be placed on tokens (with the first
    :data:`UNPLACEABLE_KEPT` of them, for a report)."""

    records: int = 0
    events: Counter = field(default_factory=Counter)
    votes: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    unplaceable: int = 0
    unplaceable_examples: list[Unplaceable] = field(default_factory=list)


class WeakLabeller:
    """Runs every registered labelling function over texts and aggregates their votes.

    Args:
        functions: LF names to run (all registered by default).
        model: an installed spaCy pipeline whose tokenizer to use instead of
            :func:`builder.tokens.tokenize` (lemma patterns are compiled to word forms, so
            the pipeline is used for its token boundaries only).
        span_model: a model folder from ``eventds train``, added as ``span_model.v1`` for the
            types where cross-validation showed it helps.
        tolerant: when True, an LF that raises on a text is counted in ``stats.failures``
            and skipped for that text; otherwise the error propagates.
    """

    def __init__(
        self,
        functions: Optional[Iterable[str]] = None,
        model: Optional[str] = None,
        tolerant: bool = False,
        span_model: Optional[Path] = None,
        calibrated: bool = True,
    ):
        self.rules = WeakRules.load()
        available = registry(self.rules)
        names = list(functions) if functions is not None else list(available)
        unknown = [n for n in names if n not in available]
        if unknown:
            raise ConfigError(f"unknown labelling functions {unknown}; registered: {sorted(available)}")
        self.tokenize: Callable[[str], Tokens] = tokenize if model is None else spacy_tokenizer(model)
        self.functions: dict[str, LabellingFunction] = {}
        self._plan: list[tuple[str, LabellingFunction, Optional[frozenset]]] = []  # anchors None: run on every text
        for name in names:
            self.add(name, available[name](self.rules))
        if span_model is not None:
            from .train import SpanModelFunction

            lf = SpanModelFunction(Path(span_model))
            self.add(lf.name, lf)
        self.tolerant = tolerant
        self.calibration = load_knots() if calibrated else None
        self.stats = LabelStats()

    def add(self, name: str, fn: LabellingFunction) -> None:
        """Add a labelling function; it runs only on texts with one of its ``anchors`` words,
        when it has that attribute, and on every text otherwise."""
        self.functions[name] = fn
        self._plan = [(n, f, getattr(f, "anchors", None)) for n, f in self.functions.items()]
        self._anchors = frozenset().union(*(a for _, _, a in self._plan if a is not None))

    def make_doc(self, text: str) -> Doc:
        """Tokenize ``text`` for the labelling functions."""
        return Doc(self.tokenize(text))

    @property
    def version(self) -> str:
        return f"eventds-weak/{self.rules.version}"

    def annotate(self, doc: Doc) -> Doc:
        """Run every LF on a doc, each writing its own span group (empty when its anchors are absent)."""
        spans = doc.spans
        at = doc.at = word_positions(doc.words, self._anchors)  # few words: the checks below stay cheap
        for name, fn, anchors in self._plan:
            if anchors is not None and anchors.isdisjoint(at):
                spans[name] = []
                continue
            try:
                fn(doc)
            except Exception:
                if not self.tolerant:
                    raise
                self.stats.failures[name] += 1
                spans[name] = []
        return doc

    def events(self, doc: Doc, sentence_id: Any = None) -> list[Event]:
        """Aggregate the span groups of an annotated doc into events, with realis, arguments and counts.

        An event whose trigger or an argument does not fall on the boundaries of the tokens
        the ``bio`` config is made of (:func:`builder.tokens.tokenize`, which are those of
        ``spacy.blank("en")``) is dropped and counted in ``stats.unplaceable``, with
        ``sentence_id`` kept among the first examples.
        """
        from .enrich import enrich

        events = enrich(doc, aggregate(doc, self.functions, self.rules, self.calibration))
        stats = self.stats
        stats.records += 1
        for name, spans in doc.spans.items():
            if spans:
                stats.votes[name] += len(spans)
        if events:
            events = self._placeable(doc, events, sentence_id)
        for e in events:
            stats.events[e.type] += 1
        return events

    def _placeable(self, doc: Doc, events: list[Event], sentence_id: Any) -> list[Event]:
        """The events whose spans all fall on token boundaries; the others are counted."""
        tokens = doc.tokens if self.tokenize is tokenize else tokenize(doc.text)
        starts, ends = set(tokens.starts), set(tokens.ends)
        kept = []
        for e in events:
            off = next(((s, t) for s, t in [(e.start, e.end), *((a.start, a.end) for a in e.arguments)] if s not in starts or t not in ends), None)
            if off is None:
                kept.append(e)
                continue
            self.stats.unplaceable += 1
            if len(self.stats.unplaceable_examples) < UNPLACEABLE_KEPT:
                self.stats.unplaceable_examples.append(Unplaceable(sentence_id, e.type, off[0], off[1], doc.text[off[0] : off[1]]))
        return kept

    def label_texts(self, texts: Iterable[str], ids: Optional[Iterable[Any]] = None) -> Iterator[list[Event]]:
        """Yield the events of each text, in order, streaming.

        Args:
            ids: the id of each text, named in ``stats.unplaceable_examples``.
        """
        for text, sentence_id in zip(texts, ids if ids is not None else itertools.repeat(None)):
            yield self.events(self.annotate(self.make_doc(text)), sentence_id)


def spacy_tokenizer(model: Optional[str]) -> Callable[[str], Tokens]:
    """Tokens from an installed spaCy pipeline's tokenizer (``None``: blank English), slower than :func:`tokenize`."""
    nlp = tokenizer(model)

    def tokenize_with_spacy(text: str) -> Tokens:
        doc = nlp.make_doc(text)
        return Tokens(text, [t.lower_ for t in doc], [t.idx for t in doc], ends=[t.idx + len(t) for t in doc])

    return tokenize_with_spacy


class Candidate(NamedTuple):
    """An aggregated event before enrichment."""

    type: str
    start: int
    end: int
    confidence: float
    sources: tuple[str, ...]


def aggregate(doc: Doc, functions: dict[str, Any], rules: WeakRules, calibration: Optional[Sequence[tuple[float, float]]] = None) -> list[Candidate]:
    """Combine the LF span groups of ``doc`` into non-overlapping events, sorted by offset.

    Events under ``rules.min_confidence`` (raw) are dropped; the others get their raw
    confidence mapped through ``calibration`` (see :mod:`builder.calibrate`) when given.
    """
    groups = [(name, spans) for name, spans in doc.spans.items() if spans and name in functions]
    if not groups:
        return []
    vetoes = [(s, e) for _, spans in groups for s, e, label, _ in spans if label == VETO]
    votes: dict[tuple[int, int], dict[str, list[tuple[str, float]]]] = {}
    for name, spans in groups:
        for start, end, label, conf in spans:
            if label == VETO or (vetoes and any(start < ve and vs < end for vs, ve in vetoes)):
                continue
            votes.setdefault((start, end), {}).setdefault(label, []).append((name, conf))
    if not votes:
        return []

    candidates = []
    priority = _priority(rules.type_priority)
    for (start, end), by_type in votes.items():
        if len(by_type) == 1:
            ((best, voters),) = by_type.items()
            score = voters[0][1] if len(voters) == 1 else _noisy_or(c for _, c in voters)
        else:
            scored = {t: _noisy_or(c for _, c in v) for t, v in by_type.items()}
            best = min(scored, key=lambda t: (-scored[t], priority.get(t, len(priority))))
            score, voters = scored[best], by_type[best]
        candidates.append((start, end, best, score, tuple(sorted(n for n, _ in voters)) if len(voters) > 1 else (voters[0][0],)))

    if len(candidates) == 1:
        chosen = candidates
    else:
        chosen = []
        for cand in sorted(candidates, key=lambda c: (c[0] - c[1], -c[3], c[0])):
            start, end, etype, conf, sources = cand
            overlapping = [i for i, c in enumerate(chosen) if start < c[1] and c[0] < end]
            if not overlapping:
                chosen.append(cand)
                continue
            # A shorter span inside a kept one of the same type adds its voters to it.
            for i in overlapping:
                k_start, k_end, k_type, k_conf, k_sources = chosen[i]
                if k_type != etype:
                    continue
                if set(sources) - set(k_sources):  # an independent function agrees
                    k_conf = _noisy_or([k_conf, conf])
                chosen[i] = (k_start, k_end, k_type, k_conf, tuple(sorted(set(k_sources) | set(sources))))

    # G5: a generic word (targeted, hit, struck; a "massacre" that restates a killing) is not
    # a trigger when a specific word of the sentence expresses the event: an ATTACK or
    # STRIKE word for the first, a CASUALTY word for the second.
    generic = doc.generic
    if generic:
        specific = {_G5_FAMILY.get(c[2], c[2]) for c in chosen if (c[0], c[1]) not in generic}
        chosen = [c for c in chosen if not ((c[0], c[1]) in generic and _G5_FAMILY.get(c[2], c[2]) in specific)]

    minimum = rules.min_confidence
    return [
        Candidate(t, s, e, round(apply_calibration(calibration, c) if calibration else c, 4), src)
        for s, e, t, c, src in (sorted(chosen) if len(chosen) > 1 else chosen)
        if c >= minimum
    ]


#: Types whose words express the same event for G5 (an attack is an ATTACK or a STRIKE).
_G5_FAMILY = {"STRIKE": "ATTACK"}


@lru_cache(maxsize=None)
def _priority(type_priority: tuple[str, ...]) -> dict[str, int]:
    return {t: i for i, t in enumerate(type_priority)}


def _noisy_or(confidences: Iterable[float]) -> float:
    p = 1.0
    for c in confidences:
        p *= 1.0 - c
    return 1.0 - p


@lru_cache(maxsize=None)
def default_labeller() -> WeakLabeller:
    return WeakLabeller()


def label_sentences(sentences: Iterable[Sentence], labeller: Optional[WeakLabeller] = None) -> Iterator[Sentence]:
    """Attach weak events to sentence records (status ``weak``), streaming.

    Records that already carry a human layer keep their ``events`` and ``status``; only
    their ``weak_events`` are refreshed.
    """
    labeller = labeller or default_labeller()
    version = guidelines_version()
    buffer: list[Sentence] = []

    def flush() -> Iterator[Sentence]:
        for sent, events in zip(buffer, labeller.label_texts((s.text for s in buffer), (s.id for s in buffer))):
            human = sent.status in HUMAN_STATUSES
            yield sent.with_(
                events=sent.events if human else tuple(events),
                weak_events=tuple(events),
                status=sent.status if human else "weak",
                labeller=labeller.version,
                guidelines_version=sent.guidelines_version if human else version,
            )
        buffer.clear()

    for sentence in sentences:
        buffer.append(sentence)
        if len(buffer) >= BATCH_SIZE:
            yield from flush()
    yield from flush()


def label_jsonl_objects(objects: Iterable[tuple[str, int, dict[str, Any]]], labeller: Optional[WeakLabeller] = None) -> Iterator[dict[str, Any]]:
    """Label arbitrary ``{"id", "text", ...}`` objects, returning them with an ``events`` list.

    Args:
        objects: ``(file, line, object)`` triples, so that errors name where a bad object is.

    Raises:
        InputError: when an object lacks a string ``text`` or an ``id``, or ids repeat.
    """
    labeller = labeller or default_labeller()
    seen: set[Any] = set()
    buffer: list[dict[str, Any]] = []

    def flush() -> Iterator[dict[str, Any]]:
        for obj, events in zip(buffer, labeller.label_texts((o["text"] for o in buffer), (o["id"] for o in buffer))):
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
