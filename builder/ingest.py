"""Ingestion: read articles from the embedded corpus, a folder of ``.txt`` files or JSONL.

Every reader is a generator of :class:`~builder.records.Article`; nothing is held in
memory beyond the article being read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from .errors import InputError
from .io import read_jsonl
from .labelset import project_file
from .records import Article, DocumentMeta

META_FIELDS = ("outlet", "title", "published", "author")
MANIFEST_NAME = "manifest.jsonl"


def default_corpus() -> Path:
    """The corpus embedded in the project (``corpus/``)."""
    return project_file("corpus")


def read_text_file(path: Path) -> str:
    """Read a UTF-8 text file (a leading BOM is dropped); raise :class:`InputError` naming it."""
    data = path.read_bytes()
    if b"\x00" in data:
        raise InputError(f"{path}: NUL byte: this looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not valid UTF-8 at byte {e.start}: {e.reason}") from e


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
            if not path.is_file():
                raise InputError(f"{where} -> file: {path} does not exist")
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
        yield Article(id=obj["id"], text=obj["text"], meta=_meta(obj, where, path.name))


def read_articles(source: str | Path | None = None) -> Iterator[Article]:
    """Read articles from ``source``: a folder, a ``.jsonl`` file, or the embedded corpus when ``None``."""
    path = Path(source) if source is not None else default_corpus()
    if path.is_dir():
        return read_folder(path)
    if path.is_file():
        if path.suffix == ".txt":
            return iter([Article(id=path.stem, text=read_text_file(path), meta=DocumentMeta(source_file=path.name))])
        return read_articles_jsonl(path)
    raise InputError(f"{path}: no such file or folder")
