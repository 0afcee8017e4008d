"""Report, evaluation and agreement numbers on small hand-made data whose scores are known."""

import json

import pytest
from typer.testing import CliRunner

from builder.agreement import agreement, cohen_kappa
from builder.cli import app
from builder.evaluate import score
from builder.report import confusion, quality, write_report

from test_validate import record


def ev(t, s, e, text="x"):
    return {"type": t, "start": s, "end": e, "text": text}


def test_scores_known_by_hand():
    gold = [[ev("STRIKE", 0, 5), ev("CASUALTY", 10, 15)], [ev("THREAT", 0, 4)], []]
    pred = [[ev("STRIKE", 0, 5), ev("CASUALTY", 11, 14)], [ev("ATTACK", 0, 4)], [ev("ATTACK", 2, 3)]]
    d = score(zip(gold, pred)).to_dict()
    assert d["trigger_exact"]["per_type"]["STRIKE"] == {"tp": 1, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert d["trigger_exact"]["per_type"]["CASUALTY"]["f1"] == 0.0
    assert d["trigger_overlap"]["per_type"]["CASUALTY"]["f1"] == 1.0
    assert d["trigger_overlap"]["per_type"]["ATTACK"] == {"tp": 0, "fp": 2, "fn": 0, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert d["trigger_overlap"]["per_type"]["THREAT"]["recall"] == 0.0
    # exact micro: tp 1 (STRIKE), fp 3 (CASUALTY, ATTACK x2), fn 2 (CASUALTY, THREAT)
    assert d["trigger_exact"]["micro"]["precision"] == 0.25 and d["trigger_exact"]["micro"]["recall"] == round(1 / 3, 4)
    assert d["sentence"]["per_type"]["CASUALTY"]["f1"] == 1.0


def test_one_to_one_matching_does_not_double_count():
    d = score([([ev("ATTACK", 0, 10)], [ev("ATTACK", 0, 4), ev("ATTACK", 5, 10)])]).to_dict()
    assert d["trigger_overlap"]["per_type"]["ATTACK"]["tp"] == 1 and d["trigger_overlap"]["per_type"]["ATTACK"]["fp"] == 1


def test_confusion_counts_type_swaps_and_misses():
    m = confusion([([ev("STRIKE", 0, 5), ev("THREAT", 8, 9)], [ev("ATTACK", 0, 5), ev("CASUALTY", 20, 22)])])
    assert m["STRIKE"]["ATTACK"] == 1 and m["THREAT"]["none"] == 1 and m["none"]["CASUALTY"] == 1


def test_kappa_known_values():
    assert cohen_kappa([True, False, True, False], [True, False, True, False]) == 1.0
    assert cohen_kappa([True, True, False, False], [True, False, True, False]) == 0.0
    # observed 0.8, expected 0.5*0.4+0.5*0.6 = 0.5 -> kappa 0.6
    assert cohen_kappa([True] * 5 + [False] * 5, [True] * 4 + [False] * 5 + [True]) == pytest.approx(0.6)


def test_agreement_per_type():
    layer = {
        "s1": {"ann1": [ev("STRIKE", 0, 5)], "ann2": [ev("STRIKE", 0, 5)]},
        "s2": {"ann1": [ev("THREAT", 0, 4)], "ann2": [ev("THREAT", 0, 6)]},
        "s3": {"ann1": [], "ann2": [ev("ATTACK", 1, 2)]},
        "s4": {"ann1": [ev("ATTACK", 1, 2)]},  # single annotation: not counted
    }
    r = agreement(layer)
    assert r["sentences"] == 3
    assert r["per_type"]["STRIKE"] == {"exact_f1": 1.0, "overlap_f1": 1.0, "kappa": 1.0, "a_events": 1, "b_events": 1}
    assert r["per_type"]["THREAT"]["exact_f1"] == 0.0 and r["per_type"]["THREAT"]["overlap_f1"] == 1.0
    assert r["per_type"]["ATTACK"]["kappa"] == 0.0
    assert r["disagreements"] == ["s2", "s3"]


def test_report_files_and_numbers(tmp_path):
    human = record(status="corrected")  # events: STRIKE drone strike, CASUALTY killed
    human["weak_events"] = [
        {**human["events"][0]},  # accepted unchanged
        {**human["events"][1], "type": "ATTACK", "arguments": [], "count": None},  # type changed
        {"type": "THREAT", "start": 0, "end": 3, "text": "The", "confidence": 0.6, "sources": [], "realis": None, "arguments": [], "count": None},
    ]
    weak_only = record(id="other", status="weak")
    src = tmp_path / "records.jsonl"
    src.write_text(json.dumps(human) + "\n" + json.dumps(weak_only) + "\n", encoding="utf-8")
    q = quality(src, {"documents": {"doc": {"split": "train"}}})
    assert q["human_sentences"] == 1 and q["gold_events"] == 2 and q["weak_events"] == 3
    assert q["accepted_unchanged"] == round(1 / 3, 4)
    assert q["per_type"]["STRIKE"]["f1"] == 1.0 and q["per_type"]["CASUALTY"]["recall"] == 0.0
    assert q["confusion"]["CASUALTY"]["ATTACK"] == 1
    lf = q["labelling_functions"]["strike_lexicon.v5"]
    assert lf["coverage"] == 1.0 and lf["accuracy"] == 1.0
    files = write_report(q, tmp_path / "report")
    assert {f.name for f in files} >= {"quality.json", "index.html", "label_distribution.png", "labelling_functions.png", "confusion.png"}
    for f in files:
        assert f.stat().st_size > 0
    assert (tmp_path / "report" / "confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_command(tmp_path):
    gold = tmp_path / "gold.jsonl"
    pred = tmp_path / "pred.jsonl"
    gold.write_text(json.dumps({"id": 1, "text": "A drone strike.", "events": [ev("STRIKE", 2, 14, "drone strike")]}) + "\n", encoding="utf-8")
    pred.write_text(json.dumps({"id": 1, "text": "A drone strike.", "events": [ev("STRIKE", 8, 14, "strike")]}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", str(pred), "--gold", str(gold)])
    assert result.exit_code == 0, result.output
    assert "STRIKE" in result.output and "0.00/0.00/0.00" in result.output and "1.00/1.00/1.00" in result.output


def test_report_shows_counts_definitions_and_wrong_spans(tmp_path):
    """A function's wrong spans are listed with their sentence; every rate has its counts beside it."""
    from test_votes import two_records  # an ATTACK the annotators removed, and a sentence they kept

    path = two_records(tmp_path)
    wrong_text = json.loads(path.read_text(encoding="utf-8").splitlines()[0])["text"]
    q = quality(path)
    attack = q["labelling_functions"]["attack_lexicon.v7"]
    assert (attack["sentences"], attack["spans"], attack["covered"], attack["correct"]) == (2, 1, 1, 0)
    assert attack["wrong"]["ATTACK"] == [{"id": "doc-1", "text": wrong_text, "span": "attacked", "start": 7, "end": 15, "gold": []}]
    strike = q["labelling_functions"]["strike_lexicon.v5"]
    assert strike["wrong"] == {} and strike["correct"] == strike["spans"] >= 1
    write_report(q, tmp_path / "report")
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "0.00 (0/1)" in page and "0.50 (1/2)" in page  # attack_lexicon accuracy and coverage with their counts
    assert "Wrong spans" in page and "doc-1" in page and "attacked [7, 15)" in page
    for term in ("coverage", "overlaps", "conflicts", "accuracy"):
        assert f"<dt>{term}</dt>" in page
    assert "(tp " in page and "accepted unchanged" in page
