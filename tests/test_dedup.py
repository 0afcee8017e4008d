from builder.dedup import DedupParams, NearDuplicateIndex


def clusters_of(sentences, params=DedupParams()):
    index = NearDuplicateIndex(params)
    for sid, doc, text in sentences:
        index.add(sid, doc, text)
    return index.clusters()


def test_exact_copies_after_normalisation_cluster():
    assert clusters_of([("a1", "a", "Rockets struck the base on Friday night."), ("b1", "b", "ROCKETS struck the base, on Friday night!")]) == [["a1", "b1"]]


def test_a_quote_rerun_with_other_attribution_clusters_by_containment():
    long = "“We strongly deny any role in the attack on the American forces,” spokesperson Ali Rabiei was quoted as saying Monday."
    short = "“We strongly deny any role in the attack on American forces."
    assert clusters_of([("a1", "a", long), ("b1", "b", short)]) == [["a1", "b1"]]


def test_unrelated_and_short_sentences_do_not_cluster():
    sentences = [
        ("a1", "a", "The US responded with airstrikes on Kataib Hezbollah targets on December 29."),
        ("b1", "b", "Protests also took place in Baghdad and Basra on Monday."),
        ("a2", "a", "He said."),
        ("b2", "b", "He said."),
    ]
    assert clusters_of(sentences) == []


def test_document_links_come_from_clusters():
    index = NearDuplicateIndex()
    for sid, doc, text in [("a1", "a", "One long shared sentence about the rocket attack on the base."), ("b1", "b", "One long shared sentence about the rocket attack on the base."), ("c1", "c", "Something else happened in another city entirely today.")]:
        index.add(sid, doc, text)
    assert list(index.document_links()) == [("a", "b")]
