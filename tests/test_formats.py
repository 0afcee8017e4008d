"""The event-extraction forms of sentence records (builder/formats.py) and the configs published
from them (``ee``, ``documents``, ``bio``'s ``arg_tags``), checked against the rules their
consumers enforce: TextEE's (every argument points at an entity mention of its window, token
offsets rebuild the mention text), MAVEN's and spaCy's."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builder import formats
from builder.bio import from_bio
from builder.cli import app
from builder.labelset import argument_roles, event_types, realis_values
from builder.publish import CONFIGS, load_published, publish

from test_validate import TEXT, record

ROOT = Path(__file__).resolve().parents[1]


def write_records(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def rebuilt(tokens, spaces, start, end):
    return "".join(t + " " * s for t, s in zip(tokens[start:end], spaces[start:end])).rstrip()


def shared_argument_record():
    """Two events sharing an argument span in different roles, a multi-token argument and a
    count: what a single tag column could not hold."""
    text = "Militants vowed to attack US forces in Basra after 3 soldiers were killed."
    at = text.index
    return record(
        id="d-1", doc_id="d", text=text, start=0, end=len(text),
        provenance={"raw_start": 0, "raw_end": len(text), "labeller": None, "annotators": []},
        events=[
            {"type": "THREAT", "start": at("vowed"), "end": at("vowed") + 5, "text": "vowed", "confidence": None, "sources": [], "realis": "ACTUAL",
             "arguments": [{"role": "threatener", "start": 0, "end": 9, "text": "Militants"}, {"role": "threatened", "start": at("US"), "end": at("US") + 9, "text": "US forces"}], "count": None},
            {"type": "ATTACK", "start": at("attack"), "end": at("attack") + 6, "text": "attack", "confidence": None, "sources": [], "realis": "OTHER",
             "arguments": [{"role": "target", "start": at("US"), "end": at("US") + 9, "text": "US forces"}, {"role": "place", "start": at("Basra"), "end": at("Basra") + 5, "text": "Basra"}], "count": None},
            {"type": "CASUALTY", "start": at("killed"), "end": at("killed") + 6, "text": "killed", "confidence": None, "sources": [], "realis": None,
             "arguments": [{"role": "count", "start": at("3"), "end": at("3") + 1, "text": "3"}], "count": {"value": 3, "min": 3, "max": 3, "qualifier": "exact"}},
        ],
        labels=["ATTACK", "CASUALTY", "THREAT"],
    )


def check_record_forms(r):
    """Every form of one record against its consumer's rules and against the record itself."""
    left_out = []
    row = formats.ee_row(r, "x", left_out)
    assert formats.textee_problems(row) == []
    # the tokens are the bio config's: joined with their spaces they are the text
    assert "".join(t + " " * s for t, s in zip(row["tokens"], row["spaces"])) == r["text"]
    entities = {e["id"]: e for e in row["entity_mentions"]}
    for e in row["entity_mentions"]:
        assert rebuilt(row["tokens"], row["spaces"], e["start"], e["end"]) == e["text"]
    kept = [e for e in sorted(r["events"], key=lambda e: (e["start"], e["end"])) if not any(lo.kind == "trigger" and lo.start == e["start"] for lo in left_out)]
    assert [m["event_type"] for m in row["event_mentions"]] == [e["type"] for e in kept]
    for m, e in zip(row["event_mentions"], kept):
        assert rebuilt(row["tokens"], row["spaces"], m["trigger"]["start"], m["trigger"]["end"]) == e["text"] == m["trigger"]["text"]
        assert m["realis"] == e["realis"] and m["count"] == e["count"]
        got = sorted((a["role"], a["text"]) for a in m["arguments"])
        assert got == sorted((a["role"], a["text"]) for a in e["arguments"] if not any(lo.kind == "argument" and lo.start == a["start"] for lo in left_out))
        for a in m["arguments"]:
            assert entities[a["entity_id"]]["text"] == a["text"]
    assert len({m["id"] for m in row["event_mentions"]}) == len(row["event_mentions"])
    # argument BIO: one sequence per event, aligned with the tokens, decoding to the arguments
    tokens, triggers, arg_tags, events = formats.arg_bio(r)
    assert len(arg_tags) == len(events) and all(len(t) == len(tokens) for t in arg_tags)
    spaces = row["spaces"]
    assert [(t, r["text"][a:b]) for t, a, b in from_bio(tokens, spaces, triggers)] == [(e["type"], e["text"]) for e in events]
    for tags, e in zip(arg_tags, events):
        assert sorted((role, r["text"][a:b]) for role, a, b in from_bio(tokens, spaces, tags)) == sorted((a["role"], a["text"]) for a in e["arguments"])
    # spaCy: ents and spans are the triggers, arguments labelled by role
    doc = formats.spacy_doc(r)
    assert [(s.label_, s.text) for s in doc.spans["sc"]] == [(e["type"], e["text"]) for e in kept]
    assert {(s.label_, s.text) for s in doc.spans["arguments"]} == {(a["role"], a["text"]) for e in kept for a in e["arguments"]}
    assert len(doc.user_data["events"]) == len(kept)
    return row


