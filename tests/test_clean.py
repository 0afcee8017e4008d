import pytest
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


# ---------------------------------------------------------------------------------------
# Noise families every outlet has, and content that looks like them

TITLE = "Drone strike kills six at market in northern Mali"

NOISE_FAMILIES = [
    ("share_social", ["Share this article", "Share on Facebook", "Tweet", "WhatsApp", "Copy link", "Follow us on X", "Facebook Twitter WhatsApp Email"]),
    ("related_link", ["Read more: Jihadists threaten new attacks on Mali convoys", "RELATED: Army says strike hit militants", "Also read - Niger junta threatens envoy"]),
    ("advertisement", ["Advertisement", "Sponsored", "Story continues below advertisement", "Scroll to continue with content"]),
    ("newsletter", ["Sign up for our daily newsletter", "Get the latest headlines delivered to your inbox.", "Subscribe now for unlimited access"]),
    ("cookie_notice", ["We use cookies to improve your experience on our website.", "Accept all", "Manage preferences"]),
    ("photo_credit", ["Credit: Reuters", "Photograph: Ahmed Saleh/Anadolu", "AFP via Getty Images"]),
    ("photo_caption", ["Smoke rises over the market in Gao. Photo: AFP", "(Photo by Issouf Sanogo/AFP via Getty Images)"]),
    ("tags", ["Tags: Mali, Sahel, Drone strikes", "Topics: Sudan | RSF | Darfur"]),
    ("copyright", ["© 2024 Sahel Wire. All rights reserved.", "Copyright 2023 Andes Post"]),
    ("author_bio", ["Amadou Diallo is a correspondent covering the Sahel for Sahel Wire.", "Jane Roe is a freelance journalist based in Goma."]),
    ("byline", ["By Amadou Diallo and Sarah Klein, Sahel Wire", "Reporting by Joe Smith; Editing by Ann Lee"]),
    ("dateline", ["Published 12 March 2024, 14:05 GMT", "Updated: 13 March 2024", "March 4, 2024 9:12 am", "KHARTOUM, March 12 (Nile Post) -"]),
    ("reading_aid", ["5 min read", "Listen to this article", "Skip to content"]),
    ("nav_menu", ["Home | World | Africa | Opinion", "News » Africa » Sahel"]),
]


@pytest.mark.parametrize("rule, lines", NOISE_FAMILIES, ids=[f[0] for f in NOISE_FAMILIES])
def test_noise_families_are_removed_with_their_rule(rule, lines):
    raw = "\n".join([TITLE, BODY, *lines, BODY.replace("three", "four")])
    cleaned, removed = rules_of(raw)
    assert {line: removed.get(line) for line in lines} == {line: rule for line in lines}
    assert cleaned.text == f"{TITLE}\n\n{BODY}\n\n{BODY.replace('three', 'four')}"


CONTENT_TRAPS = [
    "BAMAKO, March 12 (Sahel Wire) - A drone strike killed six people at a crowded market on Tuesday, officials said.",
    "Officials declined to comment on the strike.",
    "The army shared a video of the attack on social media.",
    "“We will respond,” he said.",
    "Photographs shared online showed the ruins of the clinic.",
    "Follow-up strikes hit the same area hours later, residents said.",
    "Related fighting spread to two villages near the border.",
    "The group said in a statement that it would not stop fighting.",
    "Among the dead were a teacher, two farmers and a nurse.",
]


@pytest.mark.parametrize("line", CONTENT_TRAPS)
def test_content_that_looks_like_noise_is_kept(line):
    cleaned, removed = rules_of("\n".join([TITLE, BODY, line]))
    assert removed == {}
    assert line in cleaned.text


