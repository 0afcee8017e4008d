"""Cleaning: remove scrape noise from raw articles, logging every removal.

A raw article is cut into lines; every line break is a paragraph break. Rules from
``resources/clean_rules.json`` remove whole lines (comment sections, donation widgets,
bylines, captions, repeated paragraphs...). Nothing inside a kept line is altered apart
from trimming surrounding whitespace, so each kept character maps back to the raw text
through :attr:`CleanArticle.segments`.
"""

from __future__ import annotations

import datetime
import itertools
import json
import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from .errors import ConfigError, InputError
from .records import Article, CleanArticle, DocumentMeta, Removal, Segment

try:  # the regular expression parser, for the text a rule needs (re._parser since Python 3.11)
    from re import _constants as _sre, _parser as _sre_parse
except ImportError:  # pragma: no cover (Python 3.10)
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]
from _sre import unicode_iscased  # whether re's case-insensitive matching gives a character other forms

RULES_PATH = Path(__file__).parent / "resources" / "clean_rules.json"
#: Articles from which corpus-level boilerplate is learned before cleaning starts.
BOILERPLATE_WINDOW = 1000
PARAGRAPH_SEPARATOR = "\n\n"
_LINE_BREAK = re.compile(r"\r\n|\r|\n|\u2028|\u2029")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "′": "'"})
_NON_WORD = re.compile(r"[\W_]+")
#: The characters other than ASCII ones that a case-insensitive pattern matches with an ASCII
#: letter (``tests/test_clean.py`` looks through every character), as that letter.
_ASCII_LOOKALIKES = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


@dataclass(frozen=True)
class Line:
    start: int  # raw offset of the first non-space character
    end: int  # raw offset after the last non-space character
    text: str

    @cached_property
    def words(self) -> int:
        return len(self.text.split())

    @cached_property
    def normalised(self) -> str:
        """:func:`normalise` of the text."""
        return normalise(self.text)

    @cached_property
    def lowered(self) -> str:
        """The text in lower case (:func:`lowered`), where :attr:`LineRule.needs` are looked for."""
        return lowered(self.text)


def lowered(text: str) -> str:
    """``text`` in lower case, where :func:`needed_text` strings are looked for: the four
    letters that a case-insensitive pattern matches with ASCII ones are made those first."""
    return text.translate(_ASCII_LOOKALIKES).lower()


def holds_any(lowered_text: str, needs: Optional[frozenset[str]]) -> bool:
    """Whether a text, :func:`lowered`, holds one of ``needs`` (always, when nothing is known to be needed)."""
    if needs is None:
        return True
    for s in needs:  # (a loop: twice as quick as any() over a generator, on every line and rule)
        if s in lowered_text:
            return True
    return False


def needed_text(pattern: str, flags: int = re.IGNORECASE) -> Optional[frozenset[str]]:
    """Strings (lower case) of which every text that ``pattern`` finds a match in holds one,
    once lower-cased as :func:`lowered` does; ``None`` when none is known.

    Read from the parsed pattern: a run of literals is needed (ASCII characters, and others
    without case, such as ``©``; a class of a few of them, such as ``[ -]``, gives a string
    for each), and so is what any part that must match needs (a group, a branch whose every
    alternative needs something, a repeat of at least once); of those, the strings whose
    shortest is the longest are kept. Looking for them in the text is much faster than
    searching with most patterns, and a text holding none of them cannot match: the pattern
    need not be searched then."""
    try:
        parsed = _sre_parse.parse(pattern, flags)
    except re.error:
        return None
    found = _needed(parsed)
    # a string holding another of them adds nothing
    return frozenset(s for s in found if not any(t != s and t in s for t in found)) if found else None


