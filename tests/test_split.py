import pytest

from builder.errors import InputError
from builder.records import Sentence
from builder.split import SPLITS, assign_splits, group_documents, index_documents

SHARED = "This paragraph was re-run word for word by two outlets."


def sents(doc, texts):
    return [Sentence(id=f"{doc}-{i}", doc_id=doc, index=i, text=t, start=0, end=len(t), raw_start=0, raw_end=len(t)) for i, t in enumerate(texts)]


def corpus(n, shared_pairs=()):
    out = []
    for i in range(n):
        texts = [f"Document {i} says something unique about event number {i}."] * 1 + [f"Another sentence of document {i} here."]
        if any(i in pair for pair in shared_pairs):
            texts.append(SHARED if i in shared_pairs[0] else SHARED + " Variant.")
        out += sents(f"d{i:02d}", texts)
    return out


def test_documents_sharing_a_sentence_are_grouped_and_split_together():
    index = index_documents(corpus(10, shared_pairs=((2, 7),)))
    groups = group_documents(index)
    assert ["d02", "d07"] in groups.values()
    manifest = assign_splits(index).manifest
    assert manifest["documents"]["d02"]["split"] == manifest["documents"]["d07"]["split"]


def test_an_index_let_go_is_freed_at_once_not_by_the_cycle_collector():
    """A build drops the index before publishing: its arrays must go then, not whenever
    Python's cycle collector next runs."""
    import gc
    import weakref

    index = index_documents(corpus(10, shared_pairs=((2, 7),)))
    assert index.sentences["d02"] == 3 and ["d02", "d07"] in group_documents(index).values()
    assert assign_splits(index).manifest["documents"]["d02"]["split"] in SPLITS
    gone = weakref.ref(index), weakref.ref(index.duplicates)
    index.duplicates.close()
    gc.disable()
    try:
        del index
        assert [ref() for ref in gone] == [None, None]
    finally:
        gc.enable()


def test_shared_text_in_other_case_and_quotes_still_links():
    index = index_documents(sents("a", ["“Kata’ib Hezbollah must cease its attacks,” he said."]) + sents("b", ['"Kata\'ib Hezbollah must CEASE its attacks," he said.']))
    assert len(group_documents(index)) == 1


def test_assignment_is_deterministic_and_fills_every_split():
    index = index_documents(corpus(5))
    a = assign_splits(index).manifest
    b = assign_splits(index_documents(corpus(5))).manifest
    assert a == b
    assert {e["split"] for e in a["documents"].values()} == set(SPLITS)


def test_rerun_never_moves_an_assigned_document():
    first = assign_splits(index_documents(corpus(6))).manifest
    grown = assign_splits(index_documents(corpus(30)), previous=first)
    for doc, entry in first["documents"].items():
        assert grown.manifest["documents"][doc]["split"] == entry["split"]
    assert len(grown.new_documents) == 24


def test_new_document_bridging_two_splits_is_reported_not_moved():
    docs = sents("a", ["Alpha sentence that is quite long."]) + sents("b", ["Beta sentence that is also long enough."])
    previous = {"seed": "eventds", "documents": {"a": {"split": "train", "group": "x"}, "b": {"split": "test", "group": "y"}}}
    bridge = sents("c", ["Alpha sentence that is quite long.", "Beta sentence that is also long enough."])
    result = assign_splits(index_documents(docs + bridge), previous)
    assert result.manifest["documents"]["a"]["split"] == "train"
    assert result.manifest["documents"]["b"]["split"] == "test"
    assert result.conflicts and "'c'" in result.conflicts[0]


def test_bad_ratios_are_rejected():
    with pytest.raises(InputError, match="ratios"):
        assign_splits(index_documents(corpus(3)), ratios={"train": 0.9, "validation": 0.2, "test": 0.1})
