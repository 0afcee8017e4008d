from hypothesis import given, settings
from hypothesis import strategies as st

from builder.clean import clean_article, normalise, split_lines
from builder.records import Article, DocumentMeta


def rules_of(raw, author=None):
    cleaned = clean_article(Article("d", raw, DocumentMeta(author=author)))
    return cleaned, {r.text: r.rule for r in cleaned.removals}


BODY = "Rockets struck the base on Friday, wounding three soldiers according to officials."


def test_comment_section_at_the_end_is_removed_whole():
    raw = f"Title here\n\n{BODY}\n\nComments\n\nWe will not tolerate the following: profanity, threats, personal attacks.\n\nPost a comment\n\nRequired"
    cleaned, removed = rules_of(raw)
    assert cleaned.text == f"Title here\n\n{BODY}"
    assert set(removed.values()) == {"comment_section"}
    assert "threats, personal attacks" in " ".join(removed)


def test_comment_heading_followed_by_article_text_keeps_the_text():
    raw = f"Militia news today\nComments\n{BODY}"
    cleaned, removed = rules_of(raw)
    assert removed == {"Comments": "comment_link"}
    assert BODY in cleaned.text


def test_donation_widget_and_its_signature_are_removed():
    raw = (
        f"Militia news today\n\nYour support helps us to tell the story\n\nYour donation makes it possible for us to keep going\n\n"
        f"Head shot of Jane Roe\n\nJane Roe\n\nWhite House Correspondent\n\n{BODY}"
    )
    cleaned, removed = rules_of(raw)
    assert cleaned.text == f"Militia news today\n\n{BODY}"
    assert set(removed.values()) == {"donation_widget"}


def test_price_widgets_font_controls_source_link_and_leave_a_reply():
    raw = f"0 $\n2,500 $\nTitle\nA+ A-\n{BODY}\nSource link\nLeave a Reply\nYour email address will not be published. Required fields are marked *"
    cleaned, removed = rules_of(raw)
    assert cleaned.text == f"Title\n\n{BODY}"
    assert removed["0 $"] == removed["2,500 $"] == "price_widget"
    assert removed["A+ A-"] == "font_size_control"
    assert removed["Source link"] == "source_link"


def test_bylines_dates_and_captions():
    raw = (
        "Title of the story\n31-03-2020\nJohn Smith\nJohn Smith\n"
        "Protesters burn a flag in Baghdad. (Ali Hassan/The Associated Press)\n"
        "Iraqis walk on a flag during a demonstration. Photo: Haidar Hamdani / AFP\n"
        f"{BODY}"
    )
    cleaned, removed = rules_of(raw, author="John Smith")
    assert cleaned.text == f"Title of the story\n\n{BODY}"
    assert removed["31-03-2020"] == "dateline"
    assert removed["John Smith"] == "byline"
    assert {r.rule for r in cleaned.removals} >= {"photo_caption"}


def test_repeated_paragraphs_keep_the_first_copy_even_with_different_quotes():
    raw = f"Kata’ib threatens US\n{BODY}\nKata'ib threatens US\n{BODY}\nA new closing line that is different."
    cleaned, removed = rules_of(raw)
    assert cleaned.text.count(BODY) == 1
    assert [r.rule for r in cleaned.removals] == ["repeated_paragraph", "repeated_paragraph"]
    assert cleaned.removals[0].text == "Kata'ib threatens US"


def test_every_removal_range_points_at_its_text_in_the_raw():
    raw = "0 $\r\nTitle\r\n\u00a0Source link\u00a0\r\n" + BODY
    cleaned, _ = rules_of(raw)
    for r in cleaned.removals:
        assert raw[r.start : r.end] == r.text


def test_normalise_unifies_quotes_case_and_punctuation():
    assert normalise("“Kata’ib,” he said!") == normalise('"kata\'ib" he said')


def test_split_lines_handles_crlf_and_unicode_separators():
    text = "a\r\nb\rc\u2028d\n\n e "
    assert [(l.text, text[l.start : l.end]) for l in split_lines(text)] == [(x, x) for x in "abcde"]


paragraph = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\u2028\u2029\x85\x0b\x0c\x1c\x1d\x1e"),
    min_size=0,
    max_size=60,
)
noise = st.sampled_from(["Comments", "0 $", "A+ A-", "Source link", "Support SouthFront", "Leave a Reply", "Click to see full-size image"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(paragraph, noise), max_size=12), st.lists(st.sampled_from(["\n", "\r\n", "\n\n", "\r", "\u2028"]), min_size=12, max_size=12))
def test_every_kept_character_maps_back_to_the_raw_text(paragraphs, breaks):
    raw = "".join(p + b for p, b in zip(paragraphs, breaks))
    cleaned = clean_article(Article("d", raw))
    for seg in cleaned.segments:
        for i in range(seg.length):
            assert cleaned.text[seg.clean_start + i] == raw[seg.raw_start + i]
            assert cleaned.to_raw(seg.clean_start + i) == seg.raw_start + i
    kept = sum(s.length for s in cleaned.segments)
    assert len(cleaned.text) == kept + 2 * max(0, len(cleaned.segments) - 1)
