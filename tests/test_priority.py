"""Task priorities and the push plan: which sentence is annotated next, and its neighbours."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from builder.errors import InputError
from builder.studio.interface import LabelSet
from builder.studio.priority import Prioritizer
from builder.studio.push import check_sentences, plan_push, read_planned
from conftest import ev, sentence, write_records


def test_each_signal_moves_the_priority():
    p = Prioritizer.from_texts(["Rebels attacked the town."])
    t = "Rebels attacked the town."
    sure = [ev(t, "attacked", "ATTACK", confidence=0.99)]
    unsure = [ev(t, "attacked", "ATTACK", confidence=0.5)]
    assert p.signals(t, sure) == {"disagreement": 0.0, "uncertainty": pytest.approx(0.02), "novelty": 0.0}
    assert p.priority(t, unsure) > p.priority(t, sure)
    assert p.priority(t, sure, rule_events=[]) == pytest.approx(p.priority(t, sure) + 0.5)  # a learned function disagrees
    new = "Villagers fled the flooding valley."
    assert p.signals(new, [])["novelty"] == 1.0
    assert Prioritizer().signals(t, sure)["novelty"] == 1.0


def test_push_plan_orders_by_priority_and_finds_neighbours_in_the_document(tmp_path: Path):
    texts = ["Gunmen attacked a bus.", "The driver escaped.", "Police later vowed revenge.", "Markets reopened on Monday."]
    confs = [0.99, None, 0.5, None]
    sents = [
        sentence(f"d1-s{i}", t, [ev(t, t.split()[1], "ATTACK", confidence=c)] if c else [], index=i) for i, (t, c) in enumerate(zip(texts[:3], confs))
    ] + [sentence("d2-s0", texts[3], [], index=0)]
    path = write_records(tmp_path / "records.jsonl", sents)
    labels = LabelSet.current()
    ids, _, prioritizer = check_sentences(path, labels)
    plan = plan_push(path, prioritizer)
    assert list(plan.prev) == [-1, 0, 1, -1] and list(plan.next) == [1, 2, -1, -1]
    order = [ids[i] for i in plan.order()]
    assert order[0] == "d1-s2"  # the only uncertain event
    tasks = {s.id: t["data"] for s, t, problems in read_planned(path, plan, labels) if not problems}
    assert [s for s in tasks] == order
    assert (tasks["d1-s1"]["prev"], tasks["d1-s1"]["next"]) == (texts[0], texts[2])
    assert (tasks["d2-s0"]["prev"], tasks["d2-s0"]["next"]) == ("", "")
    assert tasks["d1-s2"]["priority"] == max(t["priority"] for t in tasks.values())


def test_annotated_sentences_make_their_words_old(tmp_path: Path):
    t = "Militias razed three hamlets."
    done = dataclasses.replace(sentence("d1-s0", t, [], index=0), status="corrected", annotators=("ann1",))
    path = write_records(tmp_path / "r.jsonl", [done, sentence("d2-s0", "Militias razed the hamlets in Kirkuk.", [], index=0)])
    _, _, prioritizer = check_sentences(path, LabelSet.current())
    assert prioritizer.signals("Militias razed the hamlets in Kirkuk.", [])["novelty"] == pytest.approx(1 / 4)  # of militias, razed, hamlets, kirkuk: only "kirkuk" is new


def test_a_file_changed_during_the_push_is_an_input_error(tmp_path: Path):
    path = write_records(tmp_path / "r.jsonl", [sentence("d1-s0", "Rebels attacked.", []), sentence("d1-s1", "They fled.", [], index=1)])
    plan = plan_push(path, Prioritizer())
    path.write_text(json.dumps({"id": "x"})[:5] + "\n" * 50)
    with pytest.raises(InputError, match="changed during the push"):
        list(read_planned(path, plan, LabelSet.current()))
