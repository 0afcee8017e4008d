"""The per-document stages of the build: read, clean, segment, label, near-duplicate signatures, records.

A build is a list of stages (:func:`build_stages`) run by a runner (:mod:`builder.runners`)
over the documents of a corpus, then gathered in document order by
:func:`builder.pipeline.build`, which writes the outputs. Each stage, as datatrove's
``PipelineStep``:

- is a picklable object whose settings are plain data (its dataclass fields), so that it
  can be sent to another process or machine;
- builds what it needs (spaCy, the weak labeller and its learned functions) once per
  process and thread (:func:`resource`), on first use;
- has a :meth:`Stage.run` over an iterator of :class:`Work` items (one per document, in
  document order) that yields them in the same order, and its own :attr:`Stage.counters`,
  which the runner merges over every partition of the corpus (:meth:`Stage.merge`), and the
  :attr:`Stage.seconds` spent in its own work (not in the stages before it), added up
  over every partition apart from the counters (which are the same whatever runs them).

A document that raises in a stage is not lost: its :class:`Work` carries a
:class:`Failure` (document, file, stage, error) through the later stages, the stage counts
it (``failed``), and the build lists every failure and publishes nothing
(:func:`documents_failed`). A :class:`~builder.errors.ConfigError` (a pipeline that is not
installed, a bad configuration) is no document's fault and stops the build at once.

Documents are processed in partitions of consecutive documents
(:func:`run_stages` runs a list of stages over one); whatever runs them, each stage sees
the same partitions, so every output is the same whatever the number of workers.
"""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
import threading
import time
import traceback
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, ClassVar, Hashable, Iterable, Iterator, Optional, Sequence

from .clean import BOILERPLATE_WINDOW, RULES_PATH, Boilerplate, check_cleaned, clean_article, load_rules
from .dedup import DedupParams, SignaturePack, document_signatures, lsh_bands
from .errors import ConfigError, DocumentsFailed, InputError
from .ingest import Source
from .records import Article, CleanArticle, Removal, Sentence

#: How many failures the error of a failed build lists (all are counted).
FAILURES_SHOWN = 20

_RESOURCES: dict[Hashable, Any] = {}
_RESOURCES_LOCK = threading.Lock()


def resource(key: tuple[Hashable, ...], make: Callable[[], Any]) -> Any:
    """What ``make()`` returns, made once per process and thread for ``key`` (a worker
    thread keeps its spaCy pipeline and labeller from one partition to the next; threads
    never share one). ``key[0]`` names the kind: a thread keeps one of each kind, so a
    worker that serves builds with another labeller drops the last one."""
    thread = threading.get_ident()
    try:
        return _RESOURCES[key, thread]
    except KeyError:
        pass
    made = make()
    with _RESOURCES_LOCK:
        for old in [k for k in _RESOURCES if k[1] == thread and k[0][0] == key[0]]:
            del _RESOURCES[old]
        return _RESOURCES.setdefault((key, thread), made)


@dataclass(frozen=True)
class Failure:
    """A document that raised in a stage.

    Attributes:
        index: the document's position in the corpus.
        doc_id: its id; ``where``: the file (and line or record) it was read from.
        stage: the stage that raised.
        error: the message: an :class:`~builder.errors.InputError`'s own (which names the
            document), else the exception with where it was raised.
        input_error: whether the document's content is at fault (an ``InputError``).
    """

    index: int
    doc_id: str
    where: str
    stage: str
    error: str
    input_error: bool

    @classmethod
    def of(cls, work: "Work", stage: str, e: BaseException) -> "Failure":
        if isinstance(e, InputError):
            return cls(work.index, work.id, work.where, stage, str(e), True)
        detail = "".join(traceback.format_exception_only(type(e), e)).strip()
        frames = traceback.extract_tb(e.__traceback__)
        at = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
        return cls(work.index, work.id, work.where, stage, f"{work.where}: article {work.id!r}: the {stage} stage failed: {detail}{at}", False)


def documents_failed(failures: Sequence[Failure]) -> DocumentsFailed:
    """The error of a build whose documents failed: one failure's own message, or how many
    failed in which stage and the first :data:`FAILURES_SHOWN`, in document order."""
    failures = sorted(failures, key=lambda f: f.index)
    if len(failures) == 1:
        return DocumentsFailed(failures[0].error)
    by_stage = Counter(f.stage for f in failures)
    stages = ", ".join(f"{n} in {stage}" for stage, n in by_stage.items())
    lines = [f"{len(failures)} documents failed ({stages}); nothing is published:"]
    lines += [f"- {f.error}" for f in failures[:FAILURES_SHOWN]]
    if len(failures) > FAILURES_SHOWN:
        lines.append(f"- and {len(failures) - FAILURES_SHOWN} more")
    return DocumentsFailed("\n".join(lines))


