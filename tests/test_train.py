"""The span model: trains from the human layer, cross-validates by group, serves as a labelling function."""



from builder.weak import WeakLabeller
from builder.train import cross_validate, merge, predict, save, train


def rows():
    out = []
    for i in range(12):
        text = f"A drone strike hit the base in town {i}, killing {i + 2} soldiers."
        out.append({
            "id": f"d{i % 3}-{i}", "doc_id": f"d{i % 3}", "text": text,
            "events": [
                {"type": "STRIKE", "start": 2, "end": 14, "text": "drone strike"},
                {"type": "CASUALTY", "start": text.index("killing"), "end": text.index("killing") + 7, "text": "killing"},
            ],
        })
    return out


def test_model_learns_and_predicts_aligned_spans():
    nlp = train(rows(), epochs=15, seed=0)
    (pred,) = predict(nlp, ["A drone strike hit the base in town 99, killing 5 soldiers."])
    for e in pred:
        assert "A drone strike hit the base in town 99, killing 5 soldiers."[e["start"] : e["end"]] == e["text"]
    assert ("CASUALTY", "killing") in {(e["type"], e["text"]) for e in pred}


def test_cross_validation_reports_each_system_and_where_the_model_helps():
    data = rows()
    rule_events = {r["id"]: [] for r in data}  # rules that find nothing: the model must help
    result = cross_validate(data, {"d0": "g0", "d1": "g1", "d2": "g2"}, rule_events, epochs=10)
    assert result["folds"] == 3 and result["sentences"] == 12
    assert set(result) >= {"rules", "model", "rules+model", "model_helps"}
    assert result["rules"]["micro_overlap_f1"] == 0.0
    assert result["rules+model"]["micro_overlap_f1"] > 0.0
    assert "CASUALTY" in result["model_helps"]


def test_merge_keeps_rule_events_and_adds_only_non_overlapping_model_events():
    rules = [{"type": "ATTACK", "start": 0, "end": 5}]
    model = [{"type": "STRIKE", "start": 2, "end": 8}, {"type": "THREAT", "start": 10, "end": 12}]
    assert [e["type"] for e in merge(rules, model)] == ["ATTACK", "THREAT"]


def test_saved_model_is_a_labelling_function_for_its_types(tmp_path):
    nlp = train(rows(), epochs=15, seed=0)
    save(nlp, tmp_path / "model", {"use_types": ["CASUALTY"]})
    lab = WeakLabeller(span_model=tmp_path / "model")
    assert "span_model.v1" in lab.functions
    doc = lab.annotate(lab.make_doc("Gunmen shot at a bus, killing 3 people."))
    assert {label for _, _, label, _ in doc.spans["span_model.v1"]} <= {"CASUALTY"}
