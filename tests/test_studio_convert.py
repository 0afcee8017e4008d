"""Pure conversions between records and Label Studio results: offsets, round trips, checks."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.errors import ValidationFailed
from builder.records import Argument, Event
from builder.studio.export import human_layer_from_export
from builder.studio.instructions import instructions_html
from builder.studio.interface import ARGTYPE, LabelSet, argument_control, config_labels, label_config, with_legacy_argument
from builder.studio.offsets import LS_OFFSET_UNIT, OffsetError, OffsetMap
from builder.studio.project import orphaned_labels
from builder.studio.pull import write_pull
from builder.studio.results import annotatable, events_from_results, labels_in_results, sort_events
from builder.studio.tasks import (
    HUMAN_MARK,
    event_results,
    events_digest,
    human_annotation,
    human_mark,
    human_problems,
    prediction,
    prediction_problems,
    record_problems,
    task,
    task_data,
)

from conftest import tricky_sentences

LABELS = LabelSet.current()
USERS = {1: "admin@example.org", 2: "second@example.org"}

# ---------------------------------------------------------------------------------------
# Strategies: texts full of characters that break offset arithmetic

ASTRAL = st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF, exclude_categories=("Cs",))
AWKWARD = st.sampled_from(["\u00a0", "“", "”", "‘", "’", "\r\n", "\r", "\n", "\u200d", "\u0301", "😀", "👨‍👩‍👧", "𝄞", "中", "文", "\t", "\ufeff"])
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
ANY = st.characters(exclude_categories=("Cs",))
TEXTS = st.lists(st.one_of(ASTRAL, AWKWARD, CJK, ANY, st.sampled_from("abc ")), min_size=1, max_size=40).map("".join)


@st.composite
def text_and_events(draw):
    text = draw(TEXTS)
    n = len(text)

    def span():
        start = draw(st.integers(0, n - 1))
        end = draw(st.integers(start + 1, n))
        return start, end

    events = []
    for _ in range(draw(st.integers(0, 4))):
        start, end = span()
        event_type = draw(st.sampled_from(LABELS.event_types))
        args = []
        for _ in range(draw(st.integers(0, 2))):
            a_start, a_end = span()
            args.append(Argument(draw(st.sampled_from(LABELS.roles_of(event_type))), a_start, a_end, text[a_start:a_end]))
        events.append(
            Event(
                type=event_type,
                start=start,
                end=end,
                text=text[start:end],
                confidence=draw(st.one_of(st.none(), st.floats(0, 1))),
                realis=draw(st.one_of(st.none(), st.sampled_from(LABELS.realis))),
                arguments=tuple(args),
            )
        )
    return text, events


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_and_events(), st.sampled_from(["codepoint", "utf16"]))
def test_events_round_trip_through_label_studio_results(case, unit):
    text, events = case
    result = event_results(events, text, unit)
    # What Label Studio stores is JSON: go through it so nothing Python-only survives.
    result = json.loads(json.dumps(result, ensure_ascii=False))
    back, problems = events_from_results(result, text, LABELS, "test", unit)
    assert problems == []
    assert back == sort_events(annotatable(e) for e in events)
    for item in result:
        if "start" in item.get("value", {}):
            v = item["value"]
            if unit == "utf16":
                assert text.encode("utf-16-le")[2 * v["start"] : 2 * v["end"]].decode("utf-16-le") == v["text"]
            else:
                assert text[v["start"] : v["end"]] == v["text"]


@settings(max_examples=1000, deadline=None)
@given(TEXTS)
def test_offset_map_both_ways(text):
    utf16 = OffsetMap(text, "utf16")
    cp = OffsetMap(text, "codepoint")
    assert utf16.ls_length == len(text.encode("utf-16-le")) // 2
    for i in range(len(text) + 1):
        j = utf16.to_ls(i)
        assert j == len(text[:i].encode("utf-16-le")) // 2
        assert utf16.from_ls(j) == i
        assert cp.from_ls(cp.to_ls(i)) == i == cp.to_ls(i)
    inside_pairs = {utf16.to_ls(i) + 1 for i, c in enumerate(text) if ord(c) > 0xFFFF}
    for j in inside_pairs:
        with pytest.raises(OffsetError, match="surrogate"):
            utf16.from_ls(j)


def test_offset_map_rejects_out_of_range_and_non_integers():
    m = OffsetMap("a😀b", "utf16")
    assert (m.to_ls(2), m.from_ls(3)) == (3, 2)
    for bad in (-1, 5, "1", 1.0, True, None):
        with pytest.raises(OffsetError):
            m.from_ls(bad)
    with pytest.raises(OffsetError):
        m.to_ls(4)


def test_label_studio_offsets_are_code_points():
    """LS 1.23 counts code points (verified in the browser by test_labelling_page); so do we."""
    assert LS_OFFSET_UNIT == "codepoint"
    text = "Hi 😀 there attack"
    start = text.index("attack")
    [item] = event_results([Event("ATTACK", start, start + 6, "attack")], text)
    assert (item["value"]["start"], item["value"]["end"]) == (11, 17)


@pytest.mark.parametrize("s", tricky_sentences(), ids=lambda s: s.id)
def test_tricky_sentences_round_trip(s):
    pred = prediction(s)
    assert prediction_problems(s, pred, LABELS) == []
    assert pred["model_version"] == s.labeller
    scores = [e.confidence for e in s.weak_events if e.confidence is not None]
    assert pred["score"] == (pytest.approx(sum(scores) / len(scores)) if scores else None)
    regions = [r for r in pred["result"] if r.get("from_name") == "trigger"]
    assert [r.get("score") for r in regions] == [e.confidence for e in s.weak_events]
    assert task(s)["data"]["sentence_id"] == s.id


# ---------------------------------------------------------------------------------------
# Label config


def test_label_config_has_every_label_and_validates_with_the_sdk():
    from label_studio_sdk.label_interface import LabelInterface

    xml = label_config(LABELS)
    LabelInterface(xml).validate()
    labels = config_labels(xml)
    assert labels["trigger"] == labels[ARGTYPE] == set(LABELS.event_types) == {"ATTACK", "STRIKE", "CASUALTY", "THREAT"}
    assert "argument" not in labels and labels["relation"] == set(LABELS.roles)
    assert labels["argument_ATTACK"] == {"attacker", "target", "instrument", "place", "time"}
    assert labels["argument_THREAT"] == {"time", "threatener", "threatened"}
    assert set().union(*(labels[argument_control(t)] for t in LABELS.event_types)) == set(LABELS.roles)
    assert labels["realis"] == {"ACTUAL", "GENERIC", "OTHER"}
    assert 'perRegion="true"' in xml and "hint=" in xml
    # Each type's roles show only while that type is chosen; the context sits around the text.
    assert '<View visibleWhen="choice-selected" whenTagName="argtype" whenChoiceValue="CASUALTY">' in xml
    assert xml.index('value="$prev"') < xml.index('<Text name="text"') < xml.index('value="$next"')


def test_roles_of_a_type_follow_the_guidelines_and_default_to_every_role():
    assert LABELS.roles_of("CASUALTY") == ("place", "time", "victim", "count", "agent")
    assert LabelSet(("ATTACK",), ("attacker", "victim"), ()).roles_of("ATTACK") == ("attacker", "victim")


def test_old_argument_control_is_kept_hidden_for_old_annotations():
    from label_studio_sdk.label_interface import LabelInterface

    xml = with_legacy_argument(label_config(LABELS), ["attacker"])
    LabelInterface(xml).validate()
    assert config_labels(xml)["argument"] == set(LABELS.roles)
    assert '<View style="display: none">' in xml
    assert with_legacy_argument(xml, ["victim"]) == xml  # already there
    used = labels_in_results([[_region("a", 0, 9, "Militants", "attacker", "argument")]])
    assert orphaned_labels(used, label_config(LABELS)) == ["argument: attacker (1 uses)"]
    assert orphaned_labels(used, xml) == []


def test_label_config_copes_with_guidelines_without_hints_or_colours():
    bare = LabelSet(LABELS.event_types, LABELS.roles, LABELS.realis)
    xml = label_config(bare)
    assert "hint=" not in xml and 'background="#7F7F7F"' in xml
    assert config_labels(xml)["trigger"] == set(LABELS.event_types)


def test_label_config_escapes_hints():
    odd = LabelSet(("ATTACK",), ("attacker",), ("ACTUAL",), hints={"trigger": {"ATTACK": 'a "quoted" <b>&amp; hint'}})
    xml = label_config(odd)
    assert config_labels(xml)["trigger"] == {"ATTACK"}


def test_orphaned_labels_names_what_a_new_config_would_drop():
    used = labels_in_results([[{"id": "a", "from_name": "trigger", "type": "labels", "value": {"labels": ["THREAT"]}}]])
    smaller = LabelSet(("ATTACK", "STRIKE", "CASUALTY"), LABELS.roles, LABELS.realis)
    assert orphaned_labels(used, label_config(LABELS)) == []
    assert orphaned_labels(used, label_config(smaller)) == ["trigger: THREAT (1 uses)"]


# ---------------------------------------------------------------------------------------
# Export -> human layer


def _task(task_id, s, annotations=(), drafts=()):
    return {"id": task_id, "data": task_data(s), "annotations": list(annotations), "drafts": list(drafts), "predictions": [1]}


def _ann(ann_id, result, by=1, when="2024-05-01T10:00:00Z", cancelled=False, gt=False):
    return {"id": ann_id, "completed_by": by, "result": copy.deepcopy(result), "was_cancelled": cancelled, "ground_truth": gt,
            "created_at": when, "updated_at": when, "lead_time": 3.0}


def test_export_picks_ground_truth_else_latest_and_keeps_each_annotator():
    s = tricky_sentences()[0]
    accepted = prediction(s)["result"]
    edited = [r for r in accepted if r.get("id") != "e1" and r.get("from_id") != "e1" and not str(r.get("id", "")).startswith("e1a")]
    export = [_task(7, s, [_ann(1, accepted, by=1), _ann(2, edited, by=2, when="2024-05-02T10:00:00Z"), _ann(3, [], by=1, cancelled=True)],
                    drafts=[{"id": 9, "user": "third@example.org", "result": [], "created_at": "2024-05-03T00:00:00Z"}])]
    layer = human_layer_from_export(export, LABELS, USERS, "1.0.0")
    [rec] = layer.records
    assert rec["id"] == s.id and rec["status"] == "corrected" and rec["text"] == s.text
    assert rec["annotators"] == ["second@example.org", "admin@example.org"]
    assert [Event.from_dict(e) for e in rec["events"]] == [annotatable(s.weak_events[0])]
    assert rec["label_studio"]["selected_by"] == "most_recent"
    by = {d["annotator"]: d for d in layer.annotators}
    assert [Event.from_dict(e) for e in by["admin@example.org"]["events"]] == sort_events(annotatable(e) for e in s.weak_events)
    assert (layer.stats.skipped, layer.stats.drafts_ignored, layer.stats.annotations) == (1, 1, 2)

    export[0]["annotations"][0]["ground_truth"] = True
    layer = human_layer_from_export(export, LABELS, USERS, "1.0.0")
    assert layer.records[0]["annotators"][0] == "admin@example.org"
    assert layer.records[0]["label_studio"]["selected_by"] == "ground_truth"

    layer = human_layer_from_export(export, LABELS, USERS, "1.0.0", include_drafts=True)
    assert layer.stats.drafts_used == 1 and "third@example.org" in layer.records[0]["annotators"]


def test_only_skipped_annotations_give_no_human_record():
    s = tricky_sentences()[1]
    layer = human_layer_from_export([_task(1, s, [_ann(1, [], cancelled=True)])], LABELS, USERS, "1.0.0")
    assert layer.records == [] and layer.stats.skipped == 1


def _region(rid, start, end, text, label, control="trigger"):
    return {"id": rid, "from_name": control, "to_name": "text", "type": "labels", "value": {"start": start, "end": end, "text": text, "labels": [label]}}


BAD_RESULTS = {
    "unknown label": ([_region("r1", 10, 15, "fired", "BOMBING")], "region r1: trigger label 'BOMBING' is not in the label set"),
    "text mismatch": ([_region("r2", 11, 16, "fired", "ATTACK")], "region r2: region text 'fired' does not equal the task text at [11, 16)"),
    "utf16 offsets": ([_region("r3", 10, 16, "fired", "ATTACK")], "region r3: region text"),
    "offset past end": ([_region("r4", 10, 500, "fired", "ATTACK")], "region r4: bad offsets"),
    "unknown role": ([_region("r5", 0, 9, "Militants", "boss", "argument")], "region r5: argument label 'boss'"),
    "missing relation end": (
        [_region("r6", 10, 15, "fired", "ATTACK"), {"from_id": "r6", "to_id": "gone", "type": "relation", "direction": "right", "labels": ["attacker"]}],
        "relation 'r6' -> 'gone': points to missing region 'gone'",
    ),
    "bad realis": (
        [_region("r7", 10, 15, "fired", "ATTACK"), {"id": "r7", "from_name": "realis", "to_name": "text", "type": "choices", "value": {"choices": ["MAYBE"]}}],
        "region r7: realis ['MAYBE']",
    ),
    "unknown control": ([{"id": "r8", "from_name": "notes", "to_name": "text", "type": "textarea", "value": {"text": ["x"]}}], "region r8: unknown control 'notes'"),
    "two labels": ([{**_region("r9", 10, 15, "fired", "ATTACK"), "value": {"start": 10, "end": 15, "text": "fired", "labels": ["ATTACK", "STRIKE"]}}], "region r9: expected exactly one"),
    "role of another type": (
        [_region("r10", 0, 9, "Militants", "victim", "argument_ATTACK")],
        "region r10: argument_ATTACK label 'victim' is not a role of ATTACK (its roles: attacker, target, instrument, place, time)",
    ),
    "argument control of no type": ([_region("r11", 0, 9, "Militants", "attacker", "argument_BOMBING")], "region r11: unknown control 'argument_BOMBING'"),
    "relation role of another type": (
        [_region("r12", 10, 15, "fired", "ATTACK"), _region("r13", 0, 9, "Militants", "attacker", "argument_ATTACK"),
         {"from_id": "r12", "to_id": "r13", "type": "relation", "direction": "right", "labels": ["threatener"]}],
        "relation 'r12' -> 'r13': role 'threatener' is not a role of ATTACK",
    ),
    "result not a list": ({"id": "x"}, "result is not a list"),
}


@pytest.mark.parametrize("name", BAD_RESULTS)
def test_invalid_regions_are_rejected_naming_task_sentence_and_region(name, tmp_path):
    s = tricky_sentences()[0]
    result, expected = BAD_RESULTS[name]
    export = [_task(42, s, [_ann(5, result)])]
    with pytest.raises(ValidationFailed) as e:
        write_pull(export, tmp_path / "out", USERS, labels=LABELS)
    message = str(e.value)
    assert f"task 42 (sentence {s.id}) annotation 5" in message
    assert expected in message
    assert not (tmp_path / "out").exists()


MALFORMED = {
    "not a list": ({"tasks": []}, "expected a JSON list of tasks"),
    "task not an object": (["oops"], "export item 0: not a task object"),
    "no sentence id": ([{"id": 3, "data": {"text": "x"}, "annotations": []}], "task 3: data has no text or sentence_id"),
    "annotations not a list": ([{"id": 4, "data": {"text": "x", "sentence_id": "s"}, "annotations": {}}], "task 4 (sentence s): annotations or drafts is not a list"),
    "duplicate sentence": (
        [{"id": 5, "data": {"text": "x", "sentence_id": "s"}}, {"id": 6, "data": {"text": "x", "sentence_id": "s"}}],
        "task 6 (sentence s): sentence id also used by task 5",
    ),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_exports_are_rejected_and_nothing_is_written(name, tmp_path):
    export, expected = MALFORMED[name]
    out = tmp_path / "annotations"
    out.mkdir()
    with pytest.raises(ValidationFailed) as e:
        write_pull(export, out, USERS, labels=LABELS)
    assert expected in str(e.value)
    assert list(out.iterdir()) == []


def test_every_problem_is_reported_at_once(tmp_path):
    s = tricky_sentences()[0]
    export = [_task(1, s, [_ann(1, BAD_RESULTS["unknown label"][0])]), _task(2, tricky_sentences()[1], [_ann(2, BAD_RESULTS["text mismatch"][0])])]
    with pytest.raises(ValidationFailed) as e:
        write_pull(export, tmp_path, USERS, labels=LABELS)
    assert len(e.value.problems) == 2


def test_relations_become_arguments_and_realis_is_kept():
    s = tricky_sentences()[0]
    t = s.text
    result = [
        _region("t", t.index("fired"), t.index("fired") + 5, "fired", "ATTACK"),
        _region("a", 0, 9, "Militants", "attacker", "argument"),
        _region("b", t.index("rockets"), t.index("rockets") + 7, "rockets", "target", "argument"),
        {"id": "t", "from_name": "realis", "to_name": "text", "type": "choices", "value": {"start": 10, "end": 15, "text": "fired", "choices": ["GENERIC"]}},
        {"from_id": "a", "to_id": "t", "type": "relation", "direction": "left", "labels": ["attacker"]},
        {"from_id": "t", "to_id": "b", "type": "relation", "direction": "right", "labels": []},  # role from the region
    ]
    [event], problems = events_from_results(result, t, LABELS, "w")
    assert problems == []
    assert event.realis == "GENERIC"
    assert event.arguments == (Argument("attacker", 0, 9, "Militants"), Argument("target", 16, 23, "rockets"))


def _per_type_result(text):
    """What the labelling page saves for one ATTACK with two arguments: the ``argtype``
    choice, per-type argument regions, one relation with its role and one left unlabelled."""
    fired, rockets = text.index("fired"), text.index("rockets")
    return [
        {"id": "x1", "from_name": "argtype", "to_name": "text", "type": "choices", "value": {"choices": ["ATTACK"]}, "origin": "manual"},
        {**_region("t", fired, fired + 5, "fired", "ATTACK"), "origin": "manual"},
        _region("a", 0, 9, "Militants", "attacker", "argument_ATTACK"),
        _region("b", rockets, rockets + 7, "rockets", "instrument", "argument_ATTACK"),
        {"from_id": "t", "to_id": "a", "type": "relation", "direction": "right", "labels": ["attacker"]},
        {"from_id": "t", "to_id": "b", "type": "relation", "direction": "right"},  # saved without labels: the region's role
    ]


def test_per_type_argument_controls_are_read_and_argtype_is_ignored():
    s = tricky_sentences()[0]
    t = s.text
    [event], problems = events_from_results(_per_type_result(t), t, LABELS, "w")
    assert problems == []
    rockets = t.index("rockets")
    assert (event.type, event.text) == ("ATTACK", "fired")
    assert event.arguments == (Argument("attacker", 0, 9, "Militants"), Argument("instrument", rockets, rockets + 7, "rockets"))
    result = _per_type_result(t)
    result[4]["labels"] = []  # an empty label list also takes the region's role
    assert events_from_results(result, t, LABELS, "w")[0] == [event]


def test_predictions_put_each_argument_under_its_event_types_control():
    s = tricky_sentences()[0]  # an ATTACK and a CASUALTY, both with arguments
    result = prediction(s)["result"]
    # The page opens offering the first event's roles; without a choice in the annotation
    # Label Studio would not submit the argument regions.
    assert [r["value"] for r in result if r.get("from_name") == ARGTYPE] == [{"choices": ["ATTACK"]}]
    assert not any(r.get("from_name") == ARGTYPE for r in event_results([Event("ATTACK", 0, 9, "Militants")], s.text))
    controls = {r["value"]["text"]: r["from_name"] for r in result if r.get("type") == "labels"}
    assert controls == {"fired": "trigger", "killing": "trigger", "Militants": "argument_ATTACK", "rockets": "argument_ATTACK",
                        "the base": "argument_ATTACK", "soldiers": "argument_CASUALTY", "3": "argument_CASUALTY"}
    assert events_from_results(result, s.text, LABELS, "w") == (sort_events(annotatable(e) for e in s.weak_events), [])
    # The same events as annotations made before the per-type controls read the same.
    old = [{**r, "from_name": "argument"} if str(r.get("from_name", "")).startswith("argument_") else r for r in result]
    assert events_from_results(old, s.text, LABELS, "w") == (sort_events(annotatable(e) for e in s.weak_events), [])


def test_an_argument_of_a_role_its_type_lacks_is_refused_before_sending():
    s = tricky_sentences()[0]
    t = s.text
    bad = s.with_(weak_events=(ev_with_role(t, "fired", "ATTACK", "victim", "Militants"),))
    problems = record_problems(bad, LABELS, "records.jsonl:1")
    assert "records.jsonl:1 weak_events 0 argument 0: role 'victim' is not a role of ATTACK (its roles: attacker, target, instrument, place, time)" in problems


def ev_with_role(text, word, type_, role, arg):
    start, a = text.index(word), text.index(arg)
    return Event(type_, start, start + len(word), word, arguments=(Argument(role, a, a + len(arg), arg),))


def test_instructions_are_the_howto_and_the_guidelines_as_html():
    html = instructions_html()
    assert html.startswith("<style>") and '<div class="eventds-guide">' in html
    assert "How to annotate on this page" in html and "<kbd>Ctrl</kbd>+<kbd>Enter</kbd>" in html
    assert "<kbd>1</kbd> ATTACK" in html and "<kbd>5</kbd> ATTACK" in html  # trigger keys, then argument-type keys
    assert "<h1>Annotation guidelines: STRIKE, ATTACK, CASUALTY, THREAT in conflict news</h1>" in html
    assert "<h2>8. Argument roles</h2>" in html
    assert "<table>" in html and "<th>Role</th>" in html and "<td><code>attacker</code></td>" in html
    assert " style=" not in html  # Label Studio strips style attributes: the <style> element does the styling
    try:
        import bleach
        from label_studio.constants import SAFE_HTML_ATTRIBUTES, SAFE_HTML_TAGS
    except ImportError:
        return
    # What Label Studio stores is what we send, so an unchanged project is not updated again.
    assert bleach.clean(html, tags=SAFE_HTML_TAGS, attributes=SAFE_HTML_ATTRIBUTES) == html


def test_records_with_unknown_labels_are_refused_before_sending():
    s = tricky_sentences()[0]
    bad = s.with_(weak_events=(Event("BOMBING", 10, 15, "fired"), Event("ATTACK", 0, 3, "xyz")))
    problems = record_problems(bad, LABELS, "records.jsonl:1")
    assert any("'BOMBING' is not in the label set" in p for p in problems)
    assert any("'xyz' does not equal the sentence text at [0, 3)" in p for p in problems)


def test_records_to_push_are_checked_whole_then_streamed(tmp_path):
    from builder.errors import InputError
    from builder.studio.push import check_sentences, read_sentences

    good = tricky_sentences()[:3]
    bad = [s.with_(id=f"{s.id}-bad", weak_events=(Event("BOMBING", 10, 15, "fired"),)) for s in good[:2]]
    path = tmp_path / "records.jsonl"
    lines = [json.dumps(s.to_dict(), ensure_ascii=False) for s in [good[0], bad[0], good[1], bad[1]]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as e:  # every bad record at once, before anything is sent
        check_sentences(path, LABELS)
    assert sorted({p.split(" sentence ")[0] for p in e.value.problems}) == [f"{path}:2", f"{path}:4"]
    assert any("prediction region" in p for p in e.value.problems)

    path.write_text("\n".join([json.dumps(good[0].to_dict(), ensure_ascii=False), "{not json"]) + "\n", encoding="utf-8")
    records = read_sentences(path, LABELS)
    first, task, problems = next(records)  # one record at a time: the broken line is not read yet
    assert first.id == good[0].id and task["data"]["sentence_id"] == good[0].id and problems == []
    with pytest.raises(InputError, match=r"records\.jsonl:2"):
        next(records)


# ---------------------------------------------------------------------------------------
# Merging a pull into the existing human layer


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_pull_merges_by_sentence_id_and_keeps_what_it_does_not_touch(tmp_path):
    s0, s1, s2 = tricky_sentences()[:3]
    out = tmp_path / "annotations"
    write_pull([_task(1, s0, [_ann(1, prediction(s0)["result"])]), _task(2, s1, [_ann(2, prediction(s1)["result"])])], out, USERS, labels=LABELS)
    # Another project: s0 re-corrected, s2 annotated for the first time, s1's task untouched.
    retyped = [r for r in prediction(s0)["result"] if r.get("id") == "e0"]
    stats = write_pull(
        [_task(11, s0, [_ann(5, retyped, by=2)]), _task(12, s1), _task(13, s2, [_ann(6, prediction(s2)["result"], by=2)])],
        out, USERS, labels=LABELS,
    )
    assert (stats.added, stats.changed, stats.kept, stats.removed) == ([s2.id], [s0.id], [s1.id], [])
    human = {o["id"]: o for o in map(json.loads, (out / "human.jsonl").read_text(encoding="utf-8").splitlines())}
    assert set(human) == {s0.id, s1.id, s2.id} and human[s1.id]["label_studio"]["task"] == 2
    detail = [json.loads(line) for line in (out / "annotators.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted((d["id"], d["annotator"]) for d in detail) == sorted(
        [(s0.id, "admin@example.org"), (s0.id, "second@example.org"), (s1.id, "admin@example.org"), (s2.id, "second@example.org")]
    )
    export = {t["data"]["sentence_id"]: t["id"] for t in json.loads((out / "export.json").read_text(encoding="utf-8"))}
    assert export == {s0.id: 11, s1.id: 2, s2.id: 13}  # s1's task from the project its annotation came from
    assert stats.previous and (tmp_path / "annotations" / ".previous").is_dir()


@pytest.mark.parametrize("loss", ["skipped", "downgraded", "pushed annotation deleted"])
def test_a_pull_that_loses_an_annotation_writes_nothing_unless_allowed(tmp_path, loss):
    s0, s1 = tricky_sentences()[:2]
    out = tmp_path / "annotations"
    accepted = prediction(s0)["result"]
    write_pull([_task(1, s0, [_ann(1, accepted, by=1), _ann(2, accepted, by=2, gt=True)]), _task(2, s1, [_ann(3, prediction(s1)["result"])])],
               out, USERS, labels=LABELS)
    before = _files(out)
    if loss == "skipped":
        export, sid = [_task(2, s1, [_ann(3, [], cancelled=True)])], s1.id
    elif loss == "downgraded":
        export, sid = [_task(1, s0, [_ann(2, accepted, by=2, gt=True)])], s0.id
    else:
        marked = _task(2, s1)
        marked["meta"] = {HUMAN_MARK: {"events": "0" * 64, "status": "corrected", "annotators": ["a"], "guidelines_version": "1.0.0"}}
        export, sid = [marked], s1.id
    with pytest.raises(ValidationFailed, match=rf"(removed|downgraded) {sid}"):
        write_pull(export, out, USERS, labels=LABELS)
    assert _files(out) == before and not (out / ".previous").exists()
    stats = write_pull(export, out, USERS, labels=LABELS, replace=True)
    assert (stats.removed or stats.downgraded) == [sid]


def test_removing_every_annotation_removes_the_files_instead_of_leaving_them_empty(tmp_path):
    s0 = tricky_sentences()[0]
    out = tmp_path / "annotations"
    write_pull([_task(1, s0, [_ann(1, prediction(s0)["result"])])], out, USERS, labels=LABELS)
    stats = write_pull([_task(1, s0, [_ann(2, [], cancelled=True)])], out, USERS, labels=LABELS, replace=True)
    assert stats.removed == [s0.id]
    assert not (out / "human.jsonl").exists() and not (out / "annotators.jsonl").exists()
    assert (out / "export.json").exists() and (out / "pseudonyms.json").exists()


def test_human_events_become_an_annotation_that_converts_back():
    s = tricky_sentences()[0]
    gold = s.with_(events=s.weak_events[:1], status="adjudicated", annotators=("a", "b"))
    annotation = human_annotation(gold)
    assert annotation["ground_truth"] is True and human_problems(gold, annotation, LABELS) == []
    events, _ = events_from_results(annotation["result"], s.text, LABELS, "t")
    assert events_digest(events) == human_mark(gold)["events"]
    bad = gold.with_(events=(Event("BOMBING", 10, 15, "fired"),))
    assert "type 'BOMBING' is not in the label set" in human_problems(bad, human_annotation(bad), LABELS)[0]