def test_textee_row_of_events_sharing_an_argument():
    r = shared_argument_record()
    row = check_record_forms(r)
    assert [e["text"] for e in row["entity_mentions"]] == ["Militants", "US forces", "Basra", "3"]
    threat, attack, casualty = row["event_mentions"]
    # one entity mention, pointed at by both events in their own roles
    us = next(e["id"] for e in row["entity_mentions"] if e["text"] == "US forces")
    assert ("threatened", us) in {(a["role"], a["entity_id"]) for a in threat["arguments"]}
    assert ("target", us) in {(a["role"], a["entity_id"]) for a in attack["arguments"]}
    assert threat["trigger"] == {"text": "vowed", "start": 1, "end": 2}
    assert casualty["count"] == {"value": 3, "min": 3, "max": 3, "qualifier": "exact"} and casualty["realis"] is None
    assert row["wnd_id"] == "d-1" and row["lang"] == "en"


def test_conll_has_a_trigger_column_and_one_argument_column_per_event():
    lines = formats.conll_lines(shared_argument_record())
    assert lines[:3] == ["# id = d-1", "# doc_id = d", "# text = " + shared_argument_record()["text"]]
    assert lines[3:6] == ["# event 1 = THREAT ACTUAL 'vowed'", "# event 2 = ATTACK OTHER 'attack'", "# event 3 = CASUALTY _ 'killed'"]
    rows = [l.split("\t") for l in lines[6:-1]]
    assert lines[-1] == "" and all(len(r) == 5 for r in rows)
    assert rows[4] == ["US", "O", "B-threatened", "B-target", "O"]
    assert rows[5] == ["forces", "O", "I-threatened", "I-target", "O"]
    assert rows[1] == ["vowed", "B-THREAT", "O", "O", "O"]


def test_a_span_off_the_tokens_is_left_out_and_reported_never_shifted():
    r = record(id="m-1", doc_id="m")  # "The US drone strike killed 25 fighters."
    r["events"][1]["arguments"].append({"role": "victim", "start": TEXT.index("fighters"), "end": TEXT.index("fighters") + 5, "text": "fight"})
    left_out = []
    row = formats.ee_row(r, "f.jsonl:1", left_out)
    assert [(lo.kind, lo.label, lo.text, lo.reason) for lo in left_out] == [("argument", "victim", "fight", "misaligned")]
    assert formats.textee_problems(row) == []
    assert [a["text"] for m in row["event_mentions"] for a in m["arguments"]] == ["25"]


def test_textee_rules_catch_a_dangling_argument_and_bad_offsets():
    row = formats.ee_row(shared_argument_record())
    row["event_mentions"][0]["arguments"][0]["entity_id"] = "nowhere"
    row["event_mentions"][1]["trigger"]["end"] = 99
    row["entity_mentions"].append(dict(row["entity_mentions"][0]))
    problems = " | ".join(formats.textee_problems(row))
    assert "points at 'nowhere', not an entity mention" in problems
    assert "is not a token range" in problems
    assert "entity ids are not unique" in problems


