"""Time zones a study may bucket its periods in: IANA names, checked against the system's zoneinfo database."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError

DEFAULT_TIME_ZONE = "UTC"


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone name zoneinfo knows, sorted (``UTC`` included)."""
    return tuple(sorted(available_timezones() | {DEFAULT_TIME_ZONE}))


def is_time_zone(name: object) -> bool:
    return isinstance(name, str) and name in set(time_zone_names())


def validate_time_zone(name: object) -> None:
    """Model-field validator: an IANA name such as ``America/New_York`` (no offsets such as ``EST`` or ``+05:00``)."""
    if not is_time_zone(name):
        raise ValidationError(f"{name!r} is not a time zone name (IANA, e.g. America/New_York or Europe/Berlin).")


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name or DEFAULT_TIME_ZONE)
