"""The packed suggestion layer (``Suggestions``): one row per (model version, article), its spans as fixed-size records.

A record is ``RECORD`` (little-endian): start and end (code-point offsets, 32-bit), the project label's id (64-bit)
and the model's score (a double, exactly as ``predict`` rounded it). Scoring packs a whole chunk at once with NumPy
(``scoring.services``); the readers here unpack one row with ``struct`` (no NumPy in a request for a few spans).

A suggestion's id is ``row id × ID_STRIDE + index in the row`` (an integer, as span ids are, below 2^53 for row ids
below 9·10^9, so a browser keeps it exact).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

RECORD = struct.Struct("<iiqd")
ID_STRIDE = 1_000_000


@dataclass
class Suggestion:
    """One unpacked suggestion (plain attributes, so masking and the serialisers treat it like a span)."""

    id: int
    article_id: int
    label_id: int
    start_char: int
    end_char: int
    score: float
    text: str = ""
    label: str = ""
    model_version: int | None = None  # the version's number
    outlet: str | None = None  # the annotation list's: the article's outlet slug, when the viewer may learn it


def pack(records: Iterable[tuple[int, int, int, float]]) -> bytes:
    """(start, end, label id, score) records as a ``Suggestions.spans`` value."""
    return b"".join(RECORD.pack(*r) for r in records)


def unpack(row_id: int, article_id: int, data: bytes | memoryview, text: str | None = None) -> list[Suggestion]:
    """A row's suggestions in stored order; ``text`` (the article's) fills each one's covered text."""
    out = []
    for index, (start, end, label_id, score) in enumerate(RECORD.iter_unpack(bytes(data))):
        out.append(
            Suggestion(
                id=row_id * ID_STRIDE + index, article_id=article_id, label_id=label_id, start_char=start,
                end_char=end, score=score, text=text[start:end] if text is not None else "",
            )
        )  # fmt: skip
    return out


def split_id(suggestion_id: int) -> tuple[int, int]:
    """(row id, index in the row) of a suggestion id."""
    return divmod(suggestion_id, ID_STRIDE)