def test_document_row_puts_events_at_document_offsets():
    a = record(id="a-0", doc_id="a", index=0)
    b = shared_argument_record()
    b = {**b, "id": "a-1", "doc_id": "a", "index": 1, "start": len(TEXT) + 2, "end": len(TEXT) + 2 + len(b["text"])}
    row = formats.document_row([b, a])  # any order in, index order out
    assert [s["id"] for s in row["sentences"]] == ["a-0", "a-1"]
    assert row["text"] == TEXT + "  " + b["text"]
    for s in row["sentences"]:
        assert row["text"][s["start"]:s["end"]] == s["text"]
    for e in row["events"]:
        assert row["text"][e["start"]:e["end"]] == e["text"]
        for arg in e["arguments"]:
            assert row["text"][arg["start"]:arg["end"]] == arg["text"]
    assert [e["sentence"] for e in row["events"]] == [0, 0, 1, 1, 1]


def test_maven_document_has_mentions_negative_triggers_and_arguments():
    doc = formats.maven_document([shared_argument_record()])
    assert doc["id"] == "d" and len(doc["content"]) == 1
    tokens = doc["content"][0]["tokens"]
    assert [(e["type"], e["type_id"]) for e in doc["events"]] == [("THREAT", 4), ("ATTACK", 1), ("CASUALTY", 3)]
    for e in doc["events"]:
        (m,) = e["mention"]
        s, t = m["offset"]
        assert " ".join(tokens[s:t]) == m["trigger_word"]
        for role, mentions in e["argument"].items():
            for x in mentions:
                assert "".join(tokens[x["offset"][0]:x["offset"][1]]) == x["content"].replace(" ", "")
    negatives = {n["trigger_word"] for n in doc["negative_triggers"]}
    assert {"Militants", "forces", "soldiers"} <= negatives
    assert not negatives & {"vowed", "attack", "killed", "to", "in", "were"}  # triggers and stop words are not candidates
    ids = [e["id"] for e in doc["events"]] + [m["id"] for e in doc["events"] for m in e["mention"]] + [n["id"] for n in doc["negative_triggers"]]
    assert len(ids) == len(set(ids))


