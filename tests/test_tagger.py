"""The learned labelling function (``builder.weak.tagger``): MiniLM-L6 fine-tuned as a BIO
trigger tagger on CPU, from the ``model`` extra that CI installs."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from builder.errors import ConfigError
from builder.tokens import tokenize
from builder.weak.tagger import META, TaggerFunction, TaggerModel, TrainConfig, labels, snap

# "encounter" (an armed clash, Indian English) is a word the rules do not list.
PLACES = ["Kupwara", "Sopore", "Shopian", "Baramulla", "Pulwama", "Anantnag", "Kulgam", "Handwara"]
TRAIN = [
    f"Two militants were killed in an encounter with security forces in {p} on {d}, police said."
    for p, d in zip(PLACES, ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Monday"])
] + [
    f"Officials in {p} said the market reopened on Tuesday after a week of heavy rain."
    for p in PLACES
]


def gold(text: str) -> list[dict]:
    events = []
    for word, etype in (("encounter", "ATTACK"), ("killed", "CASUALTY")):
        at = text.find(word)
        if at >= 0:
            events.append({"type": etype, "start": at, "end": at + len(word)})
    return events


@pytest.fixture(scope="module")
def tagger_dir(tmp_path_factory):
    model = TaggerModel.from_encoder(config=TrainConfig(epochs=25, learning_rate=2e-4, batch_size=8, threads=2))
    model.fit([{"text": t, "events": gold(t)} for t in TRAIN])
    out = tmp_path_factory.mktemp("tagger")
    model.save(out)
    return out


def test_the_tagger_learns_a_trigger_word_from_annotated_sentences(tagger_dir):
    from builder.weak import default_labeller

    text = "A soldier was injured in a fresh encounter near the Line of Control in Rajouri late on Friday."
    at = text.index("encounter")
    assert not any(e.start <= at < e.end for e in next(default_labeller().label_texts([text]))), "the rules must not already mark it"
    spans = TaggerModel.load(tagger_dir).predict([text])[0]
    assert [(s, e, t) for s, e, t, c in spans if t == "ATTACK"] == [(at, at + len("encounter"), "ATTACK")]
    assert all(0.5 < c <= 1.0 for *_, c in spans)


def test_the_tagger_function_votes_on_token_boundaries_and_pickles(tagger_dir):
    from builder.weak.base import Doc

    fn = TaggerFunction(tagger_dir, types=["ATTACK"])
    text = "Police said the encounter in Kishtwar lasted four hours, and one attacker was killed."
    doc = Doc(tokenize(text))
    fn(doc)
    spans = doc.spans[fn.name]
    assert [text[s:e] for s, e, _, _ in spans] == ["encounter"]  # CASUALTY is not among its types
    clone = pickle.loads(pickle.dumps(fn))
    assert clone._tagger is None  # the weights are not pickled: the folder is
    doc2 = Doc(tokenize(text))
    clone.batch([doc2])
    assert doc2.spans[fn.name] == spans


def test_a_sub_word_span_is_widened_to_its_token():
    tokens = tokenize("The shelling of Kharkiv resumed.")
    assert snap(tokens, 4, 8) == (4, 12)  # "shel" of "shelling"
    assert snap(tokens, 4, 12) == (4, 12)


def test_a_folder_that_is_not_a_tagger_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match=f"{tmp_path}: not a tagger folder .no {META}"):
        TaggerModel.load(tmp_path)
    (tmp_path / META).write_text(json.dumps({"labels": ["O", "B-X"]}), encoding="utf-8")
    with pytest.raises(ConfigError, match="labels"):
        TaggerModel.load(tmp_path)
    assert labels()[0] == "O" and len(labels()) == 9


def _config(tmp_path, model_dir) -> Path:
    from builder.weak import CONFIG_PATH

    config = json.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    for entry in config["functions"]:
        if entry["name"] == "tagger.v1":
            entry.update({"model": str(model_dir), "enabled": True, "types": ["ATTACK", "CASUALTY"]})
    path = tmp_path / "weak_functions.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def test_the_labeller_applies_only_the_edits_the_tagger_is_trusted_with_and_votes_replay_them(tagger_dir, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from builder.cli import app
    from builder.weak import WeakLabeller
    from builder.weak.trust import Trust

    model_dir = tmp_path / "tagger"
    shutil.copytree(tagger_dir, model_dir)
    text = "A soldier was injured in a fresh encounter near the Line of Control in Rajouri late on Friday."
    untrusted = WeakLabeller(config=_config(tmp_path, model_dir))
    doc = untrusted.annotate(untrusted.make_doc(text))
    assert [text[s:e] for s, e, t, _ in doc.spans["tagger.v1"] if t == "ATTACK"] == ["encounter"]  # it votes
    assert "encounter" not in [e.text for e in untrusted.events(doc)]  # but no trust record: no edit

    trust = Trust(kinds=("add",), min_seen=1)
    trust.right["add:ATTACK"] = 1
    trust.save(model_dir / "trust.json")
    labeller = WeakLabeller(config=_config(tmp_path, model_dir))
    events = next(labeller.label_texts([text]))
    added = [e for e in events if e.text == "encounter"]
    assert [(e.type, e.sources) for e in added] == [("ATTACK", ("tagger.v1",))]
    # One right addition of ATTACK trusts additions of its kind for the function's types (no case against them).
    assert pickle.loads(pickle.dumps(labeller)).functions["tagger.v1"].trusted == {"add:ATTACK", "add:CASUALTY"}

    # The votes keep the edits it was trusted with: aggregation from them gives the same events.
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "s1", "text": text}) + "\n", encoding="utf-8")
    cfg = _config(tmp_path, model_dir)
    runner = CliRunner()
    result = runner.invoke(app, ["label", str(src), "-o", str(tmp_path / "out.jsonl"), "--weak-config", str(cfg), "--votes", str(tmp_path / "votes")])
    assert result.exit_code == 0, result.output
    labelled = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert "encounter" in [e["text"] for e in labelled["events"]]
    result = runner.invoke(app, ["aggregate", str(tmp_path / "out.jsonl"), "--votes", str(tmp_path / "votes"), "-o", str(tmp_path / "again.jsonl")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "again.jsonl").read_text(encoding="utf-8"))["events"] == labelled["events"]


def test_weak_train_writes_a_tagger_with_its_out_of_fold_trust(tmp_path):
    from typer.testing import CliRunner

    from builder.cli import app

    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text("".join(json.dumps({"id": f"g{i}", "text": t, "events": gold(t), "status": "adjudicated"}) + "\n" for i, t in enumerate(TRAIN)), encoding="utf-8")
    out = tmp_path / "models" / "tagger"
    result = CliRunner().invoke(app, ["weak", "train", str(gold_file), "-o", str(out), "--plain", "--epochs", "25", "--learning-rate", "2e-4", "--batch-size", "8", "--folds", "2", "--min-seen", "1"])
    assert result.exit_code == 0, result.output
    trust = json.loads((out / "trust.json").read_text(encoding="utf-8"))
    # Each fold's tagger learned "encounter" from the other fold and added it where the rules are silent.
    assert trust["right"]["add:ATTACK"] >= 2 and "add:ATTACK" in trust["trusted"], trust
    assert trust["kinds"] == ["add"]  # a plain tagger is asked only about what it adds
    assert json.loads((out / META).read_text(encoding="utf-8"))["sentences"] == {"human": len(TRAIN), "weak": 0}
    assert sorted(p.name for p in out.parent.iterdir()) == ["tagger"]  # staged, swapped in, nothing left over


def test_a_rule_aware_tagger_starts_by_agreeing_with_the_rules(tmp_path):
    text = "Drones struck a fuel depot near Odesa overnight, and two guards were killed."
    rules = [{"type": t, "start": text.index(w), "end": text.index(w) + len(w)} for w, t in (("struck", "STRIKE"), ("killed", "CASUALTY"))]
    model = TaggerModel.from_encoder(config=TrainConfig(rule_aware=True, threads=2))
    assert [(s, e, t) for s, e, t, _ in model.predict([text], [rules])[0]] == [(r["start"], r["end"], r["type"]) for r in rules]
    plain = TaggerModel.from_encoder(config=TrainConfig(threads=2))
    assert [t for *_, t, _ in plain.predict([text])[0]] != ["STRIKE", "CASUALTY"]  # an untrained head does not know them
    model.save(tmp_path / "t")
    again = TaggerModel.load(tmp_path / "t")  # the rules' embeddings and tag scores are saved with it
    assert again.predict([text], [rules]) == model.predict([text], [rules])
    with pytest.raises(Exception, match="reads the rules' events"):
        again.predict([text])
