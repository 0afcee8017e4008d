"""Near-duplicate sentences across the corpus: exact (normalised) and near matches.

Definition (the one the split guarantee is stated in): two sentences are near-duplicates
when their normalised texts (see :func:`builder.clean.normalise`) are equal, or their sets
of word 3-shingles have Jaccard similarity >= ``jaccard`` (0.5) or the smaller set is
contained in the larger to at least ``containment`` (0.75) — the second catches a quote
re-run with a different attribution. Sentences with fewer than ``min_shingles`` (4) shingles,
i.e. under six words ("He said on Monday."), never count.

Candidates come from MinHash LSH (the bands ``datasketch.MinHashLSH`` would use) at a
deliberately low threshold, then every candidate pair is verified exactly on the stored
shingle hashes, so the index finds the pairs the definition names without comparing all pairs.

The index is built for a million sentences in well under a gigabyte: each sentence is a
number (its order of arrival); its id, shingle hashes and LSH band values go to append-only
files in a temporary folder, and only a few integers per sentence stay in memory. Candidate
pairs are found band by band by sorting the band values (what a distributed band shuffle
would do), a part of them at a time, once the clusters are asked for.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from array import array
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator, NamedTuple, Optional, Sequence, Union

import numpy as np

from .clean import normalise
from .spill import AppendFile, make_folder, remove_folder


@dataclass(frozen=True)
class DedupParams:
    """Parameters of near-duplicate detection (recorded in the split manifest)."""

    shingle_words: int = 3
    jaccard: float = 0.5
    containment: float = 0.75
    min_shingles: int = 4
    num_perm: int = 128
    lsh_threshold: float = 0.2
    seed: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


def shingles(text: str, n: int = 3) -> set[str]:
    """Word n-grams of the normalised text (the whole text when it has fewer than n words)."""
    return _shingles_of_normalised(normalise(text), n)


def _shingles_of_normalised(normalised: str, n: int) -> set[str]:
    words = normalised.split()
    if not words:
        return set()
    if len(words) < n:
        return {" ".join(words)}
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def similar(a: np.ndarray, b: np.ndarray, params: DedupParams) -> bool:
    """Exact test of the near-duplicate definition on two sorted shingle-hash arrays."""
    return _similar_sizes(len(np.intersect1d(a, b, assume_unique=True)), len(a), len(b), params)


def _similar_sizes(inter: int, size_a: int, size_b: int, params: DedupParams) -> bool:
    """:func:`similar` from the sizes of two shingle sets and of their intersection."""
    if min(size_a, size_b) < params.min_shingles:
        return False
    union = size_a + size_b - inter
    return inter / union >= params.jaccard or inter / min(size_a, size_b) >= params.containment


class Signature(NamedTuple):
    """What the index needs of one sentence, computed from its text alone (so anywhere):
    its normalised text, its sorted shingle hashes and its MinHash values (below 2**32,
    kept as ``uint32`` to halve what a worker sends)."""

    key: str
    hashes: np.ndarray
    minhash: np.ndarray


#: MinHash as ``datasketch.MinHash`` makes it (SHA-1's first 4 bytes of each shingle, then
#: ``(a h + b) mod (2**61 - 1)`` kept to 32 bits, the least over the shingles), done for many
#: sentences at once without importing datasketch, which takes 0.4 s in every worker.
_MERSENNE_PRIME = np.uint64((1 << 61) - 1)
_MAX_HASH = np.uint64((1 << 32) - 1)


@lru_cache(maxsize=None)
def _permutations(num_perm: int, seed: int) -> np.ndarray:
    """The ``(2, num_perm)`` array ``(a, b)`` of ``datasketch.MinHash(num_perm, seed).permutations``."""
    gen = np.random.RandomState(seed)
    return np.array([(gen.randint(1, _MERSENNE_PRIME, dtype=np.uint64), gen.randint(0, _MERSENNE_PRIME, dtype=np.uint64)) for _ in range(num_perm)], dtype=np.uint64).T


def signature(text: str, params: DedupParams = DedupParams()) -> Optional[Signature]:
    """The :class:`Signature` of a sentence, or ``None`` when it has too few shingles to count."""
    key = normalise(text)
    sh = _shingles_of_normalised(key, params.shingle_words)
    if len(sh) < params.min_shingles:
        return None
    encoded = [s.encode("utf-8") for s in sh]
    minhash = _minhash(encoded, np.array([0]), _permutations(params.num_perm, params.seed))[0]
    return Signature(key, np.unique(_blake64(encoded)), minhash.astype(np.uint32))


def _blake64(encoded: Sequence[bytes]) -> np.ndarray:
    """Each item's 64-bit BLAKE2b hash (the shingle hashes the index stores)."""
    return np.fromiter((int.from_bytes(hashlib.blake2b(x, digest_size=8).digest(), "little") for x in encoded), dtype=np.uint64, count=len(encoded))


def _minhash(encoded: Sequence[bytes], starts: np.ndarray, permutations: np.ndarray) -> np.ndarray:
    """The MinHash values (``uint64``, below 2**32) of consecutive sets of items: set ``k`` is
    ``encoded[starts[k] : starts[k + 1]]`` (none empty), one row per set, one column per permutation."""
    sha = np.fromiter((int.from_bytes(hashlib.sha1(x).digest()[:4], "little") for x in encoded), dtype=np.uint64, count=len(encoded))
    a, b = permutations
    return np.minimum.reduceat(((sha[:, None] * a + b) % _MERSENNE_PRIME) & _MAX_HASH, starts, axis=0)


