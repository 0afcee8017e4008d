"""Ingestion: read articles from the embedded corpus, a folder, a text or HTML file, a web
archive or JSONL.

A folder holds ``.txt`` files, HTML pages (``.html``, ``.htm``) and web archives
(``.warc``, ``.warc.gz``), or a ``manifest.jsonl`` naming its files. The main text of an
HTML page becomes the article's raw text (:mod:`builder.html`); a web archive gives one
article per HTML page it holds (:mod:`builder.warc`). Every reader is a generator of
:class:`~builder.records.Article`; nothing is held in memory beyond the article being read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Optional

from .errors import InputError
from .html import MAX_PAGE_BYTES, article_from_page
from .io import check_path, forbidden_characters, read_jsonl
from .labelset import project_file
from .records import Article, DocumentMeta
from .warc import WarcCounts, is_warc, read_warc, uri_id

META_FIELDS = ("outlet", "title", "published", "author")
MANIFEST_NAME = "manifest.jsonl"
HTML_SUFFIXES = (".html", ".htm")
#: Longest article accepted, in characters: spaCy's default ``max_length``, about 150,000
#: words, far beyond any news article. Longer input is refused before it is read whole.
MAX_ARTICLE_CHARS = 1_000_000


def default_corpus() -> Path:
    """The corpus embedded in the project (``corpus/``)."""
    return project_file("corpus")


def _read_bytes(path: Path, what: str, limit: int, limit_text: str) -> bytes:
    """The bytes of the file ``path``, refused by its size before it is read when over ``limit``.

    Raises:
        InputError: naming the file when it is not a readable file (:func:`check_path`), is
            too large (``limit_text`` says the limit) or cannot be read.
    """
    check_path(path, what)
    try:
        size = path.stat().st_size
        if size > limit:
            raise InputError(f"{path}: the file is {size:,} bytes long, over the limit of {limit_text}")
        return path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot be read: {e.strerror}") from e


def _page_article(doc_id: str, data: bytes | str, where: str, **kwargs) -> Article:
    """:func:`builder.html.article_from_page`, its extracted text held to :func:`check_article_text`."""
    article = article_from_page(doc_id, data, where, **kwargs)
    check_article_text(article.text, where)
    return article


def check_article_text(text: str, where: str) -> str:
    """Return ``text`` if it can be an article: not blank, not over :data:`MAX_ARTICLE_CHARS`,
    no NUL or lone surrogate; else raise :class:`InputError` naming ``where``."""
    if not text.strip():
        raise InputError(f"{where}: the article has no text" + (" (only whitespace)" if text else ""))
    if len(text) > MAX_ARTICLE_CHARS:
        raise InputError(f"{where}: the article is {len(text):,} characters long, over the limit of {MAX_ARTICLE_CHARS:,}; split it into several articles")
    for _, what in forbidden_characters(text):
        raise InputError(f"{where}: {what}")
    return text


def read_text_file(path: Path) -> str:
    """Read a UTF-8 text file (a leading BOM is dropped) holding one article.

    Raises:
        InputError: naming the file when it is missing, a folder, a symbolic link loop,
            unreadable, binary, not UTF-8, empty, or longer than :data:`MAX_ARTICLE_CHARS`
            (checked on its size before it is read).
    """
    # UTF-8 takes at most 4 bytes a character
    data = _read_bytes(path, "text file", 4 * MAX_ARTICLE_CHARS, f"{MAX_ARTICLE_CHARS:,} characters for one article; split it into several articles")
    if b"\x00" in data:
        raise InputError(f"{path}: NUL byte: this looks like a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not valid UTF-8 at byte {e.start}: {e.reason}") from e
    return check_article_text(text, str(path))


def _meta(obj: dict, where: str, source_file: str | None) -> DocumentMeta:
    return DocumentMeta(source_file=source_file, **_given_meta(obj, where))


def _given_meta(obj: dict, where: str) -> dict[str, Optional[str]]:
    values = {}
    for key in META_FIELDS:
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise InputError(f"{where} -> {key}: expected a string or null, got {type(value).__name__}")
        values[key] = value
    return values


def is_html(path: Path) -> bool:
    """Whether ``path`` is named as an HTML page (``.html`` or ``.htm``)."""
    return path.suffix.lower() in HTML_SUFFIXES


def read_html_file(path: Path, doc_id: str, given: Optional[dict[str, Optional[str]]] = None, source_file: Optional[str] = None) -> Article:
    """Read one HTML page as an article (see :func:`builder.html.article_from_page`).

    Raises:
        InputError: naming the file when it is missing, a folder, unreadable, cannot be
            decoded, has no article text, or breaks :func:`check_article_text`.
    """
    data = _read_bytes(path, "HTML file", MAX_PAGE_BYTES, f"{MAX_PAGE_BYTES:,} for one HTML page")
    return _page_article(doc_id, data, str(path), source_file=source_file or path.name, given=given)


def read_warc_articles(path: Path, counts: Optional[WarcCounts] = None, seen: Optional[set[str]] = None) -> Iterator[Article]:
    """One article per HTML page (status 200) of a web archive; the id is
    :func:`builder.warc.uri_id` of the page's ``WARC-Target-URI``, kept as ``source_url``.

    ``counts`` receives the responses skipped (not HTML, status not 200, repeated URI)."""
    for page in read_warc(path, counts, seen):
        where = f"{path}: record {page.uri}"
        yield _page_article(uri_id(page.uri), page.payload, where, charset=page.charset, source_file=path.name, source_url=page.uri)


def _read_file(path: Path, source_file: str, counts: Optional[WarcCounts], seen: set[str]) -> Iterator[Article]:
    """The articles of one file of a folder: a web archive, an HTML page or a text file."""
    if is_warc(path):
        yield from read_warc_articles(path, counts, seen)
    elif is_html(path):
        yield read_html_file(path, path.stem, source_file=source_file)
    else:
        yield Article(id=path.stem, text=read_text_file(path), meta=DocumentMeta(source_file=source_file))


def _unique(articles: Iterator[Article], where: str) -> Iterator[Article]:
    seen: dict[str, Optional[str]] = {}
    for article in articles:
        if article.id in seen:
            raise InputError(f"{where}: duplicate id {article.id!r} ({article.meta.source_file} and {seen[article.id]})")
        seen[article.id] = article.meta.source_file
        yield article


def read_folder(folder: Path, counts: Optional[WarcCounts] = None) -> Iterator[Article]:
    """Read every ``*.txt``, ``*.html``, ``*.htm``, ``*.warc`` and ``*.warc.gz`` of a folder, sorted by name.

    When the folder has a ``manifest.jsonl`` (``{"id", "file", "outlet", "title",
    "published", "author"}`` lines), it gives ids and metadata, and every listed file must
    exist (a text file or an HTML page; the manifest's metadata wins over the page's);
    otherwise the file stem is the id (a web archive's pages: see
    :func:`read_warc_articles`) and metadata is empty, or what an HTML page states.

    Raises:
        InputError: the folder has none of these files, two articles have the same id, or
            a file cannot be read (see the readers of each kind).
    """
    manifest = folder / MANIFEST_NAME
    if manifest.exists():
        for lineno, entry in read_jsonl(manifest):
            where = f"{manifest}:{lineno}"
            for key in ("id", "file"):
                if not isinstance(entry.get(key), str) or not entry[key]:
                    raise InputError(f"{where} -> {key}: missing or not a non-empty string")
            path = folder / entry["file"]
            try:
                check_path(path, "HTML file" if is_html(path) else "text file")
            except InputError as e:
                raise InputError(f"{where} -> file: {e}") from e
            if is_html(path):
                yield read_html_file(path, entry["id"], _given_meta(entry, where), source_file=entry["file"])
            else:
                yield Article(id=entry["id"], text=read_text_file(path), meta=_meta(entry, where, entry["file"]))
        return
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".txt", *HTML_SUFFIXES) or is_warc(p))
    if not files:
        raise InputError(f"{folder}: no .txt, .html or .warc files and no {MANIFEST_NAME}")
    seen: set[str] = set()
    yield from _unique((a for path in files for a in _read_file(path, path.name, counts, seen)), str(folder))


def read_articles_jsonl(path: Path) -> Iterator[Article]:
    """Read ``{"id", "text" or "html", "outlet"?, "title"?, "published"?, "author"?, "url"?}`` lines.

    A line with ``html`` instead of ``text`` is an HTML page: its main text becomes the
    article's text, and the metadata it states fills what the line leaves out (``url``
    is kept as where the page came from).
    """
    seen: set[str] = set()
    for lineno, obj in read_jsonl(path):
        where = f"{path}:{lineno}"
        if not isinstance(obj.get("id"), str) or not obj["id"]:
            raise InputError(f"{where} -> id: missing or not a non-empty string")
        if "text" in obj and "html" in obj:
            raise InputError(f"{where}: both text and html; give one of them")
        body = "html" if "html" in obj else "text"
        if not isinstance(obj.get(body), str) or not obj[body]:
            raise InputError(f"{where} -> {body}: missing or not a non-empty string" + ("" if "html" in obj else " (or give html)"))
        if obj["id"] in seen:
            raise InputError(f"{where} -> id: duplicate id {obj['id']!r}")
        seen.add(obj["id"])
        if body == "text":
            yield Article(id=obj["id"], text=check_article_text(obj["text"], f"{where} -> text"), meta=_meta(obj, where, path.name))
            continue
        url = obj.get("url")
        if url is not None and not isinstance(url, str):
            raise InputError(f"{where} -> url: expected a string or null, got {type(url).__name__}")
        yield _page_article(obj["id"], obj["html"], f"{where} -> html", source_file=path.name, source_url=url, given=_given_meta(obj, where))


def read_articles(source: str | Path | None = None, counts: Optional[WarcCounts] = None) -> Iterator[Article]:
    """Read articles from ``source``: a folder, a ``.txt`` file, an HTML page, a web archive,
    a ``.jsonl`` file, or the embedded corpus when ``None``.

    Args:
        source: where to read from.
        counts: receives what web archives held and what of it was skipped.
    """
    path = Path(source) if source is not None else default_corpus()
    if path.is_dir():
        return read_folder(path, counts)
    check_path(path, "file or folder")
    if path.suffix == ".txt":
        return iter([Article(id=path.stem, text=read_text_file(path), meta=DocumentMeta(source_file=path.name))])
    if is_html(path):
        return iter([read_html_file(path, path.stem)])
    if is_warc(path):
        return read_warc_articles(path, counts)
    return read_articles_jsonl(path)
