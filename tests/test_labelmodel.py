"""The generative label model: it must recover what it can, so that its loss to voting here is a finding, not a bug."""

import json
import random
from pathlib import Path

from builder.labelmodel import NONE, DawidSkene, compare
from builder.split import document_groups, load_manifest

ROOT = Path(__file__).resolve().parents[1]


def _synthetic(accuracies, n=600, seed=0):
    rng = random.Random(seed)
    classes = ("ATTACK", "STRIKE", NONE)
    truth, rows = [], []
    for _ in range(n):
        c = rng.choice(classes)
        votes = {}
        for k, acc in enumerate(accuracies):
            votes[f"lf{k}"] = c if rng.random() < acc else rng.choice([x for x in classes if x != c])
        truth.append(c)
        rows.append(votes)
    return classes, truth, rows


def test_dawid_skene_learns_which_function_to_trust_when_functions_overlap():
    classes, truth, rows = _synthetic([0.9, 0.65, 0.6])
    for one_coin in (False, True):
        model = DawidSkene(classes, one_coin=one_coin).fit(rows)
        learnt = [sum(model.confusion[f"lf{k}"][c][c] for c in classes) / len(classes) for k in range(3)]
        assert learnt[0] > learnt[1] > 0.4 and learnt[0] > learnt[2] > 0.4, learnt
        assert abs(learnt[0] - 0.9) < 0.06
        predicted = [max(model.posterior(r).items(), key=lambda x: x[1])[0] for r in rows]
        model_accuracy = sum(p == t for p, t in zip(predicted, truth)) / len(truth)
        majority = [max(set(r.values()), key=list(r.values()).count) for r in rows]
        majority_accuracy = sum(p == t for p, t in zip(majority, truth)) / len(truth)
        assert model_accuracy > majority_accuracy


def test_compare_scores_voting_and_both_label_models_by_document_group():
    rows = []
    for line in (ROOT / "annotations" / "human.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows.append({**r, "doc_id": r["id"].rsplit("-", 1)[0]})
    manifest = load_manifest(ROOT / "splits" / "manifest.json")
    groups = document_groups(manifest)
    result = compare(rows, groups)
    assert result["folds"] >= 2 and result["sentences"] == len(rows)
    assert result["voting"]["micro_overlap_f1"] > 0.85
    for name in ("dawid_skene", "one_coin"):
        assert 0.0 <= result[name]["micro_overlap_f1"] <= 1.0
    # Most candidate spans get a single vote: nothing for a generative model to learn from.
    assert result["candidates_with_several_votes"] < 0.2 * result["candidates"]


def test_label_model_command_prints_and_writes_the_comparison(tmp_path):
    from typer.testing import CliRunner

    from builder.cli import app

    records = tmp_path / "records.jsonl"
    with records.open("w", encoding="utf-8") as f:
        for line in (ROOT / "annotations" / "human.jsonl").read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            f.write(json.dumps({**r, "doc_id": r["id"].rsplit("-", 1)[0]}) + "\n")
    out = tmp_path / "label_model.json"
    result = CliRunner().invoke(app, ["label-model", str(records), "-m", str(ROOT / "splits" / "manifest.json"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "one coin" in result.output and "micro" in result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    assert set(written) >= {"voting", "dawid_skene", "one_coin", "label_model_wins"}