def document_signatures(texts: Sequence[str], params: DedupParams = DedupParams(), width: Optional[int] = None) -> "SignaturePack":
    """The :class:`SignaturePack` of consecutive sentences (a document's): what
    :func:`pack_signatures` of their :func:`signature` gives, made for them all at once.

    Args:
        width: ``bands * rows`` of :func:`lsh_bands` for ``params``, when known (else it is
            worked out, which imports datasketch).
    """
    if width is None:
        bands, rows = lsh_bands(params.lsh_threshold, params.num_perm)
        width = bands * rows
    present = np.zeros(len(texts), dtype=bool)
    digests: list[bytes] = []
    sizes: list[int] = []
    encoded: list[bytes] = []
    for k, text in enumerate(texts):
        key = normalise(text)
        sh = _shingles_of_normalised(key, params.shingle_words)
        if len(sh) < params.min_shingles:
            continue
        present[k] = True
        digests.append(_digest(key))
        sizes.append(len(sh))
        encoded += [s.encode("utf-8") for s in sh]
    if not sizes:
        return _no_signatures(present, width, params)
    counts = np.array(sizes, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    minhash = _minhash(encoded, starts, _permutations(params.num_perm, params.seed)[:, :width]).astype(np.uint32)
    # each signature's shingle hashes sorted, without repeats (a 64-bit collision, at most)
    owner = np.repeat(np.arange(len(sizes)), counts)
    hashes = _blake64(encoded)
    order = np.lexsort((hashes, owner))
    hashes, owner = hashes[order], owner[order]
    new = np.ones(len(hashes), dtype=bool)
    new[1:] = (hashes[1:] != hashes[:-1]) | (owner[1:] != owner[:-1])
    hashes, owner = hashes[new], owner[new]
    ends = np.cumsum(np.bincount(owner, minlength=len(sizes)), dtype=np.int64)
    return SignaturePack(present, b"".join(digests), ends, hashes, minhash, params)


def _digest(key: str) -> bytes:
    """The 128-bit BLAKE2b digest by which exact copies (equal normalised texts) are found."""
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class SignaturePack(NamedTuple):
    """The signatures of consecutive sentences (a document's) in five arrays: what a worker
    sends, unpickled about ten times quicker than a :class:`Signature` per sentence, and what
    :meth:`NearDuplicateIndex.add_signatures` indexes at once. Made by :func:`document_signatures`
    from the texts, or by :func:`pack_signatures` from signatures made one by one.

    Attributes:
        present: per sentence, whether it has a signature (else it is too short to count).
        digests: per signature, the 16-byte digest of its normalised text, back to back.
        ends: per signature, where its shingle hashes end in ``hashes`` (``int64``).
        hashes: each signature's sorted shingle hashes (``uint64``), back to back.
        minhash: per signature, the MinHash values its LSH bands read (``uint32``,
            ``bands * rows`` of them: :func:`lsh_bands`).
        params: the parameters the signatures were made with.
    """

    present: np.ndarray
    digests: bytes
    ends: np.ndarray
    hashes: np.ndarray
    minhash: np.ndarray
    params: DedupParams


def _no_signatures(present: np.ndarray, width: int, params: DedupParams) -> SignaturePack:
    """The pack of sentences none of which has a signature (all too short to count)."""
    return SignaturePack(present, b"", np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint64), np.empty((0, width), dtype=np.uint32), params)


def pack_signatures(signatures: Sequence[Optional[Signature]], params: DedupParams = DedupParams()) -> SignaturePack:
    """The :class:`SignaturePack` of consecutive sentences' signatures (``None``: too short).

    Raises:
        ValueError: when a signature does not have ``params.num_perm`` MinHash values.
    """
    bands, rows = lsh_bands(params.lsh_threshold, params.num_perm)
    kept = [s for s in signatures if s is not None]
    for k, sig in enumerate(kept):
        if len(sig.minhash) != params.num_perm:
            raise ValueError(f"signature {k}: has {len(sig.minhash)} MinHash values, expected {params.num_perm} (was it made with other DedupParams?)")
    present = np.fromiter((s is not None for s in signatures), dtype=bool, count=len(signatures))
    if not kept:
        return _no_signatures(present, bands * rows, params)
    return SignaturePack(
        present,
        b"".join(_digest(s.key) for s in kept),
        np.cumsum([len(s.hashes) for s in kept], dtype=np.int64),
        np.concatenate([s.hashes for s in kept]).astype(np.uint64, copy=False),
        np.stack([s.minhash[: bands * rows] for s in kept]).astype(np.uint32, copy=False),
        params,
    )


#: Signatures whose band values are held in memory before they are written out together.
_CHUNK_ROWS = 8192


@lru_cache(maxsize=None)
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """The LSH shape ``datasketch.MinHashLSH`` picks for a threshold.

    Args:
        threshold: the Jaccard threshold of the LSH (``DedupParams.lsh_threshold``).
        num_perm: the number of MinHash values (``DedupParams.num_perm``).

    Returns:
        ``(bands, rows)``: two sentences are candidates when, in at least one band ``b``,
        their MinHash values ``[b * rows, (b + 1) * rows)`` are all equal (28 and 2 for the
        defaults).
    """
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


