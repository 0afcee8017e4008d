"""HTML pages to articles: decode the page, extract its main text and the metadata it states.

The extracted text (one paragraph per line) becomes the article's raw text, so every later
offset is exact into it. Metadata comes from the page's ``<meta>`` tags, JSON-LD and
markup only; a value the page does not state stays ``None``. Text extraction and
metadata are trafilatura's (https://trafilatura.readthedocs.io).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from datetime import date
from html import unescape
from importlib import metadata
from typing import Any, Optional

from .clean import dateline_date
from .errors import InputError
from .records import Article, DocumentMeta

#: Name and version of the text extractor, kept in every page's metadata.
EXTRACTOR = f"trafilatura {metadata.version('trafilatura')}"  # (trafilatura itself is imported where a page is read: it takes 0.4 s)

#: Largest page accepted, in bytes (markup included); the text extracted from it must
#: still fit :data:`builder.ingest.MAX_ARTICLE_CHARS`.
MAX_PAGE_BYTES = 20_000_000

#: Extraction settings. Recall of body paragraphs comes first: a line the extractor drops
#: is lost without a trace, while a noise line it keeps is removed, and logged, by the
#: cleaning rules. ``favor_precision`` loses whole articles on table-laid-out pages, and
#: ``favor_recall`` loses most entries of a live blog that the balanced setting keeps, so
#: both the balanced and the recall setting run and the longer text is kept
#: (:data:`RECALL_OPTIONS`). Comments, tables, images and links stay out; the output is
#: plain text.
EXTRACT_OPTIONS = {
    "include_comments": False,
    "include_tables": False,
    "include_images": False,
    "include_links": False,
    "include_formatting": False,
    "deduplicate": False,
    "output_format": "txt",
}

RECALL_OPTIONS = {**EXTRACT_OPTIONS, "favor_recall": True}

#: ``Content-Type`` values of HTML pages.
HTML_TYPES = ("text/html", "application/xhtml+xml")

_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_XML_DECLARATION = re.compile(r"\ufeff?\s*<\?xml[^>]*\?>")
_JSON_LD = re.compile(r"""<script[^>]*application/ld\+json[^>]*>(.*?)</script>""", re.I | re.S)
_SITE_FROM_URL = re.compile(r"https?://(?:www\.|w[0-9]+\.)?([^/]+)")
#: Labels browsers decode as windows-1252 (the WHATWG Encoding standard).
_AS_CP1252 = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "cp819", "windows-1252"}
#: Bytes the page's charset declaration must appear within.
_SNIFF_BYTES = 4096


def header_charset(content_type: Optional[str]) -> Optional[str]:
    """The ``charset`` parameter of an HTTP ``Content-Type`` header, or ``None``."""
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def is_html_type(content_type: Optional[str]) -> bool:
    """Whether an HTTP ``Content-Type`` header names an HTML page."""
    return (content_type or "").split(";")[0].strip().lower() in HTML_TYPES


def page_charset(data: bytes, declared: Optional[str] = None) -> tuple[str, str]:
    """Return ``(charset, where it comes from)`` for a page's bytes.

    In order: a byte-order mark, ``declared`` (the HTTP header's charset), the page's own
    ``<meta charset>`` or ``<meta http-equiv="Content-Type">``, else UTF-8.
    """
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return name, "byte-order mark"
    if declared:
        return declared, "HTTP header"
    match = _META_CHARSET.search(data[:_SNIFF_BYTES])
    if match:
        return match.group(1).decode("ascii"), "<meta charset>"
    return "utf-8", "default"


def decode_page(data: bytes, where: str, declared: Optional[str] = None) -> str:
    """Decode a page's bytes with :func:`page_charset`.

    Raises:
        InputError: naming ``where`` when the page is over :data:`MAX_PAGE_BYTES`, holds a
            NUL byte, names an unknown charset or is not valid in its charset.
    """
    if len(data) > MAX_PAGE_BYTES:
        raise InputError(f"{where}: the page is {len(data):,} bytes long, over the limit of {MAX_PAGE_BYTES:,}")
    if b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(f"{where}: NUL byte: this looks like a binary file, not an HTML page")
    charset, source = page_charset(data, declared)
    codec = "cp1252" if charset.lower() in _AS_CP1252 else charset
    try:
        codecs.lookup(codec)
    except LookupError as e:
        raise InputError(f"{where}: unknown charset {charset!r} (from the {source})") from e
    try:
        return data.decode(codec)
    except UnicodeDecodeError as e:
        raise InputError(f"{where}: not valid {charset} (from the {source}) at byte {e.start}: {e.reason}") from e


def _without_xml_declaration(page: str) -> str:
    """``page`` without a leading ``<?xml ... encoding=...?>``, which lxml refuses in decoded text."""
    match = _XML_DECLARATION.match(page)
    return page[match.end():] if match else page


def _page_statements(page: str) -> str:
    """The page's characters as it can state metadata: unescaped, with its JSON-LD blocks
    also decoded (``"Jos\\u00e9"`` states ``José``)."""
    decoded: list[str] = []
    for block in _JSON_LD.findall(page):
        try:
            decoded += _strings(json.loads(unescape(block)))
        except ValueError:
            continue
    return "\n".join([unescape(page), *decoded])


def _strings(value) -> list[str]:
    """Every string inside a decoded JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _stated(value: Optional[str], page: str) -> Optional[str]:
    """``value`` if each of its ``; ``-separated parts is written in ``page`` (lowercased,
    whitespace collapsed), else ``None``: metadata is kept only as the page states it."""
    if not value or not value.strip():
        return None
    parts = [" ".join(p.split()).lower() for p in value.split(";")]
    return value if all(p and p in page for p in parts) else None


def _marked_up(found: Optional[str], page: str, url: Optional[str]) -> bool:
    """Whether the page gives the date ``found`` (``YYYY-MM-DD``) in machine-readable form,
    as meta tags, JSON-LD and ``<time datetime>`` do (ISO), or in its URL (``/2024/05/20/``).
    A date written only for readers may be today's date in a top bar."""
    if not found:
        return False
    year, month, day = found[:10].split("-")
    return found[:10] in page or bool(url and f"/{year}/{month}/{day}" in url)


def page_metadata(page: str) -> dict[str, Any]:
    """What a decoded page states about itself: ``title``, ``author``, ``published``
    (``YYYY-MM-DD``; ``published_marked_up`` says whether the page gives it in machine-readable
    form), ``site_name`` and ``canonical_url``; ``None`` where it states nothing.

    Values come from ``<meta>``, JSON-LD, ``<link rel="canonical">``, ``<title>`` and byline
    markup; a date only from markup or the page's own URL, never guessed from the text; a
    site name never derived from the URL's host.
    """
    from trafilatura.metadata import extract_metadata

    date_params = {"original_date": True, "extensive_search": False, "max_date": date.today().isoformat()}
    found = extract_metadata(_without_xml_declaration(page), date_config=date_params)
    plain = " ".join(_page_statements(page).split()).lower()
    url = found.url or None
    site = found.sitename or None
    derived = _SITE_FROM_URL.match(url) if url and site else None
    if derived and derived.group(1) == site:
        site = None
    return {
        "title": _stated(found.title, plain),
        "author": _stated(found.author, plain),
        "published": found.date[:10] if found.date else None,
        "published_marked_up": _marked_up(found.date, page, url),
        "site_name": _stated(site, plain),
        "canonical_url": url,
    }


def extract_text(page: str) -> Optional[str]:
    """The main text of a decoded page, one paragraph per line (``None`` when there is none).

    Script, style and JSON-LD never reach it; navigation, footers and comment sections are
    left out as far as the extractor recognises them.
    """
    import trafilatura

    page = _without_xml_declaration(page)
    texts = [t for t in (trafilatura.extract(page, **options) for options in (EXTRACT_OPTIONS, RECALL_OPTIONS)) if t and t.strip()]
    return max(texts, key=len) if texts else None


def article_from_page(
    doc_id: str,
    data: bytes | str,
    where: str,
    *,
    charset: Optional[str] = None,
    source_file: Optional[str] = None,
    source_url: Optional[str] = None,
    given: Optional[dict[str, Optional[str]]] = None,
) -> Article:
    """Turn one HTML page into an :class:`Article`.

    Args:
        doc_id: the article's id.
        data: the page as received (bytes, decoded by :func:`decode_page`) or already
            decoded text.
        where: how errors name the page (file, file:line, archive and record URI).
        charset: the charset an HTTP header declares for ``data``, if any.
        source_file: file the page was read from.
        source_url: URL the page was fetched from, if known.
        given: metadata the caller states (a manifest or JSONL line); a value given there
            wins over the page's.

    Returns:
        The article: its text is the extracted main text; its metadata holds the page's
        sha256 (of its bytes, or of its UTF-8 encoding when given as text) and the extractor.

    Raises:
        InputError: naming ``where`` when the page cannot be decoded or has no article text.
    """
    raw = data if isinstance(data, bytes) else data.encode("utf-8")
    page = decode_page(data, where, charset) if isinstance(data, bytes) else data
    text = extract_text(page)
    if text is None:
        raise InputError(f"{where}: no article text found in the page")
    found = page_metadata(page)
    if not found["published_marked_up"]:  # a date only written for readers: the article's dateline says better
        found["published"] = dateline_date(text) or found["published"]
    given = given or {}
    meta = DocumentMeta(
        outlet=given.get("outlet"),
        title=given.get("title") or found["title"],
        published=given.get("published") or found["published"],
        author=given.get("author") or found["author"],
        source_file=source_file,
        site_name=found["site_name"],
        canonical_url=found["canonical_url"],
        source_url=source_url,
        page_sha256=hashlib.sha256(raw).hexdigest(),
        extractor=EXTRACTOR,
    )
    return Article(id=doc_id, text=text, meta=meta)
