"""Votes files: what each labelling function voted on each sentence, kept beside the records.

As Dolma keeps one attributes file per tagger next to the documents, a labeller writes,
beside the records (``build/votes/`` beside ``build/records.jsonl``)::

    votes/votes.json                the functions, in the order they ran; the labeller version
                                    and the tokenizer (``model``, null: the built-in one)
    votes/<function name>.jsonl     one line per sentence, in the records' order:
        {"id": "<sentence id>", "spans": [[start, end, label, confidence], ...]}  (sorted)

and, when a function edits the others' events (the learned tagger), ``votes.json`` also
records under ``editors`` the edits it was trusted with, so that aggregation from the votes
applies the same ones. ``label`` is an event type or ``VETO``, with ``"generic": [[start, end], ...]`` for
those of the spans that are G5 generic words and ``"failed": true`` when the function raised
on the sentence (a tolerant labeller counts it and gives it no span). Reports, label models,
calibration and ``eventds aggregate`` read these instead of running the functions again:
:func:`aggregate_votes` gives exactly the events the labeller gave.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Mapping, NamedTuple, Optional, Sequence, TypeVar

from ..errors import InputError
from ..io import read_jsonl
from ..records import Event, Sentence
from ..tokens import Tokens, tokenize
from .base import NAME_PATTERN, Doc, Span, SpacyTokenizer
from .events import Aggregator, LabelStats, RecordedEditor, with_weak_events

VOTES_DIR = "votes"
INDEX_FILE = "votes.json"
T = TypeVar("T")


class FunctionVotes(NamedTuple):
    """What one function voted on one sentence."""

    spans: list[Span]
    generic: frozenset[tuple[int, int]] = frozenset()
    failed: bool = False


#: Function name -> its votes, for one sentence.
SentenceVotes = dict[str, FunctionVotes]


@dataclass(frozen=True)
class VotesIndex:
    """The contents of ``votes.json``."""

    functions: tuple[str, ...]
    labeller: Optional[str] = None
    model: Optional[str] = None
    sentences: Optional[int] = None
    #: The functions that edit the others' events, with the edits they were trusted with:
    #: ``{name: {"kinds": [...], "trusted": ["add:ATTACK", ...]}}``.
    editors: Optional[Mapping[str, Mapping[str, Any]]] = None

    def recorded_editors(self) -> list[RecordedEditor]:
        """The editors as they were when the votes were written (no model is loaded)."""
        return [RecordedEditor(name, tuple(e.get("kinds", ())), frozenset(e.get("trusted", ()))) for name, e in (self.editors or {}).items()]

    def tokenizer(self) -> Callable[[str], Tokens]:
        """The tokenizer the labeller used (realis and arguments depend on its tokens)."""
        return tokenize if self.model is None else SpacyTokenizer(self.model)


class VotesWriter:
    """Writes a votes folder as the labeller fills docs: ``with VotesWriter(...) as votes: votes.write(id, doc)``.

    The files are written in place; write into a staging folder (:func:`builder.swap.replace_together`)
    to replace an existing votes folder as one step. ``votes.json`` is written last, when
    the block succeeds.
    """

    def __init__(self, folder: Path, functions: Sequence[str], labeller: str, model: Optional[str] = None, editors: Optional[Mapping[str, Mapping[str, Any]]] = None):
        self.folder = Path(folder)
        self.index = VotesIndex(tuple(functions), labeller, model, editors=editors or None)
        self.sentences = 0
        self._files: list[tuple[str, IO[str]]] = []

    def __enter__(self) -> "VotesWriter":
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            for name in self.index.functions:
                self._files.append((name, (self.folder / f"{name}.jsonl").open("w", encoding="utf-8", newline="\n")))
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self._close()
        if kind is None:
            index = {"labeller": self.index.labeller, "model": self.index.model, "functions": list(self.index.functions), "sentences": self.sentences}
            if self.index.editors:
                index["editors"] = {n: dict(e) for n, e in self.index.editors.items()}
            (self.folder / INDEX_FILE).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")

    def _close(self) -> None:
        for _, fh in self._files:
            fh.close()
        self._files = []

    def write(self, sentence_id: Any, doc: Doc) -> None:
        """One line per function for the sentence ``sentence_id``, annotated in ``doc``."""
        for (_, fh), line in zip(self._files, vote_lines(self.index.functions, sentence_id, doc)):
            fh.write(line)
        self.sentences += 1

    def write_recorded(self, lines: Sequence[str], sentences: int) -> None:
        """Write the lines a :class:`VotesRecorder` kept (one string per function, in this
        writer's order) for ``sentences`` sentences."""
        for (_, fh), text in zip(self._files, lines):
            fh.write(text)
        self.sentences += sentences


def vote_lines(functions: Sequence[str], sentence_id: Any, doc: Doc) -> list[str]:
    """The votes-file line of each of ``functions`` for the sentence ``sentence_id``, annotated in ``doc``.

    Raises:
        InputError: ``sentence_id`` is ``None``.
    """
    if sentence_id is None:
        raise InputError("votes need a sentence id for every text")
    lines = []
    silent = None  # the line of a function with no vote, made once: json.dumps would write the same bytes
    for name in functions:
        if not doc.spans.get(name) and not doc.generic.get(name) and name not in doc.failed:
            if silent is None:
                silent = '{"id": ' + json.dumps(sentence_id, ensure_ascii=False) + ', "spans": []}\n'
            lines.append(silent)
            continue
        # sorted: a function's spans come in no fixed order (word sets), and aggregation does not depend on it
        line: dict[str, Any] = {"id": sentence_id, "spans": [list(s) for s in sorted(doc.spans.get(name, ()))]}
        generic = doc.generic.get(name)
        if generic:
            line["generic"] = sorted(list(g) for g in generic)
        if name in doc.failed:
            line["failed"] = True
        lines.append(json.dumps(line, ensure_ascii=False) + "\n")
    return lines


class VotesRecorder:
    """Keeps votes in memory, as a :class:`VotesWriter` would write them (``write(id, doc)``),
    for a process that does not write the votes files (a build's worker): :meth:`lines` gives
    them to :meth:`VotesWriter.write_recorded` where the files are."""

    def __init__(self, functions: Sequence[str]):
        self.functions = tuple(functions)
        self._lines: list[list[str]] = [[] for _ in self.functions]

    def write(self, sentence_id: Any, doc: Doc) -> None:
        for kept, line in zip(self._lines, vote_lines(self.functions, sentence_id, doc)):
            kept.append(line)

    def lines(self, start: int, stop: int) -> tuple[str, ...]:
        """Per function, the lines of the sentences ``[start, stop)`` (in the order written), joined."""
        return tuple("".join(kept[start:stop]) for kept in self._lines)


def read_index(folder: Path) -> VotesIndex:
    """The index of a votes folder; without ``votes.json``, every ``*.jsonl`` file in name order.

    Raises:
        InputError: the folder is missing, its index is unreadable, or it holds no votes file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no votes folder")
    path = folder / INDEX_FILE
    if not path.exists():
        names = tuple(sorted(p.name[: -len(".jsonl")] for p in folder.glob("*.jsonl")))
        if not names:
            raise InputError(f"{folder}: no votes files (<function name>.jsonl) in this folder")
        return VotesIndex(names)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        functions = data["functions"]
        if not isinstance(functions, list) or not all(isinstance(n, str) and NAME_PATTERN.fullmatch(n) for n in functions):
            raise InputError(f"{path} -> functions: expected a list of function names (family.vN), got {functions!r}")
        editors = data.get("editors")
        if editors is not None and not (isinstance(editors, dict) and all(n in functions and isinstance(e, dict) for n, e in editors.items())):
            raise InputError(f"{path} -> editors: expected {{function name: {{kinds, trusted}}}} for functions of the index, got {editors!r}")
        return VotesIndex(tuple(functions), data.get("labeller"), data.get("model"), data.get("sentences"), editors)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(f"{path}: not a votes index ({e!r})") from e


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise InputError(f"{path}: missing; the votes folder lists this function in {INDEX_FILE}")
    if path.stat().st_size == 0:  # no sentence was labelled
        return iter(())
    return read_jsonl(path)


def _parse(path: Path, lineno: int, line: dict[str, Any]) -> FunctionVotes:
    where = f"{path}:{lineno}"
    spans = line.get("spans")
    if not isinstance(spans, list):
        raise InputError(f"{where} -> spans: expected a list of [start, end, label, confidence]")
    parsed = []
    for k, span in enumerate(spans):
        if not (
            isinstance(span, list) and len(span) == 4 and all(isinstance(x, int) and not isinstance(x, bool) for x in span[:2])
            and isinstance(span[2], str) and isinstance(span[3], (int, float)) and not isinstance(span[3], bool)
        ):
            raise InputError(f"{where} -> spans -> {k}: expected [start, end, label, confidence], got {span!r}")
        parsed.append((span[0], span[1], span[2], span[3]))
    generic = line.get("generic", [])
    if not isinstance(generic, list) or not all(isinstance(g, list) and len(g) == 2 for g in generic):
        raise InputError(f"{where} -> generic: expected a list of [start, end]")
    return FunctionVotes(parsed, frozenset((g[0], g[1]) for g in generic), line.get("failed") is True)


def read_votes(folder: Path) -> Iterator[tuple[Any, SentenceVotes]]:
    """Stream ``(sentence id, {function: votes})`` from a votes folder, in its order.

    Raises:
        InputError: a file is missing or malformed, or the files are not line-aligned
            (file, line and field named).
    """
    folder = Path(folder)
    index = read_index(folder)
    paths = [folder / f"{name}.jsonl" for name in index.functions]
    streams = [_lines(p) for p in paths]
    for rows in zip_longest(*streams):
        if any(r is None for r in rows):
            short = next(p for p, r in zip(paths, rows) if r is None)
            longer = next(p for p, r in zip(paths, rows) if r is not None)
            raise InputError(f"{short}: ends before {longer}; the votes files must have one line per sentence each")
        first_line, first = rows[0]
        sentence_id = first.get("id")
        votes: SentenceVotes = {}
        for name, path, (lineno, line) in zip(index.functions, paths, rows):
            if line.get("id") != sentence_id:
                raise InputError(f"{path}:{lineno} -> id: {line.get('id')!r}, where {paths[0]}:{first_line} has {sentence_id!r}; the votes files are not aligned")
            votes[name] = _parse(path, lineno, line)
        yield sentence_id, votes


def load_votes(folder: Path, ids: Iterable[Any]) -> dict[Any, SentenceVotes]:
    """The votes of the sentences ``ids``.

    Raises:
        InputError: a sentence has no votes in ``folder``.
    """
    wanted = set(ids)
    found = {sid: votes for sid, votes in read_votes(folder) if sid in wanted}
    missing = sorted(wanted - found.keys(), key=str)
    if missing:
        shown = ", ".join(map(repr, missing[:5])) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise InputError(f"{folder}: no votes for {len(missing)} sentences ({shown}); write the votes again with `eventds build` or `eventds label --votes`")
    return found


def doc_from_votes(text: str, votes: Mapping[str, FunctionVotes], tokenizer: Callable[[str], Tokens] = tokenize) -> Doc:
    """A doc of ``text`` whose span groups are ``votes`` (no function runs)."""
    doc = Doc(tokenizer(text))
    for name, v in votes.items():
        doc.spans[name] = list(v.spans)
        if v.generic:
            doc.generic[name] = set(v.generic)
        if v.failed:
            doc.failed.add(name)
    return doc


def aggregate_votes(
    text: str,
    votes: Mapping[str, FunctionVotes],
    aggregator: Aggregator,
    tokenizer: Callable[[str], Tokens] = tokenize,
    sentence_id: Any = None,
    stats: Optional[LabelStats] = None,
) -> list[Event]:
    """The events of a text from its votes: tokenize, aggregate and enrich, no function run."""
    doc = doc_from_votes(text, votes, tokenizer)
    return aggregator.events(doc, votes.keys(), sentence_id, stats, own_tokens=tokenizer is tokenize)


def votes_beside(records: Path, named: Optional[Path] = None) -> Optional[Path]:
    """The votes folder of a records file: ``named``, else ``votes/`` beside the records when it exists.

    Raises:
        InputError: ``named`` is not a folder.
    """
    if named is not None:
        if not Path(named).is_dir():
            raise InputError(f"{named}: no votes folder")
        return Path(named)
    beside = Path(records).parent / VOTES_DIR
    return beside if beside.is_dir() else None


def _aligned(items: Iterable[T], key: Callable[[T], Any], folder: Path) -> Iterator[tuple[T, SentenceVotes]]:
    """Each item with the votes of its id, read from ``folder`` in its order (the items may skip sentences).

    Raises:
        InputError: an item has no votes after those of the item before it.
    """
    votes = read_votes(folder)
    for item in items:
        sentence_id = key(item)
        for found, v in votes:
            if found == sentence_id:
                yield item, v
                break
        else:
            raise InputError(f"{folder}: no votes for sentence {sentence_id!r} (the votes are read in the order of the records)")


def aggregate_sentences(sentences: Iterable[Sentence], folder: Path, aggregator: Aggregator, stats: Optional[LabelStats] = None) -> Iterator[Sentence]:
    """Sentence records with their weak events recomputed from the votes in ``folder`` (in the records' order).

    ``weak_events`` are replaced; ``events`` and status too unless the record carries a
    human layer (as :func:`builder.weak.labeller.label_sentences` does).
    """
    index = read_index(folder)
    tokenizer = index.tokenizer()
    aggregator = Aggregator(aggregator.settings, index.recorded_editors())
    for sentence, votes in _aligned(sentences, lambda s: s.id, folder):
        events = aggregate_votes(sentence.text, votes, aggregator, tokenizer, sentence.id, stats)
        yield with_weak_events(sentence, events, index.labeller or sentence.labeller or "")


def aggregate_objects(objects: Iterable[dict[str, Any]], folder: Path, aggregator: Aggregator, stats: Optional[LabelStats] = None) -> Iterator[dict[str, Any]]:
    """``{"id", "text", ...}`` objects with their ``events`` recomputed from the votes in ``folder``."""
    index = read_index(folder)
    tokenizer = index.tokenizer()
    aggregator = Aggregator(aggregator.settings, index.recorded_editors())
    for obj, votes in _aligned(objects, lambda o: o.get("id"), folder):
        events = aggregate_votes(obj["text"], votes, aggregator, tokenizer, obj["id"], stats)
        yield {**obj, "events": [e.to_dict() for e in events], "labeller": index.labeller or obj.get("labeller")}
