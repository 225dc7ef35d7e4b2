"""The per-article table that every estimator in :mod:`ml.stats` reads, and grouping helpers."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np


def as_count_array(name: str, values: Sequence[float] | np.ndarray, *, integer: bool = True) -> np.ndarray:
    """A 1-D float array of non-negative, finite (and by default whole) numbers, or a clear ValueError."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers: {exc}") from exc
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if np.any(array < 0):
        raise ValueError(f"{name} contains negative values (first at index {int(np.argmax(array < 0))})")
    if integer and np.any(array != np.round(array)):
        raise ValueError(f"{name} must hold whole numbers")
    return array


@dataclass(frozen=True)
class ArticleCounts:
    """One row per article: its group (outlet, outlet x period, ...), tokens, spans of one label.

    ``score_sum`` (optional) is the sum of the model's span probabilities in the article.
    """

    groups: Sequence[Hashable] | np.ndarray
    n_tokens: Sequence[int] | np.ndarray
    n_spans: Sequence[int] | np.ndarray
    score_sum: Sequence[float] | np.ndarray | None = None

    def __post_init__(self) -> None:
        groups = np.asarray(self.groups)
        if groups.ndim != 1:
            raise ValueError(f"groups must be one-dimensional, got shape {groups.shape}")
        object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "n_tokens", as_count_array("n_tokens", self.n_tokens))
        object.__setattr__(self, "n_spans", as_count_array("n_spans", self.n_spans))
        if self.score_sum is not None:
            object.__setattr__(self, "score_sum", as_count_array("score_sum", self.score_sum, integer=False))
        lengths = {len(self.groups), len(self.n_tokens), len(self.n_spans)}
        if self.score_sum is not None:
            lengths.add(len(self.score_sum))
        if len(lengths) != 1:
            raise ValueError(
                f"groups, n_tokens, n_spans (and score_sum) must have the same length, got {sorted(lengths)}"
            )

    def __len__(self) -> int:
        return len(self.n_tokens)

    def matrix(self) -> np.ndarray:
        """Per-article columns: tokens, spans, has a span (0/1), and score_sum when given."""
        columns = [self.n_tokens, self.n_spans, (self.n_spans > 0).astype(np.float64)]
        if self.score_sum is not None:
            columns.append(self.score_sum)
        return np.column_stack(columns)


def split_by_group(groups: np.ndarray) -> dict[Hashable, np.ndarray]:
    """Row indices of each group, keys in sorted order."""
    if len(groups) == 0:
        return {}
    try:
        keys, inverse = np.unique(groups, return_inverse=True)
    except TypeError as exc:
        raise ValueError(f"group keys must be mutually comparable (all str or all int): {exc}") from exc
    order = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse, minlength=len(keys)))[:-1]
    return {_plain(k): rows for k, rows in zip(keys, np.split(order, bounds), strict=True)}


def _plain(key: object) -> Hashable:
    return key.item() if isinstance(key, np.generic) else key  # type: ignore[return-value]
