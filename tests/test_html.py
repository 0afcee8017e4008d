"""HTML pages and web archives in: main text, the metadata the page states, provenance."""

import gzip
import hashlib
import io
import json
import re
from pathlib import Path

import pytest
import trafilatura
from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from builder.cli import app
from builder.errors import InputError
from builder import ingest
from builder.html import EXTRACTOR, article_from_page
from builder.ingest import read_articles
from builder.records import Article
from builder.warc import WarcCounts, uri_id

BODY = [
    "Three rockets struck a military base north of Baghdad on Wednesday, officials said, wounding two contractors.",
    "The attack was the third on the base this month, according to a spokesman for the coalition.",
    "No group claimed responsibility for the strike, which came hours after a drone attack on a convoy.",
    "Police said they found the launchers in a field near the town.",
]

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Rockets hit base near Baghdad | Daily Wire Service</title>
<meta property="og:title" content="Rockets hit base near Baghdad">
<meta property="og:site_name" content="Daily Wire Service">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2021-03-04T08:15:00Z">
<link rel="canonical" href="https://news.example.com/2021/03/rockets-hit-base">
<style>body { font-family: StyleSheetFont; } .x::after { content: "STYLESHEET TEXT"; }</style>
<script>var tracker = "SCRIPT TEXT"; console.log("loaded");</script>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "Rockets hit base near Baghdad", "description": "JSON-LD DESCRIPTION TEXT"}</script>
</head>
<body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li></ul></nav></header>
<main>
<article>
<h1>Rockets hit base near Baghdad</h1>
<p>%s</p>
<p>%s</p>
<p>%s</p>
<p>%s</p>
<script>window.adSlot("INLINE SCRIPT TEXT");</script>
</article>
<section id="comments" class="comments">
<h3>Comments</h3>
<div class="comment"><p>COMMENT TEXT: this is terrible news, pray for them.</p></div>
</section>
</main>
<footer><p>FOOTER TEXT Copyright 2021 Daily Wire Service. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body>
</html>
""" % tuple(BODY)

JSON_LD_PAGE = """<html><head><title>Strike on convoy</title>
<script type="application/ld+json">{"@context": "http://schema.org", "@type": "NewsArticle",
 "headline": "Drone strike hits convoy in Idlib", "datePublished": "2020-02-11",
 "author": [{"@type": "Person", "name": "Ali Hassan"}, {"@type": "Person", "name": "Mary Smith"}],
 "publisher": {"@type": "Organization", "name": "The Frontier Post"}}</script>
