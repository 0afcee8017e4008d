import json

import pytest

from builder.errors import InputError
from builder.ingest import default_corpus, read_articles


def test_embedded_corpus_has_manifest_metadata():
    articles = {a.id: a for a in read_articles()}
    assert len(articles) == 5
    a = articles["003_d3250e08d7716763"]
    assert a.meta.author == "Borzou Daragahi"
    assert a.meta.published == "2019-12-30T14:19:00Z"
    assert articles["004_22da139905a9a463"].meta.outlet is None  # the text never names it
    assert a.text == (default_corpus() / "003_d3250e08d7716763.txt").read_text(encoding="utf-8")


def test_manifest_never_invents_urls_or_dates():
    for line in (default_corpus() / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        assert "url" not in entry
        if entry["published"] is not None:
            assert entry["evidence"]["published"], entry["id"]


def test_folder_of_txt_files_uses_stems_as_ids(tmp_path):
    (tmp_path / "b.txt").write_text("Second.", encoding="utf-8")
    (tmp_path / "a.txt").write_text("\ufeffFirst.", encoding="utf-8")
    articles = list(read_articles(tmp_path))
    assert [a.id for a in articles] == ["a", "b"]
    assert articles[0].text == "First."  # BOM dropped


def test_jsonl_articles_with_metadata(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": "x1", "text": "Rockets hit the base.", "outlet": "Wire", "extra": 1}) + "\n", encoding="utf-8")
    (article,) = read_articles(path)
    assert (article.id, article.meta.outlet, article.meta.title) == ("x1", "Wire", None)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b'{"id": "a", "text": "ok"}\n{"id": "a", "text": "again"}\n', "2 -> id: duplicate"),
        (b'{"id": "a"}\n', "1 -> text: missing"),
        (b'{"id": "a", "text": 5}\n', "1 -> text"),
        (b'{"id": "a", "text": "x", "title": 3}\n', "1 -> title"),
        (b'{"id": "a", "text": \n', "1: invalid JSON"),
        (b"", "empty file"),
        (b'\xff\xfe{"id"}', "not valid UTF-8"),
    ],
)
def test_bad_jsonl_names_file_line_and_field(tmp_path, content, expected):
    path = tmp_path / "in.jsonl"
    path.write_bytes(content)
    with pytest.raises(InputError, match=expected) as info:
        list(read_articles(path))
    assert str(path) in str(info.value)


def test_non_utf8_text_file_is_named(tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9")
    with pytest.raises(InputError, match="bad.txt: not valid UTF-8"):
        list(read_articles(tmp_path))
