"""Dataset rows made where a build's documents are processed, published once the split is known.

A build's per-document stages end with the records stage (:class:`builder.stages.Records`),
which makes, for the documents of its partition, the rows of every config
(:func:`builder.publish.config_row`, pseudonyms put in, ``ClassLabel`` names encoded) as
one Arrow record batch per config, written as an lz4 Arrow IPC stream (:class:`PartitionRows`):
the costly part of publishing runs in the workers. The split of a document is known only
once every document is indexed, so the gatherer keeps the streams in files
(:class:`GatheredRows`) and, once the split is assigned, reads them back one at a time and
hands each document's rows to the writer of its split (:meth:`GatheredRows.write_dataset`).
The folder is the one :func:`builder.publish.write_dataset` writes from the same records,
byte for byte (:meth:`builder.publish.ShardWriter.write_batch`).

A record's place (``records.jsonl:LINE``) is known only where the records are gathered:
what is made before names a record by :func:`here` and is put right by :func:`placed`.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from functools import lru_cache
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Optional, Sequence

from .bio import sentence_tokens
from .errors import InputError
from .formats import document_row
from .io import read_jsonl
from .labelset import event_types
from .pseudonyms import pseudonymise
from .publish import CONFIGS, SENTENCE_CONFIGS, PublishStats, ShardWriter, _count_record, _encoder, _write_folder, config_features, config_row
from .split import SPLITS
from .tokens import Tokens

#: A partition's rows become Arrow data every this many sentences (as Python objects they
#: take about ten times the room).
ARROW_ROWS = 256
#: Threads that write the configs' files once the split is known.
PUBLISH_THREADS = 2

_MARK = "\x00record:"
_PLACE = re.compile(re.escape(_MARK) + r"(\d+)\x00")


def here(k: int) -> str:
    """Stands for the place of a document's ``k``-th record until its line is known."""
    return f"{_MARK}{k}\x00"


def placed(text: str, records_path: Path, first_line: int) -> str:
    """``text`` with each :func:`here` of a document whose first record is at ``first_line``
    replaced by ``records_path:LINE``."""
    return _PLACE.sub(lambda m: f"{records_path}:{first_line + int(m[1])}", text) if _MARK in text else text


@dataclass
class DocumentRows:
    """What the gatherer needs of one document's rows (made by :meth:`PartitionRows.add`).

    Attributes:
        doc_id: the document; ``sentences``: its records (each config but ``documents`` has
            one row per record, ``documents`` one per document).
        events / labels: per event type (in :func:`~builder.labelset.event_types` order),
            its events and its sentences with one.
        example: the first record with an event (its position), or -1.
        bio_left_out / spans_left_out: what :class:`~builder.publish.PublishStats` lists,
            placed by :func:`here`.
        error: the first error of a record (an annotator without a pseudonym), placed by
            :func:`here`; the document has no row then.
    """

    doc_id: str
    sentences: int
    events: tuple[int, ...] = ()
    labels: tuple[int, ...] = ()
    example: int = -1
    bio_left_out: list = field(default_factory=list)
    spans_left_out: list = field(default_factory=list)
    error: Optional[str] = None


def _add_split_free(into: PublishStats, stats: PublishStats) -> None:
    """Add to ``into`` what ``stats`` counted whatever the split (:func:`builder.publish._count_record`)."""
    for name in ("status", "guidelines", "status_guidelines"):
        getattr(into, name).update(getattr(stats, name))
    into.sources.merge(stats.sources)
    into.licence_statements += stats.licence_statements


class _Document(NamedTuple):
    """A document whose rows wait in :class:`GatheredRows`."""

    doc_id: str
    first_line: int  # of its first record in records.jsonl
    sentences: int
    events: tuple[int, ...]  # per event type
    labels: tuple[int, ...]  # sentences with one, per event type
    example: int  # the line of its first record with an event, or 0


class _Documents:
    """The :class:`_Document` of each document, in order: its id, and its numbers in one array
    (beside the id, about 105 bytes a document, where a tuple of tuples took about 300)."""

    def __init__(self, types: int) -> None:
        self._types = types
        self._width = 3 + 2 * types
        self._ids: list[str] = []
        self._numbers = array("q")  # per document: first line, sentences, example, events per type, labels per type

    def append(self, doc: _Document) -> None:
        if len(doc.events) != self._types or len(doc.labels) != self._types:
            raise ValueError(f"document {doc.doc_id!r}: counts for {len(doc.events)} and {len(doc.labels)} event types, expected {self._types}")
        self._ids.append(doc.doc_id)
        self._numbers.extend((doc.first_line, doc.sentences, doc.example, *doc.events, *doc.labels))

    def __len__(self) -> int:
        return len(self._ids)

    def sentences(self, at: int) -> int:
        return self._numbers[at * self._width + 1]

    def __iter__(self) -> Iterator[_Document]:
        width, t = self._width, self._types
        for at, doc_id in enumerate(self._ids):
            n = self._numbers[at * width : (at + 1) * width]
            yield _Document(doc_id, n[0], n[1], tuple(n[3 : 3 + t]), tuple(n[3 + t :]), n[2])


