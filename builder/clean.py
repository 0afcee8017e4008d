"""Cleaning: remove scrape noise from raw articles, logging every removal.

A raw article is cut into lines; every line break is a paragraph break. Rules from
``resources/clean_rules.json`` remove whole lines (comment sections, donation widgets,
bylines, captions, repeated paragraphs...). Nothing inside a kept line is altered apart
from trimming surrounding whitespace, so each kept character maps back to the raw text
through :attr:`CleanArticle.segments`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from .errors import ConfigError, InputError
from .records import Article, CleanArticle, Removal, Segment

RULES_PATH = Path(__file__).parent / "resources" / "clean_rules.json"
PARAGRAPH_SEPARATOR = "\n\n"
_LINE_BREAK = re.compile(r"\r\n|\r|\n|\u2028|\u2029")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "′": "'"})
_NON_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Line:
    start: int  # raw offset of the first non-space character
    end: int  # raw offset after the last non-space character
    text: str

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class Rules:
    version: str
    line_rules: tuple[tuple[str, re.Pattern[str], bool], ...]
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
        (r["name"], _compile(r["pattern"], f"{path} -> line_rules -> {i}"), bool(r.get("not_first_line")))
        for i, r in enumerate(data["line_rules"])
    )
    blocks = tuple(
        {**b, "start": _compile(b["start"], f"{path} -> widget_blocks -> {i}"), "continue": _compile(b["continue"], f"{path} -> widget_blocks -> {i}")}
        for i, b in enumerate(data["widget_blocks"])
    )
    sections = tuple(
        {**s, "start": _compile(s["start"], f"{path} -> trailing_sections -> {i}"), "continue": _compile(s["continue"], f"{path} -> trailing_sections -> {i}")}
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
    """Index of the first line of a trailing comment section, or ``None``."""
    for i, line in enumerate(lines):
        if not rule["start"].search(line.text):
            continue
        rest = lines[i + 1 :]
        if all(rule["continue"].search(l.text) or l.words <= rule["max_words_otherwise"] for l in rest):
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

    for block in rules.widget_blocks:
        i = 0
        while i < len(lines):
            if verdict[i] is None and block["start"].search(lines[i].text):
                verdict[i] = block["name"]
                j = i + 1
                while j < len(lines) and (
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
        for name, pattern, not_first_line in rules.line_rules:
            if not (not_first_line and i == 0) and pattern.search(line.text):
                verdict[i] = name
                break
        else:
            if author_key and normalise(line.text) == author_key:
                verdict[i] = rules.byline["name"]
            elif 0 < i < header and rules.byline["name_pattern"].search(line.text) and _before_body(lines, i):
                verdict[i] = rules.byline["name"]
            elif i == 0 and len(lines) > 1 and line.words == 1 and line.text.isalpha():
                verdict[i] = "section_label"

    seen: set[str] = set()
    for i, line in enumerate(lines):
        if verdict[i]:
            continue
        key = normalise(line.text)
        if key in seen:
            verdict[i] = "repeated_paragraph"
        seen.add(key)
    return verdict


def _before_body(lines: list[Line], i: int, body_words: int = 12) -> bool:
    """True when no line before ``i`` (other than the first, the headline) reads as body prose."""
    return all(l.words < body_words for l in lines[1:i])


def clean_article(article: Article, rules: Optional[Rules] = None) -> CleanArticle:
    """Clean one article.

    Args:
        article: the raw article.
        rules: compiled rules; the shipped ``clean_rules.json`` by default.

    Returns:
        The cleaned article, with its kept paragraphs, the map back to the raw text and
        the log of removals.
    """
    rules = rules or load_rules()
    lines = split_lines(article.text)
    verdict = classify_lines(lines, article.meta.author, rules)
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
        meta=article.meta,
        segments=tuple(segments),
        removals=tuple(removals),
    )


def clean(articles: Iterable[Article], rules: Optional[Rules] = None) -> Iterator[CleanArticle]:
    """Clean a stream of articles.

    Raises:
        InputError: an article is all noise (every line removed), naming it.
    """
    rules = rules or load_rules()
    for article in articles:
        cleaned = clean_article(article, rules)
        if not cleaned.text.strip():
            where = f"{article.meta.source_file}: article {article.id!r}" if article.meta.source_file else f"article {article.id!r}"
            found = ", ".join(sorted({r.rule for r in cleaned.removals}))
            raise InputError(f"{where}: every line was removed as scrape noise ({found}); nothing is left to publish")
        yield cleaned
