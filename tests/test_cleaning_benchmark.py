"""The blind cleaning benchmarks (tests/data/cleaning*, pages from outlets the rules were not
written for): body paragraphs kept, noise published, metadata found, no repeated sentence.

Figures: `python benchmarks/cleaning.py` (and `--set tests/data/cleaning_blind2`)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def benchmark():
    spec = importlib.util.spec_from_file_location("cleaning_benchmark", ROOT / "benchmarks" / "cleaning.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def first_set():
    return benchmark().measure(ROOT / "tests" / "data" / "cleaning")["figures"]


@pytest.fixture(scope="module")
def second_set():
    return benchmark().measure(ROOT / "tests" / "data" / "cleaning_blind2")["figures"]


@pytest.mark.slow
@pytest.mark.parametrize("form", ["html", "text"])
def test_first_set_keeps_the_body_and_drops_the_noise(first_set, form):
    f = first_set[form]
    assert f["pages"] >= 15
    assert f["content_kept"] >= 0.98, f
    assert f["noise_published"] <= 0.02, f
    assert f["repeated_sentences"] == 0, f


@pytest.mark.slow
def test_second_set_keeps_the_body_and_drops_the_noise(second_set):
    f = second_set["all"]
    assert f["pages"] >= 16
    assert f["content_kept"] >= 0.98, f
    assert f["noise_published"] <= 0.02, f
    assert f["repeated_sentences"] == 0, f


@pytest.mark.slow
@pytest.mark.parametrize("which", ["first", "second"])
def test_title_and_date_come_from_what_html_pages_state(first_set, second_set, which):
    f = (first_set if which == "first" else second_set)["html"]
    assert f["title_from_metadata"] >= 0.9, f
    assert f["date_from_metadata"] >= 0.9, f