def test_a_comment_section_is_removed_with_the_comments_themselves():
    raw = "\n".join([TITLE, BODY, "23 Comments", "Join the conversation", "Moussa K.", "3 hours ago",
                     "This is terrible. The government must stop these attacks on civilians.", "Reply", "12 likes",
                     "Jean P.", "March 12, 2024 at 9:12 am", "Another strike, another cover-up.", "Reply"])
    cleaned, removed = rules_of(raw)
    assert cleaned.text == f"{TITLE}\n\n{BODY}"
    assert set(removed.values()) == {"comment_section"}


def test_a_related_list_takes_its_headlines_but_not_the_next_paragraph():
    raw = "\n".join([TITLE, BODY, "Related", "Army says strike hit militants, not civilians", "Niger junta threatens to expel French envoy",
                     "The United Nations said it was investigating the strike on the market."])
    cleaned, removed = rules_of(raw)
    assert set(removed) == {"Related", "Army says strike hit militants, not civilians", "Niger junta threatens to expel French envoy"}
    assert "The United Nations said it was investigating" in cleaned.text


def test_lines_repeated_across_pages_of_one_source_are_boilerplate_but_shared_prose_is_content():
    from builder.clean import clean

    shared_prose = "The conflict began in April 2023 when fighting broke out between the army and a paramilitary force."
    pages = [
        Article(f"p{i}", "\n".join([f"Headline number {i} about the war", "Home  World  Africa", BODY.replace("three", str(i + 2)),
                                    shared_prose, "Our journalism is free to read", "Contact us  About us"]), DocumentMeta(outlet="Nile Post"))
        for i in range(3)
    ]
    cleaned = list(clean(pages))
    for c in cleaned:
        removed = {r.text: r.rule for r in c.removals}
        assert removed == {"Home  World  Africa": "boilerplate", "Our journalism is free to read": "boilerplate", "Contact us  About us": "boilerplate"}
        assert shared_prose in c.text


def test_a_line_two_sources_share_once_is_not_boilerplate():
    from builder.clean import clean

    pages = [Article(f"p{i}", f"Headline {i}\nIn brief\n{BODY}", DocumentMeta(outlet=outlet)) for i, outlet in enumerate(["A Wire", "B Post"])]
    assert all(c.removals == () for c in clean(pages))


def test_metadata_the_text_states_is_kept_and_never_invented():
    raw = "\n".join([TITLE, "By Amadou Diallo, Sahel Wire", "Published 12 March 2024, 14:05 GMT", BODY])
    cleaned, _ = rules_of(raw)
    assert (cleaned.meta.title, cleaned.meta.author, cleaned.meta.published) == (TITLE, "Amadou Diallo", "2024-03-12")
    cleaned, _ = rules_of(f"{BODY}\n{BODY.replace('three', 'two')}")
    assert (cleaned.meta.title, cleaned.meta.author, cleaned.meta.published) == (None, None, None)


def test_metadata_given_by_a_manifest_is_not_replaced():
    raw = "\n".join([TITLE, "By Amadou Diallo, Sahel Wire", "Published 12 March 2024", BODY])
    cleaned = clean_article(Article("d", raw, DocumentMeta(title="Manifest title", author="Someone Else", published="2024-03-13")))
    assert (cleaned.meta.title, cleaned.meta.author, cleaned.meta.published) == ("Manifest title", "Someone Else", "2024-03-13")


