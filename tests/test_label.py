import json
import re

import pytest
from typer.testing import CliRunner

from builder.cli import app
from builder.weak import WeakLabeller


@pytest.fixture(scope="module")
def labeller():
    return WeakLabeller()


def events_of(labeller, text):
    (events,) = labeller.label_texts([text])
    return [(e.type, e.text) for e in events]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("A US drone strike hit the airport.", [("STRIKE", "drone strike")]),
        ("Airstrikes pounded the positions.", [("STRIKE", "Airstrikes")]),
        ("A rocket attack on the base was reported.", [("ATTACK", "rocket attack")]),
        ("Gunmen opened fire on the convoy.", [("ATTACK", "opened fire")]),
        ("The blast killed 25 people.", [("ATTACK", "blast"), ("CASUALTY", "killed")]),
        ("At least 55 were wounded.", [("CASUALTY", "wounded")]),
        ("The militia vowed revenge.", [("THREAT", "vowed")]),
        ("The group threatened the embassy.", [("THREAT", "threatened")]),
    ],
)
def test_each_type_has_a_labelling_function(labeller, text, expected):
    assert events_of(labeller, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Askari issued a scathing attack on Kadhimi.",
        "Teachers began a general strike on Monday.",
        "He suffered a heart attack.",
        "The Houthis called it a grave threat to the country.",
        "The options carry a strike price of $50.",
        "Police raided the offices and arrested two suspects.",
        "Floods killed 30 people in the north on Monday.",
        "The coalition struck a long-awaited deal on the budget.",
        "Lawmakers killed the president's tax reform bill.",
        "Bus drivers went on an indefinite strike over unpaid wages.",
        "The album became an instant hit in Lagos.",
        "Farmers were hit hard by rising fuel prices.",
        "The bill was killed in committee.",
        "Soldiers fired warning shots into the air.",
        "A gas cylinder explosion killed three diners.",
        "The governor fired up supporters at a rally.",
        "The tariff war has hit exporters hard this year.",
        "The charity said it had been targeted by a campaign of online smears.",
        "The minister accused rivals of an attack on the judiciary.",
        "The rally left the crowd fired up for the vote.",
        "A fuel tanker exploded on the highway, killing four motorists.",
        "Doctors warned that drug resistance poses a growing danger in the cholera wards.",
        "Droughts are now the biggest threat to farmers in the region.",
        "The rebels now own drones capable of attacking the port.",
        "The team's captain sealed the win with a late strike after a fine attack.",
    ],
)
def test_vetoes_drop_non_event_senses(labeller, text):
    assert events_of(labeller, text) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Insurgents raided a police post overnight.", [("ATTACK", "raided")]),
        ("Gunmen shot dead a journalist in Mosul.", [("ATTACK", "shot"), ("CASUALTY", "dead")]),
        ("A drone slammed into a residential tower.", [("STRIKE", "slammed")]),
        ("Militants set three trucks ablaze.", [("ATTACK", "set")]),
        ("Rebels torched the market.", [("ATTACK", "torched")]),
        ("The army vowed to strike the camps.", [("THREAT", "vowed"), ("ATTACK", "strike")]),
        ("Troops and rebels clashed near the border.", [("ATTACK", "clashed")]),
        ("A convoy came under fire near Kidal.", [("ATTACK", "fire")]),
        ("Five people lost their lives in the ambush.", [("CASUALTY", "lost their lives"), ("ATTACK", "ambush")]),
        ("The death toll rose to 12.", [("CASUALTY", "death")]),
        # guidelines 1.2.0: bodies and remains are no trigger (C-8); a toll and counted fatalities are (C-9)
        ("The bodies of 12 people were found after gunmen attacked the village.", [("ATTACK", "attacked")]),
        ("The charred remains of three men were pulled from the wreckage of the shelled car.", [("ATTACK", "shelled")]),
        ("Militants overran the base, and the toll among soldiers climbed to 40.", [("ATTACK", "overran"), ("CASUALTY", "toll")]),
        ("A drone strike on the market left four fatalities.", [("STRIKE", "drone strike"), ("CASUALTY", "fatalities")]),
        ("The death toll from the earthquake rose to 94 as rescuers recovered more bodies.", []),
        ("Militiamen fired a salvo of rockets at the base.", [("ATTACK", "fired")]),
        ("Rebels hurled grenades at the camp.", [("ATTACK", "hurled")]),
        ("The army routinely shells the villages.", [("ATTACK", "shells")]),
        ("Two guards died of their wounds.", [("CASUALTY", "died")]),
        # guidelines 1.1.0, G2(b): contiguous multiword verbs, the verb of a discontinuous form
        ("Rebels blew up a bridge near Goma.", [("ATTACK", "blew up")]),
        ("A bomber blew himself up at the gate.", [("ATTACK", "blew")]),
        ("Soldiers mowed down the fleeing villagers.", [("CASUALTY", "mowed down")]),
        ("The bombing claimed at least 14 lives.", [("ATTACK", "bombing"), ("CASUALTY", "claimed")]),
        ("The fire took the lives of nine children.", [("CASUALTY", "took")]),
        ("A suicide bombing hit the market.", [("ATTACK", "bombing")]),  # G2(a): "suicide" names no weapon
        ("Gunmen machine-gunned the bus.", [("ATTACK", "machine-gunned")]),
        ("A gunbattle broke out in the port.", [("ATTACK", "gunbattle")]),
        ("Helicopters strafed the convoy.", [("STRIKE", "strafed")]),
        ("Troops and rebels clashed and a boy was caught in the crossfire.", [("ATTACK", "clashed")]),  # G5: crossfire restates them
        ("Militants slaughtered six herders.", [("CASUALTY", "slaughtered")]),
        ("The mines maim children every year.", [("CASUALTY", "maim")]),
        ("Hospitals treated dozens of blast wounds.", [("CASUALTY", "wounds")]),  # "blast" names the wound
        ("The raid, blamed on jihadist fighters, hit the village.", [("ATTACK", "raid")]),
        ("The army vowed revenge, promising a harsh response.", [("THREAT", "vowed")]),  # G5: the participle restates it
        ("Gunmen ambushed a patrol in a fierce firefight.", [("ATTACK", "ambushed")]),  # G5: the firefight restates it
        ("Troops traded fire with the rebels.", [("ATTACK", "fire")]),
        ("A drone raid hit the depot.", [("STRIKE", "drone raid")]),
        ("Two guards were shot at close range.", [("ATTACK", "shot")]),
        ("Gunmen shot him outside his home.", [("ATTACK", "shot")]),
        ("Snipers kept up heavy fire on the bridge.", [("ATTACK", "fire")]),  # G2(a): "heavy" names no weapon
        ("Three workers were evacuated with severe burns.", [("CASUALTY", "burns")]),
        ("The threatened attacks never came.", [("ATTACK", "attacks")]),  # "threatened" modifies, it is no THREAT
    ],
)
def test_context_rules_follow_the_guidelines(labeller, text, expected):
    """Context rules (guidelines A-4, A-5, A-6, G2, G3, G5, S-4, T-3) on sentences outside every test set."""
    assert events_of(labeller, text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The ministry denied that soldiers had shelled the village.", [("shelled", "OTHER")]),
        ("The group denied carrying out the attack.", [("attack", "ACTUAL")]),  # the agency is denied (section 7, Scope)
        ("The bomb, had it detonated, would have killed dozens.", [("detonated", "OTHER"), ("killed", "OTHER")]),
        ("Officials said no civilians had been killed.", [("killed", "OTHER")]),
        ("They gave troops a day to leave or face an assault.", [("assault", "OTHER")]),
        ("The cabinet will discuss plans to expand airstrikes and raids by militias.", [("airstrikes", "OTHER"), ("raids", "OTHER")]),
        ("Failures allowed rebels to ambush a patrol.", [("ambush", "ACTUAL")]),
        ("Gangs typically attack buses at night.", [("attack", "GENERIC")]),
        ("Police foiled a plot to bomb the stadium.", [("bomb", "OTHER")]),
        ("The convoy would almost certainly have been attacked on the main road.", [("attacked", "OTHER")]),
        ("Two rangers were hacked to death.", [("hacked", "ACTUAL"), ("death", "ACTUAL")]),
        ("Nothing can justify shelling and killing civilians.", [("shelling", "ACTUAL"), ("killing", "ACTUAL")]),
    ],
)
def test_realis_follows_section_7(labeller, text, expected):
    (events,) = labeller.label_texts([text])
    assert [(e.text, e.realis) for e in events] == expected


