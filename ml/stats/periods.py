"""Bucketing publication dates into periods; a period is named by its first day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")


class Granularity(StrEnum):
    ALL = "all"
    YEAR = "year"
    MONTH = "month"
    WEEK = "week"
    DAY = "day"


def period_start(value: date | datetime | None, *, granularity: str, tz: tzinfo = UTC) -> date | None:
    """First day of the period containing ``value``: Jan 1, the 1st of the month, the ISO week's Monday, or the day.

    Aware datetimes are converted to ``tz`` first; naive ones are taken as already local to ``tz``.
    ``granularity="all"`` and a missing date both give None (one bucket for the whole range; no period).

    >>> period_start(date(2024, 3, 14), granularity="week")
    datetime.date(2024, 3, 11)
    """
    try:
        g = Granularity(granularity)
    except ValueError:
        raise ValueError(f"granularity must be one of {[x.value for x in Granularity]}, got {granularity!r}") from None
    if g is Granularity.ALL or value is None:
        return None
    if isinstance(value, datetime):
        day = (value.astimezone(tz) if value.tzinfo is not None else value).date()
    elif isinstance(value, date):
        day = value
    else:
        raise ValueError(f"expected a date, datetime or None, got {type(value).__name__}: {value!r}")
    if g is Granularity.YEAR:
        return day.replace(month=1, day=1)
    if g is Granularity.MONTH:
        return day.replace(day=1)
    if g is Granularity.DAY:
        return day
    return day - timedelta(days=day.weekday())


def period_starts(values: Iterable[date | datetime | None], *, granularity: str, tz: tzinfo = UTC) -> list[date | None]:
    """:func:`period_start` for every value."""
    return [period_start(v, granularity=granularity, tz=tz) for v in values]
