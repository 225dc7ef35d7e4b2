"""Label colours as lines on white: at least 3:1 (WCAG 1.4.11), the label's own colour whenever it already is."""

import pytest

from annotator.ui.colours import contrast_on_white, line_colour


@pytest.mark.parametrize("colour", ["#e9a100", "#f4c542", "#ffffff", "#d5e0fb", "#fefefe"])
def test_light_colours_are_darkened_to_three_to_one(colour):
    line = line_colour(colour)
    assert contrast_on_white(colour) < 3 <= contrast_on_white(line)
    assert contrast_on_white(line) < 3.5  # darkened only as far as needed


@pytest.mark.parametrize("colour", ["#e4572e", "#8338ec", "#2a9d8f", "#000000"])
def test_dark_enough_colours_stay(colour):
    assert line_colour(colour) == colour


def test_contrast_matches_wcag_examples():
    assert contrast_on_white("#000000") == pytest.approx(21.0)
    assert contrast_on_white("#767676") == pytest.approx(4.54, abs=0.01)  # the lightest grey passing 4.5:1
