"""Weak labelling: registered, versioned labelling functions and their aggregation.

Each labelling function (LF) writes only its own span group, ``doc.spans[lf.name]``, with
the event type as the span label (skweak's convention). :func:`aggregate` then combines
the groups into events: vetoes drop what they overlap, agreeing votes on a span combine
their confidences by noisy-OR, type conflicts on one span go to the heavier vote (then
to ``type_priority``), and overlapping spans keep the longest.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span

from .calibrate import apply as apply_calibration
from .calibrate import load_knots
from .errors import ConfigError, InputError
from .labelset import event_types, guidelines_version
from .nlp import lemma_forms, tokenizer
from .records import Event, Sentence

RULES_PATH = Path(__file__).parent / "resources" / "weak_rules.json"
VETO = "VETO"
_WORDS = re.compile(r"[^\W_]+")  # alphanumeric runs: what the prefilter compares
BATCH_SIZE = 256

LabellingFunction = Callable[[Doc], None]
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

    def trigger_words(self) -> set[str]:
        """Every word an event (non-veto) pattern can match: a text with none of them, and
        none of the context functions' words, cannot have an event."""
        return self.words(name for name, fn in self.functions.items() if fn["type"] != VETO)


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


class LexiconFunction:
    """A labelling function made of spaCy ``Matcher`` patterns (lemma constraints compiled to word forms)."""

    def __init__(self, name: str, spec: dict[str, Any], nlp: Language):
        self.name = name
        self.type = spec["type"]
        self.matcher = Matcher(nlp.vocab)
        self.confidence: dict[int, float] = {}  # keyed by the hash of the pattern id
        self.generic: set[int] = set()  # patterns of G5 priority-3 words
        self.head_only: set[int] = set()  # patterns whose trigger is the last matched token
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        for i, pattern in enumerate(spec["patterns"]):
            try:
                variants = _phrase_words(pattern["pattern"])
                if variants is None:
                    self.matcher.add(pattern["id"], [pattern["pattern"]], greedy="LONGEST")
                else:  # fixed word sequences: the hash-based PhraseMatcher is much faster
                    docs = [Doc(nlp.vocab, words=list(w)) for v in variants for w in itertools.product(*v)]
                    self.phrases.add(pattern["id"], docs)
            except (ValueError, KeyError) as e:
                raise ConfigError(f"{RULES_PATH} -> functions -> {name} -> patterns -> {i}: {e}") from e
            self.confidence[get_string_id(pattern["id"])] = float(pattern.get("confidence", 1.0))
            if pattern.get("head_only"):
                self.head_only.add(get_string_id(pattern["id"]))
            if pattern.get("generic"):
                self.generic.add(get_string_id(pattern["id"]))

    def __call__(self, doc: Doc) -> None:
        spans = []
        matches = [*self.phrases(doc), *(self.matcher(doc) if len(self.matcher) else ())]
        for match_id, start, end in matches:
            if match_id in self.head_only:  # a count construction: the trigger is its last word (G1)
                start = end - 1
            span = Span(doc, start, end, label=self.type)
            spans.append(span)
            span_confidence(doc)[(self.name, span.start_char, span.end_char)] = self.confidence[match_id]
            if match_id in self.generic:
                generic_spans(doc).add((span.start_char, span.end_char))
        doc.spans[self.name] = spans


def _phrase_words(pattern: list[dict[str, Any]]) -> Optional[list[list[list[str]]]]:
    """The word sequences of a pattern made only of ``LOWER`` constraints (optional tokens,
    ``"OP": "?"``, give one variant without them), as per-variant lists of alternatives;
    ``None`` when the pattern needs the ``Matcher``."""
    variants: list[list[list[str]]] = [[]]
    for token in pattern:
        op = token.get("OP")
        if set(token) - {"OP"} != {"LOWER"} or op not in (None, "?"):
            return None
        lower = token["LOWER"]
        if isinstance(lower, str):
            alternatives = [lower]
        elif isinstance(lower, dict) and set(lower) == {"IN"}:
            alternatives = list(lower["IN"])
        else:
            return None
        with_token = [v + [alternatives] for v in variants]
        variants = with_token + (variants if op == "?" else [])
    return [v for v in variants if v]


