import gc
import random
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import builder.dedup
from builder.dedup import DedupParams, NearDuplicateIndex, Signature, document_signatures, pack_signatures, signature


def clusters_of(sentences, params=DedupParams()):
    index = NearDuplicateIndex(params)
    for sid, doc, text in sentences:
        index.add(sid, doc, text)
    return index.clusters()


def test_exact_copies_after_normalisation_cluster():
    assert clusters_of([("a1", "a", "Rockets struck the base on Friday night."), ("b1", "b", "ROCKETS struck the base, on Friday night!")]) == [["a1", "b1"]]


def test_a_quote_rerun_with_other_attribution_clusters_by_containment():
    long = "“We strongly deny any role in the attack on the American forces,” spokesperson Ali Rabiei was quoted as saying Monday."
    short = "“We strongly deny any role in the attack on American forces."
    assert clusters_of([("a1", "a", long), ("b1", "b", short)]) == [["a1", "b1"]]


def test_unrelated_and_short_sentences_do_not_cluster():
    sentences = [
        ("a1", "a", "The US responded with airstrikes on Kataib Hezbollah targets on December 29."),
        ("b1", "b", "Protests also took place in Baghdad and Basra on Monday."),
        ("a2", "a", "He said."),
        ("b2", "b", "He said."),
    ]
    assert clusters_of(sentences) == []


def test_document_links_come_from_clusters():
    index = NearDuplicateIndex()
    for sid, doc, text in [("a1", "a", "One long shared sentence about the rocket attack on the base."), ("b1", "b", "One long shared sentence about the rocket attack on the base."), ("c1", "c", "Something else happened in another city entirely today.")]:
        index.add(sid, doc, text)
    assert list(index.document_links()) == [("a", "b")]


# The index as it was before it moved to disk (datasketch's MinHashLSH queried sentence by
# sentence, union-find over id strings): the reference the compact index must agree with.


@lru_cache(maxsize=None)
def _permutations(num_perm: int, seed: int):
    return MinHash(num_perm=num_perm, seed=seed).permutations


def reference_similar(a: np.ndarray, b: np.ndarray, params: DedupParams) -> bool:
    if min(len(a), len(b)) < params.min_shingles:
        return False
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return inter / union >= params.jaccard or inter / min(len(a), len(b)) >= params.containment


class ReferenceIndex:
    def __init__(self, params: DedupParams = DedupParams()):
        self.params = params
        self.lsh = MinHashLSH(threshold=params.lsh_threshold, num_perm=params.num_perm)
        self.exact: dict[str, str] = {}
        self.hashes: dict[str, np.ndarray] = {}
        self.doc_of: dict[str, str] = {}
        self.parent: dict[str, str] = {}

    def _find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def _union(self, a: str, b: str) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def add_signature(self, sentence_id: str, doc_id: str, sig: Optional[Signature]) -> None:
        self.doc_of[sentence_id] = doc_id
        self.parent[sentence_id] = sentence_id
        if sig is None:
            return
        if sig.key in self.exact:
            self._union(sentence_id, self.exact[sig.key])
            return
        self.exact[sig.key] = sentence_id
        perms = _permutations(self.params.num_perm, self.params.seed)
        mh = MinHash(num_perm=self.params.num_perm, seed=self.params.seed, hashvalues=sig.minhash.astype(np.uint64), permutations=perms)
        for other in self.lsh.query(mh):
            if reference_similar(sig.hashes, self.hashes[other], self.params):
                self._union(sentence_id, other)
        self.lsh.insert(sentence_id, mh)
        self.hashes[sentence_id] = sig.hashes

    def clusters(self) -> list[list[str]]:
        groups: dict[str, list[str]] = {}
        for sid in self.parent:
            groups.setdefault(self._find(sid), []).append(sid)
        return sorted(sorted(g) for g in groups.values() if len(g) > 1)

    def document_links(self) -> Iterator[tuple[str, str]]:
        for cluster in self.clusters():
            docs = sorted({self.doc_of[s] for s in cluster})
            for other in docs[1:]:
                yield docs[0], other


def assert_same_as_reference(sentences, params: DedupParams = DedupParams()) -> NearDuplicateIndex:
    reference, index = ReferenceIndex(params), NearDuplicateIndex(params)
    for sid, doc, text in sentences:
        sig = signature(text, params)
        reference.add_signature(sid, doc, sig)
        index.add_signature(sid, doc, sig)
    assert index.clusters() == reference.clusters()
    assert list(index.document_links()) == list(reference.document_links())
    return index