</head><body>
<div id="menu"><a href="/">Home</a> | <a href="/news">News</a></div>
<div class="story">
<p>A drone strike hit a convoy near Idlib on Tuesday, killing five fighters, a monitor said.</p>
<p>"We heard two explosions," a resident told reporters by telephone from the town.</p>
</div>
<div id="footer">FOOTER TEXT The Frontier Post</div>
</body></html>
"""

BARE_PAGE = """<html><head><link rel="canonical" href="https://www.bare.example.org/story"></head><body><article>
<p>Gunmen attacked a checkpoint on March 4, 2021, killing two soldiers, the army said on Friday.</p>
<p>The attackers fled on motorcycles towards the border, a local official told reporters.</p>
</article></body></html>
"""

EMPTY_PAGE = """<html><head><title>Nothing</title><script>var text = "SCRIPT ONLY";</script>
<style>p { color: red; }</style></head><body><img src="photo.jpg"></body></html>
"""


def write_warc(path: Path, responses, gzip: bool) -> Path:
    """Write a WARC file of ``(uri, status line, content type, body)`` responses, as a crawler would."""
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=gzip)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test crawler"}))
        for uri, status, content_type, body in responses:
            request = writer.create_warc_record(uri, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"))
            writer.write_record(request)
            http = StatusAndHeaders(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=http))
    return path


CRAWL = [
    ("https://news.example.com/2021/03/rockets-hit-base", "200 OK", "text/html; charset=utf-8", PAGE.encode("utf-8")),
    ("https://news.example.com/logo.png", "200 OK", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(64)),
    ("https://news.example.com/gone", "404 Not Found", "text/html", b"<html><body><p>Page not found.</p></body></html>"),
]


def page_article(html=PAGE, **kw):
    return article_from_page("p", html.encode("utf-8"), "page.html", **kw)


# -- text -------------------------------------------------------------------------------


def test_text_keeps_body_paragraphs_one_per_line():
    lines = page_article().text.split("\n")
    for paragraph in BODY:
        assert paragraph in lines


@pytest.mark.parametrize("noise", ["SCRIPT TEXT", "console.log", "STYLESHEET TEXT", "font-family", "JSON-LD DESCRIPTION", "@context", "COMMENT TEXT", "FOOTER TEXT", "Privacy"])
def test_text_has_no_script_style_json_ld_comments_or_footer(noise):
    assert noise not in page_article().text


def test_text_has_no_navigation():
    assert not {"Home", "World", "Sport"} & set(page_article().text.split("\n"))


def test_text_has_no_markup():
    assert not re.search(r"<[a-zA-Z/!]", page_article().text)


# -- metadata ----------------------------------------------------------------------------


def test_metadata_from_meta_tags_and_canonical_link():
    meta = page_article().meta
    assert meta.title == "Rockets hit base near Baghdad"
    assert meta.author == "Jane Doe"
    assert meta.published == "2021-03-04"
    assert meta.site_name == "Daily Wire Service"
    assert meta.canonical_url == "https://news.example.com/2021/03/rockets-hit-base"
    assert meta.outlet is None  # the page's site name is kept as such, not as an outlet


def test_metadata_from_json_ld():
    meta = page_article(JSON_LD_PAGE).meta
    assert meta.title == "Drone strike hits convoy in Idlib"
    assert meta.author == "Ali Hassan; Mary Smith"
    assert meta.published == "2020-02-11"
    assert meta.site_name == "The Frontier Post"



def test_metadata_escaped_in_json_ld_is_stated():
    page = JSON_LD_PAGE.replace('"Ali Hassan"', '"Jos\\u00e9 Ram\\u00edrez"')
    assert page_article(page).meta.author == "José Ramírez; Mary Smith"

def test_metadata_the_page_does_not_state_stays_none():
    meta = page_article(BARE_PAGE).meta
    assert meta.canonical_url == "https://www.bare.example.org/story"
    assert meta.site_name is None  # never derived from the URL's host
    assert meta.published is None  # never guessed from a date in the text
    assert (meta.author, meta.title, meta.outlet) == (None, None, None)


def test_given_metadata_wins_over_the_page():
    meta = page_article(given={"title": "Given title", "author": None, "outlet": "Wire"}).meta
    assert (meta.title, meta.author, meta.outlet) == ("Given title", "Jane Doe", "Wire")


# -- provenance --------------------------------------------------------------------------


def test_provenance_has_page_hash_and_extractor():
    data = PAGE.encode("utf-8")
    meta = article_from_page("p", data, "page.html", source_file="page.html").meta
    assert meta.page_sha256 == hashlib.sha256(data).hexdigest()
    assert meta.extractor == EXTRACTOR == f"trafilatura {trafilatura.__version__}"
    assert meta.source_file == "page.html"


def test_provenance_round_trips_through_the_record_form():
    article = page_article(source_url="https://news.example.com/x")
    assert Article.from_dict(json.loads(json.dumps(article.to_dict()))) == article


# -- charset -----------------------------------------------------------------------------


def test_charset_from_meta_tag():
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"></head><body><article><p>The caf\xe9 near the ministry was hit by a car bomb on Sunday.</p></article></body></html>'
    article = article_from_page("p", page.encode("cp1252"), "page.html")
    assert "café" in article.text


def test_charset_from_http_header_wins_over_utf8_default():
    page = "<html><body><article><p>Gunmen stormed the h\xf4tel in the capital on Monday night.</p></article></body></html>"
    article = article_from_page("p", page.encode("latin-1"), "page.html", charset="ISO-8859-1")
    assert "hôtel" in article.text


# -- readers -----------------------------------------------------------------------------


def test_folder_mixing_txt_and_html_uses_stems_sorted_by_name(tmp_path):
    (tmp_path / "b.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "a.txt").write_text("Rockets hit the base.", encoding="utf-8")
    (tmp_path / "c.htm").write_text(JSON_LD_PAGE, encoding="utf-8")
    (tmp_path / "notes.md").write_text("not an article", encoding="utf-8")
    articles = list(read_articles(tmp_path))
    assert [a.id for a in articles] == ["a", "b", "c"]
    assert articles[0].meta.extractor is None and articles[1].meta.extractor == EXTRACTOR
    assert articles[1].meta.source_file == "b.html"


def test_single_html_page(tmp_path):
    path = tmp_path / "rockets.html"
    path.write_text(PAGE, encoding="utf-8")
    (article,) = read_articles(path)
    assert article.id == "rockets"
    assert article.meta.page_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_jsonl_lines_with_html(tmp_path):
    path = tmp_path / "in.jsonl"
    lines = [
        {"id": "x1", "html": PAGE, "url": "https://news.example.com/2021/03/rockets-hit-base?utm=1", "outlet": "Wire"},
        {"id": "x2", "text": "Rockets hit the base."},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    first, second = read_articles(path)
    assert BODY[0] in first.text and "SCRIPT TEXT" not in first.text
    assert (first.meta.outlet, first.meta.author, first.meta.source_url) == ("Wire", "Jane Doe", lines[0]["url"])
    assert first.meta.page_sha256 == hashlib.sha256(PAGE.encode("utf-8")).hexdigest()
    assert second.text == "Rockets hit the base." and second.meta.extractor is None


@pytest.mark.parametrize("name", ["crawl.warc", "crawl.warc.gz"])
def test_warc_keeps_html_responses_and_counts_the_rest(tmp_path, name):
    path = write_warc(tmp_path / name, CRAWL, gzip=name.endswith(".gz"))
    counts = WarcCounts()
    (article,) = read_articles(path, counts)
    uri = CRAWL[0][0]
    assert article.id == uri_id(uri) == hashlib.sha256(uri.encode()).hexdigest()[:16]
    assert BODY[0] in article.text and "SCRIPT TEXT" not in article.text
    assert (article.meta.source_url, article.meta.source_file) == (uri, name)
    assert article.meta.page_sha256 == hashlib.sha256(CRAWL[0][3]).hexdigest()
    assert (counts.responses, counts.pages, counts.not_html, counts.not_ok, counts.skipped) == (3, 1, 1, {404: 1}, 2)
    assert "1 not HTML" in counts.summary() and "1 with status 404" in counts.summary()


def test_warc_skips_a_repeated_uri(tmp_path):
    path = write_warc(tmp_path / "crawl.warc.gz", [CRAWL[0], CRAWL[0]], gzip=True)
    counts = WarcCounts()
    assert len(list(read_articles(path, counts))) == 1
    assert counts.repeated_uri == 1


def test_warc_ids_are_stable_across_archives(tmp_path):
    a = write_warc(tmp_path / "a.warc", CRAWL, gzip=False)
    b = write_warc(tmp_path / "b.warc.gz", CRAWL[::-1], gzip=True)
    assert [x.id for x in read_articles(a)] == [x.id for x in read_articles(b)]


def test_warc_charset_from_http_header(tmp_path):
    page = "<html><body><article><p>Gunmen stormed the h\xf4tel in the capital on Monday night.</p></article></body></html>"
    path = write_warc(tmp_path / "crawl.warc", [("https://x.example/a", "200 OK", "text/html; charset=iso-8859-1", page.encode("latin-1"))], gzip=False)
    (article,) = read_articles(path)
    assert "hôtel" in article.text


def test_folder_with_a_warc_and_text_files(tmp_path):
    write_warc(tmp_path / "crawl.warc.gz", CRAWL, gzip=True)
    (tmp_path / "a.txt").write_text("Rockets hit the base.", encoding="utf-8")
    counts = WarcCounts()
    articles = list(read_articles(tmp_path, counts))
    assert [a.id for a in articles] == ["a", uri_id(CRAWL[0][0])]
    assert counts.skipped == 2


# -- errors ------------------------------------------------------------------------------


def _write(name, data):
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return make


BAD_INPUTS = [
    ("page without text", _write("empty.html", EMPTY_PAGE.encode()), "empty.html: no article text found in the page"),
    ("zero-byte page", _write("zero.html", b""), "zero.html: no article text found in the page"),
    ("not UTF-8", _write("latin.html", "<html><body><p>Caf\xe9 bombed on Sunday morning.</p></body></html>".encode("latin-1")), "latin.html: not valid utf-8 (from the default) at byte"),
    ("wrong declared charset", _write("decl.html", b'<meta charset="utf-8"><p>\xff\xfe broken</p>'), "decl.html: not valid utf-8 (from the <meta charset>)"),
    ("unknown charset", _write("odd.html", b'<meta charset="klingon-8"><p>Text</p>'), "odd.html: unknown charset 'klingon-8'"),
    ("NUL byte", _write("bin.html", b"<html>\x00\x01\x02</html>"), "bin.html: NUL byte"),
    ("JSONL html without text", _write("in.jsonl", (json.dumps({"id": "a", "text": "ok"}) + "\n" + json.dumps({"id": "b", "html": EMPTY_PAGE}) + "\n").encode()), "in.jsonl:2 -> html: no article text found in the page"),
    ("JSONL text and html", _write("in.jsonl", json.dumps({"id": "a", "text": "ok", "html": PAGE}).encode()), "in.jsonl:1: both text and html"),
    ("JSONL html not a string", _write("in.jsonl", json.dumps({"id": "a", "html": 3}).encode()), "in.jsonl:1 -> html: missing or not a non-empty string"),
    ("JSONL html with a lone surrogate", _write("in.jsonl", b'{"id": "a", "html": "<html><body><p>Bomb \\ud800 hits the market in the city centre.</p></body></html>"}'), "in.jsonl:1"),
    ("not a WARC file", _write("crawl.warc.gz", b"this is not an archive at all\n" * 10), "crawl.warc.gz: not a readable WARC file"),
]


@pytest.mark.parametrize("name, make, message", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_pages_are_refused_by_name(tmp_path, name, make, message):
    path = make(tmp_path)
    with pytest.raises(InputError) as info:
        list(read_articles(path))
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_warc_page_without_text_names_the_archive_and_the_uri(tmp_path):
    uri = "https://news.example.com/empty"
    path = write_warc(tmp_path / "crawl.warc.gz", [CRAWL[0], (uri, "200 OK", "text/html", EMPTY_PAGE.encode())], gzip=True)
    with pytest.raises(InputError, match=re.escape(f"{path}: record {uri}: no article text found in the page")):
        list(read_articles(path))


def test_gzipped_file_that_is_not_a_warc_is_refused(tmp_path):
    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(gzip.compress(b"<html><body><p>Just a page.</p></body></html>"))
    with pytest.raises(InputError, match="crawl.warc.gz: not a readable WARC file: it does not start with a WARC/1.x record"):
        list(read_articles(path))


@pytest.mark.parametrize("name", ["crawl.warc", "crawl.warc.gz"])
def test_truncated_warc_is_refused_naming_the_record(tmp_path, name):
    path = write_warc(tmp_path / name, CRAWL[::-1], gzip=name.endswith(".gz"))
    path.write_bytes(path.read_bytes()[:-700])
    with pytest.raises(InputError, match=re.escape(f"{path}: record {CRAWL[0][0]}: truncated")):
        list(read_articles(path))


def test_folder_without_articles_names_what_it_expects(tmp_path):
    (tmp_path / "notes.md").write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match=r"no \.txt, \.html or \.warc files and no manifest\.jsonl"):
        list(read_articles(tmp_path))


def test_same_stem_as_txt_and_html_is_a_duplicate_id(tmp_path):
    (tmp_path / "a.txt").write_text("Rockets hit the base.", encoding="utf-8")
    (tmp_path / "a.html").write_text(PAGE, encoding="utf-8")
    with pytest.raises(InputError, match="duplicate id 'a'"):
        list(read_articles(tmp_path))


def test_page_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_PAGE_BYTES", 100)
    path = tmp_path / "big.html"
    path.write_text(PAGE, encoding="utf-8")
    with pytest.raises(InputError, match="big.html: the file is .* over the limit of 100"):
        list(read_articles(path))


# -- the whole build ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def html_build(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("html-build")
    pages = tmp / "pages"
    pages.mkdir()
    (pages / "rockets.html").write_text(PAGE, encoding="utf-8")
    (pages / "convoy.html").write_text(JSON_LD_PAGE, encoding="utf-8")
    (pages / "checkpoint.htm").write_text(BARE_PAGE, encoding="utf-8")
    out = tmp / "build-news"
    result = CliRunner().invoke(app, ["build", "--corpus", str(pages), "-o", str(out), "--annotations", str(tmp / "no-annotations")])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    return pages, out, records


def test_build_from_html_pages_has_no_markup_in_the_text(html_build):
    _, _, records = html_build
    assert {r["doc_id"] for r in records} == {"rockets", "convoy", "checkpoint"}
    for r in records:
        assert not re.search(r"<[a-zA-Z/!]", r["text"]), r["text"]
        assert "SCRIPT" not in r["text"] and "FOOTER" not in r["text"]


def test_build_from_html_pages_keeps_offsets_exact_into_the_raw_text(html_build):
    pages, _, records = html_build
    raw = {a.id: a.text for a in read_articles(pages)}
    for r in records:
        p = r["provenance"]
        assert raw[r["doc_id"]][p["raw_start"]:p["raw_end"]] == r["text"]


def test_build_from_html_pages_keeps_the_provenance(html_build):
    _, _, records = html_build
    doc = next(r["document"] for r in records if r["doc_id"] == "rockets")
    assert doc["canonical_url"] == "https://news.example.com/2021/03/rockets-hit-base"
    assert doc["site_name"] == "Daily Wire Service" and doc["extractor"] == EXTRACTOR
    assert len(doc["page_sha256"]) == 64


def test_build_from_html_pages_validates(html_build):
    _, out, _ = html_build
    result = CliRunner().invoke(app, ["validate", str(out)])
    assert result.exit_code == 0, result.output


def test_build_from_a_web_archive(tmp_path):
    path = write_warc(tmp_path / "crawl.warc.gz", CRAWL, gzip=True)
    out = tmp_path / "build-news"
    result = CliRunner().invoke(app, ["build", "--corpus", str(path), "-o", str(out), "--annotations", str(tmp_path / "no-annotations")])
    assert result.exit_code == 0, result.output
    assert "3 responses, 1 HTML pages kept; skipped: 1 not HTML, 1 with status 404, 0 repeated URIs" in " ".join(result.output.replace("│", " ").split())
    records = [json.loads(line) for line in (out / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    assert records and {r["doc_id"] for r in records} == {uri_id(CRAWL[0][0])}
    assert {r["document"]["source_url"] for r in records} == {CRAWL[0][0]}