def test_events_carry_offsets_confidence_and_sources(labeller):
    text = "The US responded with airstrikes, killing 25 fighters."
    (events,) = labeller.label_texts([text])
    for e in events:
        assert text[e.start : e.end] == e.text
        assert 0.5 <= e.confidence <= 1
        assert e.sources and all(re.fullmatch(r"[a-z_]+\.v[0-9]+", s) for s in e.sources)


def test_lf_failures_are_counted_when_tolerant():
    lab = WeakLabeller(tolerant=True)

    def broken(doc):
        raise RuntimeError("boom")

    lab.add("broken.v1", broken)
    (events,) = lab.label_texts(["A drone strike hit."])
    assert [e.type for e in events] == ["STRIKE"]
    assert lab.stats.failures["broken.v1"] == 1


def test_label_command_on_arbitrary_jsonl(tmp_path):
    src = tmp_path / "in.jsonl"
    lines = [
        {"id": 1, "text": "Shelling of Kharkiv killed three civilians on Tuesday.", "source": "wire"},
        {"id": "b", "text": "The minister vowed to retaliate 🚀 if attacked again."},
        {"id": "c", "text": "Stocks rose on Monday."},
    ]
    src.write_text("".join(json.dumps(l, ensure_ascii=False) + "\n" for l in lines), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["label", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [1, "b", "c"]
    assert rows[0]["source"] == "wire"
    assert {(e["type"], e["text"]) for e in rows[0]["events"]} == {("ATTACK", "Shelling"), ("CASUALTY", "killed")}
    assert [e["type"] for e in rows[1]["events"]] == ["THREAT", "ATTACK"]
    assert rows[2]["events"] == []
    for row in rows:
        for e in row["events"]:
            assert row["text"][e["start"] : e["end"]] == e["text"]


def test_labelling_streams_every_item_in_order_across_batches(labeller):
    """More items than one batch (BATCH_SIZE) come out, each once, in order, with its own events."""
    from builder.weak import BATCH_SIZE, label_jsonl_objects

    texts = ["Gunmen opened fire on the convoy.", "Stocks rose on Monday.", "The blast killed 25 people."]
    n = 2 * BATCH_SIZE + 7
    objects = [("in.jsonl", i + 1, {"id": i, "text": texts[i % 3]}) for i in range(n)]
    rows = list(label_jsonl_objects(iter(objects), labeller))
    assert [r["id"] for r in rows] == list(range(n))
    assert [len(r["events"]) for r in rows[:3]] == [1, 0, 2]
    assert all(r["events"] == rows[i % 3]["events"] for i, r in enumerate(rows))


def test_label_command_rejects_a_line_without_text_and_writes_nothing(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "ok"}\n{"id": 2, "body": "x"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["label", str(src), "-o", str(out)])
    assert result.exit_code == 2
    assert f"{src}:2 -> text" in result.output
    assert not out.exists()


def test_skipping_functions_without_their_anchor_words_never_changes_the_output(labeller):
    """A function skipped because none of its anchor words is in the text must have had nothing to say."""
    import json as _json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    texts = [_json.loads(l)["text"] for l in (root / "tests" / "data" / "heldout.jsonl").read_text(encoding="utf-8").splitlines()]
    texts += ["Israeli air-strikes hit Rafah.", "A drone-strike killed two.", "Re-attacked overnight.", "Nothing happened today.", "25 people dead.", "Five dead"]
    fast = list(labeller.label_texts(texts))
    unanchored = WeakLabeller()
    unanchored._plan = [(name, fn, None) for name, fn, _ in unanchored._plan]
    full = list(unanchored.label_texts(texts))
    assert fast == full
    assert sum(map(bool, fast)) > len(texts) // 2
    assert all(anchors for _, _, anchors in labeller._plan), "every built-in function declares its anchor words"


def test_a_broken_context_word_list_is_a_config_error_naming_the_file(tmp_path):
    from builder.errors import ConfigError
    from builder.weak.context import _word_lists

    path = tmp_path / "context_words.json"
    path.write_text(json.dumps({"lists": {"means": {"words": ["Drone"]}}}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"context_words.json -> lists -> means -> words"):
        _word_lists(path)
    path.write_text(json.dumps({"lists": {"means": {"words": ["drone"]}}}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"context_words.json -> lists -> rockets: missing"):
        _word_lists(path)["rockets"]


@pytest.mark.parametrize("trigger_token", [2, [2, None], "last", True])
def test_a_trigger_token_outside_the_match_is_a_config_error(trigger_token):
    from builder.errors import ConfigError
    from builder.weak import LexiconFunction

    spec = {"type": "ATTACK", "patterns": [{"id": "p", "pattern": [{"LOWER": "opened"}, {"LOWER": "fire"}], "trigger_token": trigger_token}]}
    with pytest.raises(ConfigError, match=r"functions -> f -> patterns -> 0: trigger_token"):
        LexiconFunction("f", spec)


@pytest.mark.parametrize("trigger_token, expected", [(0, "opened"), (-1, "fire"), ([0, 2], "opened up")])
def test_trigger_token_picks_the_trigger_inside_the_match(trigger_token, expected):
    from builder.weak import Doc, LexiconFunction
    from builder.tokens import tokenize

    spec = {"type": "ATTACK", "patterns": [{"id": "p", "pattern": [{"LOWER": "opened"}, {"LOWER": "up", "OP": "?"}, {"LOWER": "fire"}], "trigger_token": trigger_token}]}
    doc = Doc(tokenize("Gunmen opened up fire on the convoy."))
    LexiconFunction("f", spec)(doc)
    [(start, end, _, _)] = doc.spans["f"]
    assert doc.text[start:end] == expected


def _with_misaligned_event(labeller, monkeypatch):
    """Make the labeller's aggregation also propose an event inside the token "attack==" of
    "==attack== ..." (its "attack"), which no BIO tag can hold."""
    from builder.weak import Candidate
    from builder.weak import events as events_module

    aggregate = events_module.aggregate

    def with_bad_event(doc, *args, **kwargs):
        found = aggregate(doc, *args, **kwargs)
        at = doc.text.find("==attack==")
        if at < 0:
            return found
        return sorted([*found, Candidate("ATTACK", at + 2, at + 8, 0.9, ("test",))], key=lambda c: c.start)

    monkeypatch.setattr(events_module, "aggregate", with_bad_event)


def test_an_event_off_the_token_boundaries_is_dropped_counted_and_reported(monkeypatch):
    labeller = WeakLabeller()
    _with_misaligned_event(labeller, monkeypatch)
    texts = ["==attack== A US drone strike hit the airport.", "A US drone strike hit the airport."]
    first, second = labeller.label_texts(texts, ids=["s-1", "s-2"])
    assert [(e.type, e.text) for e in first] == [("STRIKE", "drone strike")] == [(e.type, e.text) for e in second]
    assert labeller.stats.unplaceable == 1
    [dropped] = labeller.stats.unplaceable_examples
    assert (dropped.sentence_id, dropped.type, dropped.text, dropped.start, dropped.end) == ("s-1", "ATTACK", "attack", 2, 8)
    assert labeller.stats.events == {"STRIKE": 2}


def test_label_sentences_reports_the_sentence_id_of_a_dropped_event(monkeypatch):
    from builder.records import Sentence
    from builder.weak import label_sentences

    labeller = WeakLabeller()
    _with_misaligned_event(labeller, monkeypatch)
    text = "==attack== Gunmen opened fire."
    sentence = Sentence("doc-3:7", "doc-3", 7, text, 0, len(text), 0, len(text))
    [out] = label_sentences([sentence], labeller)
    assert [(e.type, e.text) for e in out.weak_events] == [("ATTACK", "opened fire")]
    assert [(u.sentence_id, u.text) for u in labeller.stats.unplaceable_examples] == [("doc-3:7", "attack")]


def test_the_report_of_dropped_events_is_bounded(monkeypatch):
    from builder.weak import UNPLACEABLE_KEPT

    labeller = WeakLabeller()
    _with_misaligned_event(labeller, monkeypatch)
    n = UNPLACEABLE_KEPT + 5
    assert all(events == [] for events in labeller.label_texts(["==attack== x"] * n))
    assert labeller.stats.unplaceable == n
    assert len(labeller.stats.unplaceable_examples) == UNPLACEABLE_KEPT


def test_an_argument_off_the_token_boundaries_drops_its_event(monkeypatch):
    from dataclasses import replace

    from builder.records import Argument
    from builder.weak import events as events_module

    labeller = WeakLabeller()
    text = "A US drone strike hit the airport."
    enrich = events_module.enrich
    off_tokens = Argument("TARGET", 27, 33, "irport")
    monkeypatch.setattr(events_module, "enrich", lambda doc, candidates: [replace(e, arguments=(off_tokens,)) for e in enrich(doc, candidates)])
    assert next(labeller.label_texts([text], ids=["s-9"])) == []
    assert [(u.sentence_id, u.type, u.text) for u in labeller.stats.unplaceable_examples] == [("s-9", "STRIKE", "irport")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Police said a shooting outside a mosque in Peshawar left four people dead.", [("ATTACK", "shooting"), ("CASUALTY", "dead")]),
        ("Aerial bombardments on the town have intensified since Monday.", [("STRIKE", "bombardments")]),
        ("Gunmen murdered 30 farmers in the village.", [("CASUALTY", "murdered")]),
        ("Prosecutors charged the men with the murder of two police officers.", [("CASUALTY", "murder")]),
        ("The homicide of a journalist in the city sparked protests.", [("CASUALTY", "homicide")]),
        ("Eleven civilians were slain and dozens more were maimed.", [("CASUALTY", "slain"), ("CASUALTY", "maimed")]),
        # G5: the noun that names a killing another word reports is no second trigger
        ("Families marked the anniversary of the school massacre, in which gunmen killed 147 people.", [("CASUALTY", "killed")]),
    ],
)
def test_attack_nouns_and_killing_words_of_the_guidelines(labeller, text, expected):
    """Words the guidelines cover (4.1 attacks with firearms, bombardment; 5.1 and C-3 killings named by a noun or verb)."""
    assert events_of(labeller, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The crew spent the day shooting a film in the old city.",
        "She wrote a murder mystery set in Beirut.",
        "The team's shooting percentage dropped in the second half.",
    ],
)
def test_film_fiction_and_sports_senses_of_the_new_words_are_vetoed(labeller, text):
    assert events_of(labeller, text) == []
