"""The labelling functions as components: one protocol, one registry, a configuration file
that names the functions that run, and a labeller that pickles."""

from __future__ import annotations

import json
import pickle
import re

import pytest
from typer.testing import CliRunner

from builder.cli import app
from builder.errors import ConfigError
from builder.weak import REGISTRY, Doc, LabellingFunction, WeakConfig, WeakLabeller, register
from builder.weak.config import CONFIG_PATH

TEXTS = [
    "A US drone strike hit the airport, killing 3 people.",
    "The militia vowed revenge after rockets were fired at the base.",
    "Teachers began a general strike on Monday.",
    "Gunmen ambushed a patrol in a fierce firefight near Kidal on Tuesday.",
    "Stocks rose on Monday.",
]


def write_config(tmp_path, functions, **top):
    path = tmp_path / "weak_functions.json"
    path.write_text(json.dumps({"version": "test.v1", "functions": functions, **top}), encoding="utf-8")
    return path


def test_the_shipped_configuration_runs_todays_functions_in_todays_order():
    config = WeakConfig.load()
    assert [e.name for e in config.enabled()] == [
        "strike_lexicon.v5", "attack_lexicon.v7", "casualty_lexicon.v7", "threat_lexicon.v3", "sense_veto.v7",
        "strike_means.v4", "threat_speech.v5", "context_veto.v5", "attack_context.v3", "casualty_context.v1",
    ]
    learned = {e.name: e for e in config.entries if not e.enabled}
    assert set(learned) == {"span_model.v1", "tagger.v1", "corrections.v1"}
    assert learned["tagger.v1"].options == {"model": "models/tagger", "types": ["ATTACK"], "threshold": 0.5}
    assert learned["corrections.v1"].options == {"model": "workspace/backend/model"}
    assert list(WeakLabeller().functions) == [e.name for e in config.enabled()]


def test_every_function_follows_the_protocol_and_keeps_its_registered_name():
    labeller = WeakLabeller()
    for name, fn in labeller.functions.items():
        assert isinstance(fn, LabellingFunction)
        assert fn.name == name and name in REGISTRY
        assert fn.anchors is None or isinstance(fn.anchors, frozenset)


@pytest.mark.parametrize(
    "functions, where",
    [
        ([{"name": "attack_lexicon.v7"}, {"name": "atack_lexicon.v6"}], r"functions -> 1 -> name: 'atack_lexicon.v6' is not a registered labelling function"),
        ([{"nam": "attack_lexicon.v7"}], r"functions -> 0 -> name: expected the name of a registered labelling function, got nothing"),
        (["attack_lexicon.v7"], r"functions -> 0: expected an object with a 'name'"),
        ([{"name": "attack_lexicon.v7"}, {"name": "attack_lexicon.v7"}], r"functions -> 1 -> name: 'attack_lexicon.v7' is listed twice \(first as entry 0\)"),
        ([{"name": "attack_lexicon.v7", "threshold": 0.5}], r"functions -> 0 -> threshold: not an option of attack_lexicon.v7 \(it takes none\)"),
        ([{"name": "attack_lexicon.v7", "enabled": "no"}], r"functions -> 0 -> enabled: expected true or false, got 'no'"),
        ([{"name": "tagger.v1", "types": ["ATTACK"]}], r"functions -> 0 -> model: required by tagger.v1"),
        ([{"name": "tagger.v1", "model": "x", "treshold": 0.5, "enabled": False}], r"functions -> 0 -> treshold: not an option of tagger.v1 \(its options: \['model', 'types', 'threshold'\]\)"),
        ({"name": "attack_lexicon.v7"}, r"functions: expected a list"),
    ],
)
def test_a_bad_entry_is_a_config_error_naming_the_file_the_entry_and_the_field(tmp_path, functions, where):
    path = write_config(tmp_path, functions)
    with pytest.raises(ConfigError, match=f"^{re.escape(str(path))} -> {where}"):
        WeakConfig.load(path)


@pytest.mark.parametrize(
    "entry, where",
    [
        ({"name": "tagger.v1", "model": "no/such/folder"}, r"functions -> 0 -> model: 'no/such/folder' is not a folder"),
        ({"name": "tagger.v1", "model": "MODEL", "types": ["ATACK"]}, r"functions -> 0 -> types: \['ATACK'\] not among the event types"),
        ({"name": "tagger.v1", "model": "MODEL", "threshold": 2}, r"functions -> 0 -> threshold: expected a number from 0 to 1, got 2"),
        ({"name": "span_model.v1", "model": 3}, r"functions -> 0 -> model: expected the path of a model folder, got 3"),
    ],
)
def test_an_option_a_function_refuses_is_named_when_the_labeller_is_made(tmp_path, entry, where):
    entry = {k: str(tmp_path) if v == "MODEL" else v for k, v in entry.items()}
    path = write_config(tmp_path, [{"name": "attack_lexicon.v7"}, entry])
    where = where.replace("functions -> 0", "functions -> 1")
    with pytest.raises(ConfigError, match=f"^{re.escape(str(path))} -> {where}"):
        WeakLabeller(config=path)


def test_every_problem_of_a_file_is_named_at_once(tmp_path):
    path = write_config(tmp_path, [{"name": "nope.v1"}, {"name": "attack_lexicon.v7", "x": 1}], extra=True)
    with pytest.raises(ConfigError) as raised:
        WeakConfig.load(path)
    lines = str(raised.value).splitlines()
    assert lines == sorted(lines) and len(lines) == 3
    assert lines[0].startswith(f"{path} -> extra: unknown key")