#: The prefix of the index's temporary folders (:func:`builder.spill.make_folder`).
_SPILL_PREFIX = "eventds-dedup"


#: About how many signatures are sorted at a time, by their digests (exact copies) or by one
#: band's values: a part takes about 40 bytes a signature while it is sorted, 10 MiB.
_SORT_ROWS = 1 << 18
#: How many bands are verified at once, each by a thread of its own.
_BAND_THREADS = 2
#: A run of equal band values longer than this is verified through a prefix filter
#: (:meth:`NearDuplicateIndex._verify_long_runs`); the pairs of shorter ones are all verified,
#: together, a band's at a time (:meth:`NearDuplicateIndex._verify_short_runs`).
_SMALL_RUN = 64
#: The long runs of a band are verified together, about this many members' at a time (a
#: longer run alone): each of their shingles costs about 80 bytes while it is.
_RUN_MEMBERS_AT_ONCE = 16_384
#: How many (prefix shingle, member holding it) candidates are made at a time.
_CANDIDATES_AT_ONCE = 1 << 18
#: How many candidate pairs (of long runs, after the prefix filter, or of short runs) are counted exactly at a
#: time, by each thread: counting takes some tens of bytes a shingle of the smaller member of each.
_PAIRS_AT_ONCE = 16_384
#: The short runs of a band are verified together, about this many members' at a time: their
#: shingle hashes (~20 each, 8 bytes a hash) are read together, and counted in buckets (64
#: bytes each). Members are spread over the file: reading fewer at a time reads more in all.
_MEMBERS_AT_ONCE = 32_768
#: Before the shingles two of them share are counted, each member's are counted in
#: ``2 ** _BUCKET_BITS`` buckets (by their hashes' top bits), which bounds what two can share.
_BUCKET_BITS = 6
#: The shingle hashes of the signatures that start in one stretch of this many hashes (8 MiB)
#: are taken together, through a mapping of the stretch (:meth:`builder.spill.AppendFile.gather`):
#: only their pages are read, and they count in the process's memory only during the call. (A
#: read per piece of nearby signatures took 8.35 million reads, and half the index's time, at
#: a million sentences, where a stretch holds few of a band's members.)
_READ_SPAN = 1 << 20


def _least_overlap(sizes: np.ndarray, params: DedupParams) -> np.ndarray:
    """For sets of ``sizes`` shingles, a lower bound on the shingles a near-duplicate of at
    least the same size shares with each: Jaccard >= j needs ``inter >= j (a + b) / (1 + j)``,
    at least ``2j / (1 + j)`` of the smaller set ``a``; containment >= c needs ``c a``."""
    share = min(2 * params.jaccard / (1 + params.jaccard), params.containment)
    return np.ceil(sizes * share - 1e-9).astype(np.int64)  # (shingles are counted in whole numbers)


