"""The corrections memory: trigger words annotators add or remove become votes and vetoes."""

from __future__ import annotations

import pytest

from builder.errors import ConfigError, InputError
from builder.weak import WeakConfig, WeakLabeller
from builder.weak.memory import CorrectionMemory, CorrectionsFunction


def span(text: str, word: str, type_: str) -> dict:
    start = text.index(word)
    return {"type": type_, "start": start, "end": start + len(word)}


@pytest.fixture(scope="module")
def rules() -> WeakLabeller:
    return WeakLabeller()


def rule_events(labeller: WeakLabeller, text: str) -> list[dict]:
    return [e.to_dict() for e in next(labeller.label_texts([text]))]


def learn(rules: WeakLabeller, examples: list[tuple[str, list[dict]]], **options) -> CorrectionMemory:
    return CorrectionMemory.learn([(t, human, rule_events(rules, t)) for t, human in examples], **options)


def test_a_word_annotators_mark_where_the_rules_are_silent_becomes_a_vote(rules):
    t = "Militias razed three hamlets on Tuesday."
    assert rule_events(rules, t) == []  # the rules miss it: the memory has something to teach
    memory = learn(rules, [(t, [span(t, "razed", "ATTACK")])])
    assert memory.votes == {"razed": {"type": "ATTACK", "marked": 1, "seen": 1}}
    labeller = WeakLabeller()
    labeller.add("corrections.v1", CorrectionsFunction(memory))
    new = "Soldiers razed the camp and left."
    events = next(labeller.label_texts([new]))
    assert [(e.type, e.text, e.sources) for e in events] == [("ATTACK", "razed", ("corrections.v1",))]


def test_a_word_marked_in_fewer_than_half_its_sentences_is_not_learned(rules):
    a, b, c = "Crowds pelted the convoy.", "Rain pelted the roofs all night.", "Hail pelted the fields."
    memory = learn(rules, [(a, [span(a, "pelted", "ATTACK")]), (b, []), (c, [])])
    assert "pelted" not in memory.votes


def test_a_rule_trigger_removed_again_and_again_is_vetoed_and_a_kept_one_is_not(rules):
    texts = ["The fans stormed the pitch after the final whistle.", "Supporters stormed the pitch in joy.", "Fans stormed the pitch again."]
    proposed = [rule_events(rules, t) for t in texts]
    assert all(any(e["text"] == "stormed" for e in p) for p in proposed), proposed  # the rules fire on it
    memory = learn(rules, [(t, []) for t in texts])
    assert memory.vetoes["stormed"] == {"removed": 3, "proposed": 3}
    labeller = WeakLabeller()
    labeller.add("corrections.v1", CorrectionsFunction(memory))
    assert next(labeller.label_texts(["Hundreds stormed the pitch."])) == []
    # once removed but twice kept: no veto
    kept = learn(rules, [(texts[0], []), (texts[1], [span(texts[1], "stormed", "ATTACK")]), (texts[2], [span(texts[2], "stormed", "ATTACK")])])
    assert "stormed" not in kept.vetoes


def test_the_memory_is_a_json_file_and_a_config_entry_loads_it(rules, tmp_path):
    t = "Militias razed three hamlets on Tuesday."
    learn(rules, [(t, [span(t, "razed", "ATTACK")])]).save(tmp_path / "model")
    config = tmp_path / "weak.json"
    config.write_text('{"functions": [{"name": "attack_lexicon.v7"}, {"name": "corrections.v1", "model": "%s"}]}' % (tmp_path / "model"))
    labeller = WeakLabeller(config=config)
    assert [e.text for e in next(labeller.label_texts(["They razed it."]))] == ["razed"]
    (tmp_path / "model" / "corrections.json").write_text("{}")
    with pytest.raises(ConfigError, match="corrections.json: not a corrections memory"):
        WeakConfig.load(config).create(labeller.rules)
    with pytest.raises(InputError, match="corrections.json"):
        CorrectionMemory.load(tmp_path / "model")
