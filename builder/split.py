"""Document-level train / validation / test splits that never leak duplicates.

Documents that share a near-duplicate sentence (:mod:`builder.dedup`) form one group and go to one split,
so a paragraph re-run by two outlets cannot sit in train and test at once. Assignments are
recorded in a manifest (``splits/manifest.json``) and never move: re-running only assigns
documents that are new, and a new document that joins groups already in different splits
is reported as a conflict instead of moving anything.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal, Optional, Union

from .dedup import DedupParams, NearDuplicateIndex, Signature
from .errors import InputError
from .io import write_json
from .records import Sentence

SPLITS = ("train", "validation", "test")
DEFAULT_RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}
DEFAULT_SEED = "eventds"
MANIFEST_VERSION = 1


class DocumentIndex:
    """What the splitter needs to know of each document: its sentence count and its near-duplicates."""

    def __init__(self, params: DedupParams = DedupParams()):
        self.sentences: dict[str, int] = defaultdict(int)
        self.duplicates = NearDuplicateIndex(params)

    def add(self, sentence: Sentence, signature: Union[Signature, None, Literal[False]] = False) -> Sentence:
        """Index ``sentence``; ``signature``, when given, is its :func:`builder.dedup.signature`
        made elsewhere (``None``: too short to count)."""
        self.sentences[sentence.doc_id] += 1
        if signature is False:
            self.duplicates.add(sentence.id, sentence.doc_id, sentence.text)
        else:
            self.duplicates.add_signature(sentence.id, sentence.doc_id, signature)
        return sentence


def index_documents(sentences: Iterable[Sentence], params: DedupParams = DedupParams()) -> DocumentIndex:
    index = DocumentIndex(params)
    for s in sentences:
        index.add(s)
    return index


def group_documents(index: DocumentIndex) -> dict[str, list[str]]:
    """Connected groups of documents linked by near-duplicate sentences: ``{group_id: [doc_ids]}``."""
    parent: dict[str, str] = {d: d for d in index.sentences}

    def find(d: str) -> str:
        while parent[d] != d:
            parent[d] = parent[parent[d]]
            d = parent[d]
        return d

    for a, b in index.duplicates.document_links():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = defaultdict(list)
    for doc in sorted(parent):
        groups[find(doc)].append(doc)
    return {f"group-{_hash(root)}": docs for root, docs in sorted(groups.items())}


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def load_manifest(path: Path) -> Optional[dict]:
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from e
    if not isinstance(manifest, dict) or not isinstance(manifest.get("documents"), dict):
        raise InputError(f"{path} -> documents: missing; not a split manifest")
    for doc, entry in manifest["documents"].items():
        if not isinstance(entry, dict) or entry.get("split") not in SPLITS:
            raise InputError(f"{path} -> documents -> {doc} -> split: expected one of {list(SPLITS)}")
    return manifest


@dataclass
class SplitResult:
    manifest: dict
    new_documents: list[str]
    conflicts: list[str]


def document_groups(manifest: Optional[dict]) -> dict[str, str]:
    """Document id -> its group in a split manifest (documents that share text are one group)."""
    return {d: e.get("group", d) for d, e in (manifest or {}).get("documents", {}).items()}


def by_document_group(rows: Iterable[dict], groups: dict[str, str]) -> dict[str, list[dict]]:
    """Rows (each with a ``doc_id``) by the group of their document; a document not in
    ``groups`` is a group of its own. The folds of cross-validation by document."""
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        out[groups.get(r["doc_id"], r["doc_id"])].append(r)
    return dict(out)


def assign_splits(
    index: DocumentIndex,
    previous: Optional[dict] = None,
    ratios: Optional[dict[str, float]] = None,
    seed: str = DEFAULT_SEED,
) -> SplitResult:
    """Assign every document of ``index`` to a split, keeping ``previous`` assignments.

    New groups are taken in an order fixed by ``seed`` and each goes to the split furthest
    below its target share of sentences; while there are no more new groups than empty
    splits, an empty split is filled first, so a small corpus still gets all three.

    Returns:
        The new manifest, the documents newly assigned, and conflict messages for new
        documents whose group already spans several splits.
    """
    previous = previous or {}
    ratios = dict(ratios or previous.get("ratios") or DEFAULT_RATIOS)
    if set(ratios) != set(SPLITS) or abs(sum(ratios.values()) - 1.0) > 1e-6 or min(ratios.values()) < 0:
        raise InputError(f"split ratios must give {list(SPLITS)} non-negative shares summing to 1, got {ratios}")
    seed = previous.get("seed", seed)
    assigned: dict[str, dict] = {d: dict(e) for d, e in (previous.get("documents") or {}).items()}
    groups = group_documents(index)
    counts = {s: 0 for s in SPLITS}
    for doc, entry in assigned.items():
        counts[entry["split"]] += index.sentences.get(doc, 0)

    conflicts: list[str] = []
    new_groups: list[tuple[str, list[str]]] = []
    new_docs: list[str] = []
    for gid, docs in groups.items():
        old_splits = sorted({assigned[d]["split"] for d in docs if d in assigned})
        fresh = [d for d in docs if d not in assigned]
        if not fresh:
            if len(old_splits) > 1:
                conflicts.append(
                    f"documents {docs} share near-duplicate sentences but were assigned earlier to splits {old_splits}; "
                    "they were not moved: edit the manifest by hand to fix this leak"
                )
            continue
        new_docs.extend(fresh)
        if not old_splits:
            new_groups.append((gid, fresh))
            continue
        target = min(old_splits, key=lambda s: (-sum(index.sentences.get(d, 0) for d in docs if assigned.get(d, {}).get("split") == s), s))
        if len(old_splits) > 1:
            conflicts.append(
                f"new documents {fresh} share sentences with documents already in splits {old_splits}; "
                f"assigned to {target!r}, earlier documents were not moved"
            )
        for d in fresh:
            assigned[d] = {"split": target, "group": gid}
            counts[target] += index.sentences.get(d, 0)

    new_groups.sort(key=lambda g: _hash(seed + "\x00" + g[1][0]))
    for i, (gid, docs) in enumerate(new_groups):
        size = sum(index.sentences.get(d, 0) for d in docs)
        empty = [s for s in SPLITS if ratios[s] > 0 and counts[s] == 0]
        remaining = len(new_groups) - i
        if empty and remaining <= len(empty):
            split = max(empty, key=lambda s: (ratios[s], -SPLITS.index(s)))
        else:
            total = sum(counts.values()) + size
            split = max(SPLITS, key=lambda s: (ratios[s] * total - counts[s], -SPLITS.index(s)))
        for d in docs:
            assigned[d] = {"split": split, "group": gid}
        counts[split] += size

    for gid, docs in groups.items():  # keep group ids current for documents already assigned
        for d in docs:
            assigned[d]["group"] = gid
    manifest = {
        "version": MANIFEST_VERSION,
        "seed": seed,
        "ratios": ratios,
        "grouping": {
            "method": "connected documents sharing a near-duplicate sentence (see builder/dedup.py)",
            **index.duplicates.params.to_dict(),
        },
        "documents": {d: assigned[d] for d in sorted(assigned)},
    }
    return SplitResult(manifest, sorted(new_docs), conflicts)


def write_manifest(path: Path, manifest: dict) -> None:
    write_json(path, manifest)