def _groups(weights: np.ndarray, limit: int) -> list[np.ndarray]:
    """Consecutive groups of indices of ``weights`` whose weights add up to about ``limit`` at
    most (less than ``limit`` plus the largest weight)."""
    before = np.cumsum(weights) - weights
    return np.split(np.arange(len(weights)), np.flatnonzero(np.diff(before // limit)) + 1)


def _near(inter: np.ndarray, size_a: np.ndarray, size_b: np.ndarray, params: DedupParams) -> np.ndarray:
    """:func:`_similar_sizes` of many pairs at once (the same divisions, so the same verdicts;
    where it would divide by zero, a division by one)."""
    small = np.minimum(size_a, size_b)
    union = size_a + size_b - inter
    return (small >= params.min_shingles) & ((inter / np.maximum(union, 1) >= params.jaccard) | (inter / np.maximum(small, 1) >= params.containment))


@lru_cache(maxsize=None)
def _run_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs ``(i, j)``, ``i < j``, of positions in a run of ``n`` members, ordered by ``j``
    then ``i``: those of a run of ``k <= n`` members are the first ``k (k - 1) / 2``."""
    j = np.repeat(np.arange(n, dtype=np.int64), np.arange(n))
    i = np.arange(len(j), dtype=np.int64) - np.repeat(np.cumsum(np.arange(n)) - np.arange(n), np.arange(n))
    return i, j


def _roots(parent: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The component of each of ``x`` in the union-find forest ``parent`` (read, not compressed)."""
    roots = parent[x]
    while True:
        up = parent[roots]
        if np.array_equal(up, roots):
            return roots
        roots = up


def _shared(hashes: np.ndarray, offsets: np.ndarray, q: np.ndarray, t: np.ndarray) -> np.ndarray:
    """How many of the hashes of row ``q[k]`` are also row ``t[k]``'s, for each ``k``.

    Row ``r``'s hashes are ``hashes[offsets[r] : offsets[r + 1]]``, sorted and unique. Each
    hash of ``q[k]`` is looked for in ``t[k]``'s by a binary search, all of them at once (the
    smaller row should be ``q[k]``: that is fewer searches, and no longer ones)."""
    counts = offsets[q + 1] - offsets[q]
    total = int(counts.sum())
    if not total:
        return np.zeros(len(q), dtype=np.int64)
    owner = np.repeat(np.arange(len(q)), counts)
    x = hashes[np.arange(total) + np.repeat(offsets[q] - (np.cumsum(counts) - counts), counts)]
    pos = offsets[t][owner]  # the first of t's hashes not below x: all before pos are below it
    end = offsets[t + 1][owner]
    longest = int((offsets[t + 1] - offsets[t]).max())
    step = 1 << max(longest.bit_length() - 1, 0)
    while step:
        ahead = np.minimum(pos + step, end)
        pos = np.where(hashes[ahead - 1] < x, ahead, pos)
        step >>= 1
    found = pos < end
    found[found] = hashes[pos[found]] == x[found]
    return np.bincount(owner[found], minlength=len(q))


def _bucket_counts(hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """How many of each row's hashes fall in each of ``2 ** _BUCKET_BITS`` buckets (by their
    top bits): a ``(rows, buckets)`` array (rows as for :func:`_shared`)."""
    buckets = 1 << _BUCKET_BITS
    n = len(offsets) - 1
    key = np.repeat(np.arange(n, dtype=np.int64) * buckets, np.diff(offsets)) + (hashes >> np.uint64(64 - _BUCKET_BITS)).astype(np.int64)
    first = np.flatnonzero(np.diff(key, prepend=-1))  # a row's hashes are sorted: so are their keys
    size = np.diff(first, append=len(key))
    count = np.zeros(n * buckets, dtype=np.uint8 if not len(size) or size.max() <= 255 else np.int64)
    count[key[first]] = size
    return count.reshape(n, buckets)


def _shared_at_most(counts: np.ndarray, q: np.ndarray, t: np.ndarray) -> np.ndarray:
    """An upper bound on :func:`_shared` from the rows' :func:`_bucket_counts`, a few times
    quicker to reach: two rows share at most, in each bucket, as many hashes as the one with
    fewer has there. For rows that share a third of their shingles (what most candidate pairs
    do), this is far below what a near-duplicate needs, so few pairs are left to count."""
    return np.minimum(counts[q], counts[t]).sum(axis=1, dtype=np.int64)


class _Forest:
    """Union-find over signature numbers, each component's root its smallest member, which
    several threads link into (:meth:`link` takes a lock; :meth:`roots` reads without one:
    components only merge, so two found in one component are)."""

    def __init__(self, parent: array) -> None:
        self.parent = parent  # of int32: a root is its own parent
        self._lock = threading.Lock()

    def roots(self, x: np.ndarray) -> np.ndarray:
        """A root of each of ``x``: its component's, or, while another thread links, one
        that has since joined it."""
        return _roots(np.frombuffer(self.parent, dtype=np.int32), x)

    def link(self, us: list[int], vs: list[int]) -> None:
        """Join the components of ``us[k]`` and ``vs[k]`` for each ``k``."""
        parent = self.parent

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        with self._lock:
            for u, v in zip(us, vs):
                ru, rv = find(u), find(v)
                if ru != rv:
                    parent[max(ru, rv)] = min(ru, rv)


class NearDuplicateIndex:
    """Streams sentences in, links near-duplicates, and reports clusters.

    Sentences are numbered by arrival. In memory, for a sentence with a signature: its
    number and where its shingle hashes end (12 bytes). On disk, in a temporary folder
    (:mod:`builder.spill`) removed by :meth:`close` (or when the index is garbage-collected,
    or by the next index made once this process is gone): the ids, each sentence's document
    number and where its id ends, the shingle hashes, the LSH band values and a 128-bit
    digest of the normalised text.

    The clusters are those of the definition in the module docstring, exactly as
    ``datasketch.MinHashLSH`` queried sentence by sentence would find them: exact copies
    (equal normalised text, compared by a 128-bit BLAKE2b digest) are linked, and two sentences whose MinHash values agree on a
    whole band are linked when :func:`similar` says so. They are found when
    :meth:`clusters` is first called (again if sentences were added since): per band, the
    band values are sorted, and the pairs in each run of equal values verified.

    Sentence ids must be unique (:func:`builder.segment.sentence_id` makes them so).
    """

    def __init__(self, params: DedupParams = DedupParams(), spill_dir: Optional[Union[str, Path]] = None):
        """
        Args:
            params: the near-duplicate definition and MinHash settings.
            spill_dir: where to make the temporary folder (default: the system's, ``TMPDIR``).
        """
        self.params = params
        self.bands, self.rows = lsh_bands(params.lsh_threshold, params.num_perm)
        self._folder = make_folder(_SPILL_PREFIX, spill_dir)
        self._ids = AppendFile(self._folder / "ids")  # utf-8 sentence ids, back to back
        self._hashes = AppendFile(self._folder / "hashes")  # uint64 shingle hashes, back to back
        self._digests = AppendFile(self._folder / "digests")  # 16 bytes per signature
        self._band_file = AppendFile(self._folder / "bands")  # chunks, each band after band
        self._doc_names: list[str] = []  # per document number, its id (no dictionary: consecutive sentences of a document share a number)
        self._docs = AppendFile(self._folder / "docs")  # per sentence: its document's number (int32)
        self._id_ends = AppendFile(self._folder / "id_ends")  # per sentence: where its id ends in the id file (int64)
        self._count = 0  # sentences
        self._cleanup = weakref.finalize(self, remove_folder, self._folder, [self._ids, self._hashes, self._digests, self._band_file, self._docs, self._id_ends])
        self._rows = array("i")  # per signature: its sentence's number
        self._hash_end = array("q")  # per signature: where its hashes end (in hashes)
        self._chunk_rows = _CHUNK_ROWS
        self._chunk = np.empty((self._chunk_rows, self.bands * self.rows), dtype=np.uint32)
        self._fill = 0
        self._chunk_sizes = array("i")  # signatures in each chunk written
        self._clusters: Optional[list[list[int]]] = None  # sentence numbers, as clusters() orders them
        self._clustered_at = -1  # how many sentences there were when _clusters was made

    def __len__(self) -> int:
        return self._count

    @property
    def spill_folder(self) -> Path:
        """The temporary folder of the index's files."""
        return self._folder

    def close(self) -> None:
        """Remove the temporary folder; the index cannot be used afterwards."""
        self._cleanup()

    def add(self, sentence_id: str, doc_id: str, text: str) -> None:
        """Index one sentence.

        Args:
            sentence_id: its unique id.
            doc_id: its document's id.
            text: its text.
        """
        self.add_signature(sentence_id, doc_id, signature(text, self.params))

    def add_signature(self, sentence_id: str, doc_id: str, sig: Optional[Signature]) -> None:
        """Index one sentence by its :func:`signature`, made with this index's parameters,
        possibly elsewhere.

        Args:
            sentence_id: its unique id.
            doc_id: its document's id.
            sig: its signature; ``None`` when it has too few shingles to count.

        Raises:
            ValueError: when ``sig`` does not have ``params.num_perm`` MinHash values.
        """
        if sig is not None and len(sig.minhash) != self.params.num_perm:
            raise ValueError(
                f"sentence {sentence_id!r}: signature has {len(sig.minhash)} MinHash values, expected "
                f"{self.params.num_perm} (was it made with other DedupParams?)"
            )
        self.add_signatures([sentence_id], doc_id, pack_signatures([sig], self.params))

    def add_signatures(self, sentence_ids: Sequence[str], doc_id: str, pack: SignaturePack) -> None:
        """Index consecutive sentences of one document by their :func:`pack_signatures`, made
        with this index's parameters, possibly elsewhere (as :meth:`add_signature` one by one).

        Raises:
            ValueError: when ``pack`` was made with other parameters, or is not one
                signature or ``None`` per sentence.
        """
        if pack.params != self.params:
            raise ValueError(f"document {doc_id!r}: signatures made with other DedupParams ({pack.params}) than the index's ({self.params})")
        if len(pack.present) != len(sentence_ids) or pack.minhash.shape != (len(pack.ends), self.bands * self.rows):
            raise ValueError(f"document {doc_id!r}: {len(sentence_ids)} sentences, but a pack of {len(pack.present)} with MinHash values of shape {pack.minhash.shape}")
        if not self._doc_names or self._doc_names[-1] != doc_id:
            self._doc_names.append(doc_id)
        number = len(self._doc_names) - 1
        first = self._count
        self._count += len(sentence_ids)
        self._docs.append((array("i", [number]) * len(sentence_ids)).tobytes())
        ids = [sid.encode("utf-8", "surrogatepass") for sid in sentence_ids]
        self._id_ends.append((np.cumsum([len(i) for i in ids], dtype=np.int64) + self._ids.size).tobytes())
        self._ids.append(b"".join(ids))
        if not len(pack.ends):
            return
        self._rows.frombytes((np.flatnonzero(pack.present) + first).astype(np.int32).tobytes())
        self._hash_end.frombytes((np.asarray(pack.ends, dtype=np.int64) + self._hashes.size // 8).tobytes())
        self._hashes.append(np.ascontiguousarray(pack.hashes, dtype=np.uint64).tobytes())
        self._digests.append(pack.digests)
        done = 0
        while done < len(pack.minhash):
            take = min(len(pack.minhash) - done, self._chunk_rows - self._fill)
            self._chunk[self._fill : self._fill + take] = pack.minhash[done : done + take]
            self._fill += take
            done += take
            if self._fill == self._chunk_rows:
                self._write_chunk()

    def _write_chunk(self) -> None:
        if not self._fill:
            return
        chunk = self._chunk[: self._fill].reshape(self._fill, self.bands, self.rows)
        self._band_file.append(np.ascontiguousarray(chunk.transpose(1, 0, 2)).tobytes())
        self._chunk_sizes.append(self._fill)
        self._fill = 0

    def _band_values(self, band: int) -> Iterator[tuple[int, np.ndarray]]:
        """The values of one band, a chunk of signatures at a time: ``(first signature, (n, rows) array)``."""
        start = offset = 0
        for size in self._chunk_sizes:
            block = size * self.rows * 4
            yield start, np.frombuffer(self._band_file.read(offset + band * block, block), dtype=np.uint32).reshape(size, self.rows)
            start += size
            offset += block * self.bands

    def _digest_part(self, part: int, parts: int) -> tuple[np.ndarray, np.ndarray]:
        """The signatures (ascending) whose text digest falls in ``part`` of ``parts``, and their digests."""
        m, rows, digests = len(self._rows), [], []
        for start in range(0, m, _SORT_ROWS):
            n = min(_SORT_ROWS, m - start)
            d = np.frombuffer(self._digests.read(start * 16, n * 16), dtype=np.uint64).reshape(n, 2)
            keep = np.flatnonzero(d[:, 0] % np.uint64(parts) == part)
            rows.append((keep + start).astype(np.int32))
            digests.append(d[keep])
        return np.concatenate(rows), np.concatenate(digests)

    def _band_part(self, band: int, part: int, parts: int, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ``wanted`` signatures (a mask) whose values in ``band`` fall in ``part`` of ``parts``
        (by their first value: MinHash values are minima, uniform in their low bits only), ascending,
        and those values."""
        rows, values = [], []
        for start, v in self._band_values(band):
            keep = np.flatnonzero(wanted[start : start + len(v)] & (v[:, 0] % np.uint32(parts) == part))
            rows.append((keep + start).astype(np.int32))
            values.append(v[keep])
        if not rows:
            return np.empty(0, dtype=np.int32), np.empty((0, self.rows), dtype=np.uint32)
        return np.concatenate(rows), np.concatenate(values)

    def _sentence_id(self, number: int) -> str:
        if number:
            start, end = np.frombuffer(self._id_ends.read((number - 1) * 8, 16), dtype=np.int64).tolist()
        else:
            start, end = 0, int(np.frombuffer(self._id_ends.read(0, 8), dtype=np.int64)[0])
        return self._ids.read(start, end - start).decode("utf-8", "surrogatepass")

    def _doc_id(self, number: int) -> str:
        return self._doc_names[int(np.frombuffer(self._docs.read(number * 4, 4), dtype=np.int32)[0])]

    def _link(self) -> np.ndarray:
        """The component of each signature (the smallest signature number in it), as int32.

        Signatures are sorted (by text digest, then by each band's values) in
        ``ceil(signatures / _SORT_ROWS)`` parts by value, a part at a time: beyond 5 bytes a
        signature (the union-find forest and which signatures are first copies), the sorting
        holds about as much for a million signatures as for 250,000. What still grows with
        the corpus is the longest runs of equal band values (a common phrase's MinHash: 2,800
        members at 100k sentences, 28,000 at 1M), whose shingles are verified together."""
        self._write_chunk()
        m = len(self._rows)
        if not m:
            return np.empty(0, dtype=np.int32)
        for f in (self._hashes, self._band_file, self._digests):
            f.flush()  # before the threads read them
        parts = -(-m // _SORT_ROWS)
        # exact copies: runs of equal digests (all in one part), each linked to its first signature
        root = np.arange(m, dtype=np.int32)
        for part in range(parts):
            rows, digests = self._digest_part(part, parts)
            order = np.lexsort((digests[:, 1], digests[:, 0]))  # stable: a run is in arrival order
            ordered = digests[order]
            new_run = np.ones(len(rows), dtype=bool)
            new_run[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
            root[rows[order]] = rows[order[np.maximum.accumulate(np.where(new_run, np.arange(len(rows)), 0))]]
            del rows, digests, order, ordered, new_run
        # the other copies add nothing: their candidates and verdicts are those of the first
        first = root == np.arange(m, dtype=np.int32)
        forest = _Forest(array("i", root.tobytes()))
        del root

        sorting = threading.Lock()

        def link_part(band_part: tuple[int, int]) -> None:
            band, part = band_part
            rows, values = self._band_part(band, part, parts, first)  # (read by both threads at once: 12 bytes a signature of the part)
            with sorting:  # one part sorted at a time: its arrays are the largest (about 40 bytes a signature)
                if self.rows == 1:
                    order = np.argsort(values[:, 0], kind="stable")
                elif self.rows == 2:
                    order = np.argsort((values[:, 0].astype(np.uint64) << np.uint64(32)) | values[:, 1], kind="stable")
                else:
                    order = np.lexsort(values.T[::-1])
                ordered = values[order]
                same = np.zeros(len(rows) + 1, dtype=np.int8)  # same[i + 1]: i + 1 has i's values
                same[1:-1] = (ordered[1:] == ordered[:-1]).all(axis=1)
                edges = np.flatnonzero(np.diff(same))  # each run of two or more equal values: its first and last index
                del values, ordered, same
                sizes = edges[1::2] - edges[0::2] + 1
                starts = np.cumsum(sizes) - sizes  # the runs' members, back to back
                members_of = rows[order[np.arange(int(sizes.sum())) + np.repeat(edges[0::2] - starts, sizes)]].astype(np.int64)
                del rows, order, edges
            short = sizes <= _SMALL_RUN  # (the order pairs are verified in changes no component)
            self._verify_short_runs(members_of, starts[short], sizes[short], forest)
            self._verify_long_runs(members_of, starts[~short], sizes[~short], forest)

        # bands at once: their sorting, reading and counting run outside the interpreter's lock
        with ThreadPoolExecutor(max_workers=_BAND_THREADS) as pool:
            for _ in pool.map(link_part, [(band, part) for band in range(self.bands) for part in range(parts)]):
                pass
        roots = np.frombuffer(forest.parent, dtype=np.int32).copy()
        while True:  # every signature straight to its root
            up = roots[roots]
            if np.array_equal(up, roots):
                return roots
            roots = up

    def _verify_short_runs(self, members_of: np.ndarray, starts: np.ndarray, sizes: np.ndarray, forest: _Forest) -> None:
        """Link the near-duplicate pairs of many short runs (of at most :data:`_SMALL_RUN`
        members, those of one band, or any disjoint ones): ``members_of[starts[r] : starts[r] + sizes[r]]``
        for each ``r``. A pair already in one component is not verified again; a dissimilar
        pair is verified in each band it meets in (rarely more than one: remembering them
        would cost memory). The members' shingle hashes are read about :data:`_MEMBERS_AT_ONCE` at a
        time, and their runs' pairs verified about :data:`_PAIRS_AT_ONCE` at a time."""
        if not len(starts):
            return
        pair_i, pair_j = _run_pairs(int(sizes.max()))
        for n, rows, local, hashes, offsets, counts in self._run_groups(members_of, starts, sizes, _MEMBERS_AT_ONCE):
            first = np.cumsum(n) - n  # where each run's members start among the group's
            pairs = n * (n - 1) // 2
            for some in _groups(pairs, _PAIRS_AT_ONCE):
                k = pairs[some]
                at = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)  # each pair's number in its run
                base = np.repeat(first[some], k)
                self._verify_pairs(rows, hashes, offsets, counts, local[base + pair_i[at]], local[base + pair_j[at]], forest)

    def _run_groups(self, members_of: np.ndarray, starts: np.ndarray, sizes: np.ndarray, limit: int) -> Iterator[tuple[np.ndarray, ...]]:
        """The runs ``members_of[starts[r] : starts[r] + sizes[r]]`` (disjoint), about ``limit``
        members at a time: ``(n, rows, local, hashes, offsets, counts)`` for each group, its
        runs' sizes ``n``, their members' signatures ``rows`` (ascending) with member ``m`` of the
        group being ``rows[local[m]]``, and those rows' shingle hashes (:meth:`_read_rows`) and
        :func:`_bucket_counts`."""
        for runs in _groups(sizes, limit):
            n = sizes[runs]
            positions = np.arange(int(n.sum())) + np.repeat(starts[runs] - (np.cumsum(n) - n), n)
            rows, local = np.unique(members_of[positions], return_inverse=True)  # the runs are disjoint: so are their members
            hashes, offsets = self._read_rows(rows)
            yield n, rows, local, hashes, offsets, _bucket_counts(hashes, offsets)

    def _read_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The shingle hashes of signatures ``rows`` (ascending, distinct), back to back, and
        where each starts (and the last ends). Those of the signatures that start in one
        stretch of :data:`_READ_SPAN` hashes are taken in one call."""
        hash_end = np.frombuffer(self._hash_end, dtype=np.int64)
        end = hash_end[rows]
        start = np.where(rows > 0, hash_end[np.maximum(rows - 1, 0)], 0)
        del hash_end  # the array cannot grow while it is viewed
        sizes = end - start
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        out = np.empty(int(offsets[-1]), dtype=np.uint64)
        stretch = start // _READ_SPAN
        cuts = (np.flatnonzero(stretch[1:] != stretch[:-1]) + 1).tolist()
        for first, last in zip([0, *cuts], [*cuts, len(rows)]) if len(rows) else ():
            lo, hi, at, to = int(start[first]), int(end[last - 1]), int(offsets[first]), int(offsets[last])
            if to > at:
                positions = np.arange(to - at) + np.repeat(start[first:last] - lo - (offsets[first:last] - at), sizes[first:last])
                out[at:to] = self._hashes.gather(lo * 8, (hi - lo) * 8, np.uint64, positions)
        return out, offsets

    def _verify_pairs(self, rows: np.ndarray, hashes: np.ndarray, offsets: np.ndarray, counts: np.ndarray, a: np.ndarray, b: np.ndarray, forest: _Forest) -> None:
        """Link the near-duplicate pairs among ``(rows[a[k]], rows[b[k]])`` (signatures, distinct
        in a pair), whose shingle hashes :meth:`_read_rows` read and :func:`_bucket_counts`
        counted; about :data:`_PAIRS_AT_ONCE` of them at most, as they are counted all at once.

        Pairs already in one component are dropped, then those whose sizes alone rule them
        out (even sharing all of the smaller set they would not count), then those that
        :func:`_shared_at_most` rules out; the remaining pairs' shared shingles are counted
        exactly (:func:`_shared`), and the near-duplicates linked in the same components as one
        by one. (:func:`_near` is true of fewer shingles shared only when it is true of more.)"""
        keep = forest.roots(rows[a]) != forest.roots(rows[b])
        a, b = a[keep], b[keep]
        sa, sb = offsets[a + 1] - offsets[a], offsets[b + 1] - offsets[b]
        keep = _near(np.minimum(sa, sb), sa, sb, self.params)
        a, b, sa, sb = a[keep], b[keep], sa[keep], sb[keep]
        keep = _near(_shared_at_most(counts, a, b), sa, sb, self.params)
        a, b, sa, sb = a[keep], b[keep], sa[keep], sb[keep]
        smaller = sa <= sb
        near = _near(_shared(hashes, offsets, np.where(smaller, a, b), np.where(smaller, b, a)), sa, sb, self.params)
        forest.link(rows[a[near]].tolist(), rows[b[near]].tolist())

    def _verify_long_runs(self, members_of: np.ndarray, starts: np.ndarray, sizes: np.ndarray, forest: _Forest) -> None:
        """Link the near-duplicate pairs of long runs (band values that many sentences share,
        such as the MinHash of a common phrase; runs as for :meth:`_verify_short_runs`), without
        visiting their pairs: a run of ``n`` members has ``n (n - 1) / 2``, nearly all of them
        sentences that share the phrase and little else.

        A prefix filter finds the pairs that may be near-duplicates: such a pair shares at least
        :func:`_least_overlap` of the smaller set's shingles, so it shares one of any
        ``size - least + 1`` of them. Each member's prefix is that many of its shingles, the
        rarest in its run first; the candidates of a run are the pairs whose larger member (either,
        of equal sizes) holds a shingle of the smaller one's prefix, found by sorting the runs'
        shingles. They are verified as the pairs of short runs are (:meth:`_verify_pairs`). The
        runs are taken about :data:`_RUN_MEMBERS_AT_ONCE` members at a time, and their candidates
        made about :data:`_CANDIDATES_AT_ONCE` at a time."""
        if not len(starts):
            return
        if self.params.jaccard <= 0 or self.params.containment <= 0:  # pairs sharing nothing count
            self._verify_short_runs(members_of, starts, sizes, forest)
            return
        for n, rows, local, hashes, offsets, counts in self._run_groups(members_of, starts, sizes, _RUN_MEMBERS_AT_ONCE):
            for a, b in self._run_candidates(hashes, offsets, local, n):
                for k in range(0, len(a), _PAIRS_AT_ONCE):
                    self._verify_pairs(rows, hashes, offsets, counts, local[a[k : k + _PAIRS_AT_ONCE]], local[b[k : k + _PAIRS_AT_ONCE]], forest)

    def _run_candidates(self, hashes: np.ndarray, offsets: np.ndarray, local: np.ndarray, n: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The candidate pairs of runs (of :meth:`_verify_long_runs`) as pairs of member positions:
        member ``m`` is row ``local[m]`` of ``hashes``/``offsets`` (as :meth:`_read_rows` gives
        them), run ``r``'s members are the ``n[r]`` after those of run ``r - 1``. Each batch holds
        distinct pairs; one may come again in a later batch."""
        size = np.diff(offsets)[local]
        start = np.cumsum(size) - size
        total = int(size.sum())
        member = np.repeat(np.arange(len(local)), size)  # each of the runs' shingles: its member...
        value = hashes[np.arange(total) + np.repeat(offsets[local] - start, size)]  # ...its hash...
        distinct, value = np.unique(value, return_inverse=True)  # (as small numbers)
        key = np.repeat(np.arange(len(n)), n)[member] * len(distinct) + value.ravel()  # its run, then its hash
        del distinct, value
        by_column = np.argsort(key, kind="stable")  # the holders of a shingle in a run are together, in order
        sorted_key = key[by_column]
        del key
        new = np.ones(total, dtype=bool)
        new[1:] = sorted_key[1:] != sorted_key[:-1]
        del sorted_key
        column_start = np.flatnonzero(new)
        holders = np.diff(column_start, append=total)  # how many of its run's members hold it
        column = np.empty(total, dtype=np.int64)
        column[by_column] = np.cumsum(new) - 1
        del new
        holder = member[by_column]  # column c's holders: holder[column_start[c] : column_start[c] + holders[c]]
        del by_column
        # each member's shingles, rarest in its run first (a member's are together, in order of members)
        rarest = np.argsort((member * (len(local) + 1) + holders[column]) * len(column_start) + column)
        prefix = rarest[np.arange(total) - np.repeat(start, size) < np.repeat(size - _least_overlap(size, self.params) + 1, size)]
        x, c = member[prefix], column[prefix]
        del member, column, rarest, prefix
        reach = holders[c]
        for batch in _groups(reach, _CANDIDATES_AT_ONCE):
            k = reach[batch]
            y = holder[np.arange(int(k.sum())) + np.repeat(column_start[c[batch]] - (np.cumsum(k) - k), k)]
            a = np.repeat(x[batch], k)
            keep = (a != y) & (size[a] <= size[y])  # the prefix is the smaller member's
            pairs = np.unique(np.minimum(a[keep], y[keep]) * len(local) + np.maximum(a[keep], y[keep]))
            yield pairs // len(local), pairs % len(local)

    def _cluster_numbers(self) -> list[list[int]]:
        """Clusters as sentence numbers, in the order of :meth:`clusters`."""
        if self._clustered_at == self._count and self._clusters is not None:
            return self._clusters
        roots = self._link()
        sizes = np.bincount(roots, minlength=len(roots))
        clustered = np.flatnonzero(sizes[roots] >= 2)
        clustered = clustered[np.argsort(roots[clustered], kind="stable")]
        numbers = np.frombuffer(self._rows, dtype=np.int32)[clustered].tolist()
        bounds = np.flatnonzero(np.diff(roots[clustered])) + 1
        groups = []
        for group in np.split(np.arange(len(numbers)), bounds) if numbers else []:
            members = sorted((self._sentence_id(numbers[i]), numbers[i]) for i in group.tolist())
            groups.append(members)
        groups.sort(key=lambda members: [sid for sid, _ in members])
        self._clusters = [[n for _, n in members] for members in groups]
        self._clustered_at = self._count
        return self._clusters

    def cluster_members(self) -> list[list[tuple[str, str]]]:
        """The clusters of :meth:`clusters`, each member as ``(sentence_id, doc_id)``."""
        return [[(self._sentence_id(n), self._doc_id(n)) for n in c] for c in self._cluster_numbers()]

    def clusters(self) -> list[list[str]]:
        """Clusters of two or more near-duplicate sentence ids, each sorted, sorted by first id."""
        return [[self._sentence_id(n) for n in c] for c in self._cluster_numbers()]

    def document_links(self) -> Iterator[tuple[str, str]]:
        """Pairs of documents that share a near-duplicate cluster: for each cluster (in the
        order of :meth:`clusters`), its first document (in sorted order) with each other one."""
        for cluster in self._cluster_numbers():
            docs = sorted({self._doc_id(n) for n in cluster})
            for other in docs[1:]:
                yield docs[0], other
