"""Class breaks a choropleth legend shows: each method on data whose right answer is known."""

from __future__ import annotations

import pytest

from dashboard import classify


def test_equal_intervals_split_the_range_in_equal_widths():
    assert classify.breaks([0, 10, 3, 7, None], "equal", 5) == [2, 4, 6, 8, 10]


def test_quantiles_put_the_same_number_of_values_in_each_class():
    values = list(range(1, 11))  # 1..10
    bounds = classify.breaks(values, "quantiles", 5)
    assert bounds == [2, 4, 6, 8, 10]
    counts = [sum(1 for v in values if classify.class_of(v, bounds) == c) for c in range(5)]
    assert counts == [2, 2, 2, 2, 2]


def test_jenks_finds_the_natural_gaps_between_clusters():
    values = [1, 2, 3, 20, 21, 22, 100, 101]
    assert classify.breaks(values, "jenks", 3) == [3, 22, 101]


def test_jenks_minimises_within_class_variance_compared_with_every_other_split():
    values = [4.0, 5.5, 6.0, 9.0, 12.0, 12.5, 30.0, 31.0, 33.0]
    bounds = classify.breaks(values, "jenks", 3)

    def cost(b):
        total = 0.0
        for c in range(len(b)):
            members = [v for v in values if classify.class_of(v, b) == c]
            mean = sum(members) / len(members)
            total += sum((v - mean) ** 2 for v in members)
        return total

    best = min(
        cost([values[i], values[j], values[-1]]) for i in range(len(values) - 2) for j in range(i + 1, len(values) - 1)
    )
    assert cost(bounds) == pytest.approx(best)


def test_identical_values_give_a_single_class_not_duplicated_bounds():
    for method in classify.METHODS:
        assert classify.breaks([5, 5, 5, None], method, 5) == [5]


def test_no_data_gives_no_classes_and_no_value_has_no_class():
    assert classify.breaks([None, None], "jenks", 5) == []
    assert classify.class_of(None, [1, 2]) is None


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown classification"):
        classify.breaks([1, 2], "random", 3)


def test_colour_ramps_are_the_colour_blind_safe_schemes():
    assert classify.colours(2) == ["#fde725", "#440154"]
    assert len(set(classify.colours(5, "cividis"))) == 5
