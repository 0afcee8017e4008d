"""Weak labelling: registered, versioned labelling functions, their votes, and their aggregation.

Modules, each importing only those above it:

- :mod:`~builder.weak.base`: the :class:`Doc` functions see, the :class:`LabellingFunction`
  protocol, and the registry of versioned names.
- :mod:`~builder.weak.lexicon`: token patterns over lemmas (``weak_rules.json``).
- :mod:`~builder.weak.context`: rules that look beyond the trigger word.
- :mod:`~builder.weak.learned`: trained models as labelling functions (``span_model.v1``,
  ``tagger.v1`` of :mod:`~builder.weak.tagger`, ``corrections.v1`` of
  :mod:`~builder.weak.memory`), loaded only when configured.
- :mod:`~builder.weak.config`: which functions run, with which options (``weak_functions.json``).
- :mod:`~builder.weak.aggregate`: votes -> candidate events (vetoes, noisy-OR, G5, calibration).
- :mod:`~builder.weak.enrich`: realis, arguments and counts of the candidates.
- :mod:`~builder.weak.events`: the aggregation step (aggregate, enrich, drop events off the tokens).
- :mod:`~builder.weak.votes`: every function's votes kept in files beside the records, and read back.
- :mod:`~builder.weak.labeller`: :class:`WeakLabeller`, which runs the functions in batches.
"""

from .aggregate import CALIBRATION_PATH, AggregationSettings, Candidate, aggregate, apply_calibration, load_knots
from .base import REGISTRY, RULES_PATH, VETO, Doc, LabellingFunction, Span, create, register, spacy_tokenizer, with_batch, word_positions
from .config import CONFIG_PATH, FunctionEntry, WeakConfig
from .context import ContextFunction
from .enrich import arguments, enrich, realis
from .events import UNPLACEABLE_KEPT, Aggregator, LabelStats, Unplaceable, with_weak_events
from .labeller import BATCH_SIZE, SpanGroups, WeakLabeller, default_labeller, label_jsonl_objects, label_sentences, span_groups
from .lexicon import LexiconFunction, WeakRules
from .votes import (
    INDEX_FILE,
    VOTES_DIR,
    FunctionVotes,
    VotesIndex,
    VotesWriter,
    aggregate_objects,
    aggregate_sentences,
    aggregate_votes,
    doc_from_votes,
    load_votes,
    read_index,
    read_votes,
    votes_beside,
)

__all__ = [
    "BATCH_SIZE",
    "CALIBRATION_PATH",
    "CONFIG_PATH",
    "INDEX_FILE",
    "REGISTRY",
    "RULES_PATH",
    "UNPLACEABLE_KEPT",
    "VETO",
    "VOTES_DIR",
    "AggregationSettings",
    "Aggregator",
    "Candidate",
    "ContextFunction",
    "Doc",
    "FunctionEntry",
    "FunctionVotes",
    "LabelStats",
    "LabellingFunction",
    "LexiconFunction",
    "Span",
    "SpanGroups",
    "Unplaceable",
    "VotesIndex",
    "VotesWriter",
    "WeakConfig",
    "WeakLabeller",
    "WeakRules",
    "aggregate",
    "aggregate_objects",
    "aggregate_sentences",
    "aggregate_votes",
    "apply_calibration",
    "arguments",
    "create",
    "default_labeller",
    "doc_from_votes",
    "enrich",
    "label_jsonl_objects",
    "label_sentences",
    "load_knots",
    "load_votes",
    "read_index",
    "read_votes",
    "realis",
    "register",
    "spacy_tokenizer",
    "span_groups",
    "votes_beside",
    "with_batch",
    "with_weak_events",
    "word_positions",
]