@lru_cache(maxsize=None)
def _encoding(config: str) -> tuple[Optional[Callable[[Any], Any]], Any]:
    """A config's row encoder (:func:`builder.publish._encoder`) and Arrow schema, without the metadata."""
    features = config_features(config)
    return _encoder(features), features.arrow_schema.remove_metadata()


class PartitionRows:
    """The rows of every config for the documents of one partition, made where they are."""

    def __init__(self, pseudonyms: Optional[Mapping[str, str]] = None) -> None:
        self.pseudonyms = pseudonyms
        self._rows: dict[str, list[dict]] = {c: [] for c in CONFIGS}  # not yet Arrow data
        self._batches: dict[str, list[Any]] = {c: [] for c in CONFIGS}
        self.stats = PublishStats()  # what does not depend on the split

    def add(self, doc_id: str, records: list[dict[str, Any]], tokens: Optional[Sequence[Optional[Tokens]]] = None) -> DocumentRows:
        """Make the rows of one document's records (valid ones: :class:`~builder.validate.StreamValidator`).

        Args:
            tokens: each record's text as :func:`builder.tokens.tokenize` cut it (the weak
                labeller's), for its ``bio``, ``ee`` and ``arg_tags`` tokens. A text is
                tokenized here when its tokens are not given, are not one per record, or
                are another text's.
        """
        types = event_types()
        events: Counter = Counter()
        labels: Counter = Counter()
        out = DocumentRows(doc_id, len(records))
        rows: dict[str, list[dict]] = {c: [] for c in CONFIGS}
        stats = PublishStats()
        given = tokens if tokens is not None and len(tokens) == len(records) else None
        for k, record in enumerate(records):
            where = here(k)
            try:
                if self.pseudonyms is not None:
                    record = pseudonymise(record, self.pseudonyms, where)
                if given is not None and given[k] is not None:
                    sentence_tokens(record["text"], given[k])  # (the configs' rows below find them)
                for config in SENTENCE_CONFIGS:
                    rows[config].append(config_row(config, record, where, out.bio_left_out, out.spans_left_out))
            except InputError as e:
                return DocumentRows(doc_id, len(records), error=str(e))
            records[k] = record
            _count_record(stats, record, k == 0)
            events.update(e["type"] for e in record["events"])
            labels.update(record["labels"])
            if out.example < 0 and record["events"]:
                out.example = k
        if records:
            rows["documents"].append(document_row(records))
        for config, made in rows.items():
            self._rows[config] += made
        if len(self._rows["spans"]) >= ARROW_ROWS:
            self._to_arrow()
        _add_split_free(self.stats, stats)
        out.events = tuple(events[t] for t in types)
        out.labels = tuple(labels[t] for t in types)
        return out

    def _to_arrow(self) -> None:
        import pyarrow as pa

        for config, rows in self._rows.items():
            if rows:
                encode, schema = _encoding(config)
                self._batches[config].append(pa.RecordBatch.from_pylist([encode(r) for r in rows] if encode else rows, schema=schema))
        self._rows = {c: [] for c in CONFIGS}

    def streams(self) -> dict[str, Any]:
        """Per config, its rows as an Arrow IPC stream (lz4) in a buffer: one record batch
        (without the schema's metadata, which the writers put back), in the order the
        documents were added; then none is held. Compressed here, the gatherer only writes
        them (:meth:`GatheredRows.add_streams`). (One batch, not one per :data:`ARROW_ROWS`:
        lz4 buffers of a few hundred rows take three times as long to read back.)"""
        import pyarrow as pa

        self._to_arrow()
        out = {}
        options = pa.ipc.IpcWriteOptions(compression="lz4")
        for config, batches in self._batches.items():
            if batches:
                batch = pa.concat_batches(batches) if len(batches) > 1 else batches[0]
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, batch.schema, options=options) as writer:
                    writer.write_batch(batch)
                out[config] = sink.getvalue()
        self._batches = {c: [] for c in CONFIGS}
        return out