WORDS = ["rockets", "struck", "the", "base", "on", "Friday", "night"]
sentence_texts = st.lists(st.sampled_from(WORDS), max_size=11).map(" ".join) | st.sampled_from(["ROCKETS struck the base, on Friday night!", "rockets struck the base on friday night", ""])


@st.composite
def corpora(draw) -> list[tuple[str, str, str]]:
    ids = draw(st.lists(st.text(alphabet="ab1-é", min_size=1, max_size=4), unique=True, max_size=40))
    return [(sid, draw(st.sampled_from(["d1", "d2", "d3", "x"])), draw(sentence_texts)) for sid in ids]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora(), st.sampled_from([1, 3, 8192]), st.sampled_from([1, 7, 1 << 18]))
def test_clusters_and_links_equal_the_reference_index(sentences, chunk_rows, sort_rows):
    """Whatever the chunks the band values are written in, and the parts they are sorted in."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(builder.dedup, "_CHUNK_ROWS", chunk_rows)
        mp.setattr(builder.dedup, "_SORT_ROWS", sort_rows)
        assert_same_as_reference(sentences)


@pytest.fixture
def monkeypatch_chunk(monkeypatch):
    """Set how many signatures the index holds before writing their band values out."""
    return lambda rows: monkeypatch.setattr(builder.dedup, "_CHUNK_ROWS", rows)


NAMES = ["Ali Rabiei", "John Kirby", "Mark Esper", "Adel Abdul Mahdi", "Qais al-Khazali", "Hassan Rouhani"]
PLACES = ["Baghdad", "Basra", "Erbil", "Kirkuk", "the Green Zone", "Ain al-Asad", "Tehran"]
VERBS = ["struck", "hit", "targeted", "shelled", "attacked"]
DAYS = ["Monday", "Tuesday", "Friday", "Saturday night", "December 29", "January 3"]


def news_corpus(seed: int, n: int) -> list[tuple[str, str, str]]:
    """Sentences from a few templates, a third of them re-runs with a word or two changed,
    some exact copies; ids unrelated to the order of arrival."""
    rng = random.Random(seed)
    made: list[str] = []
    for _ in range(n):
        if made and rng.random() < 0.35:
            words = rng.choice(made).split()
            for _ in range(min(rng.randint(0, 3), len(words) - 1)):
                i = rng.randrange(len(words))
                if rng.random() < 0.5:
                    words[i] = rng.choice(NAMES + PLACES + VERBS).split()[0]
                else:
                    del words[i]
            made.append(" ".join(words) if rng.random() < 0.8 else " ".join(words).upper())
        else:
            made.append(
                rng.choice(
                    [
                        f"{rng.randint(2, 40)} rockets {rng.choice(VERBS)} {rng.choice(PLACES)} on {rng.choice(DAYS)}, {rng.choice(NAMES)} said.",
                        f"{rng.choice(NAMES)} told reporters in {rng.choice(PLACES)} that the strike on {rng.choice(DAYS)} killed {rng.randint(1, 30)} people.",
                        f"Protests also took place in {rng.choice(PLACES)} and {rng.choice(PLACES)} on {rng.choice(DAYS)}.",
                        "He said.",
                    ]
                )
            )
    return [(f"{rng.randrange(16**6):06x}-{i}", f"doc{rng.randrange(n // 5 + 1)}", text) for i, text in enumerate(made)]


@pytest.mark.parametrize(
    "params",
    [DedupParams(), DedupParams(jaccard=0.3, containment=0.5, shingle_words=2), DedupParams(jaccard=2.0, containment=2.0), DedupParams(lsh_threshold=0.6, num_perm=64)],
    ids=["default", "looser", "exact-only", "other-lsh"],
)
@pytest.mark.parametrize("seed", [1, 7])
@pytest.mark.parametrize(
    "small_run, run_members, candidates, pairs",
    [(24, 16_384, 1 << 18, 16_384), (0, 50, 7, 3), (10**9, 50, 7, 3)],
    ids=["runs-as-shipped", "every-run-through-the-prefix-filter", "every-run-pair-by-pair"],
)
def test_a_seeded_news_corpus_clusters_as_the_reference(monkeypatch_chunk, monkeypatch, params, seed, small_run, run_members, candidates, pairs):
    """Long runs of equal band values are verified through a prefix filter (about
    ``run_members`` members at a time, their candidates made ``candidates`` at a time and
    counted ``pairs`` at a time), short ones pair by pair: each links what the reference links."""
    monkeypatch_chunk(97)
    monkeypatch.setattr(builder.dedup, "_SMALL_RUN", small_run)
    monkeypatch.setattr(builder.dedup, "_RUN_MEMBERS_AT_ONCE", run_members)
    monkeypatch.setattr(builder.dedup, "_CANDIDATES_AT_ONCE", candidates)
    monkeypatch.setattr(builder.dedup, "_PAIRS_AT_ONCE", pairs)
    index = assert_same_as_reference(news_corpus(seed, 1500), params)
    assert index.clusters()


@pytest.mark.parametrize("params", [DedupParams(), DedupParams(jaccard=0.3, containment=0.5), DedupParams(jaccard=0.9, containment=0.6), DedupParams(jaccard=2.0, containment=2.0)])
def test_a_near_duplicate_pair_shares_at_least_the_prefix_filters_overlap(params):
    """The bound the long runs' prefix filter rests on: every pair the definition calls
    near-duplicates shares at least ``_least_overlap`` of the smaller set's shingles."""
    from builder.dedup import _least_overlap, _similar_sizes

    checked = 0
    for small in range(1, 60):
        least = int(_least_overlap(np.array([small]), params)[0])
        for large in range(small, 120):
            for inter in range(0, small + 1):
                if _similar_sizes(inter, small, large, params):
                    assert inter >= least, (small, large, inter, least)
                    checked += 1
    assert checked > 0 or params.jaccard > 1