def doc_text(doc: Doc) -> str:
    """The text of ``doc``, from the cache :meth:`WeakLabeller.make_doc` fills when it can."""
    return doc.user_data.get("eventds_text") or doc.text


def lowers(doc: Doc) -> list[str]:
    """The lower-case words of ``doc``, computed once per doc (Token objects are slow to make)."""
    cached = doc.user_data.get("eventds_lowers")
    if cached is None:
        cached = doc.user_data["eventds_lowers"] = [t.lower_ for t in doc]
    return cached


def token_starts(doc: Doc) -> list[int]:
    """Character offset of each token of ``doc``, computed once per doc."""
    cached = doc.user_data.get("eventds_starts")
    if cached is None:
        cached = doc.user_data["eventds_starts"] = [t.idx for t in doc]
    return cached


def span_confidence(doc: Doc) -> dict[tuple[str, int, int], float]:
    """Per-document store of each LF span's confidence, keyed by (lf, start_char, end_char)."""
    return doc.user_data.setdefault("eventds_confidence", {})


def generic_spans(doc: Doc) -> set[tuple[int, int]]:
    """Per-document set of spans matched only as generic attack words (G5 priority 3)."""
    return doc.user_data.setdefault("eventds_generic", set())


def _lexicon_factory(name: str) -> Callable[[WeakRules], LabellingFunction]:
    def factory(rules: WeakRules) -> LabellingFunction:
        if name not in rules.functions:
            raise ConfigError(f"{RULES_PATH}: no patterns for registered labelling function {name!r}")
        return LexiconFunction(name, rules.functions[name], tokenizer())

    return factory


def registry(rules: WeakRules) -> dict[str, Callable[[WeakRules], LabellingFunction]]:
    """Every labelling function: the lexicon functions named in the rules file, then the
    context functions registered in code (:mod:`builder.lfs`)."""
    from . import lfs  # noqa: F401  (registers the context functions)

    functions = {name: _lexicon_factory(name) for name in rules.functions}
    functions.update(REGISTRY)
    return functions


@dataclass
class LabelStats:
    """Counts kept while labelling: records, events per type, votes and failures per LF."""

    records: int = 0
    events: Counter = field(default_factory=Counter)
    votes: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)


