"""Near-duplicate sentences across the corpus: exact (normalised) and near matches.

Definition (the one the split guarantee is stated in): two sentences are near-duplicates
when their normalised texts (see :func:`builder.clean.normalise`) are equal, or their sets
of word 3-shingles have Jaccard similarity >= ``jaccard`` (0.5) or the smaller set is
contained in the larger to at least ``containment`` (0.75) — the second catches a quote
re-run with a different attribution. Sentences with fewer than ``min_shingles`` (4) shingles,
i.e. under six words ("He said on Monday."), never count.

Candidates come from MinHash LSH (``datasketch``) at a deliberately low threshold, then
every candidate pair is verified exactly on the stored shingle hashes, so the index finds
the pairs the definition names without comparing all pairs.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Iterator, NamedTuple, Optional

import numpy as np
from datasketch import MinHash, MinHashLSH

from .clean import normalise


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
    words = normalise(text).split()
    if not words:
        return set()
    if len(words) < n:
        return {" ".join(words)}
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def _hashes(items: set[str]) -> np.ndarray:
    return np.unique(np.array([int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little") for s in items], dtype=np.uint64))


def similar(a: np.ndarray, b: np.ndarray, params: DedupParams) -> bool:
    """Exact test of the near-duplicate definition on two sorted shingle-hash arrays."""
    if min(len(a), len(b)) < params.min_shingles:
        return False
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return inter / union >= params.jaccard or inter / min(len(a), len(b)) >= params.containment


class Signature(NamedTuple):
    """What the index needs of one sentence, computed from its text alone (so anywhere):
    its normalised text, its sorted shingle hashes and its MinHash values (below 2**32,
    kept as ``uint32`` to halve what a worker sends)."""

    key: str
    hashes: np.ndarray
    minhash: np.ndarray


@lru_cache(maxsize=None)
def _permutations(num_perm: int, seed: int):
    return MinHash(num_perm=num_perm, seed=seed).permutations


def signature(text: str, params: DedupParams = DedupParams()) -> Optional[Signature]:
    """The :class:`Signature` of a sentence, or ``None`` when it has too few shingles to count."""
    sh = shingles(text, params.shingle_words)
    if len(sh) < params.min_shingles:
        return None
    mh = MinHash(num_perm=params.num_perm, seed=params.seed, permutations=_permutations(params.num_perm, params.seed))
    mh.update_batch([s.encode("utf-8") for s in sh])
    return Signature(normalise(text), _hashes(sh), mh.hashvalues.astype(np.uint32))


class NearDuplicateIndex:
    """Streams sentences in, links near-duplicates, and reports clusters.

    Memory per sentence: its id, document id, a few dozen 8-byte shingle hashes and the
    LSH band keys.
    """

    def __init__(self, params: DedupParams = DedupParams()):
        self.params = params
        self.lsh = MinHashLSH(threshold=params.lsh_threshold, num_perm=params.num_perm)
        self.exact: dict[str, str] = {}
        self.hashes: dict[str, np.ndarray] = {}
        self.doc_of: dict[str, str] = {}
        self.parent: dict[str, str] = {}
        self._permutations = _permutations(params.num_perm, params.seed)

    def _find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def _union(self, a: str, b: str) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def add(self, sentence_id: str, doc_id: str, text: str) -> None:
        """Index one sentence, linking it to every earlier near-duplicate."""
        self.add_signature(sentence_id, doc_id, signature(text, self.params))

    def add_signature(self, sentence_id: str, doc_id: str, sig: Optional["Signature"]) -> None:
        """Index one sentence by its :func:`signature` (made with this index's parameters,
        possibly elsewhere), linking it to every earlier near-duplicate."""
        self.doc_of[sentence_id] = doc_id
        self.parent[sentence_id] = sentence_id
        if sig is None:
            return
        if sig.key in self.exact:
            self._union(sentence_id, self.exact[sig.key])
            return  # an exact copy adds nothing new to the LSH index
        self.exact[sig.key] = sentence_id
        mh = MinHash(num_perm=self.params.num_perm, seed=self.params.seed, hashvalues=sig.minhash.astype(np.uint64), permutations=self._permutations)
        for other in self.lsh.query(mh):
            if similar(sig.hashes, self.hashes[other], self.params):
                self._union(sentence_id, other)
        self.lsh.insert(sentence_id, mh)
        self.hashes[sentence_id] = sig.hashes

    def clusters(self) -> list[list[str]]:
        """Clusters of two or more near-duplicate sentence ids, each sorted, sorted by first id."""
        groups: dict[str, list[str]] = {}
        for sid in self.parent:
            groups.setdefault(self._find(sid), []).append(sid)
        return sorted(sorted(g) for g in groups.values() if len(g) > 1)

    def document_links(self) -> Iterator[tuple[str, str]]:
        """Pairs of documents that share a near-duplicate cluster."""
        for cluster in self.clusters():
            docs = sorted({self.doc_of[s] for s in cluster})
            for other in docs[1:]:
                yield docs[0], other
