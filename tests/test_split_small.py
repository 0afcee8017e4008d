"""Splits for small corpora: groups kept whole, every type in every split where the corpus
allows it, and a note saying what cannot be met."""

import hashlib
import random
import time

import pytest

from builder.dedup import pack_signatures
from builder.records import Event, Sentence
from builder.split import FAR_FROM_TARGET, SPLITS, DocumentIndex, assign_splits, group_documents

A, S, C, T = "ATTACK", "STRIKE", "CASUALTY", "THREAT"


def words(key, n=8):
    """``n`` made-up words unique to ``key``: sentences that share no shingle with any other."""
    return " ".join(hashlib.sha1(f"{key}/{k}".encode()).hexdigest()[:7] for k in range(n))


def document(doc, n, types=(), shared=()):
    """``n`` sentences of ``doc`` with one event of each of ``types`` in the first, then one
    sentence per key of ``shared`` that every document given the same key also has."""
    texts = [words(f"{doc}/{i}") + "." for i in range(n)] + [words(f"shared/{key}", 12) + "." for key in shared]
    out = []
    for i, text in enumerate(texts):
        events = tuple(Event(type=t, start=0, end=7, text=text[:7]) for t in types) if i == 0 else ()
        out.append(Sentence(id=f"{doc}-{i}", doc_id=doc, index=i, text=text, start=0, end=len(text), raw_start=0, raw_end=len(text), events=events))
    return out


def index_of(docs, signature=False):
    index = DocumentIndex()
    for sentences in docs:
        for s in sentences:
            index.add(s, signature)
    return index


def test_the_document_index_reads_as_counts_per_document_and_per_type():
    """Rows of counts in arrays, read as the dictionaries the splitter uses: every document's
    sentences; only documents with events, each with a ``Counter``, a type outside the label set too."""
    index = index_of([document("a", 2, types=(A, A, C)), document("b", 3), document("c", 1, types=("RIOT",))], signature=None)
    index.add_sentences("b", ["b-9"], [(T,)], pack_signatures([None]))
    assert dict(index.sentences) == {"a": 2, "b": 4, "c": 1} and index.sentences.get("z", 0) == 0
    assert dict(index.events) == {"a": {A: 2, C: 1}, "b": {T: 1}, "c": {"RIOT": 1}}
    assert ("z" in index.events, index.events.get("z"), len(index.events)) == (False, None, 3)


def split_of(result):
    return {d: e["split"] for d, e in result.manifest["documents"].items()}


def events_by_split(result, docs):
    where = split_of(result)
    found = {s: set() for s in SPLITS}
    for sentences in docs:
        for s in sentences:
            found[where[s.doc_id]].update(e.type for e in s.events)
    return found


def sentences_by_split(result, docs):
    where = split_of(result)
    counts = {s: 0 for s in SPLITS}
    for sentences in docs:
        counts[where[sentences[0].doc_id]] += len(sentences)
    return counts


def test_two_documents_are_reported_as_too_few_for_three_splits():
    docs = [document("a", 5, [A]), document("b", 4, [A])]
    result = assign_splits(index_of(docs))
    where = split_of(result)
    empty = [s for s in SPLITS if s not in where.values()]
    assert where["a"] != where["b"]
    assert len(empty) == 1
    assert f"split {empty[0]!r} is empty: 2 documents (2 once near-duplicates are grouped) are too few to fill every split" in result.notes


# Each type is in at least three groups, placed so that one assignment close to the ratios
# gives every split every type: at 0.8/0.1/0.1 the one group of validation and of test
# must carry all four types; at 0.5/0.25/0.25 two groups of each must cover them.
SPREAD = {
    "one group each": ({"train": 0.8, "validation": 0.1, "test": 0.1}, [[A, S, C, T], [A, S, C, T], [A, S, C, T], [A], [S], [C], [T], []]),
    "two groups each": ({"train": 0.5, "validation": 0.25, "test": 0.25}, [[A, S], [C, T], [A, S], [C, T], [A, C], [S, T], [A], []]),
}


@pytest.mark.parametrize("seed", ["eventds", "other seed"])
@pytest.mark.parametrize("case", sorted(SPREAD))
def test_every_type_reaches_every_split_when_the_groups_allow_it(case, seed):
    ratios, types = SPREAD[case]
    docs = [document(f"d{i}", 5, t) for i, t in enumerate(types)]
    result = assign_splits(index_of(docs), ratios=ratios, seed=seed)
    found = events_by_split(result, docs)
    assert {s: sorted(found[s]) for s in SPLITS} == {s: sorted({A, S, C, T}) for s in SPLITS}
    assert result.notes == []


def test_a_type_in_one_group_is_reported_by_name():
    docs = [document(f"d{i}", 5, [A, T] if i == 3 else [A]) for i in range(6)]
    result = assign_splits(index_of(docs))
    lone = split_of(result)["d3"]
    assert f"{T} is in 1 document group: only {lone!r} has it" in result.notes
    assert not any(A in note for note in result.notes)


@pytest.mark.parametrize("sizes", [[5, 5, 5, 5, 5, 5], [30, 4, 4, 20, 3, 25]])
def test_a_type_too_rare_for_every_split_is_kept_in_train(sizes):
    docs = [document(f"d{i}", n, [A, T] if i in (1, 4) else [A]) for i, n in enumerate(sizes)]
    result = assign_splits(index_of(docs))
    having = sorted({split_of(result)["d1"], split_of(result)["d4"]}, key=SPLITS.index)
    assert "train" in having
    assert f"{T} is in 2 document groups: only {having[0]!r} and {having[1]!r} have it" in result.notes


