"""CSV cells: numbers stay numbers, text is never a spreadsheet formula."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from annotator.common.csvsafe import csv_cell, escape_csv_formula


class TestCells:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@cmd", "'@cmd"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("plain = fine", "plain = fine"),
            ("", ""),
        ],
    )
    def test_formula_escaping(self, value, expected):
        assert escape_csv_formula(value) == expected
        assert csv_cell(value) == expected

    def test_numbers_stay_numbers_even_negative(self):
        assert csv_cell(-1.5) == -1.5
        assert csv_cell(-3) == -3

    def test_other_types(self):
        assert csv_cell(None) == ""
        assert csv_cell(True) == "true"
        assert csv_cell(["a", "=b"]) == '["a", "=b"]'
        assert csv_cell(["=a"]) == '["=a"]'  # JSON text starts with "[", never a formula
        assert csv_cell(Decimal("-1.50")) == Decimal("-1.50")
        assert csv_cell(datetime(2024, 5, 1, 12, 0, tzinfo=UTC)) == "2024-05-01T12:00:00Z"
