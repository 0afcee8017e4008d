"""Ingestion: read articles from the embedded corpus, a folder, a text or HTML file, a web
archive or JSONL.

A folder holds ``.txt`` files, HTML pages (``.html``, ``.htm``) and web archives
(``.warc``, ``.warc.gz``), or a ``manifest.jsonl`` naming its files. The main text of an
HTML page becomes the article's raw text (:mod:`builder.html`); a web archive gives one
article per HTML page it holds (:mod:`builder.warc`). Every reader is a generator of
:class:`~builder.records.Article`; nothing is held in memory beyond the article being read.

Reading is two steps, so that a build can do the second on other processes or machines:
:func:`read_sources` reads the input (files, lines, archive records) into :class:`Source`
items, one per article, checking ids and what can be checked without the text; and
:meth:`Source.article` makes the article of one source (decoding, HTML extraction, the
checks of :func:`check_article_text`). :func:`read_articles` is the two in a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Union

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


@dataclass(frozen=True)
class Source:
    """One article as read from the input, before its text is made: the bytes of a text
    file or an HTML page, or the text of a JSONL line.

    Attributes:
        id: the article's id (known before its text is made).
        kind: ``"text"`` (``data`` is a text file's bytes, or a JSONL line's text) or
            ``"page"`` (``data`` is an HTML page, bytes or text).
        where: how errors name it (file, file:line, archive and record URI).
        data: what was read.
        meta: the metadata of a text article.
        given, source_file, source_url, charset: what :func:`builder.html.article_from_page` is told of a page.
    """

    id: str
    kind: str
    where: str
    data: Union[bytes, str]
    meta: DocumentMeta = DocumentMeta()
    given: Optional[dict[str, Optional[str]]] = None
    source_file: Optional[str] = None
    source_url: Optional[str] = None
    charset: Optional[str] = None

    def article(self) -> Article:
        """The article of this source: its text decoded or extracted, and checked.

        Raises:
            InputError: naming :attr:`where` when the text is not UTF-8 or binary (a text
                file), the page has no article text, or the text breaks :func:`check_article_text`.
        """
        if self.kind == "page":
            return _page_article(self.id, self.data, self.where, charset=self.charset, source_file=self.source_file, source_url=self.source_url, given=self.given)
        text = self.data if isinstance(self.data, str) else decode_text(self.data, self.where)
        return Article(id=self.id, text=check_article_text(text, self.where), meta=self.meta)


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
    return check_article_text(decode_text(_read_text_bytes(path), str(path)), str(path))


def _read_text_bytes(path: Path) -> bytes:
    # UTF-8 takes at most 4 bytes a character
    return _read_bytes(path, "text file", 4 * MAX_ARTICLE_CHARS, f"{MAX_ARTICLE_CHARS:,} characters for one article; split it into several articles")


def decode_text(data: bytes, where: str) -> str:
    """The text of a text file's bytes (UTF-8, a leading BOM dropped).

    Raises:
        InputError: naming ``where`` when the bytes hold a NUL byte or are not UTF-8.
    """
    if b"\x00" in data:
        raise InputError(f"{where}: NUL byte: this looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{where}: not valid UTF-8 at byte {e.start}: {e.reason}") from e


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


def _html_source(path: Path, doc_id: str, given: Optional[dict[str, Optional[str]]] = None, source_file: Optional[str] = None) -> Source:
    data = _read_bytes(path, "HTML file", MAX_PAGE_BYTES, f"{MAX_PAGE_BYTES:,} for one HTML page")
    return Source(doc_id, "page", str(path), data, given=given, source_file=source_file or path.name)


def _text_source(path: Path, doc_id: str, meta: DocumentMeta) -> Source:
    return Source(doc_id, "text", str(path), _read_text_bytes(path), meta=meta)


def read_html_file(path: Path, doc_id: str, given: Optional[dict[str, Optional[str]]] = None, source_file: Optional[str] = None) -> Article:
    """Read one HTML page as an article (see :func:`builder.html.article_from_page`).

    Raises:
        InputError: naming the file when it is missing, a folder, unreadable, cannot be
            decoded, has no article text, or breaks :func:`check_article_text`.
    """
    return _html_source(path, doc_id, given, source_file).article()


def warc_sources(path: Path, counts: Optional[WarcCounts] = None, seen: Optional[set[str]] = None) -> Iterator[Source]:
    """The sources of :func:`read_warc_articles`."""
    for page in read_warc(path, counts, seen):
        where = f"{path}: record {page.uri}"
        yield Source(uri_id(page.uri), "page", where, page.payload, source_file=path.name, source_url=page.uri, charset=page.charset)


def read_warc_articles(path: Path, counts: Optional[WarcCounts] = None, seen: Optional[set[str]] = None) -> Iterator[Article]:
    """One article per HTML page (status 200) of a web archive; the id is
    :func:`builder.warc.uri_id` of the page's ``WARC-Target-URI``, kept as ``source_url``.

    ``counts`` receives the responses skipped (not HTML, status not 200, repeated URI)."""
    return (source.article() for source in warc_sources(path, counts, seen))


def _file_sources(path: Path, source_file: str, counts: Optional[WarcCounts], seen: set[str]) -> Iterator[Source]:
    """The sources of one file of a folder: a web archive, an HTML page or a text file."""
    if is_warc(path):
        yield from warc_sources(path, counts, seen)
    elif is_html(path):
        yield _html_source(path, path.stem, source_file=source_file)
    else:
        yield _text_source(path, path.stem, DocumentMeta(source_file=source_file))


def _unique(sources: Iterator[Source], where: str) -> Iterator[Source]:
    seen: dict[str, Optional[str]] = {}
    for source in sources:
        file = source.source_file or source.meta.source_file
        if source.id in seen:
            raise InputError(f"{where}: duplicate id {source.id!r} ({file} and {seen[source.id]})")
        seen[source.id] = file
        yield source


def folder_sources(folder: Path, counts: Optional[WarcCounts] = None) -> Iterator[Source]:
    """The sources of :func:`read_folder`, in its order."""
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
                yield _html_source(path, entry["id"], _given_meta(entry, where), source_file=entry["file"])
            else:
                yield _text_source(path, entry["id"], _meta(entry, where, entry["file"]))
        return
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".txt", *HTML_SUFFIXES) or is_warc(p))
    if not files:
        raise InputError(f"{folder}: no .txt, .html or .warc files and no {MANIFEST_NAME}")
    seen: set[str] = set()
    yield from _unique((s for path in files for s in _file_sources(path, path.name, counts, seen)), str(folder))


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
    return (source.article() for source in folder_sources(folder, counts))


def jsonl_sources(path: Path) -> Iterator[Source]:
    """The sources of :func:`read_articles_jsonl`, in its order."""
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
            yield Source(obj["id"], "text", f"{where} -> text", obj["text"], meta=_meta(obj, where, path.name))
            continue
        url = obj.get("url")
        if url is not None and not isinstance(url, str):
            raise InputError(f"{where} -> url: expected a string or null, got {type(url).__name__}")
        yield Source(obj["id"], "page", f"{where} -> html", obj["html"], given=_given_meta(obj, where), source_file=path.name, source_url=url)


def read_articles_jsonl(path: Path) -> Iterator[Article]:
    """Read ``{"id", "text" or "html", "outlet"?, "title"?, "published"?, "author"?, "url"?}`` lines.

    A line with ``html`` instead of ``text`` is an HTML page: its main text becomes the
    article's text, and the metadata it states fills what the line leaves out (``url``
    is kept as where the page came from).
    """
    return (source.article() for source in jsonl_sources(path))


def read_sources(source: str | Path | None = None, counts: Optional[WarcCounts] = None) -> Iterator[Source]:
    """The articles of ``source`` (see :func:`read_articles`) as :class:`Source` items, read
    but not yet made into articles (:meth:`Source.article`)."""
    path = Path(source) if source is not None else default_corpus()
    if path.is_dir():
        return folder_sources(path, counts)
    check_path(path, "file or folder")
    if path.suffix == ".txt":
        return iter([_text_source(path, path.stem, DocumentMeta(source_file=path.name))])
    if is_html(path):
        return iter([_html_source(path, path.stem)])
    if is_warc(path):
        return warc_sources(path, counts)
    return jsonl_sources(path)


def read_articles(source: str | Path | None = None, counts: Optional[WarcCounts] = None) -> Iterator[Article]:
    """Read articles from ``source``: a folder, a ``.txt`` file, an HTML page, a web archive,
    a ``.jsonl`` file, or the embedded corpus when ``None``.

    Args:
        source: where to read from.
        counts: receives what web archives held and what of it was skipped.
    """
    return (s.article() for s in read_sources(source, counts))
