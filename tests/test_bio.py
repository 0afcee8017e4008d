import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.bio import (
    AlignmentError,
    MisalignedSpan,
    OverlappingSpans,
    SentenceTokens,
    bio_labels,
    from_bio,
    misaligned_spans,
    to_bio,
    tokenizer_nlp,
)
from builder.tokens import tokenize


def test_tags_and_round_trip():
    text = "A US drone strike hit Baghdad airport, killing 2."
    spans = [("STRIKE", 5, 17), ("CASUALTY", 39, 46)]
    tokens, spaces, tags = to_bio(text, spans)
    assert tags[tokens.index("drone")] == "B-STRIKE" and tags[tokens.index("strike")] == "I-STRIKE"
    assert from_bio(tokens, spaces, tags) == spans
    assert set(tags) <= set(bio_labels())


def test_misaligned_span_is_an_error_naming_the_record():
    with pytest.raises(AlignmentError, match=r"rec-7: span \[2, 7\) 'drone' \(STRIKE\) does not align"):
        to_bio("A drones struck.", [("STRIKE", 2, 7)], "rec-7")


def test_overlapping_spans_are_an_error():
    with pytest.raises(AlignmentError, match="overlaps"):
        to_bio("A drone strike hit.", [("STRIKE", 2, 14), ("ATTACK", 8, 14)], "r")


text_st = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=500, deadline=None)
@given(text_st, st.data())
def test_bio_converts_back_to_exactly_the_original_spans(text, data):
    doc = tokenizer_nlp().make_doc(text)
    words = [t for t in doc if not t.is_space]
    # choose non-overlapping token runs as spans
    spans, i = [], 0
    types = ["ATTACK", "STRIKE", "CASUALTY", "THREAT"]
    while i < len(words):
        if data.draw(st.booleans()):
            length = data.draw(st.integers(1, 3))
            run = words[i : i + length]
            if all(run[k].i + 1 == run[k + 1].i for k in range(len(run) - 1)):
                spans.append((data.draw(st.sampled_from(types)), run[0].idx, run[-1].idx + len(run[-1])))
            i += length
        else:
            i += 1
    tokens, spaces, tags = to_bio(text, spans)
    assert "".join(t + " " * s for t, s in zip(tokens, spaces)) == text
    assert from_bio(tokens, spaces, tags) == spans


def test_a_misaligned_span_is_a_misaligned_span_error_carrying_the_span():
    with pytest.raises(MisalignedSpan) as raised:
        to_bio("==Attack== on the base", [("ATTACK", 2, 8)], "rec-1")
    assert (raised.value.where, raised.value.span, raised.value.text) == ("rec-1", ("ATTACK", 2, 8), "Attack")


def test_overlapping_spans_are_an_overlapping_spans_error():
    with pytest.raises(OverlappingSpans, match="overlaps"):
        to_bio("A drone strike hit.", [("STRIKE", 2, 14), ("ATTACK", 8, 14)], "r")


def test_misaligned_spans_are_found_before_tagging_so_the_others_can_be_kept():
    text = "==Attack== on the base; threat'-Friday, a drone strike."
    spans = [("ATTACK", 2, 8), ("THREAT", 24, 30), ("STRIKE", 42, 54)]
    bad = misaligned_spans(text, spans)
    assert bad == [("ATTACK", 2, 8), ("THREAT", 24, 30)]
    tokens, spaces, tags = to_bio(text, [s for s in spans if s not in bad])
    assert from_bio(tokens, spaces, tags) == [("STRIKE", 42, 54)]


@settings(max_examples=300, deadline=None)
@given(text_st, st.integers(0, 60), st.integers(1, 10))
def test_the_labellers_tokens_place_exactly_the_spans_bio_can_tag(text, start, length):
    """The labeller drops what BIO cannot tag, and only that: both use the same boundaries."""
    end = min(start + length, len(text))
    if start >= end:
        return
    tokens = tokenize(text)
    on_tokens = start in set(tokens.starts) and end in set(tokens.ends)
    assert on_tokens == (misaligned_spans(text, [("ATTACK", start, end)]) == [])


def test_to_bio_can_leave_misaligned_spans_out_and_name_them():
    text = "Airstrikes hit the port; a drone strike followed."
    bad = []
    tokens, spaces, tags = to_bio(text, [("STRIKE", 3, 9), ("STRIKE", 27, 39)], "r", bad)
    assert bad == [("STRIKE", 3, 9)]
    assert [t for t, tag in zip(tokens, tags) if tag != "O"] == ["drone", "strike"]


@settings(max_examples=500, deadline=None)
@given(text_st, st.integers(0, 60), st.integers(1, 10))
def test_sentence_tokens_are_spacys_tokens_texts_spaces_and_strict_spans(text, start, length):
    """bio, ee and arg_tags are made from builder.tokens' boundaries: the same rows as make_doc gives."""
    doc = tokenizer_nlp().make_doc(text)
    tokens = SentenceTokens(text)
    assert tokens.texts == [t.text for t in doc]
    assert tokens.spaces == [bool(t.whitespace_) for t in doc]
    end = min(start + length, len(text))
    if start < end:
        span = doc.char_span(start, end, alignment_mode="strict")
        assert tokens.char_span(start, end) == (None if span is None else (span.start, span.end))
        if span is not None:
            assert tokens.span_text(span.start, span.end) == span.text


def test_a_build_makes_its_bio_rows_from_the_labellers_tokens_without_tokenizing_again(tmp_path, monkeypatch):
    """The records stage is given each sentence's tokens as the weak labeller cut them: the
    ``bio``, ``ee`` and ``arg_tags`` rows tokenize no sentence a second time."""
    import pyarrow.parquet as pq

    from builder import bio
    from builder.pipeline import build

    again = []
    monkeypatch.setattr(bio, "tokenize", lambda text: again.append(text) or tokenize(text))
    bio.sentence_tokens("A sentence no build has cut: 12 drones, 3 shells.")
    assert len(again) == 1  # (the counter counts)
    again.clear()
    summary = build(out_dir=tmp_path / "out")
    rows = sum(pq.read_metadata(f).num_rows for f in (tmp_path / "out" / "dataset" / "data" / "bio").glob("*.parquet"))
    assert rows == summary.sentences > 100
    assert again == []
