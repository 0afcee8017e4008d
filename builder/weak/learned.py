"""Learned labelling functions: a trained model is just another labelling function.

``span_model.v1`` is the spaCy span categorizer of ``eventds train``; ``tagger.v1`` the
encoder fine-tuned as a trigger tagger (:mod:`builder.weak.tagger`); ``corrections.v1`` the
trigger words annotators corrected (:mod:`builder.weak.memory`). Both are registered
here and configured in ``weak_functions.json`` like the rules; their code is imported only
when a configuration enables them (the tagger needs the optional ``model`` extra, PyTorch
and transformers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Optional

from ..errors import InputError
from ..labelset import event_types
from .base import LabellingFunction, OptionError, register

SPAN_MODEL = "span_model.v1"
TAGGER = "tagger.v1"
CORRECTIONS = "corrections.v1"


def _folder(value: Any, field: str) -> Path:
    if not isinstance(value, (str, Path)) or not str(value):
        raise OptionError(field, f"expected the path of a model folder, got {value!r}")
    if not Path(value).is_dir():
        raise OptionError(field, f"{str(value)!r} is not a folder (relative paths are read from the current directory)")
    return Path(value)


def _types(value: Optional[Iterable[Any]], field: str = "types") -> Optional[list[str]]:
    if value is None:
        return None
    known = event_types()
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise OptionError(field, f"expected a list of event types, got {value!r}")
    unknown = [t for t in value if t not in known]
    if unknown:
        raise OptionError(field, f"{unknown} not among the event types {list(known)}")
    return value


def _threshold(value: Any, field: str = "threshold") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise OptionError(field, f"expected a number from 0 to 1, got {value!r}")
    return float(value)


@register(SPAN_MODEL)
def span_model(name: str, rules: Any, model: str) -> LabellingFunction:
    """The span model in folder ``model`` (from ``eventds train``), for the types its cross-validation kept."""
    from ..train import SpanModelFunction  # spaCy's training code, only when the function runs

    return SpanModelFunction(_folder(model, "model"), name=name)


@register(TAGGER)
def tagger(name: str, rules: Any, model: str, types: Optional[list[str]] = None, threshold: float = 0.5) -> LabellingFunction:
    """The trigger tagger in folder ``model`` (from ``eventds weak train``), voting for ``types``
    (all by default) where its confidence reaches ``threshold``."""
    folder, kept, minimum = _folder(model, "model"), _types(types), _threshold(threshold)
    from .tagger import TaggerFunction  # the optional 'model' extra (PyTorch), only when configured

    return TaggerFunction(folder, kept, minimum, name=name)


@register(CORRECTIONS)
def corrections(name: str, rules: Any, model: str) -> LabellingFunction:
    """The corrections memory in folder ``model`` (``corrections.json``, written by the ML backend)."""
    from .memory import CorrectionMemory, CorrectionsFunction

    folder = _folder(model, "model")
    try:
        memory = CorrectionMemory.load(folder)
    except InputError as e:
        raise OptionError("model", str(e)) from e
    return CorrectionsFunction(memory, name=name)
