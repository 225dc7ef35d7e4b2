"""Rate limits: an `expensive` scope per user for heavy endpoints (exports, bootstraps, training starts).

Opt in with the mixin (it sets the scope and the throttle class):

    class OutletScoresApi(ExpensiveThrottleMixin, APIView): ...

The rate is REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["expensive"] (env API_THROTTLE_EXPENSIVE, e.g. "120/min").
Rates are read from the settings on every request, not frozen on the class at import time as DRF's
SimpleRateThrottle.THROTTLE_RATES is, so override_settings and reloaded settings take effect. Rates also
accept a period multiplier: "10/15min" is ten per fifteen minutes.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

EXPENSIVE_SCOPE = "expensive"
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


def throttle_rate(scope: str) -> str | None:
    """The configured rate of a scope, read from the live settings."""
    rates = api_settings.DEFAULT_THROTTLE_RATES or {}
    try:
        return rates[scope]
    except KeyError:
        raise ImproperlyConfigured(
            f"No throttle rate for scope {scope!r}: add it to REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']."
        ) from None


class LiveScopedRateThrottle(ScopedRateThrottle):
    """ScopedRateThrottle that reads the rate from the current settings and understands '10/15min'.

    Keyed by user id for authenticated requests (token or session alike), by client IP otherwise.
    """

    def get_rate(self) -> str | None:
        if not getattr(self, "scope", None):
            raise ImproperlyConfigured(f"{type(self).__name__} needs a view with a throttle_scope.")
        return throttle_rate(self.scope)

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        return parse_rate(rate)


class ExpensiveThrottleMixin:
    """Mix into an API view to limit it under the per-user `expensive` scope; 429 with Retry-After beyond it."""

    throttle_scope = EXPENSIVE_SCOPE
    throttle_classes: list[Any] = [LiveScopedRateThrottle]