@dataclass
class Work:
    """One document on its way through the stages; each stage fills what it makes and
    drops what no later stage needs.

    Attributes:
        index: the document's position in the corpus (the order of every output).
        id: the document id; ``where``: the file (and line or record) it comes from.
        source: what was read (:class:`~builder.ingest.Source`), until the read stage.
        article: the raw article (read), until the clean stage.
        clean: the cleaned article, until the segment stage.
        removals: what cleaning removed.
        sentences: the sentence records (segment), with their weak events (label).
        tokens: the labeller's tokens of each sentence (label), from which the records stage
            makes the ``bio`` rows without tokenizing again (``None`` for a sentence whose
            labeller tokenizes otherwise); dropped there.
        votes: every labelling function's votes on the sentences, one string of
            ``votes/<function>.jsonl`` lines per function, in the labeller's order.
        signatures: the sentences' near-duplicate signatures, packed (:class:`~builder.dedup.SignaturePack`).
        lines: the document's lines of ``records.jsonl`` (records), the human layer applied.
        facts: per record, what the gatherer indexes: ``(id, doc_id, event types, human)``
            (records; the sentences are dropped then).
        problems: per record, its problems (:meth:`~builder.validate.StreamValidator.inspect`).
        rows: what the gatherer needs of its dataset rows (:class:`~builder.rows.DocumentRows`),
            none when a record has a problem.
        failure: set when a stage raised on the document; later stages pass it by.
    """

    index: int
    id: str
    where: str
    source: Optional[Source] = None
    article: Optional[Article] = None
    clean: Optional[CleanArticle] = None
    removals: tuple[Removal, ...] = ()
    sentences: list[Sentence] = field(default_factory=list)
    tokens: Optional[list] = None
    votes: tuple[str, ...] = ()
    signatures: Optional[SignaturePack] = None
    lines: str = ""
    facts: list[tuple[str, str, tuple[str, ...], bool]] = field(default_factory=list)
    problems: list[list] = field(default_factory=list)
    rows: Any = None
    failure: Optional[Failure] = None

    @classmethod
    def of(cls, index: int, source: Source) -> "Work":
        return cls(index, source.id, source.where, source=source)

    def done(self) -> "Work":
        """What the gather needs of a document that went through every stage (the texts dropped)."""
        self.source = self.article = self.clean = self.tokens = None
        return self


class Stage:
    """A per-document stage: settings as dataclass fields, ``counters`` of its own.

    Subclasses are dataclasses that implement :meth:`process` (one document) or override
    :meth:`run` (several at a time, as labelling does)."""

    name: ClassVar[str] = "stage"
    #: How many documents, from the first, the stage learns from before it runs (see :meth:`learn`); 0: none.
    window: int = 0

    def __post_init__(self) -> None:
        self.counters: Counter = Counter()
        #: Seconds spent in the stage's own work (:meth:`timed`), not in the stages before it.
        self.seconds = 0.0

    def settings(self) -> dict[str, Any]:
        """The stage's settings (its dataclass fields)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    def fresh(self) -> "Stage":
        """A copy with the same settings and nothing counted yet (one per partition)."""
        other = copy.copy(self)
        other.counters = Counter()
        other.seconds = 0.0
        return other

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "counters": Counter(), "seconds": 0.0}

    @contextmanager
    def timed(self) -> Iterator[None]:
        """Add the seconds the block takes to :attr:`seconds`."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - start

    def run(self, records: Iterable[Work], rank: int = 0, world_size: int = 1) -> Iterator[Work]:
        """Process every document of ``records`` not failed yet, in order.

        Args:
            rank: the partition's number; ``world_size``: how many run at once.
        """
        for work in records:
            if work.failure is None:
                with self.timed():
                    try:
                        self.process(work)
                    except ConfigError:
                        raise
                    except Exception as e:
                        self.fail(work, e)
            yield work

    def process(self, work: Work) -> None:
        raise NotImplementedError

    def fail(self, work: Work, e: BaseException) -> None:
        work.failure = Failure.of(work, self.name, e)
        self.counters["failed"] += 1

    def report(self) -> Any:
        """What :meth:`merge` adds to the stage that runs the build (the counters)."""
        return self.counters

    def merge(self, report: Any) -> None:
        """Add a partition's :meth:`report` (in document order)."""
        self.counters.update(report)

    # a stage with a window
    def observe(self, work: Work) -> Any:
        """What the stage learns from one of the first :attr:`window` documents, made where the document is."""
        raise NotImplementedError

    def learn(self, observations: Iterable[Any]) -> None:
        """Learn from the observations of the first :attr:`window` documents, in document order."""
        raise NotImplementedError


