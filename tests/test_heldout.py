"""The labeller on hand-written sentences from outside the corpus (other conflicts, other
wording, figurative and non-military senses), scored by `eventds evaluate`."""

import json
from pathlib import Path

from typer.testing import CliRunner

from builder.cli import app
from builder.evaluate import match

HELDOUT = Path(__file__).parent / "data" / "heldout.jsonl"


def labelled(tmp_path):
    out = tmp_path / "pred.jsonl"
    result = CliRunner().invoke(app, ["label", str(HELDOUT), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_heldout_set_is_large_and_varied():
    rows = [json.loads(l) for l in HELDOUT.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 40
    assert {r["category"] for r in rows} == {"paraphrase", "precision_trap", "realis"}
    for r in rows:
        for e in r["events"]:
            assert r["text"][e["start"] : e["end"]] == e["text"]


def test_evaluate_command_scores_the_labeller_on_the_heldout_set(tmp_path):
    pred = labelled(tmp_path)
    result = CliRunner().invoke(app, ["evaluate", str(pred), "--gold", str(HELDOUT), "--json", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "s.json").read_text())
    assert scores["trigger_overlap"]["micro"]["f1"] >= 0.85, scores["trigger_overlap"]["micro"]
    for t, s in scores["trigger_overlap"]["per_type"].items():
        assert s["f1"] >= 0.75, (t, s)
    assert scores["realis_accuracy"] >= 0.8


def test_precision_traps_and_paraphrase_recall(tmp_path):
    pred = {json.loads(l)["id"]: json.loads(l) for l in labelled(tmp_path).read_text(encoding="utf-8").splitlines()}
    gold = [json.loads(l) for l in HELDOUT.read_text(encoding="utf-8").splitlines()]
    trap_fp = para_tp = para_total = 0
    for g in gold:
        pairs = match(g["events"], pred[g["id"]]["events"], "overlap")
        if g["category"] == "precision_trap":
            trap_fp += len(pred[g["id"]]["events"]) - len(pairs)
        if g["category"] == "paraphrase":
            para_tp += len(pairs)
            para_total += len(g["events"])
    traps = sum(g["category"] == "precision_trap" for g in gold)
    assert trap_fp <= traps // 4, f"{trap_fp} false positives on {traps} precision traps"
    assert para_tp / para_total >= 0.85, f"paraphrase recall {para_tp}/{para_total}"