_REPEATS = tuple(op for op in (getattr(_sre, name, None) for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")) if op is not None)
_ATOMIC = getattr(_sre, "ATOMIC_GROUP", None)


def _needed(items: Any) -> Optional[set[str]]:
    best: Optional[set[str]] = None

    def consider(candidate: Optional[set[str]]) -> None:
        nonlocal best
        if candidate and (best is None or _strength(candidate) > _strength(best)):
            best = candidate

    run = {""}  # the strings the literals read so far spell
    for op, av in [*items, (None, None)]:
        chars = _literal_chars(op, av)
        if chars and len(run) * len(chars) <= _MAX_VARIANTS:
            run = {s + c for s in run for c in chars}
            continue
        if run != {""}:
            consider(run)
        run = set(chars) if chars else {""}
        if op is _sre.SUBPATTERN:
            consider(_needed(av[-1]))
        elif op is not None and op is _ATOMIC:
            consider(_needed(av))
        elif op in _REPEATS and av[0] >= 1:
            consider(_needed(av[2]))
        elif op is _sre.BRANCH:
            alternatives = [_needed(a) for a in av[1]]
            if all(alternatives):
                consider(set().union(*alternatives))  # type: ignore[arg-type]
    return best


#: The most strings a run of literals (and classes of them) stands for.
_MAX_VARIANTS = 8


def _literal_chars(op: Any, av: Any) -> Optional[str]:
    """The characters (lower case) a literal or a class of a few literals matches, as
    :func:`lowered` has them; ``None`` for anything else (a letter other than ASCII has
    case forms that may lower-case otherwise: it ends a string)."""
    if op is _sre.LITERAL:
        return _plain_char(av)
    if op is _sre.IN and 0 < len(av) <= _MAX_VARIANTS and all(o is _sre.LITERAL for o, _ in av):
        chars = [_plain_char(a) for _, a in av]
        return "".join(dict.fromkeys(chars)) if all(chars) else None  # type: ignore[arg-type]
    return None


def _plain_char(code: int) -> Optional[str]:
    if code < 128:
        return chr(code).lower()
    c = chr(code)
    return None if unicode_iscased(code) or c.lower() != c else c


def _strength(strings: set[str]) -> tuple[int, int]:
    return min(map(len, strings)), -len(strings)


@dataclass(frozen=True)
class LineRule:
    name: str
    pattern: re.Pattern[str]
    not_first_line: bool = False
    max_words: Optional[int] = None  # the rule applies only to lines of at most this many words
    #: Strings one of which a line must hold for the pattern to match (:func:`needed_text`).
    needs: Optional[frozenset[str]] = None

    def matches(self, line: Line, i: int) -> bool:
        if self.not_first_line and i == 0:
            return False
        if self.max_words is not None and line.words > self.max_words:
            return False
        if self.needs is not None and not holds_any(line.lowered, self.needs):
            return False
        return self.pattern.search(line.text) is not None


@dataclass(frozen=True)
class Rules:
    version: str
    line_rules: tuple[LineRule, ...]
    widget_blocks: tuple[dict[str, Any], ...]
    trailing_sections: tuple[dict[str, Any], ...]
    byline: dict[str, Any]


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as e:
        raise ConfigError(f"{where}: invalid regular expression {pattern!r}: {e}") from e


@lru_cache(maxsize=None)
def load_rules(path: Path = RULES_PATH) -> Rules:
    """Load and compile the cleaning rules file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    line_rules = tuple(
        LineRule(r["name"], _compile(r["pattern"], f"{path} -> line_rules -> {i}"), bool(r.get("not_first_line")), r.get("max_words"), needed_text(r["pattern"]))
        for i, r in enumerate(data["line_rules"])
    )
    blocks = tuple(
        {**b, "start": _compile(b["start"], f"{path} -> widget_blocks -> {i}"), "continue": _compile(b["continue"], f"{path} -> widget_blocks -> {i}")}
        for i, b in enumerate(data["widget_blocks"])
    )
    sections = tuple(
        {**s, **{k: _compile(s[k], f"{path} -> trailing_sections -> {i} -> {k}") for k in ("start", "continue", "confirm") if k in s}}
        for i, s in enumerate(data["trailing_sections"])
    )
    byline = {**data["byline"], "name_pattern": _compile(data["byline"]["name_pattern"], f"{path} -> byline")}
    return Rules(data["version"], line_rules, blocks, sections, byline)


def split_lines(text: str) -> list[Line]:
    """Return the non-blank lines of ``text`` with their raw offsets, whitespace trimmed."""
    lines = []
    pos = 0
    for m in [*_LINE_BREAK.finditer(text), None]:
        end = m.start() if m else len(text)
        chunk = text[pos:end]
        stripped = chunk.strip()
        if stripped:
            lead = len(chunk) - len(chunk.lstrip())
            s = pos + lead
            lines.append(Line(s, s + len(stripped), stripped))
        if m:
            pos = m.end()
    return lines


def normalise(text: str) -> str:
    """Normalise a paragraph for duplicate detection: NFKC, quotes unified, case-folded, punctuation collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return _NON_WORD.sub(" ", text).strip()


def _trailing_section(lines: list[Line], rule: dict[str, Any]) -> Optional[int]:
    """Index of the first line of a trailing comment section, or ``None``.

    A section starts at a heading (``start``) and runs to the end of the article when either
    every later line continues it (``continue``) or is short (``max_words_otherwise``), or,
    for a rule with ``confirm``, when comment furniture (a timestamp, "Reply", a vote count)
    follows the heading within ``confirm_within`` lines: the comments themselves are prose.
    """
    for i, line in enumerate(lines):
        if i == 0 or not rule["start"].search(line.text):
            continue
        rest = lines[i + 1 :]
        if "confirm" in rule:
            if any(rule["confirm"].search(l.text) for l in rest[: rule["confirm_within"]]):
                return i
        elif all(rule["continue"].search(l.text) or l.words <= rule["max_words_otherwise"] for l in rest):
            return i
    return None


def classify_lines(lines: list[Line], author: Optional[str], rules: Rules) -> list[Optional[str]]:
    """Return, for each line, the name of the rule that removes it (``None`` to keep it)."""
    verdict: list[Optional[str]] = [None] * len(lines)

    for section in rules.trailing_sections:
        first = _trailing_section(lines, section)
        if first is not None:
            for j in range(first, len(lines)):
                verdict[j] = verdict[j] or section["name"]

    # A block never swallows a byline or a dateline: they carry the article's metadata.
    metadata_line = [any(r.name in METADATA_RULES and r.matches(line, i) for r in rules.line_rules) for i, line in enumerate(lines)]
    for block in rules.widget_blocks:
        i = 0
        while i < len(lines):
            if verdict[i] is None and block["start"].search(lines[i].text):
                verdict[i] = block["name"]
                j = i + 1
                last = i + block.get("max_lines", len(lines))
                while j < len(lines) and j <= last and not metadata_line[j] and (
                    block["continue"].search(lines[j].text) or lines[j].words <= block["absorb_short_lines"]
                ):
                    verdict[j] = verdict[j] or block["name"]
                    j += 1
                i = j
            else:
                i += 1

    author_key = normalise(author) if author else None
    header = rules.byline["header_lines"]
    for i, line in enumerate(lines):
        if verdict[i]:
            continue
        for rule in rules.line_rules:
            if rule.matches(line, i):
                verdict[i] = rule.name
                break
        else:
            if author_key and line.normalised == author_key:
                verdict[i] = rules.byline["name"]
            elif 0 < i < header and rules.byline["name_pattern"].search(line.text) and _before_body(lines, i):
                verdict[i] = rules.byline["name"]
            elif i == 0 and len(lines) > 1 and line.words == 1 and line.text.isalpha():
                verdict[i] = "section_label"

    seen: set[str] = set()
    for i, line in enumerate(lines):
        if verdict[i]:
            continue
        key = line.normalised
        if key in seen:
            verdict[i] = "repeated_paragraph"
        seen.add(key)

    # A pull quote: a short line that repeats words of a longer kept paragraph.
    kept = [l.normalised for l, v in zip(lines, verdict) if v is None]
    for i, line in enumerate(lines):
        if verdict[i] is None and i > 0 and line.words <= 30:
            key = line.normalised
            if key and len(key) >= 20 and any(key != other and f" {key} " in f" {other} " for other in kept):
                verdict[i] = "pull_quote"
    return verdict


#: Rules whose lines :func:`stated_metadata` reads.
METADATA_RULES = frozenset({"byline", "dateline"})
#: Noise whose furniture surrounds short lines of its own (a newsletter box's pitch between
#: its heading and its button, a comment between its timestamp and "Reply").
SANDWICH_FAMILIES = frozenset({"newsletter", "cookie_notice", "share_social", "tags", "comment_meta", "donation_widget"})
#: Boxes whose pitch sits between their heading or button and other page furniture.
BOX_FAMILIES = frozenset({"newsletter", "cookie_notice"})
_QUOTE_MARKS = re.compile("[\"“”«»]")
_NAME = re.compile(r"^(?:[A-Z][\w'’.-]+)(?: (?:[A-Z][\w'’.-]+|de|da|del|van|von|al|el|bin|ibn)){1,4}$")


def _headline_case(text: str) -> bool:
    """Most words capitalised, as a headline is written ("Militia Threatens US With Response")."""
    words = [w for w in text.split() if w[:1].isalpha()]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


def _context_rules(lines: list[Line], verdict: list[Optional[str]]) -> None:
    """Rules that read a kept line's neighbours (``verdict`` is updated in place):

    - ``photo_caption``: a line of at most 35 words, without quotation marks, between noise
      and a line that is only a photo credit (a lead image's caption; a line between body
      paragraphs and a credit may be the body, and is kept);
    - the family of its neighbours: a line of at most 25 words between two lines of one of
      :data:`SANDWICH_FAMILIES`, or of at most 20 words, not a headline, between a line of
      :data:`BOX_FAMILIES` and other noise;
    - ``byline``: a line that is only a name (2-5 capitalised words) next to a dateline, in
      the first 15 lines.

    A standfirst (the summary under the headline) is kept: it is the outlet's own text
    about the event, and an annotated sentence of the embedded corpus.
    """
    n = len(lines)
    for i in range(1, n):
        if verdict[i] is not None:
            continue
        line, after = lines[i], verdict[i + 1] if i + 1 < n else None
        before = verdict[i - 1]
        if (
            after in ("photo_credit", "photo_caption") and lines[i + 1].words <= 8 and before is not None
            and line.words <= 35 and not _QUOTE_MARKS.search(line.text)
        ):
            verdict[i] = "photo_caption"
        elif after is not None and after == before and after in SANDWICH_FAMILIES and line.words <= 25:
            verdict[i] = after
        elif after is not None and before is not None and {after, before} & BOX_FAMILIES and line.words <= 20 and not _headline_case(line.text):
            verdict[i] = after if after in BOX_FAMILIES else before
        elif _NAME.match(line.text) and "dateline" in (before, after) and i < 15:
            verdict[i] = "byline"


def _before_body(lines: list[Line], i: int, body_words: int = 12) -> bool:
    """True when no line before ``i`` (other than the first, the headline) reads as body prose."""
    return all(l.words < body_words for l in lines[1:i])


_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")


def content_like(line: Line) -> bool:
    """A line that reads as a paragraph of prose: a sentence of at least six words, or at
    least fifteen words. Such a line is content even when documents share it (syndicated
    wire copy, background paragraphs); boilerplate is short or not a sentence."""
    return line.words >= 15 or (line.words >= 6 and _SENTENCE_END.search(line.text) is not None)


def source_of(article: Article) -> str:
    """The source whose pages share boilerplate: the outlet or site the metadata names, the
    host of its URL, else one unnamed source for the whole corpus."""
    meta = article.meta
    for value in (meta.site_name, meta.outlet):
        if value:
            return value.casefold()
    url = meta.canonical_url or meta.source_url
    if url:
        host = url.split("://", 1)[-1].split("/", 1)[0].casefold()
        return host.removeprefix("www.")
    return ""


@dataclass
class Boilerplate:
    """Lines repeated across documents of one source (menus, footers, share rows, notices),
    learned from a window of documents: ``(source, normalised line)`` seen in at least
    ``min_documents`` documents, not counting lines that read as prose (:func:`content_like`):
    those are content even when documents share them (syndicated wire copy, a background
    paragraph reused by later stories)."""

    min_documents: int = 2
    documents: dict[tuple[str, str], int] = field(default_factory=dict)

    def observe(self, article: Article) -> None:
        self.count(*self.lines_of(article))

    @staticmethod
    def lines_of(article: Article) -> tuple[str, frozenset[str]]:
        """What :meth:`observe` counts of ``article``: its source and its normalised lines
        that do not read as prose (computed where the article is, counted where the window is)."""
        return source_of(article), frozenset(key for key in (l.normalised for l in split_lines(article.text) if not content_like(l)) if key)

    def count(self, source: str, keys: Iterable[str]) -> None:
        """Count one document of ``source`` holding the lines ``keys`` (from :meth:`lines_of`)."""
        for key in keys:
            self.documents[source, key] = self.documents.get((source, key), 0) + 1

    def repeated_only(self) -> "Boilerplate":
        """The same boilerplate without the lines seen too rarely to count (what a worker needs)."""
        return Boilerplate(self.min_documents, {k: n for k, n in self.documents.items() if n >= self.min_documents})

    def repeated(self, article: Article, line: Line) -> bool:
        if content_like(line):
            return False
        return self.documents.get((source_of(article), line.normalised), 0) >= self.min_documents


def clean_article(article: Article, rules: Optional[Rules] = None, boilerplate: Optional[Boilerplate] = None) -> CleanArticle:
    """Clean one article.

    Args:
        article: the raw article.
        rules: compiled rules; the shipped ``clean_rules.json`` by default.
        boilerplate: lines repeated across the corpus (removed as ``boilerplate``).

    Returns:
        The cleaned article, with its kept paragraphs, the map back to the raw text, the
        log of removals, and metadata the text states where the article had none.
    """
    rules = rules or load_rules()
    lines = split_lines(article.text)
    verdict = classify_lines(lines, article.meta.author, rules)
    if boilerplate is not None:
        for i, line in enumerate(lines):
            if verdict[i] is None and i > 0 and boilerplate.repeated(article, line):
                verdict[i] = "boilerplate"
    _context_rules(lines, verdict)
    parts: list[str] = []
    segments: list[Segment] = []
    removals: list[Removal] = []
    offset = 0
    for line, rule in zip(lines, verdict):
        if rule:
            removals.append(Removal(article.id, line.start, line.end, rule, line.text))
            continue
        if parts:
            parts.append(PARAGRAPH_SEPARATOR)
            offset += len(PARAGRAPH_SEPARATOR)
        segments.append(Segment(clean_start=offset, raw_start=line.start, length=len(line.text)))
        parts.append(line.text)
        offset += len(line.text)
    return CleanArticle(
        id=article.id,
        raw_text=article.text,
        text="".join(parts),
        meta=stated_metadata(article.meta, lines, verdict),
        segments=tuple(segments),
        removals=tuple(removals),
    )


def clean(articles: Iterable[Article], rules: Optional[Rules] = None) -> Iterator[CleanArticle]:
    """Clean a stream of articles.

    Corpus-level boilerplate (:class:`Boilerplate`) is learned from the first
    :data:`BOILERPLATE_WINDOW` articles, which are held in memory meanwhile, and applied to
    every article.

    Raises:
        InputError: an article is all noise (every line removed), naming it.
    """
    rules = rules or load_rules()
    stream = iter(articles)
    window = list(itertools.islice(stream, BOILERPLATE_WINDOW))
    boilerplate = Boilerplate()
    for article in window:
        boilerplate.observe(article)
    for article in itertools.chain(window, stream):
        yield check_cleaned(article, clean_article(article, rules, boilerplate))


def check_cleaned(article: Article, cleaned: CleanArticle) -> CleanArticle:
    """``cleaned``, unless every line of ``article`` was removed.

    Raises:
        InputError: naming the article when nothing is left of it.
    """
    if not cleaned.text.strip():
        where = f"{article.meta.source_file}: article {article.id!r}" if article.meta.source_file else f"article {article.id!r}"
        found = ", ".join(sorted({r.rule for r in cleaned.removals}))
        raise InputError(f"{where}: every line was removed as scrape noise ({found}); nothing is left to publish")
    return cleaned


_MONTHS = {m: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"), ("jul", "july"),
     ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"), ("dec", "december")], start=1) for m in names}
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)? ([A-Za-z]{3,9})\.?,? (\d{4})\b")
_MONTH_DAY_YEAR = re.compile(r"\b([A-Za-z]{3,9})\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})\b")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\b")
_BYLINE_NAME = re.compile(r"^(?:by|words by|written by|story by|text by)\s+(.+?)(?:\s*(?:,|\||\s[-–—]\s|\bfor\b|\bin\b).*)?$", re.IGNORECASE)


def stated_date(text: str) -> Optional[str]:
    """The first date a line states, as ``YYYY-MM-DD`` (day before month when numeric), or ``None``."""
    candidates = []
    for m in _ISO_DATE.finditer(text):
        candidates.append((m.start(), int(m[1]), int(m[2]), int(m[3])))
    for m in _DAY_MONTH_YEAR.finditer(text):
        if m[2].casefold() in _MONTHS:
            candidates.append((m.start(), int(m[3]), _MONTHS[m[2].casefold()], int(m[1])))
    for m in _MONTH_DAY_YEAR.finditer(text):
        if m[1].casefold() in _MONTHS:
            candidates.append((m.start(), int(m[3]), _MONTHS[m[1].casefold()], int(m[2])))
    for m in _NUMERIC_DATE.finditer(text):
        candidates.append((m.start(), int(m[3]), int(m[2]), int(m[1])))
    for _, year, month, day in sorted(candidates):
        try:
            return datetime.date(year, month, day).isoformat()
        except ValueError:
            continue
    return None


def stated_metadata(meta: DocumentMeta, lines: list[Line], verdict: list[Optional[str]]) -> DocumentMeta:
    """Fill the metadata an article lacks from what its text states, never inventing:

    - title: the first line, when it is kept and reads as a headline (at most 30 words,
      not ending like a sentence);
    - author: the name of the first ``byline`` line ("By Jane Doe, Reuters" -> "Jane Doe");
    - published: the date of the first ``dateline`` line.
    """
    title, author, published = meta.title, meta.author, meta.published
    if title is None and lines and verdict[0] is None and lines[0].words <= 30 and not _SENTENCE_END.search(lines[0].text.rstrip("”’\"'")):
        title = lines[0].text
    for line, rule in zip(lines, verdict):
        if author is None and rule == "byline":
            m = _BYLINE_NAME.match(line.text)
            if m and 1 <= len(m[1].split()) <= 12:
                author = m[1].strip()
        if published is None and rule == "dateline":
            published = stated_date(line.text)
    if (title, author, published) == (meta.title, meta.author, meta.published):
        return meta
    return replace(meta, title=title, author=author, published=published)


def dateline_date(text: str, rules: Optional[Rules] = None) -> Optional[str]:
    """The date of the first line of ``text`` that the ``dateline`` rules match, as ``YYYY-MM-DD``."""
    rules = rules or load_rules()
    for i, line in enumerate(split_lines(text)):
        if any(r.name == "dateline" and r.matches(line, i) for r in rules.line_rules):
            found = stated_date(line.text)
            if found:
                return found
    return None

