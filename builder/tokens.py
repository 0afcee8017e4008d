"""The labeller's tokenizer: spaCy's English token boundaries at regular-expression speed.

The weak labeller's throughput is measured against spaCy's bare tokenizer (issue 7), and
building a ``Doc`` with its ``Token`` and ``Span`` objects per sentence costs several times
what tokenizing does. :func:`tokenize` instead cuts a text with one compiled regular expression that
follows the rules of spaCy's English tokenizer that matter in news text (prefix, suffix and
infix punctuation, ``n't`` and ``'s`` clitics, abbreviations such as ``Mr.`` and ``U.S.``,
numbers with separators, hyphens before digits, URLs and e-mail addresses, extra whitespace
as tokens). ``tests/test_tokens.py`` checks it against ``spacy.blank("en")`` on the corpus,
the held-out set and odd inputs; the labels it gives equal those over spaCy's tokens.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import accumulate
from typing import Optional


# Punctuation between two word characters that spaCy's infix rules do not split (it keeps
# "29,killing", "a,1", "a:1", "1/2", "attack;the" whole): such texts go to spaCy itself.
# Written to start with the punctuation, which the engine scans for quickly; the first is a
# cheap superset of the second (it also fires on "1,000" and "attack,the").
_GLUED_ANY = re.compile(r"[^\w\s\-'’.](?=\w)(?<=\w.)")
_GLUED = re.compile(r",(?<=\d,)(?=[^\W\d_])|,(?<=[^\W\d_],)(?=\d)|[:/](?<=\w[:/])(?=\d)|[^\w\s\-'’.,:/](?<=\w.)(?=\w)")
_WORD_DOT_LETTER = re.compile(r"\.(?=[^\W\d_])(?<=[^\W\d_]{2}\.)")  # starts with the literal: a fast scan


#: The tokens of a space-delimited chunk: (lower-case words, their offsets in the chunk, its length).
Chunk = tuple[tuple[str, ...], tuple[int, ...], int]


class Tokens:
    """A tokenized text: its lower-case token strings and (computed when first asked) their offsets."""

    __slots__ = ("text", "words", "_chunks", "_starts")

    def __init__(self, text: str, words: list[str], starts: Optional[list[int]] = None, chunks: Optional[list[Chunk]] = None):
        self.text = text
        self.words = words
        self._starts = starts
        self._chunks = chunks  # the tokens of each space-delimited chunk: the offsets follow from them

    @property
    def starts(self) -> list[int]:
        """Character offset of each token."""
        if self._starts is None:
            chunks = self._chunks or []
            offsets = accumulate((length + 1 for _, _, length in chunks), initial=0)
            self._starts = [offset + s for offset, (_, starts, _) in zip(offsets, chunks) for s in starts]
        return self._starts

    def __repr__(self) -> str:
        return f"Tokens({self.text!r}, {self.words!r})"


def _trie(words: list[str]) -> str:
    """A regular expression matching exactly ``words``, as a trie (fast to try at every token)."""
    tree: dict = {}
    for w in words:
        node = tree
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: dict) -> str:
        alts = [re.escape(ch) + walk(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return walk(tree)


def _spacy():
    """spaCy's own English tokenizer (of the blank pipeline the other stages load once)."""
    from .nlp import tokenizer

    return tokenizer().tokenizer