@dataclass
class Read(Stage):
    """A :class:`~builder.ingest.Source` -> its article (decoded or extracted from HTML, and checked)."""

    name: ClassVar[str] = "read"

    def process(self, work: Work) -> None:
        assert work.source is not None
        work.article = work.source.article()
        work.source = None
        self.counters["documents"] += 1


@dataclass
class Clean(Stage):
    """The article -> the cleaned article and its removals (:func:`builder.clean.clean_article`).

    Boilerplate repeated across documents of a source is learned from the first
    :data:`~builder.clean.BOILERPLATE_WINDOW` documents (:meth:`learn`) before any is
    cleaned, as :func:`builder.clean.clean` does.

    Counters: ``documents``, ``removed:<rule>`` (blocks removed by each rule).
    """

    name: ClassVar[str] = "clean"
    window: int = BOILERPLATE_WINDOW
    rules: Optional[Path] = None  # the shipped clean_rules.json (wherever the stage runs)
    boilerplate: Boilerplate = field(default_factory=Boilerplate)

    def observe(self, work: Work) -> tuple[str, frozenset[str]]:
        assert work.article is not None
        return Boilerplate.lines_of(work.article)

    def learn(self, observations: Iterable[tuple[str, frozenset[str]]]) -> None:
        boilerplate = Boilerplate(self.boilerplate.min_documents)
        for source, keys in observations:
            boilerplate.count(source, keys)
        self.boilerplate = boilerplate.repeated_only()

    def process(self, work: Work) -> None:
        assert work.article is not None
        work.clean = check_cleaned(work.article, clean_article(work.article, load_rules(self.rules or RULES_PATH), self.boilerplate))
        work.removals = work.clean.removals
        work.article = None
        self.counters["documents"] += 1
        self.counters.update(f"removed:{r.rule}" for r in work.removals)


@dataclass
class Segment(Stage):
    """The cleaned article -> its sentence records (:func:`builder.segment.segment_article`).

    Counters: ``sentences``."""

    name: ClassVar[str] = "segment"
    model: Optional[str] = None

    def process(self, work: Work) -> None:
        from .nlp import bounded_vocab, segmenter
        from .segment import segment_article

        assert work.clean is not None
        nlp = resource(("segmenter", self.model), lambda: segmenter.__wrapped__(self.model))
        with bounded_vocab(nlp):  # the sentences are plain records: nothing of spaCy's leaves the block
            work.sentences = list(segment_article(work.clean, self.model, nlp))
        work.clean = None
        self.counters["sentences"] += len(work.sentences)


