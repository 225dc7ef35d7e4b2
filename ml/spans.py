"""Spans: a labelled half-open character range ``[start, end)`` in a text, and the overlap rule."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True, slots=True)
class Span:
    """A labelled half-open range of code points ``text[start:end]``.

    Parameters
    ----------
    start, end : int
        Python string indices; ``0 <= start < end``.
    label : str
        The label name (e.g. ``"loaded"``).
    score : float or None
        The model's confidence for predicted spans; ``None`` for gold spans.
    """

    start: int
    end: int
    label: str
    score: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.start, int) or not isinstance(self.end, int):
            raise TypeError(f"span offsets must be integers, got start={self.start!r}, end={self.end!r}")
        if self.start < 0 or self.start >= self.end:
            raise ValueError(f"a span needs 0 <= start < end, got start={self.start}, end={self.end}")
        if not isinstance(self.label, str) or not self.label:
            raise ValueError(f"a span needs a non-empty string label, got {self.label!r}")

    @classmethod
    def trusted(cls, start: int, end: int, label: str, score: float | None = None) -> Span:
        """A span from values the caller has already validated (the model's own predictions): skips
        ``__post_init__``'s checks, which cost more than the span itself when a model emits millions."""
        span = object.__new__(cls)
        _set_start(span, start)  # the slots' own descriptors: what a frozen dataclass's __init__ does, unchecked
        _set_end(span, end)
        _set_label(span, label)
        _set_score(span, score)
        return span

    @property
    def key(self) -> tuple[int, int, str]:
        """``(start, end, label)``: the identity of the span without its score."""
        return (self.start, self.end, self.label)

    def to_dict(self) -> dict:
        out: dict = {"start": self.start, "end": self.end, "label": self.label}
        if self.score is not None:
            out["score"] = round(float(self.score), 6)
        return out


# slotted: no per-span __dict__ (a model emits millions of spans: half the objects for the garbage collector)
_set_start, _set_end, _set_label, _set_score = (getattr(Span, f).__set__ for f in ("start", "end", "label", "score"))


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """True when the half-open ranges ``[a_start, a_end)`` and ``[b_start, b_end)`` share a code point."""
    return a_start < b_end and b_start < a_end


def as_span(value: Span | tuple | list | dict, *, default_label: str | None = None) -> Span:
    """Coerce ``Span``, ``(start, end, label)`` / ``(start, end, label, score)`` or a dict into a ``Span``."""
    if isinstance(value, Span):
        return value
    if isinstance(value, dict):
        try:
            return Span(
                int(value["start"]), int(value["end"]), str(value.get("label", default_label)), value.get("score")
            )
        except KeyError as exc:
            raise ValueError(f"a span dict needs 'start' and 'end' keys, got {sorted(value)}") from exc
    if isinstance(value, tuple | list) and len(value) in (2, 3, 4):
        if len(value) == 2:
            if default_label is None:
                raise ValueError(f"span {value!r} has no label")
            return Span(int(value[0]), int(value[1]), default_label)
        return Span(int(value[0]), int(value[1]), str(value[2]), *(value[3:]))
    raise ValueError(f"cannot read a span from {value!r}; expected Span, (start, end, label) or a dict")
