"""Rates as "<count>/<period>" with a period multiplier."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from annotator.common.rates import parse_rate


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("120/min", (120, 60)), ("10/15min", (10, 900)), ("5/s", (5, 1)), ("2/2h", (2, 7200)), (None, (None, None))],
)
def test_parse_rate(rate, expected):
    assert parse_rate(rate) == expected


@pytest.mark.parametrize("rate", ["ten/min", "10/fortnight", "10", "10/-5m"])
def test_parse_rate_rejects_nonsense(rate):
    with pytest.raises(ImproperlyConfigured, match="Invalid rate"):
        parse_rate(rate)
