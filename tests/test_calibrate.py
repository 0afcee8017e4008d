import pytest

from builder.calibrate import apply, ece, isotonic
from builder.weak import WeakLabeller


def test_pool_adjacent_violators_gives_an_increasing_map():
    points = [(0.5, False), (0.6, True), (0.65, False), (0.7, True), (0.9, True), (0.95, True)]
    knots = isotonic(points)
    ys = [y for _, y in knots]
    assert ys == sorted(ys)
    assert knots[0] == (0.5, 0.0)
    assert knots[1] == (pytest.approx(0.625), 0.5)  # 0.6 (ok) and 0.65 (wrong) pooled
    assert knots[-1][1] == 1.0


def test_apply_interpolates_and_is_flat_outside():
    knots = [(0.5, 0.2), (0.7, 0.6), (0.9, 1.0)]
    assert apply(knots, 0.3) == 0.2 and apply(knots, 0.99) == 1.0
    assert apply(knots, 0.6) == pytest.approx(0.4)
    assert apply([], 0.42) == 0.42


def test_expected_calibration_error_known_value():
    # one bin at 0.9 with 50% accuracy -> error 0.4; one bin at 0.15 all wrong -> 0.15
    points = [(0.9, True), (0.9, False), (0.15, False), (0.15, False)]
    assert ece(points) == pytest.approx((0.4 * 2 + 0.15 * 2) / 4)


def test_labeller_maps_raw_confidence_through_the_calibration():
    raw = WeakLabeller(calibrated=False)
    cal = WeakLabeller()
    text = ["Rockets were fired at the base and the militia vowed revenge."]
    (r,), (c,) = raw.label_texts(text), cal.label_texts(text)
    assert [(e.type, e.start) for e in r] == [(e.type, e.start) for e in c]
    if cal.calibration:
        for a, b in zip(r, c):
            assert b.confidence == round(apply(cal.calibration, a.confidence), 4)