def test_adding_after_clusters_were_asked_for_updates_them(monkeypatch_chunk):
    monkeypatch_chunk(10)
    corpus = news_corpus(3, 300)
    reference, index = ReferenceIndex(), NearDuplicateIndex()
    for i, (sid, doc, text) in enumerate(corpus):
        sig = signature(text)
        reference.add_signature(sid, doc, sig)
        index.add_signature(sid, doc, sig)
        if i % 97 == 0:
            assert index.clusters() == reference.clusters()
    assert index.clusters() == reference.clusters()
    assert list(index.document_links()) == list(reference.document_links())


def test_cluster_members_carry_their_documents():
    index = NearDuplicateIndex()
    index.add("b1", "b", "One long shared sentence about the rocket attack on the base.")
    index.add("a1", "a", "One long shared sentence about the rocket attack on the base!")
    assert index.cluster_members() == [[("a1", "a"), ("b1", "b")]]


def test_a_documents_sentences_added_apart_keep_their_document():
    """Document numbers stand for ids only (no dictionary of every document): a document whose
    sentences come apart is named as one whose sentences come together."""
    shared = "One long shared sentence about the rocket attack on the base."
    index = NearDuplicateIndex()
    for sid, doc, text in [("a1", "a", shared), ("b1", "b", "Something else happened in another city entirely today."), ("a2", "a", "Officials said the convoy was ambushed near the northern border crossing."), ("c1", "c", shared + "!"), ("b2", "b", "Officials said the convoy was ambushed near the northern border crossing!")]:
        index.add(sid, doc, text)
    assert index.cluster_members() == [[("a1", "a"), ("c1", "c")], [("a2", "a"), ("b2", "b")]]
    assert list(index.document_links()) == [("a", "c"), ("a", "b")]


def test_a_signature_of_other_parameters_is_refused():
    index = NearDuplicateIndex(DedupParams(num_perm=64))
    with pytest.raises(ValueError, match="64"):
        index.add_signature("a1", "a", signature("One long shared sentence about the rocket attack on the base."))


@pytest.mark.parametrize("chunk_rows", [7, 8192])
def test_documents_indexed_by_their_packed_signatures_cluster_as_the_reference(monkeypatch_chunk, chunk_rows):
    """What a worker sends, a document's signatures packed (a pack may straddle the band
    values written out), indexes as the sentences one by one: the same clusters, links and members."""
    monkeypatch_chunk(chunk_rows)
    corpus = news_corpus(5, 600) + [("short-1", "doc-short", "He said."), ("short-2", "doc-short", "Fire.")]
    reference, index = ReferenceIndex(), NearDuplicateIndex()
    documents: list[list[tuple[str, str, str]]] = []
    for sentence in corpus:  # runs of consecutive sentences of one document
        if documents and documents[-1][0][1] == sentence[1]:
            documents[-1].append(sentence)
        else:
            documents.append([sentence])
    for document in documents:
        signatures = [signature(text) for _, _, text in document]
        for (sid, doc, _), sig in zip(document, signatures):
            reference.add_signature(sid, doc, sig)
        index.add_signatures([sid for sid, _, _ in document], document[0][1], pack_signatures(signatures))
    index.add_signatures([], "doc-empty", pack_signatures([]))
    assert len(index) == len(corpus)
    assert index.clusters() == reference.clusters()
    assert list(index.document_links()) == list(reference.document_links())
    members = [member for cluster in index.cluster_members() for member in cluster]
    assert members and all(doc == reference.doc_of[sid] for sid, doc in members)


