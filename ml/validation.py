"""Honest held-out evaluation: out-of-fold predictions with folds grouped by article (or outlet)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from sklearn.base import clone
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

from ml.evaluation import evaluate
from ml.spans import Span
from ml.tokenise import count_tokens

Progress = Callable[[int, int], None]


def out_of_fold_predictions(
    estimator,
    texts: Sequence[str],
    spans: Sequence[Sequence[Span]],
    *,
    groups: Sequence,
    splitter=None,
    progress: Progress | None = None,
) -> list[list[Span]]:
    """Predict each text with a clone of ``estimator`` fitted on the folds that do not contain its group.

    ``splitter`` defaults to ``GroupKFold(5)`` (fewer splits when there are fewer groups); no text is ever
    predicted by a model that saw its group, so thresholds tuned inside ``fit`` never see the test fold.
    """
    n_groups = len(set(groups))
    if n_groups < 2:
        raise ValueError(f"cross-validation needs at least 2 groups (articles), got {n_groups}")
    splitter = splitter or GroupKFold(n_splits=min(5, n_groups))
    folds = list(splitter.split(texts, groups=groups))
    predictions: list[list[Span] | None] = [None] * len(texts)
    for k, (train, test) in enumerate(folds):
        model = clone(estimator)
        model.fit([texts[i] for i in train], [spans[i] for i in train], groups=[groups[i] for i in train])
        for i, predicted in zip(test, model.predict([texts[i] for i in test]), strict=True):
            predictions[i] = list(predicted)
        if progress:
            progress(k + 1, len(folds))
    return [p if p is not None else [] for p in predictions]


def spans_per_outlet(
    gold: Sequence[Sequence[Span]], predicted: Sequence[Sequence[Span]], *, outlets: Sequence
) -> dict[str, dict[str, dict[str, list[int]]]]:
    """``{label: {outlet: {"gold": [...], "predicted": [...]}}}``, one entry per article of the outlet.

    What :class:`ml.stats.StratifiedErrors` needs to correct each outlet's rate with its own ratio of gold to
    out-of-fold predicted spans: its bootstrap resamples articles, so per-outlet sums alone would not do.
    """
    labels = sorted({s.label for article in (*gold, *predicted) for s in article})
    out: dict[str, dict[str, dict[str, list[int]]]] = {label: {} for label in labels}
    for article_gold, article_pred, outlet in zip(gold, predicted, outlets, strict=True):
        n_gold, n_pred = Counter(s.label for s in article_gold), Counter(s.label for s in article_pred)
        for label in labels:
            counts = out[label].setdefault(str(outlet), {"gold": [], "predicted": []})
            counts["gold"].append(n_gold[label])
            counts["predicted"].append(n_pred[label])
    return out


def cross_validate(
    estimator,
    texts: Sequence[str],
    spans: Sequence[Sequence[Span]],
    *,
    groups: Sequence,
    outlets: Sequence | None = None,
    progress: Progress | None = None,
) -> dict:
    """Metrics of :func:`ml.evaluation.evaluate` from grouped k-fold, plus leave-one-outlet-out when ≥ 3 outlets.

    With ``outlets``, ``grouped_kfold["per_outlet_spans"]`` holds each article's gold and out-of-fold predicted
    span counts by label and outlet (:func:`spans_per_outlet`), for the per-outlet rate correction.
    """
    result: dict = {"grouped_kfold": None, "leave_one_outlet_out": None}
    oof = out_of_fold_predictions(estimator, texts, spans, groups=groups, progress=progress)
    result["grouped_kfold"] = evaluate(texts, spans, oof)
    # The adjusted-count correction of outlet rates needs the false positives per token of this evaluation.
    result["grouped_kfold"]["n_tokens"] = sum(count_tokens(t) for t in texts)
    if outlets is not None:
        result["grouped_kfold"]["per_outlet_spans"] = spans_per_outlet(spans, oof, outlets=outlets)
    if outlets is not None and len(set(outlets)) >= 3:
        per_outlet = {}
        logo = LeaveOneGroupOut()
        for train, test in logo.split(texts, groups=outlets):
            model = clone(estimator)
            model.fit([texts[i] for i in train], [spans[i] for i in train], groups=[groups[i] for i in train])
            held_out = outlets[test[0]]
            predicted = model.predict([texts[i] for i in test])
            per_outlet[str(held_out)] = evaluate([texts[i] for i in test], [spans[i] for i in test], predicted)
        result["leave_one_outlet_out"] = per_outlet
    return result
