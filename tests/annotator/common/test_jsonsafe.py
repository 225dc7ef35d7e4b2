import math

from annotator.common.jsonsafe import json_safe


def test_non_finite_floats_become_null_everywhere():
    value = {"a": math.nan, "b": [1.5, math.inf, {"c": -math.inf}], "d": (2, "x"), "e": None}
    assert json_safe(value) == {"a": None, "b": [1.5, None, {"c": None}], "d": [2, "x"], "e": None}