@pytest.mark.parametrize("params", [DedupParams(), DedupParams(shingle_words=2, num_perm=64, seed=7), DedupParams(min_shingles=1)])
def test_signatures_are_datasketchs_minhash_and_a_documents_are_packed_at_once_as_one_by_one(params):
    """The MinHash made without datasketch is datasketch's, value for value; a document's
    signatures made at once are those made one by one, short sentences and repeats included."""
    texts = [text for _, _, text in news_corpus(11, 120)] + ["He said.", "", "Ünïcode — “quotes” and émigrés fled Kharkiv on Friday night."]
    texts += texts[:5]
    for text in texts:
        sig = signature(text, params)
        if sig is None:
            continue
        reference = MinHash(num_perm=params.num_perm, seed=params.seed)
        reference.update_batch([s.encode("utf-8") for s in builder.dedup.shingles(text, params.shingle_words)])
        assert np.array_equal(sig.minhash, reference.hashvalues.astype(np.uint32))
    one_by_one = pack_signatures([signature(text, params) for text in texts], params)
    at_once = document_signatures(texts, params)
    assert not one_by_one.present.all() and one_by_one.present.any()
    for field in ("present", "ends", "hashes", "minhash"):
        assert np.array_equal(getattr(at_once, field), getattr(one_by_one, field)), field
    assert at_once.digests == one_by_one.digests and at_once.params == params
    assert at_once.minhash.dtype == np.uint32 and at_once.hashes.dtype == np.uint64


def test_a_document_without_a_sentence_long_enough_packs_no_signature():
    pack = document_signatures(["He said.", "Fire."])
    assert pack.present.tolist() == [False, False] and not len(pack.ends) and pack.minhash.shape == (0, 56)


def test_a_pack_of_other_parameters_or_of_other_sentences_is_refused():
    text = "One long shared sentence about the rocket attack on the base."
    index = NearDuplicateIndex()
    with pytest.raises(ValueError, match="other DedupParams"):
        index.add_signatures(["a1"], "a", pack_signatures([signature(text, DedupParams(num_perm=64))], DedupParams(num_perm=64)))
    with pytest.raises(ValueError, match="2 sentences, but a pack of 1"):
        index.add_signatures(["a1", "a2"], "a", pack_signatures([signature(text)]))
    with pytest.raises(ValueError, match="expected 128"):
        pack_signatures([signature(text, DedupParams(num_perm=64))])
    assert len(index) == 0


def test_the_spill_folder_is_removed_on_close_and_when_collected(tmp_path: Path):
    index = NearDuplicateIndex(spill_dir=tmp_path)
    index.add("a1", "a", "One long shared sentence about the rocket attack on the base.")
    assert len(list(tmp_path.iterdir())) == 1
    index.close()
    assert not list(tmp_path.iterdir())
    index = NearDuplicateIndex(spill_dir=tmp_path)
    del index
    gc.collect()
    assert not list(tmp_path.iterdir())


def test_a_spill_file_gives_items_anywhere_in_it_and_names_what_it_lacks(tmp_path: Path):
    """``AppendFile.gather`` takes items of any stretch (at offsets that are not a page's, across
    pages, none), as the bytes were written, and maps nothing beyond the file."""
    import mmap

    from builder.spill import AppendFile

    values = np.arange(3 * mmap.ALLOCATIONGRANULARITY, dtype=np.uint64) * 7919
    spill = AppendFile(tmp_path / "hashes")
    spill.append(values[:1000].tobytes())
    spill.append(values[1000:].tobytes())  # (still buffered: gather writes it out first)
    for first, last, picks in [(0, 3, [2, 0]), (513, 1700, [0, 600, 1186]), (1100, 12000, [10899, 5, 5]), (9, 9, [])]:
        got = spill.gather(first * 8, (last - first) * 8, np.uint64, np.array(picks, dtype=np.int64))
        assert got.tolist() == values[first:last][picks].tolist()
    with pytest.raises(OSError, match="hashes: expected 80 bytes at offset"):
        spill.gather(len(values) * 8 - 40, 80, np.uint64, np.array([0]))
    with pytest.raises(IndexError):
        spill.gather(0, 80, np.uint64, np.array([10]))
    assert spill.gather(8, 16, np.uint64, np.array([1])).tolist() == [values[2]]  # (and it still reads)
    spill.close()


