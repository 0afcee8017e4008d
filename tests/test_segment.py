from hypothesis import given, settings
from hypothesis import strategies as st

from builder.clean import clean_article
from builder.records import Article
from builder.segment import segment, segment_article


def sentences_of(raw, doc_id="d"):
    return list(segment_article(clean_article(Article(doc_id, raw))))


def test_paragraph_breaks_are_hard_boundaries_and_headlines_stand_alone():
    raw = "Militia vows revenge after US airstrikes\n\nThe strikes killed 25 fighters. A leader vowed revenge\nagainst US forces."
    texts = [s.text for s in sentences_of(raw)]
    assert texts == [
        "Militia vows revenge after US airstrikes",
        "The strikes killed 25 fighters.",
        "A leader vowed revenge",
        "against US forces.",
    ]


def test_sentences_have_no_surrounding_whitespace_and_exact_offsets():
    raw = "  First sentence here.\u00a0 Second one follows.\u00a0\u00a0 \n\n\tThird."
    cleaned = clean_article(Article("d", raw))
    sents = list(segment_article(cleaned))
    assert [s.text for s in sents] == ["First sentence here.", "Second one follows.", "Third."]
    for i, s in enumerate(sents):
        assert s.index == i
        assert cleaned.text[s.start : s.end] == s.text
        assert raw[s.raw_start : s.raw_end] == s.text


def test_ids_depend_on_document_and_content_only():
    a = sentences_of("Rockets hit the base. Two were wounded.", "doc-a")
    a_again = list(segment(clean_article(Article(d, t)) for d, t in [("doc-0", "Something else entirely."), ("doc-a", "Rockets hit the base. Two were wounded.")]))
    assert [s.id for s in a] == [s.id for s in a_again if s.doc_id == "doc-a"]
    b = sentences_of("Rockets hit the base. Two were wounded.", "doc-b")
    assert {s.id for s in a}.isdisjoint({s.id for s in b})


def test_repeated_sentence_text_in_one_document_gets_distinct_ids():
    sents = sentences_of("He said no. Then more happened here.\n\nAnd later. He said no.")
    ids = [s.id for s in sents]
    assert len(ids) == len(set(ids))


words = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=80)


@settings(max_examples=300, deadline=None)
@given(st.lists(words, max_size=8), st.sampled_from(["\n", "\r\n", "\n\n", " \n \n"]))
def test_sentence_offsets_map_back_to_the_raw_text_exactly(paragraphs, sep):
    raw = sep.join(paragraphs)
    cleaned = clean_article(Article("d", raw))
    for s in segment_article(cleaned):
        assert s.text and s.text == s.text.strip()
        assert raw[s.raw_start : s.raw_end] == s.text
        assert cleaned.text[s.start : s.end] == s.text
        assert cleaned.to_raw(s.start) == s.raw_start


def test_an_opening_quote_starts_the_sentence_it_opens():
    texts = [s.text for s in sentences_of("“We deny it,” he said on Monday. “This claim is false.” Then silence.")]
    assert texts == ["“We deny it,” he said on Monday.", "“This claim is false.”", "Then silence."]


def test_the_segment_stage_keeps_the_words_of_its_first_documents_only_and_splits_as_without(monkeypatch):
    """spaCy keeps every new word a pipeline meets; past :data:`builder.nlp.KEPT_TEXTS`
    documents the segment stage frees the words each adds (a memory zone), and splits the same."""
    from builder import nlp as nlp_module
    from builder import stages
    from builder.stages import Segment, Work

    monkeypatch.setattr(nlp_module, "KEPT_TEXTS", 3)
    monkeypatch.setattr(stages, "_RESOURCES", {})  # a pipeline of its own, that has read nothing
    raws = [f"Officials in Qorvath{i} said {i + 2} people were hurt. Zelmira{i} denied it.\n\nA second paragraph, “quoted.” Then more." for i in range(8)]
    works = [Work(i, f"d{i}", "test", clean=clean_article(Article(f"d{i}", raw))) for i, raw in enumerate(raws)]
    out = list(Segment().run(works))
    assert [w.sentences for w in out] == [sentences_of(raw, f"d{i}") for i, raw in enumerate(raws)]
    nlp = stages.resource(("segmenter", None), lambda: None)
    assert [(f"Qorvath{i}" in nlp.vocab, f"Zelmira{i}" in nlp.vocab) for i in range(8)] == [(True, True)] * 3 + [(False, False)] * 5
