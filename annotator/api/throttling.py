"""Rate limits: an `expensive` scope per user for heavy endpoints (exports, bootstraps, training starts).

Opt in with the mixin (it sets the scope and the throttle class):

    class OutletScoresApi(ExpensiveThrottleMixin, APIView): ...

The rate is REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["expensive"] (env API_THROTTLE_EXPENSIVE, e.g. "120/min").
Rates are read from the settings on every request, not frozen on the class at import time as DRF's
SimpleRateThrottle.THROTTLE_RATES is, so override_settings and reloaded settings take effect. Rates also
accept a period multiplier: "10/15min" is ten per fifteen minutes.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from annotator.common.rates import parse_rate

EXPENSIVE_SCOPE = "expensive"


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
