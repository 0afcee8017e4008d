"""Document-level train / validation / test splits that never leak duplicates.

Documents that share a near-duplicate sentence (:mod:`builder.dedup`) form one group and go to one split,
so a paragraph re-run by two outlets cannot sit in train and test at once. Assignments are
recorded in a manifest (``splits/manifest.json``) and never move: re-running only assigns
documents that are new, and a new document that joins groups already in different splits
is reported as a conflict instead of moving anything.

New groups are placed to bring each split's share of sentences close to its ratio and, where
the corpus allows it, to give every split at least one group and at least one event of every
type. What cannot be met (a split left empty, shares far from the ratios, a type missing from
a split) is returned as plain-English notes rather than left for the reader to discover.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Literal, Optional, Sequence, Union

from .dedup import DedupParams, NearDuplicateIndex, Signature, SignaturePack
from .errors import InputError
from .io import write_json
from .labelset import event_types
from .records import Sentence

SPLITS = ("train", "validation", "test")
DEFAULT_RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}
DEFAULT_SEED = "eventds"
MANIFEST_VERSION = 1

#: A split whose share of sentences is further than this from its ratio is reported.
FAR_FROM_TARGET = 0.1
#: Cost of leaving a split with a positive ratio empty. The share deviation it is added to
#: (the sum over splits of the absolute difference between share and ratio) is at most 2, so
#: a split is left empty only when there is no group to give it.
EMPTY_SPLIT_COST = 4.0
#: Cost of a split with a positive ratio that has no event of a type the corpus has, times
#: 1 + the split's ratio: a type is given to a split whenever that moves the summed share
#: deviation by less than this, and a type too rare for every split stays in train first.
MISSING_TYPE_COST = 0.2
#: Up to this many new groups, every assignment of them is tried.
EXHAUSTIVE_GROUPS = 8
#: Up to this many new groups, a local search tries every move and swap, from RESTARTS orders.
SEARCH_GROUPS = 40
RESTARTS = 3
#: Beyond SEARCH_GROUPS, the local search only tries to bring a missing type into a split: it
#: moves one of the SEARCH_CANDIDATES smallest groups with that type, or swaps it with one of
#: the SWAP_PARTNERS groups of the nearest sizes in that split.
SEARCH_CANDIDATES = 64
SWAP_PARTNERS = 8
#: The local search stops after this many steps even if it could still improve.
MAX_SEARCH_STEPS = 1000


class DocumentIndex:
    """What the splitter needs to know of each document: its sentence count, its events by
    type and its near-duplicates.

    :attr:`sentences` (document -> sentences) and :attr:`events` (document with events ->
    their count per type) read as dictionaries; per document they hold a number and a row of
    counts in arrays, not a dictionary entry and a ``Counter`` each (beside the id, about 95
    bytes a document where they took about 255, and fewer small objects left across the heap
    for a build's whole stream)."""

    def __init__(self, params: DedupParams = DedupParams()):
        self._number: dict[str, int] = {}  # document -> its row
        self._types = list(event_types())
        self._column = {t: i for i, t in enumerate(self._types)}
        self._sentences = array("q")  # per document
        self._events = array("q")  # per document, a count per type of the label set
        self._other: dict[str, Counter[str]] = defaultdict(Counter)  # types outside it (records that failed validation)
        self.duplicates = NearDuplicateIndex(params)

    # Views made when asked, not kept: a view kept would refer back to the index, and the
    # cycle would keep the index's arrays (and its near-duplicate index's) until Python's
    # cycle collector ran, long after the build let it go (about 20 MiB at 1M sentences).
    @property
    def sentences(self) -> Mapping[str, int]:
        return _SentenceCounts(self)

    @property
    def events(self) -> Mapping[str, Counter[str]]:
        return _EventCounts(self)

    def _row(self, doc_id: str) -> int:
        row = self._number.get(doc_id)
        if row is None:
            row = self._number[doc_id] = len(self._sentences)
            self._sentences.append(0)
            self._events.extend(bytes(len(self._types)))  # (array.extend of a bytes-like of zeros: one 0 per byte)
        return row

    def _event_row(self, row: int) -> array:
        """A document's events, a count per type of the label set."""
        width = len(self._types)
        return self._events[row * width : (row + 1) * width]

    def _count(self, doc_id: str, row: int, types: Iterable[str]) -> None:
        width = len(self._types)
        for t in types:
            column = self._column.get(t)
            if column is None:
                self._other[doc_id][t] += 1
            else:
                self._events[row * width + column] += 1

    def add(self, sentence: Sentence, signature: Union[Signature, None, Literal[False]] = False) -> Sentence:
        """Index ``sentence``; ``signature``, when given, is its :func:`builder.dedup.signature`
        made elsewhere (``None``: too short to count)."""
        row = self._row(sentence.doc_id)
        self._sentences[row] += 1
        self._count(sentence.doc_id, row, (e.type for e in sentence.events))
        if signature is False:
            self.duplicates.add(sentence.id, sentence.doc_id, sentence.text)
        else:
            self.duplicates.add_signature(sentence.id, sentence.doc_id, signature)
        return sentence

    def add_sentences(self, doc_id: str, sentence_ids: Sequence[str], types: Iterable[Iterable[str]], signatures: SignaturePack) -> None:
        """Index consecutive sentences of one document known by their ids, event types and
        signatures (a :class:`~builder.dedup.SignaturePack`, made elsewhere)."""
        row = self._row(doc_id)
        self._sentences[row] += len(sentence_ids)
        for sentence_types in types:
            self._count(doc_id, row, sentence_types)
        self.duplicates.add_signatures(sentence_ids, doc_id, signatures)


class _SentenceCounts(Mapping[str, int]):
    """:attr:`DocumentIndex.sentences`: every document indexed, in the order first seen."""

    def __init__(self, index: DocumentIndex) -> None:
        self._index = index

    def __getitem__(self, doc_id: str) -> int:
        return self._index._sentences[self._index._number[doc_id]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index._number)

    def __len__(self) -> int:
        return len(self._index._number)


class _EventCounts(Mapping[str, Counter[str]]):
    """:attr:`DocumentIndex.events`: the documents with at least one event, in the order first
    seen, each with a ``Counter`` of its events per type (made when asked)."""

    def __init__(self, index: DocumentIndex) -> None:
        self._index = index

    def __getitem__(self, doc_id: str) -> Counter[str]:
        index = self._index
        found = Counter({t: n for t, n in zip(index._types, index._event_row(index._number[doc_id])) if n})
        found.update(index._other.get(doc_id, {}))
        if not found:
            raise KeyError(doc_id)
        return found

    def __contains__(self, doc_id: object) -> bool:
        index = self._index
        row = index._number.get(doc_id)  # type: ignore[call-overload]
        if row is None:
            return False
        return any(index._event_row(row)) or doc_id in index._other

    def __iter__(self) -> Iterator[str]:
        return (d for d in self._index._number if d in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


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
    """What :func:`assign_splits` returns.

    ``notes`` say, in plain English, what the assignment could not meet: a split left empty,
    shares of sentences further than :data:`FAR_FROM_TARGET` from the ratios, an event type
    missing from a split. They are empty when every split is close to its ratio and has every type.
    """

    manifest: dict
    new_documents: list[str]
    conflicts: list[str]
    notes: list[str] = field(default_factory=list)


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

    Documents linked by near-duplicate sentences form one group and go to one split. New
    groups are placed to minimise a cost: the summed absolute difference between each
    split's share of sentences and its ratio, plus :data:`EMPTY_SPLIT_COST` per empty split
    and :data:`MISSING_TYPE_COST` times (1 + the split's ratio) per split without an event
    type the corpus has (splits with a positive ratio only). Up to :data:`EXHAUSTIVE_GROUPS`
    new groups, every assignment is tried; beyond, groups taken in an order fixed by
    ``seed`` each go to the split furthest below its share (an empty split first while no
    more groups are left than empty splits), and a local search then moves and swaps groups
    while the cost falls. The result depends only on the index, ``previous``, the ratios
    and the seed.

    Args:
        index: The documents, their sentences, events and near-duplicates.
        previous: A split manifest whose assignments are kept (``seed`` and ``ratios`` too).
        ratios: Share of sentences per split, used when ``previous`` has none
            (default :data:`DEFAULT_RATIOS`).
        seed: Fixes the order new groups are taken in, when ``previous`` has none.

    Returns:
        The new manifest, the documents newly assigned, conflict messages for new
        documents whose group already spans several splits, and notes on what the
        assignment could not meet (:class:`SplitResult`).

    Raises:
        InputError: The ratios do not give every split a non-negative share summing to 1.
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
    types = _corpus_types(index)
    fixed_events = [[0] * len(types) for _ in SPLITS]
    for doc, entry in assigned.items():
        row, found = fixed_events[SPLITS.index(entry["split"])], index.events.get(doc)
        for t, name in enumerate(types if found else ()):
            row[t] += found[name]
    placing = [_Group(gid, docs, sum(index.sentences.get(d, 0) for d in docs), _events_of(index, docs, types)) for gid, docs in new_groups]
    targets = _place_groups(placing, [ratios[s] for s in SPLITS], [counts[s] for s in SPLITS], fixed_events, seed)
    for group, target in zip(placing, targets):
        for d in group.docs:
            assigned[d] = {"split": SPLITS[target], "group": group.gid}

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
    earlier = set(previous.get("documents") or {})
    return SplitResult(manifest, sorted(new_docs), conflicts, _notes(index, groups, assigned, ratios, types, earlier))


def _corpus_types(index: DocumentIndex) -> list[str]:
    """The event types some document of ``index`` has: schema order, then unknown ones sorted."""
    present = {name for found in index.events.values() for name, n in found.items() if n > 0}
    known = [name for name in event_types() if name in present]
    return known + sorted(present - set(known))


def _events_of(index: DocumentIndex, docs: list[str], types: list[str]) -> tuple[int, ...]:
    """Events of ``docs`` per type of ``types``."""
    found = [index.events[d] for d in docs if d in index.events]
    if len(found) == 1:
        return tuple(found[0][name] for name in types)
    return tuple(sum(f[name] for f in found) for name in types)


@dataclass(frozen=True)
class _Group:
    """A new group of documents to place: its sentences and its events per corpus type."""

    gid: str
    docs: list[str]
    size: int
    events: tuple[int, ...]


class _Balance:
    """Sentences and events per split (indexes into :data:`SPLITS`) while groups are placed,
    and the cost :func:`assign_splits` minimises."""

    def __init__(self, ratios: list[float], sizes: list[int], events: list[list[int]], total: int):
        self.ratios = ratios
        self.total = total
        self.sizes = list(sizes)
        self.events = [list(row) for row in events]
        self.costs = [self.split_cost(s, self.sizes[s], self.events[s]) for s in range(len(ratios))]

    def split_cost(self, s: int, size: int, events: list[int]) -> float:
        cost = abs(size / self.total - self.ratios[s])
        if self.ratios[s] > 0:
            if size == 0:
                cost += EMPTY_SPLIT_COST
            cost += MISSING_TYPE_COST * (1 + self.ratios[s]) * sum(1 for n in events if n == 0)
        return cost

    @property
    def cost(self) -> float:
        return sum(self.costs)

    def place(self, group: _Group, s: int, sign: int = 1) -> None:
        """Add ``group`` to split ``s`` (``sign=-1``: take it out)."""
        self.sizes[s] += sign * group.size
        row = self.events[s]
        for t, n in enumerate(group.events):
            row[t] += sign * n
        self.costs[s] = self.split_cost(s, self.sizes[s], row)

    def _changed(self, s: int, size: int, events: tuple[int, ...], sign: int, other: Optional[_Group] = None) -> float:
        """The cost of split ``s`` after adding ``sign`` times ``size``/``events`` and the
        opposite of ``other``, minus its cost now."""
        row = self.events[s]
        if other is None:
            new = [a + sign * b for a, b in zip(row, events)]
            new_size = self.sizes[s] + sign * size
        else:
            new = [a + sign * (b - c) for a, b, c in zip(row, events, other.events)]
            new_size = self.sizes[s] + sign * (size - other.size)
        return self.split_cost(s, new_size, new) - self.costs[s]

    def move_gain(self, group: _Group, a: int, b: int) -> float:
        """How much the cost falls if ``group`` moves from split ``a`` to split ``b``."""
        return -(self._changed(a, group.size, group.events, -1) + self._changed(b, group.size, group.events, 1))

    def swap_gain(self, group: _Group, a: int, other: _Group, b: int) -> float:
        """How much the cost falls if ``group`` (in ``a``) and ``other`` (in ``b``) change splits."""
        return -(self._changed(a, group.size, group.events, -1, other) + self._changed(b, group.size, group.events, 1, other))


def _place_groups(groups: list[_Group], ratios: list[float], sizes: list[int], events: list[list[int]], seed: str) -> list[int]:
    """Choose a split for each of ``groups`` (given in the seed's order), on top of the
    ``sizes`` and ``events`` already in each split; return their indexes into :data:`SPLITS`."""
    if not groups:
        return []
    total = sum(sizes) + sum(g.size for g in groups)  # every indexed document has a sentence
    open_splits = [s for s, r in enumerate(ratios) if r > 0]
    if len(groups) <= EXHAUSTIVE_GROUPS:
        return _every_assignment(_Balance(ratios, sizes, events, total), groups, open_splits)
    best: Optional[tuple[float, list[int]]] = None
    for start in range(RESTARTS if len(groups) <= SEARCH_GROUPS else 1):
        order = list(range(len(groups)))
        if start:
            order.sort(key=lambda i: _hash(f"{seed}\x00{start}\x00{groups[i].docs[0]}"))
        balance = _Balance(ratios, sizes, events, total)
        where = _greedy(balance, groups, order, open_splits)
        _local_search(balance, groups, where, open_splits, thorough=len(groups) <= SEARCH_GROUPS)
        if best is None or balance.cost < best[0] - 1e-12:
            best = (balance.cost, where)
    return best[1]


def _every_assignment(balance: _Balance, groups: list[_Group], open_splits: list[int]) -> list[int]:
    """The cheapest assignment of ``groups`` to ``open_splits``, trying all; the first found on a tie."""
    where = [0] * len(groups)
    best: list = [float("inf"), list(where)]

    def visit(i: int) -> None:
        if i == len(groups):
            if balance.cost < best[0] - 1e-12:
                best[:] = [balance.cost, list(where)]
            return
        for s in open_splits:
            balance.place(groups[i], s)
            where[i] = s
            visit(i + 1)
            balance.place(groups[i], s, -1)

    visit(0)
    return best[1]


def _greedy(balance: _Balance, groups: list[_Group], order: list[int], open_splits: list[int]) -> list[int]:
    """Place ``groups`` in ``order``, each in the split furthest below its share of sentences;
    while no more groups are left than empty splits, fill an empty split first."""
    where = [0] * len(groups)
    placed = sum(balance.sizes)
    empty = [s for s in open_splits if balance.sizes[s] == 0]
    for done, i in enumerate(order):
        if empty:
            empty = [s for s in empty if balance.sizes[s] == 0]
        if empty and len(order) - done <= len(empty):
            s = max(empty, key=lambda s: (balance.ratios[s], -s))
        else:
            total = placed + groups[i].size
            s = max(range(len(SPLITS)), key=lambda s: (balance.ratios[s] * total - balance.sizes[s], -s))
        placed += groups[i].size
        balance.place(groups[i], s)
        where[i] = s
    return where


def _local_search(balance: _Balance, groups: list[_Group], where: list[int], open_splits: list[int], thorough: bool) -> None:
    """Move and swap groups while that lowers the cost, the best step first; update ``where``.

    ``thorough``: try every move and swap; else only steps that bring a missing type into a
    split (see :data:`SEARCH_CANDIDATES`), so a large corpus costs little more than the greedy pass.
    """
    carriers = [sorted((i for i, g in enumerate(groups) if g.events[t]), key=lambda i: groups[i].size) for t in range(len(balance.events[0]))]
    for _ in range(MAX_SEARCH_STEPS):
        best_gain, best_step = 1e-12, None
        for gain, step in _steps(balance, groups, where, open_splits, carriers, thorough):
            if gain > best_gain:
                best_gain, best_step = gain, step
        if best_step is None:
            return
        for i, s in best_step:
            balance.place(groups[i], where[i], -1)
            balance.place(groups[i], s)
            where[i] = s


def _steps(balance: _Balance, groups: list[_Group], where: list[int], open_splits: list[int], carriers: list[list[int]], thorough: bool) -> Iterable[tuple[float, tuple[tuple[int, int], ...]]]:
    """Candidate steps with their gain: a step is ``((group, new split), ...)``."""
    if thorough:
        for i, g in enumerate(groups):
            for b in open_splits:
                if b != where[i]:
                    yield balance.move_gain(g, where[i], b), ((i, b),)
            for j in range(i + 1, len(groups)):
                if where[j] != where[i]:
                    yield balance.swap_gain(g, where[i], groups[j], where[j]), ((i, where[j]), (j, where[i]))
        return
    missing = [(s, t) for s in open_splits for t, n in enumerate(balance.events[s]) if n == 0]
    if not missing:
        return
    by_size: dict[int, list[tuple[int, int]]] = {s: sorted((g.size, i) for i, g in enumerate(groups) if where[i] == s) for s in {s for s, _ in missing}}
    for b, t in missing:
        candidates = [i for i in carriers[t] if where[i] != b][:SEARCH_CANDIDATES]
        here = by_size[b]
        for i in candidates:
            g = groups[i]
            yield balance.move_gain(g, where[i], b), ((i, b),)
            at = bisect_left(here, (g.size, -1))
            for _, j in here[max(0, at - SWAP_PARTNERS // 2) : at + SWAP_PARTNERS // 2]:
                yield balance.swap_gain(g, where[i], groups[j], b), ((i, b), (j, where[i]))


def _names(splits: list[str]) -> str:
    quoted = [repr(s) for s in splits]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _notes(index: DocumentIndex, groups: dict[str, list[str]], assigned: dict[str, dict], ratios: dict[str, float], types: list[str], earlier: set[str]) -> list[str]:
    """Plain-English notes on what the assignment in ``assigned`` does not meet: an empty
    split, shares further than :data:`FAR_FROM_TARGET` from ``ratios``, a type missing from
    a split; each with the reason the corpus or the earlier assignments give."""
    sizes = {s: 0 for s in SPLITS}
    events: dict[str, Counter[str]] = {s: Counter() for s in SPLITS}
    for doc, n in index.sentences.items():
        split = assigned[doc]["split"]
        sizes[split] += n
        if doc in index.events:
            events[split].update(index.events[doc])
    total = sum(sizes.values())
    if not total:
        return []
    open_splits = [s for s in SPLITS if ratios[s] > 0]
    old_groups = sum(1 for docs in groups.values() if any(d in earlier for d in docs))
    notes = []
    for s in open_splits:
        if sizes[s]:
            continue
        if len(groups) < len(open_splits):
            docs = len(index.sentences)
            notes.append(
                f"split {s!r} is empty: {docs} document{'s' if docs != 1 else ''} ({len(groups)} once near-duplicates are grouped) "
                f"{'are' if docs != 1 else 'is'} too few to fill every split"
            )
        else:
            notes.append(
                f"split {s!r} is empty: of {len(groups)} document groups, {old_groups} were assigned earlier to other splits "
                f"(assignments never move) and the {len(groups) - old_groups} new ones cannot fill every split"
            )
    if any(abs(sizes[s] / total - ratios[s]) > FAR_FROM_TARGET for s in SPLITS):
        largest = max(sum(index.sentences.get(d, 0) for d in docs) for docs in groups.values())
        shares = " / ".join(f"{s} {sizes[s] / total:.2f}" for s in SPLITS)
        kept = sum(1 for d in index.sentences if d in earlier)
        notes.append(
            f"shares are {shares} against {' / '.join(f'{ratios[s]:g}' for s in SPLITS)}: {len(groups)} document "
            f"group{'s' if len(groups) != 1 else ''}, the largest {100 * largest / total:.0f}% of sentences"
            + (f"; {kept} documents were assigned earlier and do not move" if kept else "")
        )
    for name in types:
        missing = [s for s in open_splits if not events[s][name]]
        if not missing:
            continue
        having = [s for s in open_splits if events[s][name]]
        carriers = [docs for docs in groups.values() if any(index.events.get(d, {}).get(name) for d in docs)]
        count = f"{name} is in {len(carriers)} document group{'s' if len(carriers) != 1 else ''}"
        if len(carriers) < len(open_splits):
            notes.append(f"{count}: only {_names(having)} {'has' if len(having) == 1 else 'have'} it" if having else f"{count}: no split with a positive ratio has it")
        elif all(d in earlier for docs in carriers for d in docs):
            notes.append(f"{count} but none in {_names(missing)}: they were all assigned earlier and do not move")
        else:
            notes.append(
                f"{count} but none in {_names(missing)}: no assignment found gives {'it' if len(missing) == 1 else 'them'} "
                f"{name} without costing more in sentence shares or other types"
            )
    return notes


def write_manifest(path: Path, manifest: dict) -> None:
    write_json(path, manifest)
