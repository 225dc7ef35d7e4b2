"""JSON columns reject NaN and infinities (PostgreSQL jsonb, SQLite's json_valid): store them as null."""

import math
from typing import Any


def json_safe(value: Any) -> Any:
    """A copy of ``value`` with every non-finite float replaced by None (dicts, lists, tuples walked)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
