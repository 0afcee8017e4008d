"""Ingestion: read articles from the embedded corpus, a folder of ``.txt`` files or JSONL.

Every reader is a generator of :class:`~builder.records.Article`; nothing is held in
memory beyond the article being read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from .errors import InputError
from .io import check_path, forbidden_characters, read_jsonl
from .labelset import project_file
from .records import Article, DocumentMeta

META_FIELDS = ("outlet", "title", "published", "author")
MANIFEST_NAME = "manifest.jsonl"
#: Longest article accepted, in characters: spaCy's default ``max_length``, about 150,000
#: words, far beyond any news article. Longer input is refused before it is read whole.
MAX_ARTICLE_CHARS = 1_000_000


def default_corpus() -> Path:
    """The corpus embedded in the project (``corpus/``)."""
    return project_file("corpus")


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
    check_path(path, "text file")
    try:
        size = path.stat().st_size
        if size > 4 * MAX_ARTICLE_CHARS:  # UTF-8 takes at most 4 bytes a character
            raise InputError(f"{path}: the file is {size:,} bytes long, over the limit of {MAX_ARTICLE_CHARS:,} characters for one article; split it into several articles")
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot be read: {e.strerror}") from e
    if b"\x00" in data:
        raise InputError(f"{path}: NUL byte: this looks like a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not valid UTF-8 at byte {e.start}: {e.reason}") from e
    return check_article_text(text, str(path))


def _meta(obj: dict, where: str, source_file: str | None) -> DocumentMeta:
    values = {}
    for key in META_FIELDS:
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise InputError(f"{where} -> {key}: expected a string or null, got {type(value).__name__}")
        values[key] = value
    return DocumentMeta(source_file=source_file, **values)


def read_folder(folder: Path) -> Iterator[Article]:
    """Read every ``*.txt`` of a folder, sorted by name.

    When the folder has a ``manifest.jsonl`` (``{"id", "file", "outlet", "title",
    "published", "author"}`` lines), it gives ids and metadata, and every listed file must
    exist; otherwise the file stem is the id and metadata is empty.
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
                check_path(path, "text file")
            except InputError as e:
                raise InputError(f"{where} -> file: {e}") from e
            yield Article(id=entry["id"], text=read_text_file(path), meta=_meta(entry, where, entry["file"]))
        return
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise InputError(f"{folder}: no .txt files and no {MANIFEST_NAME}")
    for path in files:
        yield Article(id=path.stem, text=read_text_file(path), meta=DocumentMeta(source_file=path.name))


def read_articles_jsonl(path: Path) -> Iterator[Article]:
    """Read ``{"id", "text", "outlet"?, "title"?, "published"?, "author"?}`` lines."""
    seen: set[str] = set()
    for lineno, obj in read_jsonl(path):
        where = f"{path}:{lineno}"
        for key in ("id", "text"):
            if not isinstance(obj.get(key), str) or not obj[key]:
                raise InputError(f"{where} -> {key}: missing or not a non-empty string")
        if obj["id"] in seen:
            raise InputError(f"{where} -> id: duplicate id {obj['id']!r}")
        seen.add(obj["id"])
        yield Article(id=obj["id"], text=check_article_text(obj["text"], f"{where} -> text"), meta=_meta(obj, where, path.name))


def read_articles(source: str | Path | None = None) -> Iterator[Article]:
    """Read articles from ``source``: a folder, a ``.jsonl`` file, or the embedded corpus when ``None``."""
    path = Path(source) if source is not None else default_corpus()
    if path.is_dir():
        return read_folder(path)
    check_path(path, "file or folder")
    if path.suffix == ".txt":
        return iter([Article(id=path.stem, text=read_text_file(path), meta=DocumentMeta(source_file=path.name))])
    return read_articles_jsonl(path)
