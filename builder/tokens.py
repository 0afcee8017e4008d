"""The labeller's tokenizer: spaCy's English token boundaries at regular-expression speed.

The weak labeller must keep half the throughput of spaCy's bare tokenizer (issue 7), which
leaves no room for building a ``Doc``, its ``Token`` objects and ``Span`` objects per
sentence. :func:`tokenize` instead cuts a text with one compiled regular expression that
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


class Tokens:
    """A tokenized text: its lower-case token strings and (computed when first asked) their offsets."""

    __slots__ = ("text", "words", "_chunks", "_starts")

    def __init__(self, text: str, words: list[str], starts: Optional[list[int]] = None, chunks: Optional[list[str]] = None):
        self.text = text
        self.words = words
        self._starts = starts
        self._chunks = chunks  # each token with its trailing space: the offsets are their running sum

    @property
    def starts(self) -> list[int]:
        """Character offset of each token."""
        if self._starts is None:
            starts = [0, *accumulate(map(len, self._chunks))]
            starts.pop()
            self._starts = starts
        return self._starts

    def end(self, i: int) -> int:
        """Character offset just past token ``i``."""
        return self.starts[i] + len(self.words[i])

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


@lru_cache(maxsize=None)
def _patterns() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """The (plain, apostrophes, general) token patterns; see :func:`tokenize` for which is used when."""
    import spacy

    rules = spacy.blank("en").tokenizer.rules
    # spaCy's single-token exceptions that end in a full stop ("Mr.", "Gen.", "Sept.", "Calif.").
    abbreviations = sorted({k[:-1].lower() for k in rules if k.endswith(".") and len(rules[k]) == 1 and k[:-1].replace(".", "").isalpha() and len(k) > 2})
    abbr = rf"(?:{_trie(abbreviations)})\.(?!\w)"
    initials = r"(?:[^\W\d_]\.)+(?:-\w+)*"  # U.S., e.g., J., U.S.-led
    number = r"\d+(?:[.,:]\d+)+"  # 1,000  3.5  10:30
    word = r"\w+(?:(?<=[^\W\d_])-(?=\d)\w+)*"  # covid-19 (a hyphen before a digit stays)
    clitics = r"\w+(?=n['’]t\b)|n['’]t\b|['’](?:s|re|ve|ll|d|m)\b"  # do n't, Israel 's, they 'll
    word_apostrophe = r"\w+(?:['’](?!(?:s|re|ve|ll|d|m|t)\b)\w+|(?<=[^\W\d_])-(?=\d)\w+)*"  # Kata’ib, o'clock
    punct = r"\.{2,}|-{2,}|[^\w\s]"
    # First, what most tokens are: a word not followed by a character that could extend it
    # (possessive, so that it never backtracks into a shorter word), or plain punctuation.
    common = r"can(?=not\b)|\w++(?![.,:\-'’])|[,;:!?()\[\]\"“”]"
    web = r"(?:https?://|www\.)\S+?(?=[.,;:!?)\]\"'”’]*(?:\s|$))|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|@\w+"
    plain = re.compile(rf"(?:{common}|{abbr}|{initials}|{number}|{word}|{punct}) ?")
    apostrophes = re.compile(rf"(?:{common}|{abbr}|{initials}|{number}|{clitics}|{word_apostrophe}|{punct}) ?")
    general = re.compile(rf"({web}|{common}|{abbr}|{initials}|{number}|{clitics}|{word_apostrophe}|{punct}|\s+) ?")
    return plain, apostrophes, general


def tokenize(text: str) -> Tokens:
    """Split ``text`` into spaCy-compatible tokens, lower-cased, with their offsets.

    Single-spaced printable text without web addresses takes one ``findall`` (the offsets
    are the running sum of the matched lengths); anything else (line breaks, runs of spaces,
    tabs, ``@``, URLs) takes the general pattern, which also makes spaCy's whitespace tokens.
    """
    plain, apostrophes, general = _patterns()
    lower = text.lower()
    # The patterns ignore case, so they cut the lower-cased text, unless lower-casing changed
    # a length ("İ"): then they cut the text and each token is lower-cased.
    source = lower if len(lower) == len(text) else text
    if text.isprintable() and "  " not in text and not text.startswith(" ") and "@" not in text and "://" not in text and "www." not in text:
        pattern = apostrophes if ("'" in text or "’" in text) else plain
        chunks = pattern.findall(source)
        words = list(map(str.rstrip, chunks)) if source is lower else [c.rstrip().lower() for c in chunks]
        return Tokens(text, words, chunks=chunks)
    words, starts = [], []
    for m in general.finditer(source):
        words.append(m.group(1).lower())
        starts.append(m.start())
    return Tokens(text, words, starts)
