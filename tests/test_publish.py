import json
import re
from pathlib import Path

from builder.errors import InputError
from builder.publish import load_published, publish
from builder.validate import validate_path

from test_validate import record

import pytest


def write_records(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def manifest_for(docs):
    return {"documents": {d: {"split": s, "group": d} for d, s in docs.items()}}


def test_published_folder_loads_with_nested_events_and_classlabels(tmp_path):
    records = [
        record(id="a-1", doc_id="a"),
        record(id="b-1", doc_id="b", events=[], labels=[]),
        record(id="c-1", doc_id="c", text="Héllo 🚀 wörld", start=0, end=13, events=[], labels=[],
               provenance={"raw_start": 0, "raw_end": 13, "labeller": None, "annotators": []}),
    ]
    src = tmp_path / "records.jsonl"
    write_records(src, records)
    out = tmp_path / "dataset"
    stats = publish(src, manifest_for({"a": "train", "b": "validation", "c": "test"}), out)
    assert dict(stats.sentences) == {"train": 1, "validation": 1, "test": 1}
    ds = load_published(out)
    assert set(ds) == {"train", "validation", "test"}
    row = ds["train"][0]
    type_names = ds["train"].features["events"].feature["type"].names
    assert type_names == ["ATTACK", "STRIKE", "CASUALTY", "THREAT"]
    assert [type_names[e["type"]] for e in row["events"]] == ["STRIKE", "CASUALTY"]
    assert row["events"][1]["arguments"] == [{"role": "count", "start": 27, "end": 29, "text": "25"}]
    assert row["events"][1]["count"] == {"value": 25, "min": 25, "max": 25, "qualifier": "exact"}
    assert row["events"][0]["count"] is None
    assert ds["test"][0]["text"] == "Héllo 🚀 wörld"
    assert validate_path(out).ok


def test_card_yaml_carries_configs_features_and_splits(tmp_path):
    src = tmp_path / "records.jsonl"
    write_records(src, [record(id="a-1", doc_id="a")])
    out = tmp_path / "dataset"
    publish(src, manifest_for({"a": "train"}), out)
    card = (out / "README.md").read_text(encoding="utf-8")
    yaml_part = card.split("---")[1]
    assert "config_name: spans" in yaml_part and "default: true" in yaml_part
    assert "class_label" in yaml_part and "path: data/spans/train-*" in yaml_part
    assert re.search(r"description: eventds spans, data sha256:[0-9a-f]{64}", yaml_part)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet")) == [
        f"data/{c}/train-00000-of-00001.parquet" for c in ("bio", "documents", "ee", "labels", "spans")
    ]


def test_document_missing_from_manifest_fails_and_leaves_no_folder(tmp_path):
    src = tmp_path / "records.jsonl"
    write_records(src, [record(id="a-1", doc_id="a")])
    out = tmp_path / "dataset"
    with pytest.raises(InputError, match="document 'a' is not in the split manifest"):
        publish(src, manifest_for({}), out)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["records.jsonl"]


def test_a_rebuilt_folder_never_loads_stale_rows(tmp_path):
    """datasets caches a local folder by its name and card: a rebuild must not be served from that cache."""
    manifest = manifest_for({"a": "train"})
    first, second = tmp_path / "one" / "dataset", tmp_path / "two" / "dataset"
    for folder, events in ((first, record()["events"]), (second, [])):
        src = folder.parent / "records.jsonl"
        folder.parent.mkdir()
        write_records(src, [record(id="a-1", doc_id="a", events=events, labels=sorted({e["type"] for e in events}))])
        publish(src, manifest, folder)
        assert len(load_published(folder)["train"][0]["events"]) == len(events)


