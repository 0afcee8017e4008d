"""Web archives: the HTML pages of a WARC file (``.warc`` or ``.warc.gz``) as crawlers write them.

Only ``response`` records are read; a response that is not an HTML page or whose HTTP
status is not 200 is skipped and counted in :class:`WarcCounts`, as is a second response
for a URI already read. Records are read with warcio (https://github.com/webrecorder/warcio).
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator, Optional

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from .errors import InputError
from .html import MAX_PAGE_BYTES, header_charset, is_html_type
from .io import check_path

WARC_SUFFIXES = (".warc", ".warc.gz")


def is_warc(path: Path) -> bool:
    """Whether ``path`` is named as a web archive (``.warc`` or ``.warc.gz``)."""
    return path.name.lower().endswith(WARC_SUFFIXES)


def uri_id(uri: str) -> str:
    """The article id of a page: the first 16 hex digits of the sha256 of its target URI."""
    return hashlib.sha256(uri.encode("utf-8")).hexdigest()[:16]


@dataclass
class WarcCounts:
    """What reading web archives kept and skipped, summed over every archive read."""

    responses: int = 0
    pages: int = 0
    not_html: int = 0
    not_ok: dict[int, int] = field(default_factory=dict)
    repeated_uri: int = 0

    @property
    def skipped(self) -> int:
        return self.not_html + sum(self.not_ok.values()) + self.repeated_uri

    def summary(self) -> str:
        """One line: responses read, pages kept, and each reason for skipping."""
        statuses = ", ".join(f"{n} with status {s}" for s, n in sorted(self.not_ok.items()))
        parts = [f"{self.not_html} not HTML", *([statuses] if statuses else []), f"{self.repeated_uri} repeated URIs"]
        return f"{self.responses} responses, {self.pages} HTML pages kept; skipped: " + ", ".join(parts)


@dataclass(frozen=True)
class WarcPage:
    """One HTML page of an archive: its target URI, the charset its header declares and its body."""

    uri: str
    charset: Optional[str]
    payload: bytes


def _check_magic(fh: BinaryIO, path: Path) -> None:
    """Raise :class:`InputError` unless ``fh`` (gzipped or not) starts with ``WARC/``; rewind it."""
    head = fh.read(2)
    fh.seek(0)
    try:
        start = gzip.GzipFile(fileobj=fh).read(5) if head == b"\x1f\x8b" else fh.read(5)
    except (OSError, EOFError, zlib.error) as e:
        raise InputError(f"{path}: not a readable WARC file: {e}") from e
    finally:
        fh.seek(0)
    if start != b"WARC/":
        raise InputError(f"{path}: not a readable WARC file: it does not start with a WARC/1.x record" + (" (once decompressed)" if head == b"\x1f\x8b" else ""))


def read_warc(path: Path, counts: Optional[WarcCounts] = None, seen: Optional[set[str]] = None) -> Iterator[WarcPage]:
    """Yield the HTML pages (status 200) of a WARC file, gzipped or not, in archive order.

    Args:
        path: the archive.
        counts: where to count responses read, kept and skipped (a fresh one if ``None``).
        seen: target URIs already read (shared across archives); a repeated URI is skipped.

    Raises:
        InputError: naming the archive (and the record's offset and URI) when it cannot be
            read, is not a WARC file, or a response has no target URI or is too large.
    """
    counts = counts if counts is not None else WarcCounts()
    seen = seen if seen is not None else set()
    check_path(path, "WARC file")
    try:
        fh = path.open("rb")
    except OSError as e:
        raise InputError(f"{path}: cannot be read: {e.strerror}") from e
    with fh:
        _check_magic(fh, path)
        records = ArchiveIterator(fh)
        read = 0
        try:
            for record in records:
                read += 1
                if record.rec_type != "response":
                    continue
                counts.responses += 1
                uri = (record.rec_headers.get_header("WARC-Target-URI") or "").strip()
                if not uri or record.http_headers is None:
                    # warcio knows a record's offset only once it is read: this one is abandoned
                    missing = "WARC-Target-URI" if not uri else "HTTP headers"
                    raise InputError(f"{path}: response record {read} ({uri or 'no URI'}, at byte {records.get_record_offset()}): no {missing}")
                status = record.http_headers.get_statuscode()
                if status != "200":
                    code = int(status) if status and status.isdigit() else -1
                    counts.not_ok[code] = counts.not_ok.get(code, 0) + 1
                    continue
                content_type = record.http_headers.get_header("Content-Type")
                if not is_html_type(content_type):
                    counts.not_html += 1
                    continue
                if uri in seen:
                    counts.repeated_uri += 1
                    continue
                seen.add(uri)
                payload = record.content_stream().read(MAX_PAGE_BYTES + 1)
                if len(payload) > MAX_PAGE_BYTES:
                    raise InputError(f"{path}: record {uri}: the page is over the limit of {MAX_PAGE_BYTES:,} bytes")
                if getattr(record.raw_stream, "limit", 0) > 0:
                    raise InputError(f"{path}: record {uri}: truncated: the archive ends {record.raw_stream.limit:,} bytes before the record does")
                counts.pages += 1
                yield WarcPage(uri=uri, charset=header_charset(content_type), payload=payload)
        except ArchiveLoadFailed as e:
            raise InputError(f"{path}: not a readable WARC file (after {read} records): {e.msg}") from e
        except (OSError, EOFError, ValueError) as e:
            raise InputError(f"{path}: damaged WARC file (after {read} records): {e}") from e