@dataclass
class Label(Stage):
    """The sentences -> their weak events and every labelling function's votes
    (:meth:`builder.weak.WeakLabeller.label_texts`), :data:`~builder.weak.labeller.BATCH_SIZE`
    sentences at a time across the documents of a partition.

    ``labeller`` is a pickled :class:`~builder.weak.WeakLabeller` (:meth:`of`): its settings,
    made again once per process and thread, where its models load on first use.

    Counters: ``sentences``, ``events:<type>``, ``unplaceable`` and ``lf failures:<function>``;
    :attr:`stats` holds the labeller's :class:`~builder.weak.events.LabelStats` (with the
    first dropped events, for the report).
    """

    name: ClassVar[str] = "label"
    labeller: bytes = b""

    def __post_init__(self) -> None:
        super().__post_init__()
        from .weak.events import LabelStats

        self.digest = hashlib.sha1(self.labeller).hexdigest()
        self.stats = LabelStats()

    @classmethod
    def of(cls, labeller: Any) -> "Label":
        return cls(pickle.dumps(labeller))

    def fresh(self) -> "Label":
        from .weak.events import LabelStats

        other = super().fresh()
        other.stats = LabelStats()
        return other  # type: ignore[return-value]

    def __getstate__(self) -> dict[str, Any]:
        from .weak.events import LabelStats

        return {**super().__getstate__(), "stats": LabelStats()}

    def weak_labeller(self) -> Any:
        """This process's and thread's labeller."""
        return resource(("labeller", self.digest), lambda: pickle.loads(self.labeller))

    def run(self, records: Iterable[Work], rank: int = 0, world_size: int = 1) -> Iterator[Work]:
        from .weak.events import LabelStats
        from .weak.labeller import BATCH_SIZE

        with self.timed():
            labeller = self.weak_labeller()
        labeller.stats = self.stats = LabelStats()
        buffer: list[Work] = []
        sentences = 0
        for work in records:
            buffer.append(work)
            sentences += len(work.sentences) if work.failure is None else 0
            if sentences >= BATCH_SIZE:
                with self.timed():
                    self._flush(labeller, buffer)
                yield from buffer
                buffer, sentences = [], 0
        with self.timed():
            self._flush(labeller, buffer)
        yield from buffer
        self.counters["sentences"] += self.stats.records
        self.counters.update({f"events:{t}": n for t, n in self.stats.events.items()})
        self.counters.update({f"lf failures:{f}": n for f, n in self.stats.failures.items()})
        if self.stats.unplaceable:
            self.counters["unplaceable"] += self.stats.unplaceable

    def _flush(self, labeller: Any, works: list[Work]) -> list[Work]:
        todo = [w for w in works if w.failure is None]
        before = copy.deepcopy(labeller.stats)
        try:
            self._label(labeller, todo)
        except ConfigError:
            raise
        except Exception:
            labeller.stats = self.stats = before  # label them one document at a time to find which fail
            for work in todo:
                try:
                    self._label(labeller, [work])
                except ConfigError:
                    raise
                except Exception as e:
                    self.fail(work, e)
        return works

    @staticmethod
    def _label(labeller: Any, works: list[Work]) -> None:
        from .weak.events import with_weak_events
        from .weak.votes import VotesRecorder

        sentences = [s for w in works for s in w.sentences]
        recorder = VotesRecorder(labeller.functions)
        tokens: list = []
        events = list(labeller.label_texts((s.text for s in sentences), (s.id for s in sentences), recorder, tokens))
        i = 0
        for work in works:
            n = len(work.sentences)
            work.sentences = [with_weak_events(s, e, labeller.version) for s, e in zip(work.sentences, events[i : i + n])]
            work.tokens = tokens[i : i + n]
            work.votes = recorder.lines(i, i + n)
            i += n

    def report(self) -> Any:
        return self.counters, self.stats

    def merge(self, report: Any) -> None:
        from .weak.events import UNPLACEABLE_KEPT

        counters, stats = report
        self.counters.update(counters)
        self.stats.records += stats.records
        self.stats.events.update(stats.events)
        self.stats.votes.update(stats.votes)
        self.stats.failures.update(stats.failures)
        self.stats.unplaceable += stats.unplaceable
        room = UNPLACEABLE_KEPT - len(self.stats.unplaceable_examples)
        self.stats.unplaceable_examples.extend(stats.unplaceable_examples[: max(room, 0)])


@dataclass
class Signatures(Stage):
    """The sentences -> their near-duplicate signatures, packed in a few arrays
    (:func:`builder.dedup.document_signatures`); the index that links them is built where
    the documents are gathered.

    Counters: ``signatures``, ``too short`` (sentences with too few shingles to count)."""

    name: ClassVar[str] = "signatures"
    params: DedupParams = field(default_factory=DedupParams)

    def __post_init__(self) -> None:
        super().__post_init__()
        bands, rows = lsh_bands(self.params.lsh_threshold, self.params.num_perm)
        self.width = bands * rows  # worked out where the stage is made: a worker need not import datasketch

    def process(self, work: Work) -> None:
        work.signatures = document_signatures([s.text for s in work.sentences], self.params, self.width)
        made = int(work.signatures.present.sum())
        self.counters["signatures"] += made
        self.counters["too short"] += len(work.sentences) - made