@pytest.mark.parametrize("rule, line", [
    ("photo_caption", "A burned-out car in Ain Zara, southern Tripoli. Photograph: Sara Ghouila for Globe Current"),
    ("photo_caption", "Police escort workers evacuated from the camp to Dekai. (Tribune/Fransiska Wonda)"),
    ("photo_caption", "Delegates sign the agreement in Pretoria, November 2, 2022. REUTERS/Siphiwe Dlamini"),
    ("editorial_note", "This article was translated from the Spanish original by our English desk."),
    ("byline", "(Reporting by Saad Qureshi in Peshawar; Writing by Amani Kilonzo; Editing by Mark Ellery)"),
    ("author_bio", "Amani Kilonzo reports on conflict and humanitarian affairs in East Africa from Nairobi."),
    ("share_social", "Join our WhatsApp channel for breaking security news from Sinaloa."),
    ("newsletter", "Subscribe for unlimited access to Globe Current journalism — from $1 a week."),
    ("user_handle", "levant_desk"),
    ("dateline", "Culiacán, Sinaloa · Thursday, September 12, 2024"),
    ("dateline", "16:40 GMT"),
    ("site_footer", "West Africa Ledger is an independent news website covering security in the region."),
])
def test_more_noise_of_other_outlets(rule, line):
    cleaned, removed = rules_of("\n".join([TITLE, BODY, line, BODY.replace("three", "four")]))
    assert removed == {line: rule}


@pytest.mark.parametrize("line", [
    "Militants urged supporters to subscribe to their Telegram channel for updates on the offensive.",
    "The army said it would sign up more volunteers for the self-defence units after the attack.",
])
def test_subscription_words_in_prose_are_content(line):
    cleaned, removed = rules_of("\n".join([TITLE, BODY, line]))
    assert removed == {} and line in cleaned.text


def test_a_pull_quote_that_repeats_the_body_is_removed():
    quote = "“The people of Tripoli pay the price.”"
    body = f"Residents said the fighting had lasted all night. {quote} Schools stayed closed on Monday, officials said."
    cleaned, removed = rules_of("\n".join([TITLE, body, quote, BODY]))
    assert removed == {quote: "pull_quote"}


def test_a_date_written_only_for_readers_yields_to_the_articles_dateline():
    from builder.html import article_from_page

    page = """<html><head><title>Car bomb hits police station in Cauca</title></head><body>
    <div class="topbar"><span class="fecha-hoy">Tuesday, May 21, 2024</span></div>
    <article><h1>Car bomb hits police station in Cauca</h1><p class="byline">Camila Restrepo</p><p>20 May 2024 | 11:32</p>
    <p>A car bomb exploded outside a police station in the town of Morales on Monday, killing two officers and wounding nine civilians, the police said.</p>
    <p>The attack was the third on security forces in the province this month, and officials blamed dissident guerrillas who rejected the peace deal.</p>
    </article></body></html>"""
    article = article_from_page("p", page.encode(), "p.html")
    assert article.meta.published == "2024-05-20"


def test_pages_without_a_site_name_are_grouped_by_the_host_of_their_url():
    from builder.clean import clean

    def page(i, url):
        return Article(f"p{i}", f"Headline {i}\nIn brief\n{BODY}", DocumentMeta(canonical_url=url))

    same = list(clean([page(0, "https://www.a-wire.example/1"), page(1, "https://a-wire.example/2")]))
    assert all({r.text: r.rule for r in c.removals} == {"In brief": "boilerplate"} for c in same)
    other = list(clean([page(0, "https://a-wire.example/1"), page(1, "https://b-post.example/2")]))
    assert all(c.removals == () for c in other)


# ---------------------------------------------------------------------------------------
# A rule's pattern is searched only in lines holding a string it needs


