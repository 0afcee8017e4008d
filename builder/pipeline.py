"""The whole build: ingest -> clean -> segment -> label -> human layer -> split -> validate -> publish.

The per-document stages (read, clean, segment, label, near-duplicate signatures, records:
:func:`builder.stages.build_stages`) are run by a runner (:mod:`builder.runners`: in this
process, or on a Dask cluster) and gathered here in document order: the records (the human
layer applied where they were made), removals and votes written, each record's problems
counted, the near-duplicate index fed, and the dataset rows made with the records kept
aside (:class:`builder.rows.GatheredRows`); then the gather steps (validate, split,
report, publish) run on what was written, publishing routing each document's rows to its
split. Only per-document counters, sentence signatures (for grouping duplicates) and the
human layer are held in memory.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, TypeVar

from . import swap
from .allocator import release
from .errors import EventdsError, InputError, ValidationFailed
from .human import HUMAN_LAYER, HumanAnnotation, apply_human_layer, load_human_layer  # noqa: F401  (re-exported)
from .ingest import read_sources
from .io import remove_dead_temporaries, write_jsonl
from .labelset import event_types, project_file
from .pseudonyms import PSEUDONYMS_FILE
from .pseudonyms import load as load_pseudonyms
from .publish import PublishStats
from .rows import GatheredRows
from .report import quality, write_no_human_report, write_report
from .runners import LocalRunner, Runner
from .split import DocumentIndex, assign_splits, load_manifest, write_manifest
from .stages import Work, build_stages, documents_failed
from .validate import StreamValidator
from .warc import WarcCounts
from .weak import VOTES_DIR, WeakLabeller

@dataclass
class BuildSummary:
    documents: int = 0
    removed_blocks: Counter = field(default_factory=Counter)  # rule -> n
    sentences: int = 0
    events: Counter = field(default_factory=Counter)  # type -> n
    human: int = 0
    new_documents: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unplaceable: int = 0
    manifest: dict = field(default_factory=dict)  # the split assignment used
    archives: WarcCounts = field(default_factory=WarcCounts)
    published: Optional[PublishStats] = None
    stages: dict[str, Counter] = field(default_factory=dict)  # stage name -> its counters, merged over the corpus
    runner: Optional[str] = None  # where the per-document stages ran, when not in this process
    # seconds per step: each per-document stage's (added up over the processes that ran it),
    # then the gather steps' (write, validate, index, split, report, publish)
    timings: dict[str, float] = field(default_factory=dict)

    def table(self) -> list[tuple[str, str]]:
        """Rows of the end-of-build summary table."""
        rows = [("web archive records", self.archives.summary())] if self.archives.responses else []
        rows += [("per-document stages ran on", self.runner)] if self.runner else []
        rows += [
            ("documents", str(self.documents)),
            ("removed blocks", str(sum(self.removed_blocks.values()))),
            *((f"  {rule}", str(n)) for rule, n in sorted(self.removed_blocks.items())),
            ("sentences", str(self.sentences)),
            ("human-annotated sentences", str(self.human)),
        ]
        rows += [(f"events {t}", str(self.events[t])) for t in event_types()]
        rows.append(("weak events dropped (off the tokens)", str(self.unplaceable)))
        if self.published:
            rows.append(("events left out of bio (off the tokens)", str(len(self.published.bio_left_out))))
        rows.append(("warnings", str(len(self.conflicts) + len(self.warnings))))
        if self.published:
            rows += [(f"sentences in {s}", str(n)) for s, n in self.published.sentences.items()]
        return rows

    def timings_table(self) -> list[tuple[str, str, str]]:
        """Rows (step, seconds, share of the steps' total) of :attr:`timings`."""
        total = sum(self.timings.values()) or 1.0
        return [(step, f"{s:.2f}", f"{s / total:.1%}") for step, s in self.timings.items()]


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


@dataclass
class AnnotationFiles:
    """What a build reads from an annotations folder, read in one go (see :func:`read_annotations`)."""

    folder: Optional[Path] = None
    human: dict[str, HumanAnnotation] = field(default_factory=dict)
    pseudonyms: Optional[dict] = None
    annotators: dict[str, dict[str, list[dict]]] = field(default_factory=dict)
    provenance: Optional[str] = None


def read_annotations(folder: Optional[Path], pseudonyms: bool = True) -> AnnotationFiles:
    """Read the human layer, the pseudonym table, the annotator layer and ``PROVENANCE.md``
    of ``folder`` while no pull can replace them (:func:`builder.swap.reading`, which first
    finishes or discards what a killed pull left)."""
    if folder is None or not folder.is_dir():  # no human layer, and no annotator to name
        return AnnotationFiles(folder, pseudonyms={} if pseudonyms else None)
    from .agreement import load_annotator_layer

    with swap.reading(folder):
        provenance = folder / "PROVENANCE.md"
        annotators = folder / "annotators.jsonl"
        return AnnotationFiles(
            folder,
            human=load_human_layer(folder / HUMAN_LAYER),
            pseudonyms=load_pseudonyms(folder / PSEUDONYMS_FILE) if pseudonyms else None,
            annotators=dict(load_annotator_layer(annotators)) if annotators.exists() else {},
            provenance=provenance.read_text(encoding="utf-8").strip() if provenance.exists() else None,
        )


def load_figures(annotations: AnnotationFiles, published_ids: set[str]) -> dict:
    """What the card may say of the human layer of the records being published.

    ``provenance`` (``PROVENANCE.md``) and ``agreement`` (recomputed from ``annotators.jsonl``
    over the published sentences only) are given only when ``published_ids``, the ids of
    the published sentences with a human layer, is not empty: a card never describes a
    human layer its records do not carry.
    """
    figures: dict = {}
    if not published_ids:
        return figures
    if annotations.provenance:
        figures["provenance"] = annotations.provenance
    layer = {sid: anns for sid, anns in annotations.annotators.items() if sid in published_ids}
    if any(len(anns) >= 2 for anns in layer.values()):
        from .agreement import agreement

        figures["agreement"] = agreement(layer)
    return figures


def write_clusters(index: DocumentIndex, records_path: Path, path: Path) -> int:
    """Write the near-duplicate clusters (``{"cluster", "documents", "members": [{id, doc_id, text}]}``
    lines) found while indexing; return how many.

    The records file is read once, as a stream, keeping only the texts of clustered sentences.

    Args:
        index: the index fed with every sentence of ``records_path``.
        records_path: the records written by the build (``records.jsonl``).
        path: where to write the clusters.

    Returns:
        The number of clusters written.

    Raises:
        InputError: when ``records_path`` cannot be read, or lacks a clustered sentence.
    """
    clusters = index.duplicates.cluster_members()  # [[(sentence id, doc id)]], in output order
    wanted = {sid for members in clusters for sid, _ in members}
    texts: dict[str, str] = {}
    if wanted:
        for obj in _records_with_ids(records_path, wanted):
            texts[obj["id"]] = obj["text"]
    missing = sorted(wanted - texts.keys())
    if missing:
        raise InputError(f"{records_path}: {len(missing)} clustered sentences are not in the records, e.g. {missing[:3]}")
    rows = (
        {
            "cluster": i,
            "documents": sorted({doc for _, doc in members}),
            "members": [{"id": sid, "doc_id": doc, "text": texts[sid]} for sid, doc in members],
        }
        for i, members in enumerate(clusters)
    )
    return write_jsonl(path, rows)


_ID_FIRST = b'{"id": "'


def _records_with_ids(records_path: Path, wanted: set[str]) -> Iterator[dict]:
    """The records of ``records_path`` whose id is in ``wanted``. The build writes each
    record's id first: a line whose id is plainly another is passed by unparsed."""
    if not records_path.is_file():
        raise InputError(f"{records_path}: cannot be read: no such file")
    with records_path.open("rb") as lines:
        for line in lines:
            if line.startswith(_ID_FIRST):
                end = line.find(b'"', len(_ID_FIRST))
                sid = line[len(_ID_FIRST) : end]
                if end > 0 and b"\\" not in sid and sid.decode("utf-8", "replace") not in wanted:
                    continue
            obj = json.loads(line)
            if obj["id"] in wanted:
                yield obj


MANIFEST_FILE = "manifest.json"
#: What a build writes into its output folder, replaced together (see :mod:`builder.swap`).
BUILD_OUTPUTS = ("removals.jsonl", "records.jsonl", "duplicates.jsonl", MANIFEST_FILE, VOTES_DIR, "report", "dataset")


def default_annotations(corpus: Optional[Path]) -> Optional[Path]:
    """The human layer a build merges when none is named: ``./annotations`` when it exists,
    else, for the embedded corpus, the project's own ``annotations/`` (wherever the build
    runs from)."""
    here = Path("annotations")
    if here.is_dir():
        return here
    if corpus is None:
        with contextlib.suppress(FileNotFoundError):
            return project_file("annotations")
    return None


def previous_manifest(corpus: Optional[Path], out_dir: Path) -> Optional[Path]:
    """The split assignment a build keeps when no manifest is named: for the embedded corpus
    the project's committed ``splits/manifest.json``, else the one in the build folder."""
    if corpus is None:
        with contextlib.suppress(FileNotFoundError):
            return project_file("splits", MANIFEST_FILE)
    return out_dir / MANIFEST_FILE


def build(
    corpus: Optional[Path] = None,
    out_dir: Path = Path("build"),
    manifest_path: Optional[Path] = None,
    annotations_dir: Optional[Path] = None,
    model: Optional[str] = None,
    progress: Callable[[str], None] = lambda stage: None,
    keep_annotator_names: bool = False,
    weak_config: Optional[Path] = None,
    runner: Optional[Runner] = None,
) -> BuildSummary:
    """Run every stage on ``corpus`` (the embedded corpus by default).

    Writes ``out_dir/removals.jsonl``, ``out_dir/records.jsonl``, ``out_dir/duplicates.jsonl``
    (near-duplicate clusters), ``out_dir/manifest.json`` (the split assignment used),
    ``out_dir/votes/`` (every labelling function's votes, :mod:`builder.weak.votes`),
    ``out_dir/report/`` (the weak labels against the human layer, or a page saying there is
    none) and ``out_dir/dataset/``. Everything is
    built in a staging folder inside ``out_dir`` and swapped in together at the end
    (:mod:`builder.swap`): a failure or a kill leaves the previous build whole, and the
    next build first finishes or discards what a killed one left.

    Nothing is written outside ``out_dir`` unless named: ``manifest_path``, when given, is
    read, and updated once the build folder is in place; otherwise the assignment starts
    from :func:`previous_manifest`.

    Args:
        annotations_dir: the human layer; default :func:`default_annotations`.
        weak_config: the labelling functions to run (``weak_functions.json``); default the shipped one.
        runner: what runs the per-document stages (:mod:`builder.runners`); default this
            process. Every output is the same whatever runs them.

    Annotator names are published as their pseudonyms in ``annotations_dir/pseudonyms.json``
    (see :mod:`builder.pseudonyms`) unless ``keep_annotator_names``.

    Raises:
        ValidationFailed: the records do not validate; nothing is published.
        InputError: bad input, or an annotator has no pseudonym; nothing is published.
        DocumentsFailed: documents raised in a stage (each is listed); nothing is published.
        ServiceError: the Dask cluster lost a partition, retries included.
    """
    out_dir = Path(out_dir)
    if annotations_dir is None:
        annotations_dir = default_annotations(corpus)
    annotations_dir = Path(annotations_dir) if annotations_dir is not None else None
    annotations = read_annotations(annotations_dir, pseudonyms=not keep_annotator_names)
    previous_path = Path(manifest_path) if manifest_path is not None else previous_manifest(corpus, out_dir)
    previous = load_manifest(previous_path) if previous_path is not None else None
    staged: list[Path] = []

    def public(where: str) -> str:  # the path the user will find, not the staging one
        return where.replace(str(staged[0]), str(out_dir)) if staged else where

    try:
        summary = _build_staged(corpus, out_dir, model, progress, annotations, previous, previous_path, manifest_path, staged, weak_config, runner or LocalRunner())
    except ValidationFailed as e:
        raise ValidationFailed([public(p) for p in e.problems]) from e
    except EventdsError as e:
        raise type(e)(public(str(e))) from e
    if manifest_path is not None:
        # After the build folder: a kill in between leaves the named manifest without the new
        # documents, and the next build assigns them again, the same way (the order is seeded).
        write_manifest(Path(manifest_path), summary.manifest)
    return summary


T = TypeVar("T")


def _timed_loop(items: Iterable[T], timings: dict[str, float], name: str) -> Iterator[T]:
    """``items``, adding to ``timings[name]`` the seconds the loop's body spends on each
    (not the seconds taken to make them)."""
    timings.setdefault(name, 0.0)
    for item in items:
        start = time.perf_counter()
        yield item
        timings[name] += time.perf_counter() - start


class _Laps:
    """A clock: :meth:`lap` adds to ``timings[name]`` the seconds since the last lap (or since it was made)."""

    def __init__(self, timings: dict[str, float]):
        self.timings, self.last = timings, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self.last
        self.last = now


def _build_staged(
    corpus: Optional[Path],
    out_dir: Path,
    model: Optional[str],
    progress: Callable[[str], None],
    annotations: AnnotationFiles,
    previous: Optional[dict],
    previous_path: Optional[Path],
    manifest_path: Optional[Path],
    staged: list[Path],
    weak_config: Optional[Path] = None,
    runner: Runner = LocalRunner(),
) -> BuildSummary:
    """The stages of :func:`build`, writing into a staging folder of ``out_dir`` (appended to
    ``staged`` once made) that is swapped in at the end."""
    annotations_dir, pseudonyms, human = annotations.folder, annotations.pseudonyms, annotations.human
    summary = BuildSummary(runner=None if isinstance(runner, LocalRunner) else runner.describe())
    index = DocumentIndex()
    labeller = WeakLabeller(model=model, config=weak_config)
    stages = build_stages(labeller, model, index.duplicates.params, human, pseudonyms)
    label = next(s for s in stages if s.name == "label")
    made = next(s for s in stages if s.name == "records")

    with swap.replace_together(out_dir) as stage:  # every output in BUILD_OUTPUTS is staged
        staged.append(stage)
        remove_leftovers(out_dir)
        records_path = stage / "records.jsonl"
        checker = StreamValidator(records_path)  # counts each record's problems (found where it was made) as it is written
        made.sink = rows = GatheredRows(stage / ".rows")  # the dataset rows, made with the records, until the split is known
        progress("ingest, clean, segment, label")
        human_ids: set[str] = set()
        votes_path = stage / VOTES_DIR
        failures = []
        with (
            (stage / "removals.jsonl").open("w", encoding="utf-8", newline="\n") as removals,
            records_path.open("w", encoding="utf-8", newline="\n") as records,
            labeller.votes_writer(votes_path) as votes,
        ):
            works = (Work.of(i, source) for i, source in enumerate(read_sources(corpus, summary.archives)))
            for work in _timed_loop(runner.run(stages, works), summary.timings, "write"):
                if work.failure is not None:
                    failures.append(work.failure)
                if failures:  # the build fails: go on only to find every failure
                    continue
                for r in work.removals:
                    removals.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
                progress(f"document {work.id}")
                votes.write_recorded(work.votes, len(work.facts))  # recorded by the label stage
                records.write(work.lines)
                first_line = summary.sentences + 1
                if work.facts:
                    index.add_sentences(work.facts[0][1], [f[0] for f in work.facts], [f[2] for f in work.facts], work.signatures)
                for (sid, _, types, is_human), problems in zip(work.facts, work.problems):
                    summary.sentences += 1
                    if is_human:
                        human_ids.add(sid)
                    summary.events.update(types)
                    checker.add(sid, problems, line=summary.sentences)
                if work.rows is not None:
                    rows.add_document(work.rows, records_path, first_line)
            if failures:
                raise documents_failed(failures)
        runner.finish()  # the workers go while the gather steps run
        summary.stages = {s.name: s.counters for s in stages}
        summary.timings = {**{s.name: s.seconds for s in stages}, **summary.timings}
        laps = _Laps(summary.timings)
        summary.documents = summary.stages["clean"]["documents"]
        summary.removed_blocks = Counter({k.split(":", 1)[1]: n for k, n in summary.stages["clean"].items() if k.startswith("removed:")})
        summary.human = len(human_ids)
        if not summary.sentences:
            raise InputError(f"{corpus or 'the embedded corpus'}: no sentence left after cleaning; nothing to publish")

        progress("validate")
        checker.require_valid()  # every record was checked as it was written
        del checker  # and its id table (about 50 bytes a record) is not needed again
        release()  # what the stream and the checker freed, before the index's arrays
        laps.lap("validate")

        progress("split")
        write_clusters(index, records_path, stage / "duplicates.jsonl")
        laps.lap("index")
        result = assign_splits(index, previous)
        index.duplicates.close()  # its files, and with the index its arrays, before publishing
        del index
        release()
        write_manifest(stage / MANIFEST_FILE, result.manifest)
        summary.new_documents, summary.conflicts = result.new_documents, list(result.conflicts)
        summary.manifest = result.manifest
        if manifest_path is None and corpus is None and result.new_documents and previous_path is not None:
            summary.warnings.append(
                f"{len(result.new_documents)} documents are not in {previous_path}; their assignment is in "
                f"{out_dir / MANIFEST_FILE}: build with -m {previous_path} to record it"
            )

        laps.lap("split")
        figures = load_figures(annotations, human_ids)
        if summary.human:
            progress("weak-label quality report")
            figures["quality"] = quality(records_path, result.manifest, votes=votes_path)
            write_report(figures["quality"], stage / "report")
        else:
            looked = f"{annotations_dir / HUMAN_LAYER}" if annotations_dir is not None else "no annotations folder"
            reason = f"no sentence matches an annotation ({looked})"
            write_no_human_report(stage / "report", reason)
            summary.warnings.append(f"no human layer: {reason}; every published label is a weak label")
        unmatched = len(human.keys() - human_ids)
        if unmatched:
            summary.warnings.append(f"{unmatched} human annotations in {annotations_dir} match no sentence of this corpus")

        stats = label.stats  # the labeller's, merged over the corpus
        summary.unplaceable = stats.unplaceable
        if stats.unplaceable:
            write_jsonl(stage / "report" / "unplaceable.jsonl", (u._asdict() for u in stats.unplaceable_examples))
            first = stats.unplaceable_examples[0]
            summary.warnings.append(
                f"{stats.unplaceable} weak events were dropped: a span is not on token boundaries "
                f"(first: sentence {first.sentence_id} {first.text!r}; up to {len(stats.unplaceable_examples)} listed in "
                f"{out_dir / 'report' / 'unplaceable.jsonl'})"
            )

        laps.lap("report")
        progress("publish")
        extra = {"manifest": result.manifest, "corpus": corpus_card(corpus), **figures}
        summary.published = rows.write_dataset(records_path, result.manifest, stage / "dataset", card_extra=extra, pseudonyms=pseudonyms)
        shutil.rmtree(rows.folder)
        laps.lap("publish")
        for where, sid, etype, start, end, text in summary.published.bio_left_out[:5]:
            summary.warnings.append(f"{where.replace(str(stage), str(out_dir))}: {etype} event {text!r} [{start}, {end}) of sentence {sid} is not on token boundaries: left out of the bio config")
        summary.warnings.extend(result.notes)  # an empty split, shares far from the ratios, a type missing from a split
    return summary


def remove_leftovers(out_dir: Path) -> list[Path]:
    """Delete what a killed writer left in ``out_dir``: temporary files beside an output
    whose writer is gone (:func:`builder.io.remove_dead_temporaries`) and the half-built
    dataset folders of earlier versions (``.dataset.*``); return them.

    Call it only while holding the folder (inside :func:`builder.swap.replace_together`)."""
    found = [tmp for name in BUILD_OUTPUTS if "." in name for tmp in remove_dead_temporaries(out_dir / name)]
    for path in sorted(out_dir.glob(".dataset.*")):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        found.append(path)
    return found
