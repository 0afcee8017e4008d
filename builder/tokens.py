"""The labeller's tokenizer: exactly spaCy's English token boundaries, at regular-expression speed.

The weak labeller's throughput is measured against spaCy's bare tokenizer (issue 7), and
building a ``Doc`` with its ``Token`` and ``Span`` objects per sentence costs several times
what tokenizing does. :func:`tokenize` instead cuts a text at its spaces, as spaCy's
tokenizer does, and tokenizes each space-delimited chunk once, then finds it in a cache.

A chunk is tokenized by a short rule only when it has a shape whose tokens follow from
spaCy's prefix, suffix and infix rules alone: opening brackets, quotes and currency signs,
then a word, a number or hyphen-joined words and numbers, then a possessive ``'s`` and
closing punctuation ("(Reuters)", "attack,", "U.N.-backed" is not one). The chunk goes to
spaCy's own tokenizer instead when one of its token runs is a spaCy special case ("don't",
"a.", ":)", "''") or when it has any other shape ("==Attack==", "threat'-Friday", URLs,
e-mail addresses, emoji, abbreviations). Every token boundary is therefore spaCy's, for any
text; ``tests/test_tokens.py`` checks it on generated news text and on every special case.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

from spacy.symbols import ORTH
from spacy.tokenizer import Tokenizer


#: The tokens of a space-delimited chunk: (lower-case words, their starts and ends in the chunk,
#: its length, whether its neighbours can change them; see :func:`_context_sensitive`).
Chunk = tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...], int, bool]


class Tokens:
    """A tokenized text: its lower-case token strings and (computed when first asked) their offsets."""

    __slots__ = ("text", "words", "_chunks", "_starts", "_ends")

    def __init__(
        self,
        text: str,
        words: list[str],
        starts: Optional[list[int]] = None,
        chunks: Optional[list[Chunk]] = None,
        ends: Optional[list[int]] = None,
    ):
        self.text = text
        self.words = words
        self._starts = starts
        self._ends = ends
        self._chunks = chunks  # the tokens of each space-delimited chunk: the offsets follow from them

    def _offsets(self, which: int) -> list[int]:
        out: list[int] = []
        offset = 0
        for chunk in self._chunks or ():
            out += [offset + s for s in chunk[which]]
            offset += chunk[3] + 1
        return out

    @property
    def starts(self) -> list[int]:
        """Character offset of each token."""
        if self._starts is None:
            self._starts = self._offsets(1)
        return self._starts

    @property
    def ends(self) -> list[int]:
        """Character offset just after each token (lower-casing may change a word's length: "İ")."""
        if self._ends is None:
            if self._chunks is not None:
                self._ends = self._offsets(2)
            else:
                self._ends = [s + len(w) for s, w in zip(self.starts, self.words)]
        return self._ends

    def __repr__(self) -> str:
        return f"Tokens({self.text!r}, {self.words!r})"


def _spacy():
    """spaCy's own English tokenizer (of the blank pipeline the other stages load once)."""
    from .nlp import tokenizer

    return tokenizer().tokenizer


# Letters that spaCy's character classes count as letters (ALPHA), and a run of them or of
# digits (with an ordinal or plural ending). A hyphen between two such runs is split off unless a digit run follows a letter
# run ("covid-19" stays whole; "drone-strike", "25-year-old" and "10-15" are cut).
_LETTERS = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f"
_SEGMENT = re.compile(rf"(?:[{_LETTERS}]+|\d+(?:st|nd|rd|th|s)?)")  # "21st", "1990s": no unit suffix
_DIGITS_AFTER_LETTERS = re.compile(rf"(?<=[{_LETTERS}])-(?=\d)")
# Opening characters (each a spaCy prefix), the core, a possessive (a spaCy suffix), then
# closing characters (each a spaCy suffix; "." and "%" only where their look-behind holds,
# checked in :func:`_simple_chunk`).
_SIMPLE = re.compile(
    rf"""(?P<open>[(\[{{"“‘'$£€]*)
         (?P<core>\d+(?:[.,:]\d+)+|{_SEGMENT.pattern}(?:-{_SEGMENT.pattern})*)
         (?P<poss>['’]s)?
         (?P<close>[,;:!?)\]}}"”’'.%]*)""",
    re.VERBOSE,
)
# Characters after which a closing full stop is a suffix of its own (spaCy: a digit, a
# lower-case letter, "%", punctuation, a quote; "Iraq." but not "A." or "PhD.").
_BEFORE_STOP = frozenset("0123456789abcdefghijklmnopqrstuvwxyz%,;:!?)]}\"”’'")
_TWO_CAPITALS = re.compile("[A-Z]{2}")  # "IRGC." splits too


@lru_cache(maxsize=None)
def _special_cases() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """spaCy's special cases: (every key, the keys that are one token of the same text, the
    keys that its tokenizer finds after cutting a text, where they change the tokens)."""
    spacy_tokenizer = _spacy()
    rules = spacy_tokenizer.rules
    unchanged = frozenset(k for k, pieces in rules.items() if len(pieces) == 1 and pieces[0][ORTH] == k)
    # spaCy's Tokenizer.add_special_case: a key with a prefix, suffix, infix or space is also
    # looked for in the cut tokens of the whole text (a phrase matcher over the doc).
    plain = Tokenizer(
        spacy_tokenizer.vocab,
        prefix_search=spacy_tokenizer.prefix_search,
        suffix_search=spacy_tokenizer.suffix_search,
        infix_finditer=spacy_tokenizer.infix_finditer,
        url_match=spacy_tokenizer.url_match,
    )
    from .nlp import bounded_vocab, tokenizer

    with bounded_vocab(tokenizer()):  # (it shares the vocabulary of _with_spacy's pipeline: one thread at a time)
        found_later = frozenset(
            k
            for k, pieces in rules.items()
            if (spacy_tokenizer.find_prefix(k) or spacy_tokenizer.find_suffix(k) or spacy_tokenizer.find_infix(k) or " " in k)
            and [t.text for t in plain(k)] != [p[ORTH] for p in pieces]
        )
    return frozenset(rules), unchanged, found_later


def _context_sensitive(chunk: str, starts: list[int], ends: list[int]) -> bool:
    """Whether spaCy's tokens of ``chunk`` may differ beside other chunks.

    spaCy applies special cases that contain punctuation (":)", "''", "a.") by matching them
    over the tokens of the whole text, longest match first, and a match across a space
    ("' '" in "threat' ''attack''") changes nothing but blocks the matches it overlaps.
    A chunk whose tokens contain such a special case is therefore tokenized within its text.
    """
    found_later = _special_cases()[2]
    n = len(starts)
    return any(chunk[starts[a] : ends[b]] in found_later for a in range(n) for b in range(a, n))


def _simple_chunk(chunk: str) -> Optional[tuple[list[int], list[int]]]:
    """The token starts and ends of ``chunk`` when it has a shape that spaCy's affix and infix
    rules decide alone and no special case applies to; ``None`` otherwise."""
    m = _SIMPLE.fullmatch(chunk)
    if m is None:
        return None
    core_start, core_end = m.span("core")
    poss, close = m.group("poss"), m.group("close")
    before = poss[-1] if poss else chunk[core_end - 1]
    for i, ch in enumerate(close):
        if ch == ".":
            if before == "." or not (before in _BEFORE_STOP or (i == 0 and not poss and _TWO_CAPITALS.fullmatch(chunk, core_end - 2, core_end))):
                return None
        elif ch == "%" and not (i == 0 and not poss and before.isdigit()):
            return None
        before = ch
    starts = list(range(core_start))
    ends = list(range(1, core_start + 1))
    core = m.group("core")
    if "-" in core:
        at = core_start
        keep = {h.start() for h in _DIGITS_AFTER_LETTERS.finditer(core)}
        piece_start = at
        for h in (i for i, ch in enumerate(core) if ch == "-" and i not in keep):
            starts += [piece_start, core_start + h]
            ends += [core_start + h, core_start + h + 1]
            piece_start = core_start + h + 1
        starts.append(piece_start)
        ends.append(core_end)
    else:
        starts.append(core_start)
        ends.append(core_end)
    if poss:
        starts.append(core_end)
        ends.append(core_end + 2)
    tail = m.start("close")
    starts += range(tail, len(chunk))
    ends += range(tail + 1, len(chunk) + 1)
    # A special case applies to a run of tokens that is a key ("a.", "''", ":)", "dont"),
    # unless it is a single token that the special case leaves as it is.
    specials, unchanged, _ = _special_cases()
    n = len(starts)
    for a in range(n):
        for b in range(a, n):
            piece = chunk[starts[a] : ends[b]]
            if piece in specials and (a != b or piece not in unchanged):
                return None
    return starts, ends


def _with_spacy(text: str) -> tuple[list[str], list[int], list[int]]:
    from .nlp import bounded_vocab, tokenizer

    nlp = tokenizer()  # (the pipeline of _spacy())
    with bounded_vocab(nlp):  # (its vocabulary would keep every URL, number and name it cuts)
        doc = nlp.tokenizer(text)
        return [t.lower_ for t in doc], [t.idx for t in doc], [t.idx + len(t) for t in doc]


def tokenize_chunk(chunk: str) -> Chunk:
    """The tokens of a chunk without spaces, without the cache: by :func:`_simple_chunk`
    when it decides them, by spaCy otherwise.

    Returns:
        ``(words, starts, ends, len(chunk), context_sensitive)``: lower-case token strings,
        their offsets, and whether other chunks of a text can change them.
    """
    simple = _simple_chunk(chunk) if chunk else ([], [])
    if simple is None:
        words, starts, ends = _with_spacy(chunk)
        sensitive = _context_sensitive(chunk, starts, ends)
    else:
        starts, ends = simple
        words = [chunk[s:e].lower() for s, e in zip(starts, ends)]
        sensitive = False
    return tuple(words), tuple(starts), tuple(ends), len(chunk), sensitive


#: The tokens of each space-delimited chunk seen. Like spaCy's tokenizer, which also works
#: chunk by chunk and caches, most words of news text are found here; the cache is emptied
#: when it reaches :data:`CACHE_SIZE` entries (about 350 bytes each: 7 MiB at most). On
#: 300k distinct generated news sentences, 20,000 entries miss 207k chunks where 100,000
#: miss 67k (and hold up to 33 MiB), for about 1 us a sentence more.
_CHUNKS: dict[str, Chunk] = {}
CACHE_SIZE = 20_000


def tokenize(text: str) -> Tokens:
    """Split ``text`` into spaCy's tokens, lower-cased, with their offsets.

    Single-spaced printable text is cut at its spaces, as spaCy's tokenizer does, and each
    chunk is tokenized once (:func:`tokenize_chunk`) and then found in a cache; anything
    else (line breaks, runs of spaces, tabs, other space characters), and a text with a
    chunk whose tokens its neighbours can change, goes to spaCy whole.
    """
    if "  " in text or text.startswith(" ") or not text.isprintable():
        return _whole(text)
    cache = _CHUNKS
    words: list[str] = []
    chunks: list[Chunk] = []
    sensitive = False
    for chunk in text.split(" "):
        hit = cache.get(chunk)
        if hit is None:
            if len(cache) >= CACHE_SIZE:
                cache.clear()
            hit = cache[chunk] = tokenize_chunk(chunk)
        words += hit[0]
        chunks.append(hit)
        sensitive = sensitive or hit[4]
    if sensitive and len(chunks) > 1:
        return _whole(text)
    return Tokens(text, words, chunks=chunks)


def _whole(text: str) -> Tokens:
    words, starts, ends = _with_spacy(text)
    return Tokens(text, words, starts, ends=ends)