class WeakLabeller:
    """Runs every registered labelling function over texts and aggregates their votes.

    Args:
        functions: LF names to run (all registered by default).
        model: spaCy pipeline name for lemmas (the blank English lookup pipeline by default).
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
        self.nlp = tokenizer(model)
        self.functions = {name: available[name](self.rules) for name in names}
        if span_model is not None:
            from .train import SpanModelFunction

            lf = SpanModelFunction(Path(span_model))
            self.functions[lf.name] = lf
        self.tolerant = tolerant
        self.calibration = load_knots() if calibrated else None
        self.stats = LabelStats()
        self._prefilter: Optional[Callable[[str], bool]] = None

    @property
    def prefilter(self) -> Callable[[str], bool]:
        """True when a text has a word an event could hang on (lexicon and context functions)."""
        if self._prefilter is None:
            from .lfs import CONTEXT_WORDS

            # Compare alphanumeric parts, so that the tokenizer's splitting of hyphens and
            # apostrophes can never hide a trigger word from the filter.
            words = frozenset(part for w in self.rules.trigger_words() | CONTEXT_WORDS for part in _WORDS.findall(w))
            if "span_model.v1" in self.functions:
                self._prefilter = lambda text: True  # a trained model may find anything
            else:
                self._prefilter = lambda text: not words.isdisjoint(_WORDS.findall(text.lower()))
        return self._prefilter

    def make_doc(self, text: str) -> Doc:
        """Tokenize ``text``, keeping the string itself (``Doc.text`` rebuilds it token by token)."""
        doc = self.nlp.make_doc(text)
        doc.user_data["eventds_text"] = text
        return doc

    @property
    def version(self) -> str:
        return f"eventds-weak/{self.rules.version}"

    def annotate(self, doc: Doc) -> Doc:
        """Run every LF on a doc, each writing its own span group."""
        for name, fn in self.functions.items():
            try:
                fn(doc)
            except Exception:
                if not self.tolerant:
                    raise
                self.stats.failures[name] += 1
                doc.spans[name] = []
        return doc

    def events(self, doc: Doc) -> list[Event]:
        """Aggregate the span groups of an annotated doc into events, with realis, arguments and counts."""
        from .enrich import enrich

        events = enrich(doc, aggregate(doc, self.functions, self.rules, self.calibration))
        self.stats.records += 1
        for name in self.functions:
            self.stats.votes[name] += len(doc.spans[name])
        for e in events:
            self.stats.events[e.type] += 1
        return events

    def label_texts(self, texts: Iterable[str]) -> Iterator[list[Event]]:
        """Yield the events of each text, in order, streaming in batches."""
        prefilter = self.prefilter
        for text in texts:
            if not prefilter(text):  # no word that any function could use: no event
                self.stats.records += 1
                yield []
                continue
            yield self.events(self.annotate(self.make_doc(text)))


def aggregate(doc: Doc, functions: dict[str, Any], rules: WeakRules, calibration: Optional[Sequence[tuple[float, float]]] = None) -> list[Event]:
    """Combine the LF span groups of ``doc`` into non-overlapping events.

    Events under ``rules.min_confidence`` (raw) are dropped; the others get their raw
    confidence mapped through ``calibration`` (see :mod:`builder.calibrate`) when given.
    """
    confidence = span_confidence(doc)
    vetoes = [(s.start_char, s.end_char) for name in functions for s in doc.spans[name] if s.label_ == VETO]
    votes: dict[tuple[int, int], dict[str, list[tuple[str, float]]]] = defaultdict(lambda: defaultdict(list))
    for name in functions:
        for s in doc.spans[name]:
            if s.label_ == VETO or any(s.start_char < ve and vs < s.end_char for vs, ve in vetoes):
                continue
            votes[(s.start_char, s.end_char)][s.label_].append((name, confidence.get((name, s.start_char, s.end_char), 1.0)))

    candidates = []
    priority = {t: i for i, t in enumerate(rules.type_priority)}
    for (start, end), by_type in votes.items():
        scored = {t: _noisy_or(c for _, c in v) for t, v in by_type.items()}
        best = min(scored, key=lambda t: (-scored[t], priority.get(t, len(priority))))
        candidates.append((start, end, best, scored[best], tuple(sorted(n for n, _ in by_type[best]))))

    chosen: list[tuple[int, int, str, float, tuple[str, ...]]] = []
    for cand in sorted(candidates, key=lambda c: (-(c[1] - c[0]), -c[3], c[0])):
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

    # G5: a generic word (targeted, hit, struck) is not a trigger when a specific attack
    # word of the sentence expresses the event.
    generic = generic_spans(doc)
    specific = any(c[2] in ("ATTACK", "STRIKE") and (c[0], c[1]) not in generic for c in chosen)
    if specific:
        chosen = [c for c in chosen if not ((c[0], c[1]) in generic and c[2] in ("ATTACK", "STRIKE"))]

    text = doc_text(doc)
    return [
        Event(type=t, start=s, end=e, text=text[s:e], confidence=round(apply_calibration(calibration, c) if calibration else c, 4), sources=src)
        for s, e, t, c, src in sorted(chosen)
        if c >= rules.min_confidence
    ]


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
        for sent, events in zip(buffer, labeller.label_texts(s.text for s in buffer)):
            human = sent.status in ("corrected", "adjudicated")
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
        for obj, events in zip(buffer, labeller.label_texts(o["text"] for o in buffer)):
            yield {**obj, "events": [e.to_dict() for e in events], "labeller": labeller.version}
        buffer.clear()

    for path, lineno, obj in objects:
        where = f"{path}:{lineno}"
        if "id" not in obj or not isinstance(obj["id"], (str, int)) or isinstance(obj["id"], bool):
            raise InputError(f"{where} -> id: missing, or not a string or integer")
        if not isinstance(obj.get("text"), str):
            raise InputError(f"{where} -> text: missing or not a string (got {type(obj.get('text')).__name__})")
        if obj["id"] in seen:
            raise InputError(f"{where} -> id: duplicate id {obj['id']!r}")
        seen.add(obj["id"])
        buffer.append(obj)
        if len(buffer) >= BATCH_SIZE:
            yield from flush()
    yield from flush()
