"""Casualty count normaliser: ``parse_count`` and ``find_count`` (builder/counts.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.counts import QUALIFIER_PHRASES, find_count, parse_count

SCHEMA = Path(__file__).resolve().parents[1] / "schema" / "sentence.schema.json"


def c(value, lo, hi, qualifier):
    return {"value": value, "min": lo, "max": hi, "qualifier": qualifier}


PARSE_CASES = [
    # exact, digits and words
    ("25", c(25, 25, 25, "exact")),
    ("1", c(1, 1, 1, "exact")),
    ("1,200", c(1200, 1200, 1200, "exact")),
    ("12,345,678", c(12345678, 12345678, 12345678, "exact")),
    ("two", c(2, 2, 2, "exact")),
    ("Twenty-five", c(25, 25, 25, "exact")),
    ("twenty five", c(25, 25, 25, "exact")),
    ("three hundred", c(300, 300, 300, "exact")),
    ("one hundred and twenty-five", c(125, 125, 125, "exact")),
    ("fifteen hundred", c(1500, 1500, 1500, "exact")),
    ("two thousand five hundred", c(2500, 2500, 2500, "exact")),
    ("a thousand", c(1000, 1000, 1000, "exact")),
    ("a dozen", c(12, 12, 12, "exact")),
    ("two dozen", c(24, 24, 24, "exact")),
    ("half a dozen", c(6, 6, 6, "exact")),
    ("1.5 million", c(1_500_000, 1_500_000, 1_500_000, "exact")),
    ("zero", c(0, 0, 0, "exact")),
    # vague plurals: lower bound only
    ("dozens", c(None, 24, None, "at_least")),
    ("Dozens of", c(None, 24, None, "at_least")),
    ("hundreds", c(None, 200, None, "at_least")),
    ("scores", c(None, 40, None, "at_least")),
    ("thousands", c(None, 2000, None, "at_least")),
    ("tens of thousands", c(None, 20_000, None, "at_least")),
    ("several hundred", c(None, 200, None, "at_least")),
    ("at least dozens", c(None, 24, None, "at_least")),
    # qualifiers
    ("at least 25", c(25, 25, None, "at_least")),
    ("At least twenty-five", c(25, 25, None, "at_least")),
    ("no fewer than 8", c(8, 8, None, "at_least")),
    ("More than 450", c(450, 451, None, "more_than")),
    ("over 1,000", c(1000, 1001, None, "more_than")),
    ("more than a dozen", c(12, 13, None, "more_than")),
    ("up to 30", c(30, None, 30, "at_most")),
    ("as many as forty", c(40, None, 40, "at_most")),
    ("fewer than 10", c(10, None, 9, "fewer_than")),
    ("less than five", c(5, None, 4, "fewer_than")),
    ("about 100", c(100, None, None, "about")),
    ("around 20", c(20, None, None, "about")),
    ("nearly 50", c(50, None, None, "about")),
    ("some 300", c(300, None, None, "about")),
    ("approximately 60", c(60, None, None, "about")),
    ("an estimated 3,000", c(3000, None, None, "about")),
    # ranges
    ("10 to 15", c(None, 10, 15, "range")),
    ("10-15", c(None, 10, 15, "range")),
    ("10\u201315", c(None, 10, 15, "range")),
    ("between 10 and 15", c(None, 10, 15, "range")),
    ("between ten and fifteen", c(None, 10, 15, "range")),
    ("from 1,000 to 1,500", c(None, 1000, 1500, "range")),
    ("two or three", c(None, 2, 3, "range")),
    ("about 10 to 15", c(None, 10, 15, "range")),
    # surrounding noise that is ignored
    ("  at least 25. ", c(25, 25, None, "at_least")),
    ("at\u00a0least 25", c(25, 25, None, "at_least")),
]

NOT_COUNTS = ["", "   ", "a", "an", "several", "some", "many", "people", "at least", "25 people",
              "fewer than 0", "15-10", "1-0", "twenty ten", "one one", "25.5", "25-year-old", "K-1"]


@pytest.mark.parametrize("text,expected", PARSE_CASES, ids=[t for t, _ in PARSE_CASES])
def test_parse_count(text, expected):
    assert parse_count(text) == expected


@pytest.mark.parametrize("text", NOT_COUNTS)
def test_parse_count_rejects_non_counts(text):
    assert parse_count(text) is None


def test_parse_count_results_fit_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    count_schema = dict(schema["$defs"]["count"])
    for text, _ in PARSE_CASES:
        jsonschema.validate(parse_count(text), count_schema)


FIND_CASES = [
    # (sentence, trigger, occurrence of the trigger, expected count span or None)
    ("The US responded with airstrikes on Kataib Hezbollah targets on December 29, killing 25 of the "
     "militia\u2019s fighters.", "killing", 0, "25"),
    ("Iraqi security and militia sources said at least 25 militia fighters were killed and at least 55 "
     "wounded.", "killed", 0, "at least 25"),
    ("Iraqi security and militia sources said at least 25 militia fighters were killed and at least 55 "
     "wounded.", "wounded", 0, "at least 55"),
    ("An Iran-backed militia vowed on Monday to retaliate for a series of American airstrikes, an attack "
     "that left at least 25 dead.", "dead", 0, "at least 25"),
    ("Kataib Hezbollah targeted Taji military base in a rare daytime attack with more than 30 Katyusha "
     "rockets, wounding three coalition troops and two Iraqis.", "wounding", 0, "three"),
    ("More than a dozen Katyusha rockets targeted Taji military base, around 27 km north of Baghdad, "
     "killing two US personnel (one contractor and one soldier) and a Briton.", "killing", 0, "two"),
    ("On December 27, a rocket attack on the K-1 military base in Kirkuk killed a US civilian contractor "
     "and injured other personnel.", "killed", 0, None),
    ("The shelling took place on December 27th, and several US troops were injured, while 1 US defense "
     "contractor was killed.", "killed", 0, "1"),
    ("The shelling took place on December 27th, and several US troops were injured, while 1 US defense "
     "contractor was killed.", "injured", 0, None),
    ("Abu-Mahdi al-Mohandes warned of revenge for the attack, which also left 51 injured.", "injured", 0, "51"),
    ("More than 450 people have been killed in unrest.", "killed", 0, "More than 450"),
    ("Russian forces shelled the town overnight, killing 12 civilians and wounding at least 30 others.",
     "wounding", 0, "at least 30"),
    ("Russian forces shelled the town overnight, killing 12 civilians and wounding others.", "wounding", 0, None),
    ("Jihadists killed between 10 and 15 herders near Menaka.", "killed", 0, "between 10 and 15"),
    ("Medics said two dozen people were killed in Rafah.", "killed", 0, "two dozen"),
    ("An air raid on a market killed dozens of villagers.", "killed", 0, "dozens"),
    ("The strike on the station left more than 50 dead and about 100 injured.", "injured", 0, "about 100"),
    ("Three U.S. Marines were killed near Gao.", "killed", 0, "Three"),
    ("A 25-year-old man was killed at a checkpoint.", "killed", 0, None),
    ("In 2019, gunmen killed a teacher in Cauca.", "killed", 0, None),
    ("No one was killed in the shelling of Kherson on Monday.", "killed", 0, None),
    ("Five rockets struck the base and killed a guard.", "killed", 0, None),
    ("At least 7 people died; 12 were wounded.", "died", 0, "At least 7"),
    ("At least 7 people died; 12 were wounded.", "wounded", 0, "12"),
    ("The bombing killed 1,200 people over 3 days.", "killed", 0, "1,200"),
    ("Up to 40 people may have been killed.", "killed", 0, "Up to 40"),
]


def _offsets(sentence: str, trigger: str, occurrence: int) -> tuple[int, int]:
    start = -1
    for _ in range(occurrence + 1):
        start = sentence.index(trigger, start + 1)
    return start, start + len(trigger)


@pytest.mark.parametrize("sentence,trigger,occurrence,expected", FIND_CASES,
                         ids=[f"{i:02d}-{t}" for i, (_, t, _, _) in enumerate(FIND_CASES)])
def test_find_count(sentence, trigger, occurrence, expected):
    start, end = _offsets(sentence, trigger, occurrence)
    found = find_count(sentence, start, end)
    if expected is None:
        assert found is None
        return
    assert found is not None
    s, e, parsed = found
    assert sentence[s:e] == expected
    assert parsed == parse_count(expected)


def test_find_count_bad_offsets():
    assert find_count("25 killed", 5, 3) is None
    assert find_count("25 killed", 3, 100) is None


EXPECTED_BY_QUALIFIER = {
    None: lambda n: c(n, n, n, "exact"),
    "at_least": lambda n: c(n, n, None, "at_least"),
    "more_than": lambda n: c(n, n + 1, None, "more_than"),
    "at_most": lambda n: c(n, None, n, "at_most"),
    "fewer_than": lambda n: c(n, None, n - 1, "fewer_than") if n > 0 else None,
    "about": lambda n: c(n, None, None, "about"),
}
PREFIXES = [""] + sorted(QUALIFIER_PHRASES)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(min_value=0, max_value=999_999), prefix=st.sampled_from(PREFIXES))
def test_parse_count_property(n, prefix):
    qualifier = QUALIFIER_PHRASES.get(prefix)
    text = f"{prefix} {n:,}"
    assert parse_count(text) == EXPECTED_BY_QUALIFIER[qualifier](n)
    assert parse_count(text.upper()) == parse_count(text)


@settings(max_examples=100, deadline=None)
@given(lo=st.integers(min_value=0, max_value=999_998), width=st.integers(min_value=1, max_value=1000))
def test_parse_count_range_property(lo, width):
    hi = min(lo + width, 999_999)
    expected = c(None, lo, hi, "range")
    assert parse_count(f"between {lo:,} and {hi:,}") == expected
    assert parse_count(f"{lo:,} to {hi:,}") == expected
    assert parse_count(f"{lo}-{hi}") == expected