@dataclass
class Records(Stage):
    """The sentences -> their records, the human layer applied
    (:func:`builder.human.apply_human_layer`): the lines of ``records.jsonl``, each
    record's problems (:meth:`builder.validate.StreamValidator.inspect`), and the rows of
    every config of the dataset (:class:`builder.rows.PartitionRows`), one compressed Arrow
    IPC stream per config for the partition (:meth:`report`). So the gatherer only writes
    the lines and the streams, counts the problems and routes the rows by split.

    ``human`` is the human layer (sentence id -> :class:`~builder.human.HumanAnnotation`),
    ``pseudonyms`` the annotator table (``None``: names are published as they are).
    On the gatherer's side, :attr:`sink` (a :class:`~builder.rows.GatheredRows`) takes each
    partition's streams as they are merged.

    Counters: ``records``, ``human`` (records with a human annotation), ``problems``
    (records with one).
    """

    name: ClassVar[str] = "records"
    human: dict = field(default_factory=dict)
    pseudonyms: Optional[dict] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.rows: Any = None
        self.sink: Any = None

    def fresh(self) -> "Records":
        other = super().fresh()
        other.rows = other.sink = None
        return other  # type: ignore[return-value]

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "rows": None, "sink": None}

    def process(self, work: Work) -> None:
        from . import human
        from .labelset import HUMAN_STATUSES
        from .rows import PartitionRows
        from .validate import StreamValidator

        if self.rows is None:
            self.rows = PartitionRows(self.pseudonyms)
        validator = resource(("validator",), StreamValidator)
        sentences = list(human.apply_human_layer(work.sentences, self.human))
        records = [s.to_dict() for s in sentences]
        work.lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        work.problems = [validator.inspect(r) for r in records]
        work.facts = [(s.id, s.doc_id, tuple(e.type for e in s.events), s.status in HUMAN_STATUSES) for s in sentences]
        work.sentences = []
        bad = sum(bool(p) for p in work.problems)
        work.rows = None if bad else self.rows.add(work.id, records, work.tokens)
        work.tokens = None
        self.counters["records"] += len(records)
        self.counters["human"] += sum(f[3] for f in work.facts)
        if bad:
            self.counters["problems"] += bad

    def report(self) -> Any:
        return self.counters, (self.rows.streams() if self.rows is not None else {}), (self.rows.stats if self.rows is not None else None)

    def merge(self, report: Any) -> None:
        counters, streams, stats = report
        self.counters.update(counters)
        if self.sink is not None:
            self.sink.add_streams(streams, stats)


def build_stages(
    labeller: Any, model: Optional[str] = None, dedup: DedupParams = DedupParams(), human: Optional[dict] = None, pseudonyms: Optional[dict] = None
) -> list[Stage]:
    """The per-document stages of a build: read, clean, segment, label, signatures, records
    (with the human layer ``human`` and the annotator table ``pseudonyms``)."""
    return [Read(), Clean(), Segment(model), Label.of(labeller), Signatures(dedup), Records(dict(human or {}), pseudonyms)]


@dataclass
class PartitionResult:
    """What :func:`run_stages` gives for a partition: its documents, each stage's
    :meth:`Stage.report` and :attr:`Stage.seconds`, and what a stage with a window observed of them."""

    works: list[Work]
    reports: dict[str, Any]
    observations: list[Any] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def run_stages(
    stages: Sequence[Stage],
    part: "list[Work] | PartitionResult",
    rank: int = 0,
    world_size: int = 1,
    observer: Optional[Stage] = None,
    last: bool = True,
) -> PartitionResult:
    """Run ``stages`` over one partition: a list of documents, or what :func:`run_stages` gave
    for it with the stages before (whose reports are kept).

    Args:
        observer: a stage with a window: its :meth:`Stage.observe` of each of the first
            :attr:`Stage.window` documents is returned (``observations``, in order).
        last: the stages end the build: only what the gather needs is returned (:meth:`Work.done`).
    """
    if isinstance(part, PartitionResult):
        works, reports, seconds = part.works, dict(part.reports), dict(part.seconds)
    else:
        works, reports, seconds = part, {}, {}
    running = [stage.fresh() for stage in stages]
    stream: Iterable[Work] = iter(works)
    for stage in running:
        stream = stage.run(stream, rank, world_size)
    out = list(stream)
    for stage in running:
        reports[stage.name] = stage.report()
        seconds[stage.name] = stage.seconds
    observations = []
    if observer is not None:
        observations = [observer.observe(w) for w in out if w.failure is None and w.index < observer.window]
    return PartitionResult([w.done() for w in out] if last else out, reports, observations, seconds)