@lru_cache(maxsize=None)
def _patterns() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """The (plain, apostrophes, general) token patterns; see :func:`tokenize` for which is used when."""
    from spacy.symbols import ORTH

    rules = _spacy().rules
    # spaCy's single-token exceptions that end in a full stop ("Mr.", "Gen.", "Sept.", "Calif.").
    abbreviations = sorted({k[:-1].lower() for k in rules if k.endswith(".") and len(rules[k]) == 1 and k[:-1].replace(".", "").isalpha() and len(k) > 2})
    abbr = rf"{_trie(abbreviations)}\.(?!\w)"  # the fast patterns cut lower-cased text
    abbr_any_case = rf"(?i:{_trie(abbreviations)})\.(?!\w)"
    initials = r"(?:[^\W\d_]\.)+(?:-\w+)*"  # U.S., e.g., J., U.S.-led
    number = r"\d+(?:[.,:]\d+)+"  # 1,000  3.5  10:30
    # covid-19 (a hyphen before a digit stays), attack.the (a full stop before a capital splits)
    # hyphens are only split between words: a leading or trailing one stays ("-attack", "al-")
    joined = r"(?<=[^\W\d_])-(?=\d)\w+|\.(?![A-Z])\w+"
    lead, trail = r"(?:(?<!\w)-+(?=\w))?", r"(?:-++(?!\w))?"
    word = rf"{lead}\w+(?:{joined})*{trail}"
    # spaCy's contraction exceptions (do n't, wo nt, they 'll, I 'm): stems by clitic.
    stems: dict[str, set[str]] = {}
    for key, pieces in rules.items():
        if len(pieces) == 2 and pieces[0][ORTH] + pieces[1][ORTH] == key:
            clitic = pieces[1][ORTH].lower().replace("’", "'")
            if clitic in ("n't", "nt", "'ve", "'d", "'ll", "'re", "'m"):
                stems.setdefault("n't" if clitic == "nt" else clitic, set()).add(pieces[0][ORTH].lower())
    negation_stems = _trie(sorted(stems.pop("n't")))
    negations = rf"(?:{negation_stems})(?=n['’]?t\b)|n['’]?t\b"
    clitics = "|".join(rf"(?:{_trie(sorted(words))})(?=['’]{c[1:]}\b)" for c, words in sorted(stems.items()))
    clitics += r"|['’](?:s|re|ve|ll|d|m)\b"  # the clitic after its stem; "'s" after any word (a suffix)
    word_apostrophe = rf"{lead}\w+(?:['’](?!s\b)\w+|{joined})*{trail}"  # Kata’ib, o'clock
    punct = r"\.{2,}|-{2,}|[^\w\s]"
    # First, what most tokens are: a word not followed by a character that could extend it
    # (possessive, so that it never backtracks into a shorter word), or plain punctuation.
    common = rf"can(?=not\b)|{negations}|\w++(?![.,:\-'’])|[,;:!?()\[\]\"“”](?!-)"
    web = r"(?:https?://|www\.)\S+?(?=[.,;:!?)\]\"'”’]*(?:\s|$))|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|@\w+"
    plain = re.compile(rf"(?:{common}|{abbr}|{initials}|{number}|{word}|{punct}) ?")
    apostrophes = re.compile(rf"(?:{common}|{abbr}|{initials}|{number}|{clitics}|{word_apostrophe}|{punct}) ?")
    general = re.compile(rf"({web}|{common}|{abbr_any_case}|{initials}|{number}|{clitics}|{word_apostrophe}|{punct}|\s+) ?")
    return plain, apostrophes, general


#: The tokens of each space-delimited chunk seen. Like spaCy's tokenizer, which also works
#: chunk by chunk and caches, most words of news text are found here; the cache is emptied
#: when it reaches :data:`CACHE_SIZE` entries.
_CHUNKS: dict[str, Chunk] = {}
CACHE_SIZE = 100_000


def tokenize(text: str) -> Tokens:
    """Split ``text`` into spaCy-compatible tokens, lower-cased, with their offsets.

    Single-spaced printable text is cut at its spaces, as spaCy's tokenizer does, and each
    chunk is tokenized once (:func:`tokenize_chunk`) and then found in a cache; anything
    else (line breaks, runs of spaces, tabs) is tokenized whole by :func:`tokenize_chunk`.
    """
    if "  " in text or text.startswith(" ") or not text.isprintable():
        return tokenize_chunk(text)
    cache = _CHUNKS
    words: list[str] = []
    chunks: list[Chunk] = []
    for chunk in text.split(" "):
        hit = cache.get(chunk)
        if hit is None:
            if len(cache) >= CACHE_SIZE:
                cache.clear()
            tokens = tokenize_chunk(chunk)
            hit = cache[chunk] = (tuple(tokens.words), tuple(tokens.starts), len(chunk))
        words += hit[0]
        chunks.append(hit)
    return Tokens(text, words, chunks=chunks)


def tokenize_chunk(text: str) -> Tokens:
    """Split ``text`` into spaCy-compatible tokens, lower-cased, with their offsets, in one pass (no cache).

    Single-spaced printable text without web addresses takes one ``findall`` (the offsets
    are the running sum of the matched lengths); anything else (line breaks, runs of spaces,
    tabs, ``@``, URLs) takes the general pattern, which also makes spaCy's whitespace tokens.
    """
    plain, apostrophes, general = _patterns()
    lower = text.lower()
    # The fast patterns cut the lower-cased text of single-spaced printable text, unless
    # lower-casing changes a length ("İ") or a full stop joins two words (spaCy splits
    # "attack.The" but not "attack.the"); the general pattern takes the rest.
    if (
        len(lower) == len(text)
        and text.isprintable()
        and "  " not in text
        and not text.startswith(" ")
        and "@" not in text
        and "://" not in text
        and "www." not in text
        and not _WORD_DOT_LETTER.search(text)
        and not (_GLUED_ANY.search(text) and _GLUED.search(text))
    ):
        pattern = apostrophes if ("'" in text or "’" in text) else plain
        pieces = pattern.findall(lower)  # each token with its trailing space
        starts = [0, *accumulate(map(len, pieces))]
        starts.pop()
        return Tokens(text, list(map(str.rstrip, pieces)), starts)
    if _GLUED.search(text):  # punctuation inside a word that spaCy keeps whole ("29,killing", "a:1")
        doc = _spacy()(text)
        return Tokens(text, [t.lower_ for t in doc], [t.idx for t in doc])
    words, starts = [], []
    for m in general.finditer(text):
        words.append(m.group(1).lower())
        starts.append(m.start())
    return Tokens(text, words, starts)