def test_the_strings_a_pattern_needs_are_read_from_its_parts_that_must_match():
    from builder.clean import needed_text

    assert needed_text(r"^(source link|source|read more)$") == {"source", "read more"}  # "source link" holds "source"
    assert needed_text(r"\bphoto:\s*\S") == {"photo:"}
    assert needed_text(r"^by\s+\w+") == {"by"}
    assert needed_text(r"(?:\bnewsletters?\b|\$\d+ (?:a|per) (?:week|month)\b)") == {"newsletter", "week", "month"}  # the longest needed
    assert needed_text(r"(?:abc)+ x") == {"abc"}  # a repeat of at least once
    assert needed_text(r"(?-i:Reuters)") == {"reuters"}  # looked for in the lower-cased line
    assert needed_text(r"(?:abc)? x") == {" x"}  # what may be absent is not needed
    assert needed_text(r"(?:abc)*") is None
    assert needed_text(r"(?:photo|\d+)") is None  # an alternative without a string: nothing is needed
    assert needed_text(r"[a-z]+") is None
    assert needed_text(r"(?!advert)\w+") is None  # what must not match is not needed
    assert needed_text(r"caf\u00e9 au lait") == {" au lait"}  # a letter other than ASCII ends a string
    assert needed_text(r"(?:\u00a9|copyright)") == {"\u00a9", "copyright"}  # a character without case does not
    assert needed_text(r"\bcc[ -]by\b") == {"cc by", "cc-by"}  # a class of a few characters: a string for each
    assert needed_text(r"[^ab]cde") == {"cde"}  # not a negated class, nor a range
    assert needed_text(r"[ab][cd][ef][gh]x") == {a + c + e for a in "ab" for c in "cd" for e in "ef"}  # at most 8 strings for a run
    assert needed_text(r"(unbalanced") is None


def test_every_character_a_case_insensitive_pattern_takes_for_an_ascii_letter_is_lowered_as_that_letter():
    """Python's ``re`` matches four characters other than ASCII ones with ASCII letters when
    it ignores case (the Kelvin sign with ``k``...); :attr:`Line.lowered` makes them those
    letters, so a line is never passed over for one."""
    import re
    import string
    import sys

    from builder.clean import Line

    letter = re.compile(f"[{string.ascii_letters}]", re.IGNORECASE)
    found = {}
    for code in range(128, sys.maxunicode + 1):
        c = chr(code)
        if letter.fullmatch(c):
            found[c] = [a for a in string.ascii_lowercase if re.fullmatch(a, c, re.IGNORECASE)]
    assert len(found) == 4, found
    for c, letters in found.items():
        assert Line(0, 1, c).lowered in letters, (hex(ord(c)), letters)


def _shipped_rules():
    from builder.clean import load_rules

    return load_rules().line_rules


def _line_pieces() -> list[str]:
    pieces = [s for rule in _shipped_rules() for s in rule.needs or ()]
    lookalikes = str.maketrans({"k": "\u212a", "s": "\u017f", "i": "\u0130", "I": "\u0131"})
    pieces += [s.upper() for s in pieces[::3]] + [s.title() for s in pieces[1::3]] + [s.translate(lookalikes) for s in pieces[2::3]]
    pieces += ["Photo", "©", "2024", "12 March 2024", "|", "»", ":", "-", "/", "(", ")", "AFP", "Reuters", "\u212aeep", "\u017fource", "\u0130nbox", "’", "“"]
    return pieces + BODY.split() + TITLE.split()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_line_pieces()), min_size=1, max_size=14), st.sampled_from([" ", "", ": ", " | "]))
def test_a_rule_finds_what_its_pattern_finds_whatever_the_line(pieces, joint):
    """Lines made of the strings the shipped rules need (in any case, with look-alike
    letters), their furniture and prose: each rule's verdict is its pattern's."""
    from builder.clean import Line

    text = joint.join(pieces).strip() or "x"
    line = Line(0, len(text), text)
    for rule in _shipped_rules():
        for i in (0, 1):
            plain = not (rule.not_first_line and i == 0) and not (rule.max_words is not None and line.words > rule.max_words)
            assert rule.matches(line, i) == (plain and rule.pattern.search(text) is not None), (rule.name, rule.pattern.pattern, text)


@pytest.mark.parametrize("text", [BODY, *CONTENT_TRAPS])
def test_a_line_of_prose_is_searched_by_a_few_of_the_rules_only(text):
    from builder.clean import Line

    line = Line(0, len(text), text)
    searched = [rule.name for rule in _shipped_rules() if rule.needs is None or any(s in line.lowered for s in rule.needs)]
    assert len(searched) <= len(_shipped_rules()) // 2, searched
