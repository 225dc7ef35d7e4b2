"""CSV cells that spreadsheets read as data: numbers stay numbers, and text is never run as a formula.

A text cell starting with = + - @, a tab or a carriage return gets a leading apostrophe, so spreadsheet programs do
not evaluate it (CSV injection). Shared by the API's CSV renderer and the annotation exports.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from rest_framework.utils.encoders import JSONEncoder

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_csv_formula(value: str) -> str:
    """Prefix an apostrophe to text a spreadsheet would evaluate as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def csv_cell(value: Any) -> str | int | float | Decimal:
    """One CSV cell: numbers stay numbers, None is empty, booleans are true/false, lists/dicts are JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value  # numbers (negative ones too) are never formulas
    if isinstance(value, list | tuple | dict):
        return escape_csv_formula(json.dumps(value, cls=JSONEncoder, ensure_ascii=False))
    if not isinstance(value, str):
        value = json.loads(json.dumps(value, cls=JSONEncoder))  # dates, decimals, UUIDs as in the JSON output
        if not isinstance(value, str):
            return csv_cell(value)
    return escape_csv_formula(value)
