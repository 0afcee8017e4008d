import json

import pytest

from builder.errors import InputError
from builder.pseudonyms import PSEUDONYMS_FILE, extend, load, names_in, pseudonymise

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def write(path, table):
    path.write_text(json.dumps({"pseudonyms": table}), encoding="utf-8")
    return path


def test_new_names_are_numbered_on_and_old_entries_never_change():
    table = {"a@x.org": "annotator-1", "b@x.org": "annotator-4", "c@x.org": "reviewer"}
    out = extend(table, ["b@x.org", "d@x.org", "e@x.org", "d@x.org"])
    assert {k: out[k] for k in table} == table
    assert out["d@x.org"] == "annotator-5" and out["e@x.org"] == "annotator-6"
    assert extend({}, ["z@x.org", "a@x.org"]) == {"z@x.org": "annotator-1", "a@x.org": "annotator-2"}  # order given, not sorted


def test_names_come_in_order_of_first_appearance_from_both_layers():
    per_annotator = [{"id": "s1", "annotator": "b@x.org"}, {"id": "s2", "annotator": "a@x.org"}]
    human = [{"id": "s1", "annotators": ["b@x.org", "c@x.org"]}]
    assert names_in(per_annotator) + names_in(human) == ["b@x.org", "a@x.org", "b@x.org", "c@x.org"]
    assert list(extend({}, names_in(per_annotator) + names_in(human)).values()) == ["annotator-1", "annotator-2", "annotator-3"]


@pytest.mark.parametrize(
    "table, message",
    [
        ({"a@x.org": "annotator-1", "b@x.org": "annotator-1"}, r"pseudonyms -> b@x.org: pseudonym 'annotator-1' is already 'a@x.org''s"),
        ({"a@x.org": "a@x.org"}, r"pseudonyms -> a@x.org: expected a non-empty pseudonym without '@'"),
        ({"a@x.org": ""}, r"pseudonyms -> a@x.org: expected a non-empty pseudonym"),
        ({"a@x.org": 3}, r"pseudonyms -> a@x.org: expected a non-empty pseudonym"),
    ],
)
def test_a_bad_table_is_refused_naming_the_entry(tmp_path, table, message):
    path = write(tmp_path / PSEUDONYMS_FILE, table)
    with pytest.raises(InputError, match=message):
        load(path)


def test_an_unreadable_table_names_the_file(tmp_path):
    path = tmp_path / PSEUDONYMS_FILE
    path.write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match=r"pseudonyms\.json:1: invalid JSON"):
        load(path)
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(InputError, match=r"pseudonyms\.json -> pseudonyms: expected an object"):
        load(path)
    assert load(tmp_path / "absent.json") == {}


def test_a_record_without_annotators_is_left_as_it_is():
    rec = {"id": "s", "events": [{"sources": ["strike_lexicon.v4"]}], "provenance": {"annotators": []}}
    assert pseudonymise(rec, {}, "f:1") is rec


def test_the_committed_table_covers_every_annotator_of_the_committed_human_layer():
    table = load(ROOT / "annotations" / PSEUDONYMS_FILE)
    layers = [json.loads(line) for name in ("human.jsonl", "annotators.jsonl") for line in (ROOT / "annotations" / name).read_text(encoding="utf-8").splitlines()]
    names = set(names_in(layers))
    assert names and names <= set(table)
    assert all("@" not in p for p in table.values())