def test_new_configs_load_with_classlabels_read_from_the_schema(tmp_path):
    src = tmp_path / "records.jsonl"
    write_records(src, [shared_argument_record(), record(id="e-1", doc_id="e", events=[], labels=[])])
    out = tmp_path / "dataset"
    publish(src, {"documents": {"d": {"split": "train"}, "e": {"split": "test"}}}, out)
    assert {p.name for p in (out / "data").iterdir()} == set(CONFIGS)
    ee = load_published(out, "ee")
    em = ee["train"].features["event_mentions"].feature
    assert em["event_type"].names == list(event_types())
    assert em["arguments"].feature["role"].names == list(argument_roles())
    assert em["realis"].names == list(realis_values())
    row = ee["train"][0]
    decoded = {
        **row,
        "event_mentions": [
            {**m, "event_type": em["event_type"].names[m["event_type"]],
             "arguments": [{**a, "role": em["arguments"].feature["role"].names[a["role"]]} for a in m["arguments"]]}
            for m in row["event_mentions"]
        ],
    }
    assert formats.textee_problems(decoded) == []
    assert decoded == {**formats.ee_row(shared_argument_record()), "event_mentions": [
        {**m, "realis": None if m["realis"] is None else realis_values().index(m["realis"])} for m in formats.ee_row(shared_argument_record())["event_mentions"]]}
    docs = load_published(out, "documents")
    assert {s: len(docs[s]) for s in docs} == {"train": 1, "test": 1}
    ev = docs["train"].features["events"].feature
    assert ev["realis"].names == list(realis_values()) and ev["arguments"].feature["role"].names == list(argument_roles())
    assert [ev["type"].names[e["type"]] for e in docs["train"][0]["events"]] == ["THREAT", "ATTACK", "CASUALTY"]
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "config_name: ee" in card and "config_name: documents" in card
    bio = load_published(out, "bio")
    names = bio["train"].features["arg_tags"].feature.feature.names
    assert names == formats.arg_bio_labels()
    b = bio["train"][0]
    assert len(b["arg_tags"]) == 3 and all(len(t) == len(b["tokens"]) for t in b["arg_tags"])
    assert [names[t] for t in b["arg_tags"][1]][4:7] == ["B-target", "I-target", "O"]
    assert bio["test"][0]["arg_tags"] == []


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The embedded corpus built as `make dataset` builds it: records and published folder."""
    tmp = tmp_path_factory.mktemp("corpus")
    shutil.copy(ROOT / "splits" / "manifest.json", tmp / "manifest.json")  # the project's splits
    result = CliRunner().invoke(
        app, ["build", "-o", str(tmp / "build"), "-m", str(tmp / "manifest.json"), "--annotations", str(ROOT / "annotations")]
    )
    assert result.exit_code == 0, result.output
    return tmp / "build"


@pytest.mark.slow
def test_every_corpus_record_passes_every_form(corpus):
    records = [json.loads(l) for l in (corpus / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sum(len(r["events"]) for r in records) > 100
    assert sum(len(e["arguments"]) for r in records for e in r["events"]) > 100
    for r in records:
        check_record_forms(r)
    docs = formats.document_rows(records)
    assert sum(len(d["sentences"]) for d in docs) == len(records)
    for d in docs:
        for e in d["events"]:
            assert d["text"][e["start"]:e["end"]] == e["text"]


@pytest.mark.slow
def test_published_ee_rows_pass_textee_rules(corpus):
    ee = load_published(corpus / "dataset", "ee")
    spans = load_published(corpus / "dataset", "spans")
    em = ee["train"].features["event_mentions"].feature
    types, roles = em["event_type"].names, em["arguments"].feature["role"].names
    wnd_ids = []
    for split in ee:
        assert len(ee[split]) == len(spans[split])
        for row, s in zip(ee[split], spans[split]):
            assert row["wnd_id"] == s["id"] and row["text"] == s["text"]
            wnd_ids.append(row["wnd_id"])
            row = {**row, "event_mentions": [
                {**m, "event_type": types[m["event_type"]], "arguments": [{**a, "role": roles[a["role"]]} for a in m["arguments"]]}
                for m in row["event_mentions"]]}
            assert formats.textee_problems(row) == []
            assert len(row["event_mentions"]) == len(s["events"])
    assert len(wnd_ids) == len(set(wnd_ids))
    stats = json.loads((corpus / "dataset" / "stats.json").read_text(encoding="utf-8"))
    assert stats["spans_left_out"] == []


@pytest.mark.slow
def test_published_documents_and_arg_tags_agree_with_spans(corpus):
    spans = load_published(corpus / "dataset", "spans")
    docs = load_published(corpus / "dataset", "documents")
    bio = load_published(corpus / "dataset", "bio")
    type_names = spans["train"].features["events"].feature["type"].names
    tag_names = bio["train"].features["ner_tags"].feature.names
    arg_names = bio["train"].features["arg_tags"].feature.feature.names
    for split in spans:
        by_id = {r["id"]: r for r in spans[split]}
        assert sorted(s["id"] for d in docs[split] for s in d["sentences"]) == sorted(by_id)
        assert len(docs[split]) == len(set(spans[split]["doc_id"]))
        for d in docs[split]:
            assert sum(len(by_id[s["id"]]["events"]) for s in d["sentences"]) == len(d["events"])
            for e in d["events"]:
                s = d["sentences"][e["sentence"]]
                assert d["text"][e["start"]:e["end"]] == e["text"] and s["start"] <= e["start"] < e["end"] <= s["end"]
        for b in bio[split]:
            s = by_id[b["id"]]
            triggers = from_bio(b["tokens"], b["spaces"], [tag_names[t] for t in b["ner_tags"]])
            assert len(b["arg_tags"]) == len(triggers) == len(s["events"])
            events = sorted(s["events"], key=lambda e: (e["start"], e["end"]))
            for tags, e in zip(b["arg_tags"], events):
                assert len(tags) == len(b["tokens"])
                got = from_bio(b["tokens"], b["spaces"], [arg_names[t] for t in tags])
                assert sorted((role, a, z) for role, a, z in got) == sorted((a["role"], a["start"], a["end"]) for a in e["arguments"])
            assert [type_names[e["type"]] for e in events] == [t for t, _, _ in triggers]
