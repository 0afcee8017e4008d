"""The whole build: ingest -> clean -> segment -> label -> human layer -> split -> validate -> publish.

Records stream from stage to stage; only per-document counters and sentence hashes (for
grouping duplicates) and the human layer are held in memory.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

from .clean import clean
from .errors import InputError, ValidationFailed
from .ingest import read_articles
from .io import atomic_open, read_jsonl, write_jsonl
from .label import WeakLabeller, label_sentences
from .labelset import HUMAN_STATUSES, event_types
from .pseudonyms import PSEUDONYMS_FILE
from .pseudonyms import load as load_pseudonyms
from .publish import PublishStats, publish
from .records import CleanArticle, Event, Sentence
from .segment import segment
from .split import DocumentIndex, assign_splits, load_manifest, write_manifest
from .validate import format_report, validate_path

HUMAN_LAYER = "human.jsonl"


@dataclass
class BuildSummary:
    documents: int = 0
    removed_blocks: Counter = field(default_factory=Counter)  # rule -> n
    sentences: int = 0
    events: Counter = field(default_factory=Counter)  # type -> n
    human: int = 0
    new_documents: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    published: Optional[PublishStats] = None

    def table(self) -> list[tuple[str, str]]:
        """Rows of the end-of-build summary table."""
        rows = [
            ("documents", str(self.documents)),
            ("removed blocks", str(sum(self.removed_blocks.values()))),
            *((f"  {rule}", str(n)) for rule, n in sorted(self.removed_blocks.items())),
            ("sentences", str(self.sentences)),
            ("human-annotated sentences", str(self.human)),
        ]
        rows += [(f"events {t}", str(self.events[t])) for t in event_types()]
        if self.published:
            rows += [(f"sentences in {s}", str(n)) for s, n in self.published.sentences.items()]
        return rows


@dataclass(frozen=True)
class HumanAnnotation:
    id: str
    text: str
    events: tuple[Event, ...]
    status: str
    annotators: tuple[str, ...]
    guidelines_version: Optional[str]


def load_human_layer(path: Path) -> dict[str, HumanAnnotation]:
    """Read the human layer (``annotations/human.jsonl``) keyed by sentence id."""
    layer: dict[str, HumanAnnotation] = {}
    if not path.exists():
        return layer
    for lineno, obj in read_jsonl(path):
        where = f"{path}:{lineno}"
        try:
            ann = HumanAnnotation(
                id=obj["id"],
                text=obj["text"],
                events=tuple(Event.from_dict(e) for e in obj["events"]),
                status=obj["status"],
                annotators=tuple(obj.get("annotators") or ()),
                guidelines_version=obj.get("guidelines_version"),
            )
        except (KeyError, TypeError) as e:
            raise InputError(f"{where}: not a human-layer record ({e!r} missing or malformed)") from e
        if ann.status not in HUMAN_STATUSES:
            raise InputError(f"{where} -> status: {ann.status!r} is not 'corrected' or 'adjudicated'")
        if ann.id in layer:
            raise InputError(f"{where} -> id: duplicate sentence id {ann.id!r}")
        layer[ann.id] = ann
    return layer


def apply_human_layer(sentences: Iterable[Sentence], layer: dict[str, HumanAnnotation]) -> Iterator[Sentence]:
    """Give sentences with a human annotation its events and status; weak events stay."""
    for s in sentences:
        ann = layer.get(s.id)
        if ann is None:
            yield s
            continue
        if ann.text != s.text:
            raise InputError(f"human layer -> {s.id} -> text: annotation text differs from the sentence text")
        yield s.with_(events=ann.events, status=ann.status, annotators=ann.annotators, guidelines_version=ann.guidelines_version)


def corpus_card(corpus: Optional[Path]) -> dict:
    """What a corpus folder says about itself for the card: ``card.json`` with
    ``description`` and ``limitations`` (the embedded corpus has one)."""
    from .ingest import default_corpus

    folder = Path(corpus) if corpus is not None else default_corpus()
    path = folder / "card.json" if folder.is_dir() else None
    if path is None or not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from e


def load_figures(annotations_dir: Path, out_dir: Path) -> dict:
    """Agreement and weak-label quality figures for the card, where they have been computed."""
    figures = {}
    provenance = annotations_dir / "PROVENANCE.md"
    if provenance.exists():
        figures["provenance"] = provenance.read_text(encoding="utf-8").strip()
    for key, path in (("agreement", annotations_dir / "agreement.json"), ("quality", out_dir / "report" / "quality.json")):
        if path.exists():
            try:
                figures[key] = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as e:
                raise InputError(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from e
    return figures


def write_clusters(index: DocumentIndex, records_path: Path, path: Path) -> int:
    """Write the near-duplicate clusters (``{"cluster", "documents", "members": [{id, doc_id, text}]}``
    lines) found while indexing; return how many."""
    clusters = index.duplicates.clusters()
    wanted = {sid for c in clusters for sid in c}
    texts = {obj["id"]: obj["text"] for _, obj in read_jsonl(records_path) if obj["id"] in wanted}
    rows = (
        {
            "cluster": i,
            "documents": sorted({index.duplicates.doc_of[sid] for sid in members}),
            "members": [{"id": sid, "doc_id": index.duplicates.doc_of[sid], "text": texts[sid]} for sid in members],
        }
        for i, members in enumerate(clusters)
    )
    return write_jsonl(path, rows)


def build(
    corpus: Optional[Path] = None,
    out_dir: Path = Path("build"),
    manifest_path: Path = Path("splits/manifest.json"),
    annotations_dir: Path = Path("annotations"),
    model: Optional[str] = None,
    progress: Callable[[str], None] = lambda stage: None,
    keep_annotator_names: bool = False,
) -> BuildSummary:
    """Run every stage on ``corpus`` (the embedded corpus by default).

    Writes ``out_dir/removals.jsonl``, ``out_dir/records.jsonl``, ``out_dir/duplicates.jsonl``
    (near-duplicate clusters), the split manifest, ``out_dir/report/`` (when there is a human
    layer) and ``out_dir/dataset/``.

    Annotator names are published as their pseudonyms in ``annotations_dir/pseudonyms.json``
    (see :mod:`builder.pseudonyms`) unless ``keep_annotator_names``.

    Raises:
        ValidationFailed: the records do not validate; nothing is published.
        InputError: an annotator has no pseudonym; nothing is published.
    """
    out_dir = Path(out_dir)
    pseudonyms = None if keep_annotator_names else load_pseudonyms(Path(annotations_dir) / PSEUDONYMS_FILE)
    summary = BuildSummary()
    index = DocumentIndex()
    human = load_human_layer(Path(annotations_dir) / HUMAN_LAYER)
    labeller = WeakLabeller(model=model)

    def cleaned() -> Iterator[CleanArticle]:
        for article in clean(read_articles(corpus)):
            summary.documents += 1
            for r in article.removals:
                summary.removed_blocks[r.rule] += 1
                removals.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
            progress(f"document {article.id}")
            yield article

    records_path = out_dir / "records.jsonl"
    progress("ingest, clean, segment, label")
    with atomic_open(out_dir / "removals.jsonl") as removals, atomic_open(records_path) as records:
        sentences = label_sentences(segment(cleaned(), model), labeller)
        for s in apply_human_layer(sentences, human):
            index.add(s)
            summary.sentences += 1
            summary.human += s.status in HUMAN_STATUSES
            summary.events.update(e.type for e in s.events)
            records.write(json.dumps(s.to_dict(), ensure_ascii=False) + "\n")

    progress("validate")
    report = validate_path(records_path, "jsonl")
    if not report.ok:
        raise ValidationFailed(format_report(report).splitlines())

    progress("split")
    write_clusters(index, records_path, out_dir / "duplicates.jsonl")
    result = assign_splits(index, load_manifest(Path(manifest_path)))
    write_manifest(Path(manifest_path), result.manifest)
    summary.new_documents, summary.conflicts = result.new_documents, result.conflicts

    progress("publish")
    if summary.human:
        progress("weak-label quality report")
        from .report import quality, write_report

        write_report(quality(records_path, result.manifest, labeller), out_dir / "report")
    extra = {"manifest": result.manifest, "corpus": corpus_card(corpus), **load_figures(Path(annotations_dir), out_dir)}
    summary.published = publish(records_path, result.manifest, out_dir / "dataset", card_extra=extra, pseudonyms=pseudonyms)
    return summary
