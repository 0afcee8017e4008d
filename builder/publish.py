"""Publishing: sentence records + split manifest -> a Hugging Face dataset folder.

The folder holds parquet files per config and split under ``data/<config>/`` and a
``README.md`` dataset card whose YAML (configs, features, splits) is written with datasets'
own card metadata classes, as ``push_to_hub`` writes it. Three configs:

- ``spans`` (default): one row per sentence record, events as ``List({...})`` with the type
  a ``ClassLabel``;
- ``bio``: spaCy tokens, whitespace flags and BIO tags (``ClassLabel``) for token
  classification;
- ``labels``: the sentence-level multi-label view for text classification;
- ``ee``: TextEE's unified format for event-extraction code (:func:`builder.formats.ee_row`);
- ``documents``: one row per document, events with document-level offsets
  (:func:`builder.formats.document_row`).

``bio`` also carries ``arg_tags``: one argument BIO sequence per tagged event. Roles and realis
are ``ClassLabel``s in ``ee``, ``documents`` and ``arg_tags``, their names read from the schema.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from . import swap
from .bio import bio_labels, to_bio
from .card import CARD_NAME, STATS_NAME, Sources, card_body, card_metadata, count_licence_statements, write_card  # noqa: F401  (card_* re-exported)
from .errors import InputError
from .io import read_jsonl, umask
from .labelset import event_types
from .pseudonyms import pseudonymise
from .split import SPLITS

DEFAULT_CONFIG = "spans"
CONFIGS = ("spans", "bio", "labels", "ee", "documents")
#: The configs with one row per sentence record (``documents`` has one per document).
SENTENCE_CONFIGS = ("spans", "bio", "labels", "ee")


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


def config_features(config: str):
    """The ``datasets.Features`` of a config."""
    from datasets import ClassLabel, Features, List, Value

    string = Value("string")
    if config == "spans":
        return Features(
            {
                "id": string,
                "doc_id": string,
                "index": Value("int32"),
                "text": string,
                "start": Value("int32"),
                "end": Value("int32"),
                "document": {k: string for k in ("outlet", "title", "published", "author", "source_file", "site_name", "canonical_url", "source_url", "page_sha256", "extractor")},
                "events": List(event_features()),
                "weak_events": List(event_features()),
                "labels": List(ClassLabel(names=list(event_types()))),
                "status": string,
                "guidelines_version": string,
                "provenance": {"raw_start": Value("int32"), "raw_end": Value("int32"), "labeller": string, "annotators": List(string)},
            }
        )
    if config == "bio":
        return Features(
            {
                "id": string,
                "doc_id": string,
                "tokens": List(string),
                "spaces": List(Value("bool")),
                "ner_tags": List(ClassLabel(names=bio_labels())),
                "status": string,
                **arg_tags_feature(),
            }
        )
    if config == "labels":
        return Features({"id": string, "doc_id": string, "text": string, "labels": List(ClassLabel(names=list(event_types()))), "status": string})
    if config in EXTRA_CONFIG_FEATURES:
        return EXTRA_CONFIG_FEATURES[config]()
    raise ValueError(f"unknown config {config!r}; expected one of {CONFIGS}")


def config_row(config: str, record: dict[str, Any], where: str, left_out: Optional[list] = None, extra_left_out: Optional[list] = None) -> dict[str, Any]:
    """The row of ``config`` for one sentence record (not yet encoded).

    In ``bio``, an event whose trigger does not fall on token boundaries (a human annotation
    made on other tokens) cannot be tagged: it is left out of that row and appended to
    ``left_out`` as ``(where, record id, type, start, end, text)``; without ``left_out`` it
    is an error. Arguments (``bio``'s ``arg_tags``, ``ee``) that cannot be put on the tokens
    are left out and appended to ``extra_left_out`` as ``(config, LeftOut)``."""
    if config == "spans":
        return record
    if config == "bio":
        spans = [(e["type"], e["start"], e["end"]) for e in record["events"]]
        bad: Optional[list] = [] if left_out is not None else None
        tokens, spaces, tags = to_bio(record["text"], spans, where, bad)  # one tokenisation per record
        if bad:
            left_out += [(where, record["id"], t, a, b, record["text"][a:b]) for t, a, b in bad]
        row = {"id": record["id"], "doc_id": record["doc_id"], "tokens": tokens, "spaces": spaces, "ner_tags": tags, "status": record["status"]}
        return {**row, "arg_tags": arg_tags_row(record, where, extra_left_out)}
    if config == "ee":
        return ee_config_row(record, where, extra_left_out)
    return {"id": record["id"], "doc_id": record["doc_id"], "text": record["text"], "labels": record["labels"], "status": record["status"]}


@dataclass
class PublishStats:
    """Counts of what was published, per split (recomputable from the folder)."""

    sentences: Counter = field(default_factory=Counter)
    documents: dict[str, set] = field(default_factory=lambda: defaultdict(set))
    events: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # split -> type -> n
    sentences_with: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # split -> type -> n
    status: Counter = field(default_factory=Counter)
    bio_left_out: list = field(default_factory=list)  # (where, id, type, start, end, text) of events BIO cannot tag
    spans_left_out: list = field(default_factory=list)  # (config, formats.LeftOut) of spans bio's arg_tags or ee cannot hold
    guidelines: Counter = field(default_factory=Counter)  # guidelines version of the records -> sentences
    status_guidelines: Counter = field(default_factory=Counter)  # (status, guidelines version) -> sentences
    sources: Sources = field(default_factory=Sources)  # what each document's ``document`` fields state
    licence_statements: int = 0  # sentences with words of a licence or permission statement
    example: Optional[dict] = None

    def to_dict(self) -> dict[str, Any]:
        types = event_types()
        return {
            "splits": {
                s: {
                    "documents": len(self.documents[s]),
                    "sentences": self.sentences[s],
                    "events": {t: self.events[s][t] for t in types},
                    "sentences_with": {t: self.sentences_with[s][t] for t in types},
                }
                for s in SPLITS
            },
            "status": dict(sorted(self.status.items())),
            "guidelines_versions": dict(sorted(self.guidelines.items())),
            "status_guidelines_versions": {s: {v: n for (s2, v), n in sorted(self.status_guidelines.items()) if s2 == s} for s in sorted(self.status)},
            "bio_events_left_out": [{"id": i, "type": t, "start": a, "end": b, "text": x} for _, i, t, a, b, x in self.bio_left_out],
            "spans_left_out": [{"config": c, **lo.to_dict()} for c, lo in self.spans_left_out],
        }


def _split_of(record: dict, manifest: dict, where: str) -> str:
    entry = manifest["documents"].get(record["doc_id"])
    if entry is None:
        raise InputError(f"{where} -> doc_id: document {record['doc_id']!r} is not in the split manifest; run `eventds split` first")
    return entry["split"]


def publish(
    records_path: Path, manifest: dict, out_dir: Path, card_extra: Optional[dict] = None, pseudonyms: Optional[Mapping[str, str]] = None,
    version: Optional[str] = None,
) -> PublishStats:
    """Write the dataset folder ``out_dir`` (see :func:`write_dataset`), replacing the
    previous one in one step (:func:`builder.swap.replace_together` on its parent folder):
    a failure or a kill leaves the previous dataset whole.

    With ``version`` (X.Y.Z), the card is stamped with it and a changelog entry against the
    previous release of ``out_dir`` is recorded (:mod:`builder.release`); a sentence of that
    release in another split now is an :class:`InputError`. Without it, the release history
    of ``out_dir`` (if any) is carried over unchanged."""
    from .release import load_releases, plan_release, sentence_index, write_release_files

    out_dir = Path(out_dir)
    with swap.replace_together(out_dir.parent) as staging:
        previous = load_releases(out_dir) if out_dir.is_dir() else None
        releases = None
        if version is not None:
            releases = plan_release(previous, sentence_index(records_path, manifest), version)
            card_extra = {**(card_extra or {}), "release": releases["releases"][-1]}
        stats = write_dataset(records_path, manifest, staging / out_dir.name, card_extra, pseudonyms)
        if releases or previous:
            write_release_files(staging / out_dir.name, releases or previous)
        return stats


#: Rows per parquet row group of a data file: datasets' own writer_batch_size.
BATCH_ROWS = 1_000
#: Bytes of Arrow data at which a row group is written before it has :data:`BATCH_ROWS` rows
#: (a ``documents`` row holds a whole article).
BATCH_BYTES = 4 * 2**20
#: Rows held as Python objects before they become an Arrow record batch: the rows of a row
#: group wait as Arrow data, about a tenth of their size as dicts and lists.
CHUNK_ROWS = 64
#: Rows per data file: a split with more is written as several shards.
SHARD_ROWS = 100_000


def _encoder(feature: Any) -> Optional[Callable[[Any], Any]]:
    """A function encoding a value of ``feature`` as ``Features.encode_example`` does, for the
    parts that are not stored as they are (``ClassLabel`` names become ids); ``None`` when the
    value is stored as it is (pyarrow converts it against the schema)."""
    from datasets import ClassLabel, LargeList, List

    if isinstance(feature, ClassLabel):
        ids = {name: i for i, name in enumerate(feature.names)}

        def label(value: Any) -> Any:
            if value is None:
                return None
            found = ids.get(value) if isinstance(value, str) else None
            return found if found is not None else feature.encode_example(value)  # ints checked, names stripped, errors

        return label
    if isinstance(feature, dict):
        fields = {k: e for k, e in ((k, _encoder(f)) for k, f in feature.items()) if e is not None}
        if not fields:
            return None

        def struct(value: Any) -> Any:
            if value is None:
                return None
            out = dict(value)
            for k, encode in fields.items():
                out[k] = encode(value.get(k))
            return out

        return struct
    if isinstance(feature, (List, LargeList)):  # a list of structs is stored as such (datasets >= 4)
        inner = _encoder(feature.feature)
        if inner is None:
            return None
        if isinstance(feature.feature, ClassLabel):  # tags: one name per token
            ids = {name: i for i, name in enumerate(feature.feature.names)}

            def labels(value: Any) -> Any:
                if value is None:
                    return None
                try:
                    return [ids[v] for v in value]
                except (KeyError, TypeError):  # not all names: each one as ClassLabel takes it
                    return [inner(v) for v in value]

            return labels
        return lambda value: None if value is None else [inner(v) for v in value]
    return None


class ShardWriter:
    """The parquet files of one config and split: rows (``ClassLabel`` names encoded by
    :func:`_encoder`) become Arrow record batches every :data:`CHUNK_ROWS` rows, written as a
    row group of :data:`BATCH_ROWS` rows (fewer when they reach :data:`BATCH_BYTES`), and a
    new file is started every :data:`SHARD_ROWS` rows. Files are written under temporary names and
    named ``<split>-0000K-of-0000N.parquet`` by :meth:`close`, once N is known.

    The Arrow schema is ``Features.arrow_schema``, whose metadata carries the features, so
    ``datasets`` reads back the features written; the parquet options are those of datasets'
    own ``ParquetWriter`` (content-defined chunking, page index, per-column options), so the
    Hub stores a re-published file's unchanged pages once.
    """

    def __init__(self, folder: Path, split: str, features: Any) -> None:
        from datasets import config
        from datasets.arrow_writer import get_parquet_column_options

        self.folder = Path(folder)
        self.split = split
        self.schema = features.arrow_schema
        self._options = {
            "use_content_defined_chunking": config.DEFAULT_CDC_OPTIONS,
            "write_page_index": True,
            **get_parquet_column_options(features, self.schema),
        }
        self._encode = _encoder(features) or (lambda row: row)
        self._rows: list[dict] = []  # encoded rows, not yet Arrow data
        self._loose: list[Any] = []  # or record batches (:meth:`write_batch`) of fewer rows than a chunk
        self._loose_rows = 0
        self._batches: list[Any] = []  # Arrow record batches of the row group being gathered
        self._pending = 0  # rows in self._batches
        self._pending_bytes = 0
        self._writer: Any = None
        self._in_shard = 0
        self._shards: list[Path] = []
        self.rows = 0

    def write(self, row: dict[str, Any]) -> None:
        """Add one row (not yet encoded)."""
        self._rows.append(self._encode(row))
        held = self._pending + len(self._rows)
        if len(self._rows) >= CHUNK_ROWS or held >= BATCH_ROWS or self._in_shard + held >= SHARD_ROWS:
            self._to_arrow()

    def write_batch(self, batch: Any) -> None:
        """Add rows already encoded, as an Arrow record batch of this writer's columns (its
        schema's metadata aside). They are gathered in :data:`CHUNK_ROWS` rows as
        :meth:`write` gathers rows, so the files are the same, byte for byte, whichever
        way, and in whatever batches, the same rows come."""
        if self._rows:
            self._batch()
        while batch.num_rows:
            held = self._pending + self._loose_rows
            room = min(CHUNK_ROWS - self._loose_rows, BATCH_ROWS - held, SHARD_ROWS - self._in_shard - held)
            head, batch = batch.slice(0, room), batch.slice(room)
            self._loose.append(head)
            self._loose_rows += head.num_rows
            held += head.num_rows
            if self._loose_rows >= CHUNK_ROWS or held >= BATCH_ROWS or self._in_shard + held >= SHARD_ROWS:
                self._to_arrow()

    def _to_arrow(self) -> None:
        """Turn the rows held as Python objects into a record batch; write the row group once
        it is full (:data:`BATCH_ROWS`, :data:`BATCH_BYTES` or the end of a shard)."""
        self._batch()
        if self._pending >= BATCH_ROWS or self._pending_bytes >= BATCH_BYTES or self._in_shard + self._pending >= SHARD_ROWS:
            self._flush()

    def _batch(self) -> None:
        import pyarrow as pa

        if self._rows:
            batch = pa.RecordBatch.from_pylist(self._rows, schema=self.schema)
            self._rows = []
        elif self._loose:
            batch = pa.concat_batches(self._loose)
            self._loose, self._loose_rows = [], 0
        else:
            return
        self._batches.append(batch)
        self._pending += batch.num_rows
        self._pending_bytes += batch.nbytes

    def _flush(self) -> None:
        """Write every row held as one row group."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._batch()
        if not self._pending:
            return
        if self._writer is None:
            path = self.folder / f".{self.split}-{len(self._shards):05d}.parquet.partial"
            path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(str(path), self.schema, **self._options)
            self._writer.add_key_value_metadata({"content_defined_chunking": json.dumps(self._options["use_content_defined_chunking"])})
            self._shards.append(path)
        table = pa.Table.from_batches(self._batches, schema=self.schema)
        self._writer.write_table(table, row_group_size=self._pending)
        self.rows += self._pending
        self._in_shard += self._pending
        self._batches, self._pending, self._pending_bytes = [], 0, 0
        if self._in_shard >= SHARD_ROWS:
            self._writer.close()
            self._writer, self._in_shard = None, 0

    def close_file(self) -> None:
        """Write what is left and close the file being written (its metadata held until then);
        :meth:`close` names the files."""
        self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def close(self) -> list[Path]:
        """Write what is left and name the files; return them, in order (none for no row)."""
        self.close_file()
        named = []
        for k, path in enumerate(self._shards):
            final = path.with_name(f"{self.split}-{k:05d}-of-{len(self._shards):05d}.parquet")
            os.replace(path, final)
            named.append(final)
        self._shards = []
        return named

    def abort(self) -> None:
        """Close the file being written, after a failure (the folder is removed by the caller)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def write_dataset(
    records_path: Path, manifest: dict, out_dir: Path, card_extra: Optional[dict] = None, pseudonyms: Optional[Mapping[str, str]] = None,
    contiguous_documents: bool = False,
) -> PublishStats:
    """Write a new dataset folder ``out_dir`` (which must not exist) from a records JSONL
    file in one streaming pass: per config and split, Arrow record batches in parquet files
    ``data/<config>/<split>-0000K-of-0000N.parquet`` (:class:`ShardWriter`).

    ``datasets`` caches a local folder by its name and card (the data files' patterns, the
    features, the sizes): the card names each config's content digest
    (:func:`builder.card.content_digests`) so that a rebuilt folder with other rows is not
    served from that cache.

    Args:
        records_path: validated sentence records.
        manifest: the split manifest (``documents -> {doc_id: {"split"}}``).
        out_dir: the dataset folder to (re)write.
        card_extra: optional figures for the card: ``agreement`` and ``quality`` dicts,
            ``manifest`` parameters, ``removals`` counts.
        pseudonyms: annotator name -> pseudonym (:mod:`builder.pseudonyms`), written in
            place of every annotator name; ``None`` publishes the names as they are.
        contiguous_documents: each document's records are together in ``records_path`` (as
            ``build`` writes them): the ``documents`` config holds one document at a time
            instead of every record (:class:`DocumentBuffer`).

    Returns:
        What was published, per split.

    Raises:
        InputError: a record's document is not in the manifest, or an annotator has no
            pseudonym; nothing is left at ``out_dir``.
    """
    documents = DocumentBuffer(contiguous_documents)
    records_path = Path(records_path)

    def fill(writers: dict[tuple[str, str], ShardWriter], stats: PublishStats) -> None:
        for lineno, record in read_jsonl(records_path):
            where = f"{records_path}:{lineno}"
            split = _split_of(record, manifest, where)
            if pseudonyms is not None:
                record = pseudonymise(record, pseudonyms, where)
            for config in SENTENCE_CONFIGS:
                writers[config, split].write(config_row(config, record, where, stats.bio_left_out, stats.spans_left_out))
            for done_split, row in documents.add(split, record, where):
                writers["documents", done_split].write(row)
            stats.sentences[split] += 1
            first = record["doc_id"] not in stats.documents[split]  # (a document is in one split)
            stats.documents[split].add(record["doc_id"])
            _count_record(stats, record, first)
            stats.events[split].update(e["type"] for e in record["events"])
            stats.sentences_with[split].update(record["labels"])
            if stats.example is None and split == "train" and record["events"]:
                stats.example = record
        for split, row in documents.rows():
            writers["documents", split].write(row)

    return _write_folder(out_dir, PublishStats(), fill, card_extra)


def _count_record(stats: PublishStats, record: dict[str, Any], first_of_document: bool) -> None:
    """Count what :class:`PublishStats` says of a record whatever its split (its document's
    sources with its document's first record)."""
    stats.status[record["status"]] += 1
    stats.guidelines[record.get("guidelines_version") or "none"] += 1
    stats.status_guidelines[record["status"], record.get("guidelines_version") or "none"] += 1
    if first_of_document:
        stats.sources.add(record["doc_id"], record.get("document") or {})
    stats.licence_statements += count_licence_statements(record["text"])


def _write_folder(
    out_dir: Path, stats: PublishStats, fill: Callable[[dict[tuple[str, str], "ShardWriter"], PublishStats], None], card_extra: Optional[dict]
) -> PublishStats:
    """Make a dataset folder at ``out_dir`` (which must not exist): ``fill`` writes the rows of
    every config and split with the writers given and counts them in ``stats``; then the
    files are named, the statistics and the card written, and the folder renamed into place.
    Nothing is left at ``out_dir`` when ``fill`` raises."""
    features = {c: config_features(c) for c in CONFIGS}
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    os.chmod(tmp, 0o777 & ~umask())  # mkdtemp gives 0700; the dataset is for others to read
    writers = {(c, s): ShardWriter(tmp / "data" / c, s, features[c]) for c in CONFIGS for s in SPLITS}
    try:
        fill(writers, stats)
        files: dict[tuple[str, str], list[str]] = {}
        for (config, split), writer in writers.items():
            shards = writer.close()
            if shards and stats.sentences[split]:  # datasets cannot load a declared split with no data
                files[config, split] = [path.relative_to(tmp).as_posix() for path in shards]
        (tmp / STATS_NAME).write_text(json.dumps(stats.to_dict(), indent=2) + "\n", encoding="utf-8")
        write_card(tmp, features, stats, files, card_extra or {}, DEFAULT_CONFIG)
        os.rename(tmp, out_dir)
    except BaseException:
        for writer in writers.values():
            writer.abort()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return stats


def load_published(folder: Path, config: Optional[str] = None):
    """Load a published folder with ``datasets.load_dataset``, offline, without progress bars
    (their output would mix with a command's report)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from datasets import load_dataset
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    folder = Path(folder)
    if not (folder / CARD_NAME).exists():
        raise InputError(f"{folder}: not a published dataset folder (no {CARD_NAME})")
    quiet = are_progress_bars_disabled()
    disable_progress_bars()
    try:
        return load_dataset(str(folder), config) if config else load_dataset(str(folder))
    except Exception as e:  # datasets raises many types for a broken folder
        raise InputError(f"{folder}: could not be loaded by datasets.load_dataset: {e}") from e
    finally:
        if not quiet:
            enable_progress_bars()


HubPusher = Callable[[Any, str, str, bool], None]


def datasets_pusher(dataset, repo_id: str, config_name: str, set_default: bool) -> None:
    """Push one config with ``DatasetDict.push_to_hub`` (needs network and a token)."""
    dataset.push_to_hub(repo_id, config_name=config_name, set_default=set_default)


def push_to_hub(folder: Path, repo_id: str, pusher: HubPusher = datasets_pusher) -> list[str]:
    """Push every config of a published folder to a Hub repository, the default config marked.

    ``pusher`` is the seam to the Hub: tests pass a fake, since the Hub is unreachable here.

    Returns:
        The configs pushed, in order.
    """
    pushed = []
    for config in CONFIGS:
        pusher(load_published(folder, config), repo_id, config, config == DEFAULT_CONFIG)
        pushed.append(config)
    return pushed


# --- Event-extraction configs: ``ee``, ``documents`` and ``bio``'s ``arg_tags`` ----------------


def _count_feature():
    from datasets import Value

    return {"value": Value("int32"), "min": Value("int32"), "max": Value("int32"), "qualifier": Value("string")}


def arg_tags_feature() -> dict[str, Any]:
    """``arg_tags``: one argument BIO sequence per tagged event of ``ner_tags`` (in trigger
    order), each aligned 1:1 with ``tokens``; roles from the schema."""
    from datasets import ClassLabel, List

    from .formats import arg_bio_labels

    return {"arg_tags": List(List(ClassLabel(names=arg_bio_labels())))}


def arg_tags_row(record: dict[str, Any], where: str, left_out: Optional[list]) -> list[list[str]]:
    from .formats import arg_bio

    found: list = []
    _, _, arg_tags, _ = arg_bio(record, where, found)
    if left_out is not None:  # misaligned triggers are bio_left_out already
        left_out += [("bio", lo) for lo in found if lo.kind == "argument"]
    return arg_tags


def ee_features():
    from datasets import ClassLabel, Features, List, Value

    from .labelset import argument_roles, realis_values

    string, int32 = Value("string"), Value("int32")
    span = {"text": string, "start": int32, "end": int32}
    return Features(
        {
            "doc_id": string,
            "wnd_id": string,
            "text": string,
            "lang": string,
            "tokens": List(string),
            "spaces": List(Value("bool")),
            "entity_mentions": List({"id": string, "entity_type": string, **span}),
            "event_mentions": List(
                {
                    "id": string,
                    "event_type": ClassLabel(names=list(event_types())),
                    "trigger": span,
                    "arguments": List({"entity_id": string, "role": ClassLabel(names=list(argument_roles())), **span}),
                    "realis": ClassLabel(names=list(realis_values())),
                    "count": _count_feature(),
                }
            ),
            "status": string,
        }
    )


def ee_config_row(record: dict[str, Any], where: str, left_out: Optional[list]) -> dict[str, Any]:
    from .formats import ee_row

    found: list = []
    row = ee_row(record, where, found)
    if left_out is not None:
        left_out += [("ee", lo) for lo in found]
    return row


def documents_features():
    from datasets import ClassLabel, Features, List, Value

    from .labelset import argument_roles, realis_values

    string, int32 = Value("string"), Value("int32")
    meta = config_features("spans")["document"]
    return Features(
        {
            "doc_id": string,
            "document": meta,
            "text": string,
            "sentences": List({"id": string, "index": int32, "text": string, "start": int32, "end": int32, "status": string}),
            "events": List(
                {
                    "sentence": int32,
                    "type": ClassLabel(names=list(event_types())),
                    "start": int32,
                    "end": int32,
                    "text": string,
                    "realis": ClassLabel(names=list(realis_values())),
                    "arguments": List({"role": ClassLabel(names=list(argument_roles())), "start": int32, "end": int32, "text": string}),
                    "count": _count_feature(),
                }
            ),
        }
    )


EXTRA_CONFIG_FEATURES: dict[str, Callable[[], Any]] = {"ee": ee_features, "documents": documents_features}


class DocumentBuffer:
    """The records of each document, per split, until its ``documents`` row can be made.

    Args:
        contiguous: the records of a document come one after the other (as ``build`` writes
            them): a document's row is made as soon as the next document starts, so only one
            document is held. Otherwise (any records file) every record is held until
            :meth:`rows` is called at the end.
    """

    def __init__(self, contiguous: bool = False) -> None:
        self.contiguous = contiguous
        self._docs: dict[tuple[str, str], list[dict]] = {}
        self._done: set[str] = set()

    def add(self, split: str, record: dict[str, Any], where: str = "") -> list[tuple[str, dict[str, Any]]]:
        """Hold ``record``; return the ``(split, row)`` of documents now complete (contiguous only).

        Raises:
            InputError: contiguous, and a document's records are not together.
        """
        slim = {k: record[k] for k in ("id", "doc_id", "index", "text", "start", "end", "status", "events", "document")}
        key = (split, record["doc_id"])
        done: list[tuple[str, dict[str, Any]]] = []
        if self.contiguous and key not in self._docs:
            if record["doc_id"] in self._done:
                raise InputError(f"{where} -> doc_id: the records of document {record['doc_id']!r} are not together")
            done = list(self.rows())
        self._docs.setdefault(key, []).append(slim)
        return done

    def rows(self):
        """The ``(split, row)`` of every document held, in the order they came; then none is held."""
        from .formats import document_row

        docs, self._docs = self._docs, {}
        for (split, doc_id), records in docs.items():
            if self.contiguous:
                self._done.add(doc_id)
            yield split, document_row(records)
