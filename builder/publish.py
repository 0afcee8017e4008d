"""Publishing: sentence records + split manifest -> a Hugging Face dataset folder.

The folder holds parquet files per config and split under ``data/`` and a ``README.md``
dataset card whose YAML (configs, features, splits) is written with datasets' own card
metadata classes, as ``push_to_hub`` writes it. Event types are ``ClassLabel`` features,
event lists are ``List({...})``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .errors import InputError
from .io import read_jsonl
from .labelset import event_types, guidelines_version
from .split import SPLITS

DEFAULT_CONFIG = "spans"
CARD_NAME = "README.md"


def event_features() -> dict[str, Any]:
    from datasets import ClassLabel, List, Value

    return {
        "type": ClassLabel(names=list(event_types())),
        "start": Value("int32"),
        "end": Value("int32"),
        "text": Value("string"),
        "confidence": Value("float64"),
        "sources": List(Value("string")),
        "realis": Value("string"),
        "arguments": List({"role": Value("string"), "start": Value("int32"), "end": Value("int32"), "text": Value("string")}),
        "count": {"value": Value("int32"), "min": Value("int32"), "max": Value("int32"), "qualifier": Value("string")},
    }


def spans_features():
    """Features of the ``spans`` config: one row per sentence record."""
    from datasets import ClassLabel, Features, List, Value

    string = Value("string")
    return Features(
        {
            "id": string,
            "doc_id": string,
            "index": Value("int32"),
            "text": string,
            "start": Value("int32"),
            "end": Value("int32"),
            "document": {k: string for k in ("outlet", "title", "published", "author", "source_file")},
            "events": List(event_features()),
            "weak_events": List(event_features()),
            "labels": List(ClassLabel(names=list(event_types()))),
            "status": string,
            "guidelines_version": string,
            "provenance": {"raw_start": Value("int32"), "raw_end": Value("int32"), "labeller": string, "annotators": List(string)},
        }
    )


@dataclass
class PublishStats:
    sentences: Counter = field(default_factory=Counter)  # per split
    documents: dict[str, set] = field(default_factory=lambda: defaultdict(set))
    events: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # split -> type -> n
    status: Counter = field(default_factory=Counter)


def _split_of(record: dict, manifest: dict, where: str) -> str:
    entry = manifest["documents"].get(record["doc_id"])
    if entry is None:
        raise InputError(f"{where} -> doc_id: document {record['doc_id']!r} is not in the split manifest; run `eventds split` first")
    return entry["split"]


def publish(records_path: Path, manifest: dict, out_dir: Path, card_extra: Optional[dict] = None) -> PublishStats:
    """Write the dataset folder from a records JSONL file, streaming one split at a time.

    The folder is built in a temporary directory beside ``out_dir`` and renamed over it
    only when complete.
    """
    from datasets.arrow_writer import ParquetWriter

    features = spans_features()
    stats = PublishStats()
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for split in SPLITS:
            path = tmp / "data" / DEFAULT_CONFIG / f"{split}-00000-of-00001.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = ParquetWriter(features=features, path=str(path))
            try:
                for lineno, record in read_jsonl(records_path):
                    if _split_of(record, manifest, f"{records_path}:{lineno}") != split:
                        continue
                    writer.write(features.encode_example(record))
                    stats.sentences[split] += 1
                    stats.documents[split].add(record["doc_id"])
                    stats.status[record["status"]] += 1
                    for e in record["events"]:
                        stats.events[split][e["type"]] += 1
                writer.finalize()
            finally:
                writer.close()
        write_card(tmp, features, stats, card_extra or {})
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return stats


def card_metadata(features, stats: PublishStats):
    """The card's YAML metadata: configs (default marked) and dataset_info, via datasets' classes."""
    from datasets import DatasetInfo, SplitInfo
    from datasets.info import DatasetInfosDict
    from datasets.splits import SplitDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    card_data = DatasetCardData(
        language=["en"],
        task_categories=["token-classification", "text-classification"],
        pretty_name="Conflict events in news (eventds)",
        tags=["event-extraction", "conflict", "weak-supervision"],
    )
    splits = SplitDict()
    for split in SPLITS:
        splits.add(SplitInfo(name=split, num_examples=stats.sentences[split]))
    info = DatasetInfo(features=features, splits=splits)
    DatasetInfosDict({DEFAULT_CONFIG: info}).to_dataset_card_data(card_data)
    MetadataConfigs(
        {
            DEFAULT_CONFIG: {
                "default": True,
                "data_files": [{"split": s, "path": f"data/{DEFAULT_CONFIG}/{s}-*"} for s in SPLITS],
            }
        }
    ).to_dataset_card_data(card_data)
    return card_data


def write_card(folder: Path, features, stats: PublishStats, extra: dict) -> None:
    from huggingface_hub import DatasetCard

    card_data = card_metadata(features, stats)
    types = event_types()
    rows = [
        f"| {s} | {len(stats.documents[s])} | {stats.sentences[s]} | " + " | ".join(str(stats.events[s][t]) for t in types) + " |"
        for s in SPLITS
    ]
    body = f"""
# Conflict events in news

Sentences from news articles about conflict, annotated with event triggers of four types:
{", ".join(f"`{t}`" for t in types)}. Built by `eventds` (this repository): articles are cleaned of
scrape noise, segmented with spaCy, pre-annotated by weak labelling functions, corrected by
annotators in Label Studio where a human layer exists, validated against the JSON Schema in
`schema/`, and split by document groups so that no duplicated paragraph crosses splits.

- Annotation guidelines version: `{guidelines_version()}`
- Annotation status of the sentences: {", ".join(f"{k}: {v}" for k, v in sorted(stats.status.items()))}

## Splits

| split | documents | sentences | {" | ".join(types)} |
|---|---|---|{"---|" * len(types)}
{chr(10).join(rows)}

## Loading

```python
from datasets import load_dataset
ds = load_dataset("path/to/this/folder")  # config "{DEFAULT_CONFIG}" (default)
ds["train"][0]["events"]
```

Offsets are character offsets into `text` (Python string indices), end exclusive; every
event's `text` equals `text[start:end]`. `events` is the best available layer (human where
`status` is `corrected` or `adjudicated`), `weak_events` the weak labeller's output.

## Sources and licence

The texts are news articles scraped from the web and remain under their publishers'
copyright; they are included for research on annotation tooling. Outlets, titles, dates and
authors are given only where the article text states them.
{extra.get("notes", "")}
"""
    DatasetCard(f"---\n{card_data.to_yaml()}\n---\n{body}").save(folder / CARD_NAME)


def load_published(folder: Path, config: Optional[str] = None):
    """Load a published folder with ``datasets.load_dataset``, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from datasets import load_dataset

    folder = Path(folder)
    if not (folder / CARD_NAME).exists():
        raise InputError(f"{folder}: not a published dataset folder (no {CARD_NAME})")
    try:
        return load_dataset(str(folder), config) if config else load_dataset(str(folder))
    except Exception as e:  # datasets raises many types for a broken folder
        raise InputError(f"{folder}: could not be loaded by datasets.load_dataset: {e}") from e
