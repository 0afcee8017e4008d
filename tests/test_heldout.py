"""The labeller on hand-written sentences from outside the corpus (other conflicts, other
wording, figurative and non-military senses), scored by `eventds evaluate`.

Thirteen sets (``tests/data/README.md`` says how each was made): ``heldout`` (written with the
rules); ``heldout_blind1`` to ``heldout_blind6`` (written and annotated by others from the
guidelines only, each scored blind before the rules were revised on its errors); and
``heldout_blind7`` to ``heldout_blind12`` (other registers), made the same way and never used
to revise the rules: they measure how the rules generalise, so their floors are lower and
only guard against regressions.
"""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builder.cli import app
from builder.evaluate import match

DATA = Path(__file__).parent / "data"
SETS = ["heldout", "heldout_blind1", "heldout_blind2", "heldout_blind3", "heldout_blind4", "heldout_blind5", "heldout_blind6"]
BLIND = "heldout_blind7"
#: Written, in registers the others lack (wire copy, police blotters, NGO and UN reports, live
#: blogs, translated statements, court records), while ``weak_rules.v6`` was being written,
#: by an author who never saw the rules; scored once, never used to revise a rule.
BLIND_REGISTERS = "heldout_blind8"
#: Floors for the revised sets: micro F1, per-type F1, paraphrase recall. ``heldout_blind6``
#: was revised on once and keeps misses that single-sentence rules would only fit
#: (tests/data/README.md lists them), so its per-type and recall floors are lower.
FLOORS = {name: (0.85, 0.75, 0.85) for name in SETS} | {"heldout_blind6": (0.85, 0.7, 0.8)}