def test_a_folder_rebuilt_in_place_with_rows_of_the_same_size_loads_the_new_rows(tmp_path):
    """Same folder, same file names, same sizes (a class id changed): only the card's content
    digest tells datasets' cache that the rows are not the ones it holds."""
    manifest = manifest_for({"a": "train"})
    src, out = tmp_path / "records.jsonl", tmp_path / "dataset"
    sizes = set()
    for etype in ("STRIKE", "ATTACK"):
        r = record(id="a-1", doc_id="a")
        r["events"][0]["type"] = etype
        r["labels"] = sorted({e["type"] for e in r["events"]})
        write_records(src, [r])
        publish(src, manifest, out)
        sizes.add((out / "data" / "spans" / "train-00000-of-00001.parquet").stat().st_size)
        train = load_published(out)["train"]
        assert train.features["events"].feature["type"].names[train[0]["events"][0]["type"]] == etype
    assert len(sizes) == 1  # nothing but the content tells the two folders apart


def test_a_split_larger_than_a_shard_is_written_in_numbered_shards(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from builder import publish as publishing

    monkeypatch.setattr(publishing, "SHARD_ROWS", 3)
    monkeypatch.setattr(publishing, "BATCH_ROWS", 2)
    src, out = tmp_path / "records.jsonl", tmp_path / "dataset"
    records = [record(id=f"a-{i}", doc_id="a", index=i) for i in range(7)] + [record(id="b-1", doc_id="b")]
    write_records(src, records)
    publish(src, manifest_for({"a": "train", "b": "test"}), out)
    shards = sorted(p.name for p in (out / "data" / "spans").iterdir())
    assert shards == ["test-00000-of-00001.parquet", "train-00000-of-00003.parquet", "train-00001-of-00003.parquet", "train-00002-of-00003.parquet"]
    assert [pq.read_metadata(out / "data" / "spans" / name).num_rows for name in shards] == [1, 3, 3, 1]
    ds = load_published(out)
    assert ds["train"]["id"] == [f"a-{i}" for i in range(7)] and ds["test"]["id"] == ["b-1"]
    assert load_published(out, "bio")["train"]["id"] == [f"a-{i}" for i in range(7)]
    assert validate_path(out).ok


def test_rows_wait_as_arrow_batches_and_a_row_group_is_cut_by_rows_or_bytes(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from builder import publish as publishing

    monkeypatch.setattr(publishing, "CHUNK_ROWS", 2)
    monkeypatch.setattr(publishing, "BATCH_ROWS", 5)
    src = tmp_path / "records.jsonl"
    write_records(src, [record(id=f"a-{i}", doc_id="a", index=i) for i in range(12)])

    def row_groups(out, config):
        meta = pq.read_metadata(out / "data" / config / "train-00000-of-00001.parquet")
        return [meta.row_group(k).num_rows for k in range(meta.num_row_groups)]

    publish(src, manifest_for({"a": "train"}), tmp_path / "by-rows")
    assert row_groups(tmp_path / "by-rows", "spans") == [5, 5, 2]  # chunks of 2 never push a group past 5
    monkeypatch.setattr(publishing, "BATCH_BYTES", 1)  # every chunk is over the byte limit
    publish(src, manifest_for({"a": "train"}), tmp_path / "by-bytes")
    assert row_groups(tmp_path / "by-bytes", "spans") == [2] * 6
    for config in ("spans", "bio", "documents"):
        a, b = load_published(tmp_path / "by-rows", config)["train"], load_published(tmp_path / "by-bytes", config)["train"]
        assert a.to_list() == b.to_list()
    assert load_published(tmp_path / "by-bytes")["train"]["id"] == [f"a-{i}" for i in range(12)]


@pytest.mark.parametrize("limits", [(2, 5, 100, 4 * 2**20), (3, 7, 100, 1), (2, 5, 9, 4 * 2**20)], ids=["by rows", "by bytes", "shards"])
def test_rows_given_as_arrow_batches_make_the_files_rows_given_one_by_one_make(limits, tmp_path, monkeypatch):
    """What a build's workers send (one Arrow batch per partition, cut per document) is
    written byte for byte as the same rows written one at a time: chunks, row groups and
    shards are cut at the same rows whatever batches the rows came in."""
    import random

    import pyarrow as pa

    from builder import publish as publishing
    from builder.formats import document_rows

    chunk, rows_per_group, shard, group_bytes = limits
    monkeypatch.setattr(publishing, "CHUNK_ROWS", chunk)
    monkeypatch.setattr(publishing, "BATCH_ROWS", rows_per_group)
    monkeypatch.setattr(publishing, "SHARD_ROWS", shard)
    monkeypatch.setattr(publishing, "BATCH_BYTES", group_bytes)
    records = [record(id=f"{d}-{i}", doc_id=d, index=i) for d in "abcdefg" for i in range(1 + ord(d) % 4)]
    rng = random.Random(7)
    for config, rows in (("spans", records), ("documents", document_rows(records))):
        features = publishing.config_features(config)
        encode = publishing._encoder(features) or (lambda r: r)
        one_by_one = publishing.ShardWriter(tmp_path / "rows" / config, "train", features)
        for row in rows:
            one_by_one.write(row)
        batched = publishing.ShardWriter(tmp_path / "batches" / config, "train", features)
        whole = pa.RecordBatch.from_pylist([encode(r) for r in rows], schema=features.arrow_schema.remove_metadata())
        at = 0
        while at < len(rows):
            n = rng.randint(1, 4)
            batched.write_batch(whole.slice(at, n))
            at += n
        a, b = one_by_one.close(), batched.close()
        assert [p.name for p in a] == [p.name for p in b] and len(a) == -(-len(rows) // shard)  # 19 sentences, 7 documents
        assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b], config


def test_a_build_publishes_the_folder_its_records_publish(tmp_path):
    """The rows a build makes with its records (in the partitions, on the workers) are the
    rows :func:`write_dataset` makes from the records file: every data file is the same."""
    from builder.pipeline import build, read_annotations
    from builder.publish import write_dataset

    build(out_dir=tmp_path / "build")
    manifest = json.loads((tmp_path / "build" / "manifest.json").read_text(encoding="utf-8"))
    annotations = read_annotations(Path(__file__).resolve().parents[1] / "annotations")
    write_dataset(tmp_path / "build" / "records.jsonl", manifest, tmp_path / "again", pseudonyms=annotations.pseudonyms)
    files = sorted(p.relative_to(tmp_path / "build" / "dataset") for p in (tmp_path / "build" / "dataset" / "data").rglob("*.parquet"))
    assert len(files) == 15
    for path in files:
        assert (tmp_path / "build" / "dataset" / path).read_bytes() == (tmp_path / "again" / path).read_bytes(), path
    built = json.loads((tmp_path / "build" / "dataset" / "stats.json").read_text(encoding="utf-8"))
    again = json.loads((tmp_path / "again" / "stats.json").read_text(encoding="utf-8"))
    assert built == again and built["splits"]["train"]["sentences"] > 0


def test_a_build_has_at_most_one_file_open_per_publishing_thread(tmp_path, monkeypatch):
    """An open parquet file holds the metadata of every row group written to it: a build
    writes a config's files one split after another, so no more are open than threads."""
    import threading

    import pyarrow.parquet as pq

    from builder import publish as publishing
    from builder import rows
    from builder.pipeline import build

    lock, open_now, most = threading.Lock(), set(), [0]

    class CountedWriter(pq.ParquetWriter):
        def __init__(self, where, *args, **kwargs):
            super().__init__(where, *args, **kwargs)
            with lock:
                open_now.add(where)
                most[0] = max(most[0], len(open_now))

        def close(self):
            super().close()
            with lock:
                open_now.discard(self.where)

    monkeypatch.setattr(pq, "ParquetWriter", CountedWriter)
    monkeypatch.setattr(publishing, "BATCH_ROWS", 5)  # files opened at their first row group, long before they are full
    build(out_dir=tmp_path / "build")
    assert len(list((tmp_path / "build" / "dataset" / "data").rglob("*.parquet"))) == 15
    assert 0 < most[0] <= rows.PUBLISH_THREADS and not open_now  # (every config's three at once before)


def human(id, doc_id, annotators, **kw):
    """A corrected record whose provenance names ``annotators``."""
    base = record(id=id, doc_id=doc_id, **kw)
    return {**base, "status": "corrected", "provenance": {**base["provenance"], "annotators": annotators}}


def test_annotators_are_published_under_their_pseudonyms_only(tmp_path):
    src = tmp_path / "records.jsonl"
    records = [human("a-1", "a", ["jane.doe@example.org", "li.wei@example.org"]), human("b-1", "b", ["li.wei@example.org"])]
    records[1]["events"][0]["sources"] = ["li.wei@example.org"]  # a source that names an annotator
    write_records(src, records)
    out = tmp_path / "dataset"
    table = {"jane.doe@example.org": "annotator-1", "li.wei@example.org": "annotator-2"}
    publish(src, manifest_for({"a": "train", "b": "test"}), out, pseudonyms=table)
    ds = load_published(out)
    assert ds["train"][0]["provenance"]["annotators"] == ["annotator-1", "annotator-2"]
    assert ds["test"][0]["provenance"]["annotators"] == ["annotator-2"]
    assert ds["test"][0]["events"][0]["sources"] == ["annotator-2"]
    published = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert b"@example.org" not in published  # parquet files and card alike


def test_publishing_without_a_table_keeps_the_names(tmp_path):
    src = tmp_path / "records.jsonl"
    write_records(src, [human("a-1", "a", ["jane.doe@example.org"])])
    publish(src, manifest_for({"a": "train"}), tmp_path / "dataset", pseudonyms=None)
    assert load_published(tmp_path / "dataset")["train"][0]["provenance"]["annotators"] == ["jane.doe@example.org"]


def test_an_annotator_without_a_pseudonym_stops_publishing_and_keeps_the_old_dataset(tmp_path):
    src = tmp_path / "records.jsonl"
    out = tmp_path / "dataset"
    write_records(src, [human("a-1", "a", ["jane.doe@example.org"])])
    publish(src, manifest_for({"a": "train"}), out, pseudonyms={"jane.doe@example.org": "annotator-1"})
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    write_records(src, [human("a-1", "a", ["jane.doe@example.org"]), human("a-2", "a", ["new.person@example.org"])])
    with pytest.raises(InputError, match=r"records\.jsonl:2 -> provenance -> annotators: 'new.person@example.org' has no pseudonym"):
        publish(src, manifest_for({"a": "train"}), out, pseudonyms={"jane.doe@example.org": "annotator-1"})
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert [r["provenance"]["annotators"] for r in load_published(out)["train"]] == [["annotator-1"]]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_documents_buffer_holds_one_document_when_they_come_together():
    from builder.errors import InputError
    from builder.publish import DocumentBuffer

    def rec(doc, i):
        return {"id": f"{doc}-{i}", "doc_id": doc, "index": i, "text": "Hi.", "start": 4 * i, "end": 4 * i + 3, "status": "weak", "events": [], "document": {}}

    buffer = DocumentBuffer(contiguous=True)
    assert buffer.add("train", rec("a", 0)) == [] and buffer.add("train", rec("a", 1)) == []
    done = buffer.add("test", rec("b", 0))
    assert [(split, row["doc_id"], len(row["sentences"])) for split, row in done] == [("train", "a", 2)]
    assert [(split, row["doc_id"]) for split, row in buffer.rows()] == [("test", "b")]
    with pytest.raises(InputError, match="f.jsonl:9 -> doc_id: the records of document 'a' are not together"):
        buffer.add("train", rec("a", 2), "f.jsonl:9")