def test_shares_far_from_the_ratios_are_reported_with_the_group_sizes():
    sizes = [40, 30, 30]
    docs = [document(f"d{i}", n, [A]) for i, n in enumerate(sizes)]
    result = assign_splits(index_of(docs))
    counts = sentences_by_split(result, docs)
    shares = " / ".join(f"{s} {counts[s] / sum(sizes):.2f}" for s in SPLITS)
    largest = round(100 * max(sizes) / sum(sizes))
    assert f"shares are {shares} against 0.8 / 0.1 / 0.1: 3 document groups, the largest {largest}% of sentences" in result.notes


@pytest.mark.parametrize("n", [6, 20])  # every assignment tried; local search
def test_documents_sharing_a_sentence_stay_in_one_split(n):
    # pairs (0, 1) and (2, 3) share a sentence; their types pull the pair members apart
    shared = {0: ["p"], 1: ["p"], 2: ["q"], 3: ["q"]}
    types = {0: [A, S], 1: [C, T], 2: [S, C], 3: [T, A]}
    docs = [document(f"d{i:02d}", 3 + i % 4, types.get(i, [A]), shared.get(i, ())) for i in range(n)]
    index = index_of(docs)
    assert ["d00", "d01"] in group_documents(index).values() and ["d02", "d03"] in group_documents(index).values()
    where = split_of(assign_splits(index))
    assert (where["d00"], where["d02"]) == (where["d01"], where["d03"])


@pytest.mark.parametrize(
    "earlier",
    [
        {f"d{i}": "train" for i in range(4)},  # all of one kind where the search would rather spread them
        {"d0": "test", "d1": "test", "d2": "validation", "d3": "train"},
    ],
)
def test_earlier_assignments_never_move(earlier):
    docs = [document(f"d{i}", 5, [A, S, C, T] if i < 4 else [A]) for i in range(10)]
    previous = {"seed": "eventds", "documents": {d: {"split": s, "group": d} for d, s in earlier.items()}}
    result = assign_splits(index_of(docs), previous)
    assert {d: split_of(result)[d] for d in earlier} == earlier
    assert result.new_documents == [f"d{i}" for i in range(4, 10)]


def test_a_split_left_empty_by_earlier_assignments_says_why():
    docs = [document(f"d{i}", 5, [A]) for i in range(3)]
    previous = {"seed": "eventds", "documents": {f"d{i}": {"split": "train", "group": f"d{i}"} for i in range(3)}}
    result = assign_splits(index_of(docs), previous)
    assert "split 'test' is empty: of 3 document groups, 3 were assigned earlier to other splits (assignments never move) and the 0 new ones cannot fill every split" in result.notes


@pytest.mark.parametrize("n", [6, 30])
def test_the_assignment_is_fixed_by_the_seed(n):
    def build():
        return [document(f"d{i:02d}", 2 + i % 5, [[A], [S, C], [T], [A, T], []][i % 5]) for i in range(n)]

    first, again = assign_splits(index_of(build()), seed="s1"), assign_splits(index_of(build()), seed="s1")
    assert (first.manifest, first.notes) == (again.manifest, again.notes)


def large_index(n, rare=()):
    """``n`` documents of 1 to 12 sentences with random common types, and the ``rare`` type
    in three small documents; no near-duplicates (signatures are left out)."""
    rng = random.Random(7)
    index = DocumentIndex()
    for i in range(n):
        doc = f"doc{i:06d}"
        types = rng.sample([A, S, C], rng.randint(0, 2)) + ([rare] if rare and i in (5, 50, 500) else [])
        for k in range(1 if doc in ("doc000005", "doc000050", "doc000500") else rng.randint(1, 12)):
            events = tuple(Event(type=t, start=0, end=1, text="x") for t in types) if k == 0 else ()
            index.add(Sentence(id=f"{doc}-{k}", doc_id=doc, index=k, text="x", start=0, end=1, raw_start=0, raw_end=1, events=events), None)
    return index


@pytest.mark.slow
def test_a_large_corpus_is_assigned_fast_and_close_to_the_ratios():
    index = large_index(20_000)
    began = time.perf_counter()
    result = assign_splits(index)
    took = time.perf_counter() - began
    counts = {s: 0 for s in SPLITS}
    for doc, entry in result.manifest["documents"].items():
        counts[entry["split"]] += index.sentences[doc]
    total = sum(counts.values())
    ratios = result.manifest["ratios"]
    assert took < 3.0
    assert max(abs(counts[s] / total - ratios[s]) for s in SPLITS) < 0.02
    assert result.notes == []


def test_a_rare_type_reaches_every_split_of_a_large_corpus():
    index = large_index(600, rare=T)
    result = assign_splits(index)
    where = split_of(result)
    assert sorted(where[d] for d in ("doc000005", "doc000050", "doc000500")) == sorted(SPLITS)
    counts = {s: sum(n for d, n in index.sentences.items() if where[d] == s) for s in SPLITS}
    assert max(abs(counts[s] / sum(counts.values()) - result.manifest["ratios"][s]) for s in SPLITS) <= FAR_FROM_TARGET