class GatheredRows:
    """The rows of every partition, waiting in files of ``folder`` (one per config, the
    partitions' Arrow IPC streams back to back) until the split of each document is known.

    Call :meth:`add_streams` with each partition's streams and :meth:`add_document` with
    each of its documents, in corpus order, then :meth:`write_dataset`."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, Any] = {}
        self._streams: dict[str, array] = {}  # per config: the size of each stream, in order
        self.documents = _Documents(len(event_types()))  # with rows, in corpus order
        self.stats = PublishStats()  # what does not depend on the split
        self.errors: list[str] = []

    def add_streams(self, streams: Mapping[str, Any], stats: Optional[PublishStats] = None) -> None:
        """Keep one partition's streams (:meth:`PartitionRows.streams`) and count its
        statistics that do not depend on the split."""
        for config, stream in streams.items():
            if config not in self._files:
                self._files[config] = open(self.folder / f"{config}.arrows", "wb")  # noqa: SIM115 (closed by close())
                self._streams[config] = array("q")
            self._files[config].write(stream)
            self._streams[config].append(len(stream))
        if stats is not None:
            _add_split_free(self.stats, stats)

    def add_document(self, rows: DocumentRows, records_path: Path, first_line: int) -> None:
        """Keep what is needed of one document's rows, its records at ``first_line`` and after."""
        if rows.error is not None:
            self.errors.append(placed(rows.error, records_path, first_line))
            return
        if not rows.sentences:
            return
        self.stats.bio_left_out += [(placed(w, records_path, first_line), *rest) for w, *rest in rows.bio_left_out]
        self.stats.spans_left_out += [(c, replace(lo, where=placed(lo.where, records_path, first_line))) for c, lo in rows.spans_left_out]
        example = first_line + rows.example if rows.example >= 0 else 0
        self.documents.append(_Document(rows.doc_id, first_line, rows.sentences, rows.events, rows.labels, example))

    def close(self) -> None:
        for file in self._files.values():
            file.close()
        self._files = {}

    def _batches(self, config: str):
        import pyarrow as pa

        path = self.folder / f"{config}.arrows"
        if not path.exists():
            return
        with path.open("rb") as file:  # read a stream at a time, not mapped: a mapped file's pages count as the process's memory
            for size in self._streams[config]:
                data = file.read(size)
                if len(data) != size:
                    raise OSError(f"{path}: expected a stream of {size} bytes, read {len(data)}")
                yield from pa.ipc.open_stream(pa.py_buffer(data))

    def write_dataset(
        self, records_path: Path, manifest: dict, out_dir: Path, card_extra: Optional[dict] = None, pseudonyms: Optional[Mapping[str, str]] = None,
    ) -> PublishStats:
        """Write the dataset folder ``out_dir`` (which must not exist), each document's rows
        to the files of its split in ``manifest`` (see :func:`builder.publish.write_dataset`).

        Raises:
            InputError: a record has an annotator without a pseudonym, or a document is not
                in the manifest; nothing is left at ``out_dir``.
        """
        self.close()
        if self.errors:
            raise InputError(self.errors[0])
        types = event_types()
        splits = []
        for doc in self.documents:
            entry = manifest["documents"].get(doc.doc_id)
            if entry is None:
                raise InputError(f"{records_path}:{doc.first_line} -> doc_id: document {doc.doc_id!r} is not in the split manifest; run `eventds split` first")
            splits.append(entry["split"])
        stats = self.stats
        example = 0
        for doc, split in zip(self.documents, splits):
            stats.sentences[split] += doc.sentences
            stats.documents[split].add(doc.doc_id)
            stats.events[split].update({t: n for t, n in zip(types, doc.events) if n})
            stats.sentences_with[split].update({t: n for t, n in zip(types, doc.labels) if n})
            if not example and split == "train" and doc.example:
                example = doc.example
        if example:
            stats.example = _record_at(records_path, example, pseudonyms)

        def route(config: str, split: str, writer: ShardWriter) -> None:
            """The rows of ``split``'s documents to ``writer``, in corpus order."""
            per_row = config in SENTENCE_CONFIGS
            at = 0
            for batch in self._batches(config):
                offset = 0
                while offset < batch.num_rows:
                    n = self.documents.sentences(at) if per_row else 1
                    if splits[at] == split:
                        writer.write_batch(batch.slice(offset, n))
                    offset += n
                    at += 1
            if at != len(self.documents):
                raise RuntimeError(f"{config}: rows for {at} documents were gathered, expected {len(self.documents)}")
            writer.close_file()

        def fill(writers: dict[tuple[str, str], ShardWriter], _: PublishStats) -> None:
            # The files of a config and split by a thread (Arrow reads, compresses and writes
            # parquet without holding the interpreter, so two run on the cores at once). A
            # parquet file open holds every row group's metadata (about 0.1 MiB for one of
            # `spans`) until it is closed: one split at a time, a config's rows read once per
            # split, at most PUBLISH_THREADS files are open, not three times as many.
            with ThreadPoolExecutor(max_workers=PUBLISH_THREADS) as pool:
                for done in [pool.submit(route, config, split, writers[config, split]) for config in CONFIGS for split in SPLITS]:
                    done.result()

        return _write_folder(out_dir, stats, fill, card_extra)


def _record_at(records_path: Path, line: int, pseudonyms: Optional[Mapping[str, str]]) -> dict:
    for lineno, record in read_jsonl(records_path):
        if lineno == line:
            where = f"{records_path}:{lineno}"
            return pseudonymise(record, pseudonyms, where) if pseudonyms is not None else record
    raise InputError(f"{records_path}: has no line {line}")

