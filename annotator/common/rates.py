"""Rates written as "<count>/<period>" (API throttles, the login lockout), with a period multiplier: "10/15min"."""

from __future__ import annotations

import re

from django.core.exceptions import ImproperlyConfigured

_PERIOD_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")


def parse_rate(rate: str | None) -> tuple[int | None, int | None]:
    """'120/min' -> (120, 60); '10/15min' -> (10, 900); None -> (None, None) meaning unlimited."""
    if rate is None:
        return None, None
    match = _RATE_RE.match(str(rate).lower())
    if not match or match.group(3) not in _PERIOD_SECONDS:
        raise ImproperlyConfigured(
            f"Invalid rate {rate!r}: use '<count>/<period>' with an optional multiplier, e.g. '120/min', "
            f"'10/15min'; periods: {', '.join(_PERIOD_SECONDS)}."
        )
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _PERIOD_SECONDS[unit]