def test_unreadable_and_invalid_files_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the labelling-function configuration"):
        WeakConfig.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"functions": [', encoding="utf-8")
    with pytest.raises(ConfigError, match=f"^{re.escape(str(bad))}:1: invalid JSON"):
        WeakConfig.load(bad)


def test_the_configuration_chooses_the_functions_that_run_in_its_order(tmp_path):
    path = write_config(tmp_path, [{"name": "sense_veto.v7"}, {"name": "strike_lexicon.v5"}, {"name": "attack_lexicon.v7", "enabled": False}])
    labeller = WeakLabeller(config=path)
    assert list(labeller.functions) == ["sense_veto.v7", "strike_lexicon.v5"]
    (events,) = labeller.label_texts(["A drone strike and a rocket attack hit the base."])
    assert [(e.type, e.text) for e in events] == [("STRIKE", "drone strike")]


def test_label_and_build_take_a_configuration(tmp_path):
    path = write_config(tmp_path, [{"name": "strike_lexicon.v5"}])
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": 1, "text": "A drone strike and a rocket attack hit the base."}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["label", str(src), "-o", str(tmp_path / "out.jsonl"), "--weak-config", str(path)])
    assert result.exit_code == 0, result.output
    [row] = [json.loads(l) for l in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [e["sources"] for e in row["events"]] == [["strike_lexicon.v5"]]
    bad = write_config(tmp_path, [{"name": "nope.v1"}])
    for command in (["label", str(src), "-o", str(tmp_path / "x.jsonl")], ["build", "-o", str(tmp_path / "build")]):
        result = CliRunner().invoke(app, [*command, "--weak-config", str(bad)])
        assert result.exit_code == 3, result.output
        assert "functions -> 0 -> name: 'nope.v1' is not a registered" in " ".join(result.output.split())
    assert not (tmp_path / "build").exists()


def test_a_name_is_registered_once_and_must_be_versioned():
    with pytest.raises(ConfigError, match="registered twice"):
        register("attack_lexicon.v7")(lambda name, rules: None)
    with pytest.raises(ConfigError, match="family.vN"):
        register("Attack-Lexicon")


def test_a_function_keeps_the_name_it_is_registered_under(tmp_path):
    labeller = WeakLabeller()

    class Named:
        name, anchors = "other.v1", None

        def __call__(self, doc):
            doc.spans[self.name] = []

    with pytest.raises(ConfigError, match="calls itself 'other.v1'"):
        labeller.add("mine.v1", Named())


class Counting:
    """A model-like function: no anchors, one call per batch."""

    name, anchors = "counting.v1", None

    def __init__(self):
        self.batches = []

    def __call__(self, doc: Doc) -> None:
        self.batch([doc])

    def batch(self, docs) -> None:
        self.batches.append(len(docs))
        for doc in docs:
            doc.spans[self.name] = []


def test_a_function_with_batch_is_called_once_per_batch_of_docs():
    from builder.weak import BATCH_SIZE

    labeller = WeakLabeller()
    counting = Counting()
    labeller.add(counting.name, counting)
    n = 2 * BATCH_SIZE + 5
    plain = list(WeakLabeller().label_texts(TEXTS * (n // len(TEXTS) + 1)))[:n]
    assert list(labeller.label_texts((TEXTS * (n // len(TEXTS) + 1))[:n])) == plain
    assert counting.batches == [BATCH_SIZE, BATCH_SIZE, 5]


def test_the_labeller_pickles_and_labels_as_the_original_does():
    labeller = WeakLabeller()
    clone = pickle.loads(pickle.dumps(labeller))
    assert list(clone.functions) == list(labeller.functions)
    assert list(clone.label_texts(TEXTS)) == list(labeller.label_texts(TEXTS))
    assert sum(map(len, labeller.label_texts(TEXTS))) >= 4


def test_a_labeller_with_a_spacy_tokenizer_pickles_without_its_pipeline():
    from builder.weak import spacy_tokenizer

    labeller = WeakLabeller()
    labeller.tokenize = spacy_tokenizer(None)
    before = list(labeller.label_texts(TEXTS))
    assert labeller.tokenize._nlp is not None
    clone = pickle.loads(pickle.dumps(labeller))
    assert clone.tokenize._nlp is None  # the pipeline loads again in the worker
    assert list(clone.label_texts(TEXTS)) == before


def test_the_shipped_configuration_file_is_the_default():
    assert CONFIG_PATH.name == "weak_functions.json" and WeakLabeller().config.path == CONFIG_PATH


def test_the_learned_functions_code_loads_only_when_configured():
    """Making the default labeller loads neither the tagger nor spaCy's training code (PyTorch
    itself may be loaded: thinc imports it when it is installed)."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom builder.weak import WeakLabeller\nWeakLabeller()\n"
        "print(sorted(m for m in ('builder.weak.tagger', 'builder.train', 'transformers') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_an_enabled_tagger_is_one_more_function_of_the_labeller(tmp_path):
    """The configured learned function is made with the entry's options and its registered
    name; its model loads on first use (here a folder that holds none: the error names it)."""
    path = write_config(tmp_path, [{"name": "strike_lexicon.v5"}, {"name": "tagger.v1", "model": str(tmp_path), "types": ["ATTACK"], "threshold": 0.7}])
    labeller = WeakLabeller(config=path)
    fn = labeller.functions["tagger.v1"]
    assert (fn.name, fn.anchors, set(fn.types), fn.threshold) == ("tagger.v1", None, {"ATTACK"}, 0.7)
    assert pickle.loads(pickle.dumps(labeller)).functions["tagger.v1"].model_dir == tmp_path
    with pytest.raises(ConfigError, match="not a tagger folder"):
        list(labeller.label_texts(["A drone strike hit."]))
