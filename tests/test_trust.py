"""Where a learned function's edits to the rules' events are trusted (``builder.weak.trust``)."""

from __future__ import annotations

import pytest

from builder.errors import InputError
from builder.weak.trust import Trust, combine, edits, wilson_lower

RULES = [{"type": "ATTACK", "start": 10, "end": 17}]


def test_edits_are_additions_removals_and_retypings_of_the_rules_events():
    added = edits(RULES, [(10, 17, "ATTACK", 0.9), (12, 20, "STRIKE", 0.8), (30, 35, "CASUALTY", 0.7)], ("add",))
    assert [(e.start, e.end, e.type, e.confidence) for e in added] == [(30, 35, "CASUALTY", 0.7)]
    assert [(e.kind, e.type) for e in edits(RULES, [(10, 17, "ATTACK", 0.9)])] == []
    assert [(e.kind, e.type, e.rule) for e in edits(RULES, [])] == [("remove", "ATTACK", 0)]
    assert [(e.kind, e.type, e.start) for e in edits(RULES, [(12, 17, "STRIKE", 0.8)])] == [("retype", "STRIKE", 10)]
    assert edits(RULES, [], kinds=("add",)) == []  # a function asked only for additions removes nothing


def test_an_edit_is_trusted_once_it_is_right_half_the_time():
    trust = Trust(kinds=("add",), min_seen=3, z=0)  # z 0: judged on the share itself
    gold = [{"type": "CASUALTY", "start": 30, "end": 35}]
    trust.observe(RULES, [(30, 35, "CASUALTY", 0.9)], gold)
    trust.observe(RULES, [(30, 35, "CASUALTY", 0.9)], gold)
    assert trust.trusted() == frozenset()  # two seen: not yet enough
    trust.observe(RULES, [(40, 45, "CASUALTY", 0.9)], gold)  # wrong
    assert trust.precision("add", "CASUALTY") == pytest.approx(2 / 3)
    # Its own three cases trust it; the other types, with no case of their own, follow their kind.
    assert trust.trusted() == {"add:CASUALTY", "add:ATTACK", "add:STRIKE", "add:THREAT"}
    trust.observe(RULES, [(50, 55, "THREAT", 0.9)], [{"type": "ATTACK", "start": 50, "end": 55}])
    assert trust.wrong["add:THREAT"] == 1  # the wrong type is wrong
    assert trust.trusted() == {"add:CASUALTY", "add:ATTACK", "add:STRIKE"}  # its one case is against it
    trust.observe(RULES, [(40, 45, "CASUALTY", 0.9)], gold)
    trust.observe(RULES, [(40, 45, "CASUALTY", 0.9)], gold)
    assert trust.trusted() == frozenset()  # 2 of 6 over the kind, 2 of 5 for CASUALTY


def test_a_removal_is_right_when_the_annotators_dropped_the_event():
    trust = Trust(kinds=("remove", "retype"), min_seen=1, z=0)
    trust.observe(RULES, [], [])  # the rules' ATTACK was not in the human layer
    trust.observe(RULES, [(10, 17, "STRIKE", 0.9)], [{"type": "STRIKE", "start": 10, "end": 17}])
    assert {"remove:ATTACK", "retype:STRIKE"} <= trust.trusted()
    trust.observe(RULES, [], RULES)  # and once it was
    assert trust.precision("remove", "ATTACK") == 0.5 and "remove:ATTACK" in trust.trusted()
    trust.observe(RULES, [], RULES)
    assert not any(k.startswith("remove:") for k in trust.trusted())


def test_trust_needs_evidence_a_few_lucky_cases_do_not_give():
    gold = [{"type": "ATTACK", "start": 30, "end": 35}]

    def seen(right: int, wrong: int, **options) -> Trust:
        trust = Trust(kinds=("add",), **options)
        for _ in range(right):
            trust.observe(RULES, [(30, 35, "ATTACK", 0.9)], gold)
        for _ in range(wrong):
            trust.observe(RULES, [(40, 45, "ATTACK", 0.9)], gold)
        return trust

    assert wilson_lower(5, 10, 0) == 0.5 and wilson_lower(0, 0, 1.0) == 0.0
    assert wilson_lower(5, 10, 1.0) < 0.4 < wilson_lower(8, 10, 1.0) < 0.8
    assert "add:ATTACK" not in seen(5, 5).trusted()  # half right over ten cases: the bound is below half
    assert "add:ATTACK" in seen(5, 5, z=0).trusted()  # the share itself would trust it
    assert "add:ATTACK" not in seen(10, 12).trusted()  # the tagger's additions at 200 corrections (learning curve)
    assert "add:ATTACK" not in seen(6, 4).trusted() and "add:ATTACK" in seen(8, 2).trusted()
    assert "add:ATTACK" in seen(60, 40).trusted()  # 60 of 100: enough cases for a share that pays


def test_combine_applies_only_trusted_edits_and_keeps_the_rest_of_the_rules():
    spans = [(30, 35, "CASUALTY", 0.9), (0, 5, "THREAT", 0.6)]
    out = combine(RULES, spans, {"add:CASUALTY"})
    assert [(e["type"], e["start"]) for e in out] == [("ATTACK", 10), ("CASUALTY", 30)]  # no span kept the ATTACK, but removal is not trusted
    assert combine(RULES, spans, {"remove:ATTACK"}) == []
    assert [e["type"] for e in combine(RULES, [(10, 17, "STRIKE", 0.8)], {"retype:STRIKE"})] == ["STRIKE"]


def test_trust_round_trips_and_a_bad_file_is_named(tmp_path):
    trust = Trust(min_seen=3)
    trust.right["add:ATTACK"] = 4
    trust.wrong["add:ATTACK"] = 1
    path = tmp_path / "trust.json"
    trust.save(path)
    again = Trust.load(path)
    assert again.to_dict() == trust.to_dict() and "add:ATTACK" in again.trusted()
    path.write_text('{"right": 3}', encoding="utf-8")
    with pytest.raises(InputError, match=f"{path}: not a trust record"):
        Trust.load(path)