def labelled(gold: Path, tmp_path: Path) -> Path:
    out = tmp_path / "pred.jsonl"
    result = CliRunner().invoke(app, ["label", str(gold), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("name", SETS + [BLIND, BLIND_REGISTERS])
def test_heldout_set_is_large_and_varied(name):
    rows = [json.loads(l) for l in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 40
    assert len({r["id"] for r in rows}) == len(rows)
    assert {r["category"] for r in rows} == {"paraphrase", "precision_trap", "realis"}
    for r in rows:
        for e in r["events"]:
            assert r["text"][e["start"] : e["end"]] == e["text"]


def evaluated(name: str, tmp_path: Path) -> dict:
    """The scores ``eventds evaluate --json`` gives the labeller on a held-out set."""
    gold = DATA / f"{name}.jsonl"
    pred = labelled(gold, tmp_path)
    result = CliRunner().invoke(app, ["evaluate", str(pred), "--gold", str(gold), "--json", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    return json.loads((tmp_path / "s.json").read_text())


@pytest.mark.parametrize("name", SETS)
def test_evaluate_command_scores_the_labeller_on_the_heldout_set(name, tmp_path):
    scores = evaluated(name, tmp_path)
    micro, per_type, _ = FLOORS[name]
    assert scores["trigger_overlap"]["micro"]["f1"] >= micro, scores["trigger_overlap"]["micro"]
    for t, s in scores["trigger_overlap"]["per_type"].items():
        assert s["f1"] >= per_type, (t, s)
    assert scores["realis_accuracy"] >= 0.8


@pytest.mark.parametrize("name", SETS)
def test_precision_traps_and_paraphrase_recall(name, tmp_path):
    gold_path = DATA / f"{name}.jsonl"
    pred = {json.loads(l)["id"]: json.loads(l) for l in labelled(gold_path, tmp_path).read_text(encoding="utf-8").splitlines()}
    gold = [json.loads(l) for l in gold_path.read_text(encoding="utf-8").splitlines()]
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
    assert para_tp / para_total >= FLOORS[name][2], f"paraphrase recall {para_tp}/{para_total}"


def test_rules_generalise_to_the_untouched_blind_set(tmp_path):
    """Scored blind at 0.70 micro overlap F1 with the rules of revision 4, 0.73 with
    ``weak_rules.v4`` and 0.73 with ``weak_rules.v5`` (STRIKE 0.50 and THREAT 0.44, on four
    and five gold events); never used to revise a rule."""
    scores = evaluated(BLIND, tmp_path)
    assert scores["trigger_overlap"]["micro"]["f1"] >= 0.7, scores["trigger_overlap"]["micro"]
    for t, s in scores["trigger_overlap"]["per_type"].items():
        assert s["f1"] >= 0.4, (t, s)
    assert scores["realis_accuracy"] >= 0.8


def test_rules_generalise_to_other_registers(tmp_path):
    """Scored blind at 0.82 micro overlap F1 with ``weak_rules.v6`` (0.75 with v5); never used
    to revise a rule: a floor against regressions."""
    scores = evaluated(BLIND_REGISTERS, tmp_path)
    assert scores["trigger_overlap"]["micro"]["f1"] >= 0.8, scores["trigger_overlap"]["micro"]
    for t, s in scores["trigger_overlap"]["per_type"].items():
        assert s["f1"] >= 0.65, (t, s)
    assert scores["realis_accuracy"] >= 0.85



def test_rules_generalise_to_a_set_written_after_them(tmp_path):
    """``heldout_blind9``: eight more registers, written after ``weak_rules.v6`` by an author who
    never saw the rules, scored once at 0.89 micro overlap F1 (issue 16 asks 0.85 of it)."""
    scores = evaluated("heldout_blind9", tmp_path)
    assert scores["trigger_overlap"]["micro"]["f1"] >= 0.85, scores["trigger_overlap"]["micro"]
    for t, s in scores["trigger_overlap"]["per_type"].items():
        assert s["f1"] >= 0.65, (t, s)
    assert scores["realis_accuracy"] >= 0.85


def assert_scored_above(name: str, tmp_path: Path, micro: float) -> list[dict]:
    """A set of distinct ids whose spans are its texts' own, on which the labeller scores at
    least ``micro`` micro overlap F1, 0.65 per type and 0.85 realis accuracy; its rows."""
    rows = [json.loads(l) for l in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len({r["id"] for r in rows}) == len(rows)
    assert all(r["text"][e["start"] : e["end"]] == e["text"] for r in rows for e in r["events"])
    scores = evaluated(name, tmp_path)
    assert scores["trigger_overlap"]["micro"]["f1"] >= micro, scores["trigger_overlap"]["micro"]
    for t, s in scores["trigger_overlap"]["per_type"].items():
        assert s["f1"] >= 0.65, (t, s)
    assert scores["realis_accuracy"] >= 0.85
    return rows


def test_rules_generalise_to_a_set_written_after_guidelines_1_3(tmp_path):
    """``heldout_blind10``: twelve registers, most of which the other sets lack (parliamentary
    questions, armed-forces communiqués, eyewitness features, humanitarian flash updates, TV
    transcripts, newsletters, tabloids, investigations, interviews, explainers, anniversaries,
    business and sport), written by two authors who never saw the rules and annotated by two others each
    under guidelines 1.3.0, adjudicated; scored once, with ``weak_rules.v7`` frozen before it
    was opened: 0.87 micro overlap F1 (``weak_rules.v6``: 0.83). Issue 16 asks 0.85 of it."""
    rows = assert_scored_above("heldout_blind10", tmp_path, micro=0.85)
    assert len(rows) >= 150


def test_rules_generalise_to_a_twelve_register_set_written_after_weak_rules_v7(tmp_path):
    """``heldout_blind11``: twelve more registers none of the other sets has (maritime security
    advisories, travel advisories, election observers' statements, photo captions, corrections
    columns, think-tank commentary, letters to the editor, a student paper, a diaspora weekly,
    a risk consultancy's bulletin, a news round-up, a court report), written by two authors who
    never saw the rules, annotated by two others under guidelines 1.3.0 and adjudicated; scored
    once, with ``weak_rules.v7`` unchanged: 0.848 micro overlap F1 (106 of 122 gold triggers
    found, 22 false), THREAT 0.72, ATTACK 0.79. A floor against regressions."""
    rows = assert_scored_above("heldout_blind11", tmp_path, micro=0.83)
    assert len(rows) >= 150 and len({r["register"] for r in rows}) == 12


def test_rules_generalise_to_twelve_more_registers_written_after_weak_rules_v7(tmp_path):
    """``heldout_blind12``: twelve more registers (encyclopedia entries, timelines, a reporter's
    thread, Security Council coverage, a podcast, research abstracts, crowdsourced incident
    reports, emergency alerts, council minutes, a school closure notice, a memoir review, a
    travel roundup), written by two authors who never saw the rules, annotated by two others
    each under guidelines 1.3.0 and adjudicated; scored once, with ``weak_rules.v7`` unchanged:
    0.88 micro overlap F1 (60 of 69 gold triggers found, 7 false). Its gold has no THREAT: the
    four false ones (a report's "Category: Threat", "Threat of ballistic missile use") are held
    to that number. A floor against regressions."""
    rows = [json.loads(l) for l in (DATA / "heldout_blind12.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len({r["id"] for r in rows}) == len(rows) >= 200 and len({r["register"] for r in rows}) == 12
    assert all(r["text"][e["start"] : e["end"]] == e["text"] for r in rows for e in r["events"])
    scores = evaluated("heldout_blind12", tmp_path)
    assert scores["trigger_overlap"]["micro"]["f1"] >= 0.85, scores["trigger_overlap"]["micro"]
    per_type = scores["trigger_overlap"]["per_type"]
    assert {t: per_type[t]["f1"] >= 0.65 for t in ("ATTACK", "STRIKE", "CASUALTY")} == {"ATTACK": True, "STRIKE": True, "CASUALTY": True}, per_type
    assert (per_type["THREAT"]["tp"], per_type["THREAT"]["fn"]) == (0, 0) and per_type["THREAT"]["fp"] <= 4, per_type["THREAT"]
    assert scores["realis_accuracy"] >= 0.8


@pytest.mark.parametrize("pool", ["learning", "learning_digest"])
def test_a_learning_pool_is_whole_articles_of_valid_gold_that_nothing_trains_on(pool):
    """``benchmarks/learning_curve.py`` reveals a pool's articles as corrections and scores
    the rest: each line names its article, each gold event is a span of its text with a type
    and realis of the label set, and no sentence is in the human layer or the gold the tagger
    first trains on (``annotations/``)."""
    labels = json.loads((Path(__file__).parents[1] / "guidelines" / "labels.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for f in sorted((DATA / pool).glob("*.jsonl")) for line in f.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 500 and len({r["id"] for r in rows}) == len(rows)
    docs = [r["doc"] for r in rows]
    blocks = [d for k, d in enumerate(docs) if k == 0 or d != docs[k - 1]]
    assert len(blocks) == len(set(blocks)) >= 30  # an article's lines are together
    assert sum(len(r["events"]) for r in rows) >= 300
    for r in rows:
        for e in r["events"]:
            assert r["text"][e["start"] : e["end"]] == e["text"] and e["type"] in labels["event_types"] and e["realis"] in {"ACTUAL", "GENERIC", "OTHER"}, r["id"]
    trained = {json.loads(line)["text"] for name in ("human.jsonl", "news_gold.jsonl") for line in (Path(__file__).parents[1] / "annotations" / name).read_text(encoding="utf-8").splitlines() if line.strip()}
    assert not trained & {r["text"] for r in rows}
