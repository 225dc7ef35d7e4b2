"""Offsets in the units other tools count in, converted to and from code points where a file enters or leaves.

Framescope stores code points (Python string indices). doccano's editor counts JavaScript string indices, i.e.
UTF-16 code units (its default), or grapheme clusters in a project with ``grapheme_mode``; Label Studio counts
code points. ``👍🏽`` is 2 code points, 4 UTF-16 units and 1 grapheme; ``é`` written as ``e`` + U+0301 is 2 code
points, 2 units and 1 grapheme; a CRLF is 2 code points, 2 units and 1 grapheme.

Grapheme clusters are the Unicode extended grapheme clusters of the ``regex`` package's ``\\X`` (kept current with
Unicode; doccano's editor uses the grapheme-splitter package, which agrees on emoji with modifiers, ZWJ sequences,
flags, combining marks and CRLF).
"""

from __future__ import annotations

import enum
from bisect import bisect_left, bisect_right
from itertools import accumulate

import regex

GRAPHEME_RE = regex.compile(r"\X")


class OffsetUnit(enum.StrEnum):
    CODEPOINT = "codepoint"
    UTF16 = "utf16"
    GRAPHEME = "grapheme"


UNIT_NAMES = {
    OffsetUnit.CODEPOINT: "code points",
    OffsetUnit.UTF16: "UTF-16 code units",
    OffsetUnit.GRAPHEME: "grapheme clusters",
}


class OffsetOutOfText(ValueError):
    """An offset that is no boundary of the text in its unit (past the end, or inside a character)."""


def offset_unit(value: str) -> OffsetUnit:
    try:
        return OffsetUnit(value)
    except ValueError:
        known = ", ".join(unit.value for unit in OffsetUnit)
        raise ValueError(f"unknown offset unit {value!r}; use one of: {known}") from None


class TextOffsets:
    """The boundaries of one text in a unit: ``starts[i]`` is where code point ``i`` (or, for graphemes, the
    ``i``-th cluster) starts, in the unit's count; ``starts[-1]`` is the text's length in that unit."""

    def __init__(self, text: str, unit: OffsetUnit) -> None:
        self.text, self.unit = text, unit
        if unit == OffsetUnit.UTF16:
            self.starts = [0, *accumulate(2 if ord(ch) > 0xFFFF else 1 for ch in text)]
        elif unit == OffsetUnit.GRAPHEME:
            self.clusters = [0, *accumulate(len(m.group()) for m in GRAPHEME_RE.finditer(text))]
        self.length = self._length()

    def _length(self) -> int:
        if self.unit == OffsetUnit.UTF16:
            return self.starts[-1]
        if self.unit == OffsetUnit.GRAPHEME:
            return len(self.clusters) - 1
        return len(self.text)

    def to_codepoint(self, offset: int) -> int:
        """The code-point index of ``offset`` (in this unit); OffsetOutOfText says why it is none."""
        if offset < 0 or offset > self.length:
            raise OffsetOutOfText(
                f"offset {offset} is past the end of the text ({self.length} {UNIT_NAMES[self.unit]})"
            )
        if self.unit == OffsetUnit.CODEPOINT:
            return offset
        if self.unit == OffsetUnit.GRAPHEME:
            return self.clusters[offset]
        index = bisect_left(self.starts, offset)
        if self.starts[index] != offset:
            raise OffsetOutOfText(f"offset {offset} falls between the two UTF-16 units of {self.text[index - 1]!r}")
        return index

    def span_from_codepoints(self, start: int, end: int) -> tuple[int, int]:
        """A span's offsets in this unit. A grapheme count names cluster boundaries only: a span that starts or
        ends inside a cluster is widened to the whole cluster."""
        if self.unit == OffsetUnit.CODEPOINT:
            return start, end
        if self.unit == OffsetUnit.UTF16:
            return self.starts[start], self.starts[end]
        return bisect_right(self.clusters, start) - 1, bisect_left(self.clusters, end)