def test_a_new_index_removes_the_spill_folders_of_dead_processes(tmp_path: Path):
    dead = tmp_path / "eventds-dedup-999999999-abcd"  # no such process
    dead.mkdir()
    (dead / "bands").write_bytes(b"x")
    unrelated = tmp_path / "eventds-data"
    unrelated.mkdir()
    index = NearDuplicateIndex(spill_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["eventds-data", index.spill_folder.name])
    other = NearDuplicateIndex(spill_dir=tmp_path)  # this process is alive: its folders stay
    assert index.spill_folder.exists() and other.spill_folder.exists()


def long_sentences(seed: int, n: int) -> list[tuple[str, str, str]]:
    """A few sentences of 150 to 400 words, each re-run a few times with words changed or
    with only its first two thirds: runs of long members, some contained in others."""
    rng = random.Random(seed)
    vocabulary = [f"w{k}" for k in range(400)]
    made = []
    for _ in range(n):
        words = rng.choices(vocabulary, k=rng.randint(150, 400))
        made.append(" ".join(words))
        for _ in range(rng.randint(1, 5)):
            copy = list(words)
            for _ in range(rng.randint(0, 40)):
                copy[rng.randrange(len(copy))] = rng.choice(vocabulary)
            made.append(" ".join(copy[: len(copy) * 2 // 3] if rng.random() < 0.3 else copy))
    return [(f"long-{seed}-{i:04d}", f"long-doc{i % 7}", text) for i, text in enumerate(made)]


@pytest.mark.parametrize(
    "params",
    [DedupParams(), DedupParams(jaccard=0.3, containment=0.5, shingle_words=2), DedupParams(jaccard=0.8, containment=1.5, min_shingles=6)],
    ids=["default", "looser", "jaccard-only"],
)
@pytest.mark.parametrize(
    "pairs, members, bucket_bits, read_span",
    [(16_384, 32_768, 6, 1 << 20), (5, 7, 0, 1), (1, 1, 12, 1 << 40)],
    ids=["as-shipped", "few-at-a-time-one-bucket-read-row-by-row", "one-at-a-time-many-buckets-read-at-once"],
)
def test_short_runs_verified_together_link_what_the_reference_links(monkeypatch, params, pairs, members, bucket_bits, read_span):
    """The pairs of a band's runs of up to ``_SMALL_RUN`` members are verified together: the
    members' hashes read ``members`` at a time (a call per stretch of ``read_span`` hashes),
    pairs ruled out by their sizes or their ``2 ** bucket_bits`` bucket counts, the rest
    counted ``pairs`` at a time. Each way links what the reference links, on runs of 2 to 24
    members, exact copies, pairs that meet in several bands, and sentences long enough to
    have more than 255 shingles in one bucket."""
    monkeypatch.setattr(builder.dedup, "_CHUNK_ROWS", 97)
    monkeypatch.setattr(builder.dedup, "_SORT_ROWS", 500)  # in parts: a run's equal values are in one
    monkeypatch.setattr(builder.dedup, "_SMALL_RUN", 24)  # the corpus has runs of 24 and longer
    monkeypatch.setattr(builder.dedup, "_PAIRS_AT_ONCE", pairs)
    monkeypatch.setattr(builder.dedup, "_MEMBERS_AT_ONCE", members)
    monkeypatch.setattr(builder.dedup, "_BUCKET_BITS", bucket_bits)
    monkeypatch.setattr(builder.dedup, "_READ_SPAN", read_span)
    run_sizes: list[int] = []
    verify_short_runs = NearDuplicateIndex._verify_short_runs

    def recorded(self, members_of, starts, sizes, forest):
        run_sizes.extend(sizes.tolist())
        return verify_short_runs(self, members_of, starts, sizes, forest)

    monkeypatch.setattr(NearDuplicateIndex, "_verify_short_runs", recorded)
    corpus = news_corpus(3, 1200) + long_sentences(3, 12)
    corpus += [(f"copy-{sid}", "copies", text) for sid, _, text in corpus[::50]]
    index = assert_same_as_reference(corpus, params)
    assert index.clusters()
    assert min(run_sizes) == 2 and max(run_sizes) == builder.dedup._SMALL_RUN


@pytest.mark.parametrize("bucket_bits", [0, 3, 6])
def test_shared_shingles_are_counted_exactly_and_bounded_from_above(monkeypatch, bucket_bits):
    """``_shared`` counts what two sorted hash rows share (empty rows, rows of hundreds, the
    smallest and largest hashes); ``_shared_at_most`` is never below it, and with one bucket
    it is the smaller row's size (counts above 255 included)."""
    from builder.dedup import _bucket_counts, _shared, _shared_at_most

    monkeypatch.setattr(builder.dedup, "_BUCKET_BITS", bucket_bits)
    rng = np.random.default_rng(bucket_bits)
    pool = np.concatenate([rng.integers(0, 2**64, 700, dtype=np.uint64), np.array([0, 1, 2**63, 2**64 - 1], dtype=np.uint64)])
    sizes = [0, 1, 2, 5, 20, 300, 450, 0, 64, 65] + rng.integers(0, 90, 60).tolist()
    rows = [np.unique(rng.choice(pool, size=k, replace=False)) for k in sizes]
    rows[3] = pool[-4:]  # the extremes
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    hashes = np.concatenate(rows)
    q = np.concatenate([[5, 6, 6, 0, 3, 3], rng.integers(0, len(rows), 3000)])  # the longest, empty, extreme rows with
    t = np.concatenate([[6, 5, 6, 6, 6, 3], rng.integers(0, len(rows), 3000)])  # others and themselves, then at random
    expected = np.array([len(np.intersect1d(rows[a], rows[b])) for a, b in zip(q.tolist(), t.tolist())])
    assert expected.max() > 100 and (expected == 0).any()
    assert _shared(hashes, offsets, q, t).tolist() == expected.tolist()
    bound = _shared_at_most(_bucket_counts(hashes, offsets), q, t)
    assert (bound >= expected).all()
    at_smaller_size = bound == np.minimum(np.diff(offsets)[q], np.diff(offsets)[t])
    assert at_smaller_size.all() == (bucket_bits == 0)  # one bucket: the smaller row's size; more: below it somewhere


@pytest.mark.parametrize("params", [DedupParams(), DedupParams(jaccard=0.3, containment=0.5), DedupParams(jaccard=0.9, containment=0.6), DedupParams(jaccard=0.5, containment=2.0)])
@pytest.mark.parametrize("candidates", [1 << 20, 5])
def test_long_run_candidates_hold_every_near_duplicate_pair_of_each_run(monkeypatch, params, candidates):
    """The prefix filter of long runs drops only pairs that cannot be near-duplicates: on runs
    of sets drawn from a few shingles (so that many pairs share just what the definition
    needs, in any order of rarity), every near-duplicate pair of a run is a candidate, and no
    candidate pairs members of two runs."""
    from builder.dedup import _similar_sizes

    monkeypatch.setattr(builder.dedup, "_CANDIDATES_AT_ONCE", candidates)
    rng = np.random.default_rng(5)
    pool = rng.integers(0, 2**64, 30, dtype=np.uint64)
    n = np.array([40, 1, 25, 60])
    rows = [np.unique(rng.choice(pool[: rng.integers(14, 31)], size=rng.integers(4, 14), replace=False)) for _ in range(70)]
    local = np.concatenate([rng.choice(len(rows), k, replace=False) for k in n.tolist()])  # a row in several runs, once in each
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    batches = list(NearDuplicateIndex(params)._run_candidates(np.concatenate(rows), offsets, local, n))
    found = {(a, b) for x, y in batches for a, b in zip(x.tolist(), y.tolist())}
    run = np.repeat(np.arange(len(n)), n)
    near = set()
    for a in range(len(local)):
        for b in range(a + 1, len(local)):
            ra, rb = rows[local[a]], rows[local[b]]
            if run[a] == run[b] and _similar_sizes(len(np.intersect1d(ra, rb)), len(ra), len(rb), params):
                near.add((a, b))
    assert len(near) > 50
    assert near <= found
    assert all(run[a] == run[b] and a < b for a, b in found)
    assert len(found) < sum(k * (k - 1) // 2 for k in n.tolist())  # the filter does drop pairs
    assert (len(batches) > 1) == (candidates == 5)
