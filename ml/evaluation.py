"""Span and word-level precision/recall/F1 for predicted spans against gold spans.

* **Exact** span match: a prediction is correct when a gold span has the same ``(start, end, label)``.
* **Partial** span match: a prediction is correct when it overlaps (shares a code point with) a gold span of
  the same label; a gold span is found when some prediction of its label overlaps it. Precision counts
  predictions, recall counts gold spans, so one long prediction covering two gold spans is 1 TP for
  precision and 2 found for recall.
* **Word level** (BABE's measure): every word of every text (``ml.tokenise.WORD_RE``) is a binary item;
  a word is gold-positive when it overlaps a gold span and predicted-positive when it overlaps a predicted
  span. P/R/F1 are of the positive class over all words of all texts. For BABE rows read by
  :func:`ml.babe.read_babe` the gold-positive words are exactly the tokens equal to the row's marked words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ml.spans import Span, overlaps
from ml.tokenise import token_spans

MICRO = "micro"


@dataclass(frozen=True)
class PRF:
    """Counts and the derived precision, recall and F1 (0.0 when undefined)."""

    tp_pred: int
    n_pred: int
    tp_gold: int
    n_gold: int

    @property
    def precision(self) -> float:
        return self.tp_pred / self.n_pred if self.n_pred else 0.0

    @property
    def recall(self) -> float:
        return self.tp_gold / self.n_gold if self.n_gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: PRF) -> PRF:
        return PRF(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def as_dict(self) -> dict:
        out = asdict(self)
        out.update(precision=self.precision, recall=self.recall, f1=self.f1)
        return out


def astuple(prf: PRF) -> tuple[int, int, int, int]:
    return (prf.tp_pred, prf.n_pred, prf.tp_gold, prf.n_gold)


ZERO = PRF(0, 0, 0, 0)


def _check_lengths(gold: Sequence, pred: Sequence, texts: Sequence | None = None) -> None:
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} documents but predictions have {len(pred)}")
    if texts is not None and len(texts) != len(gold):
        raise ValueError(f"there are {len(texts)} texts but {len(gold)} gold span lists")


def _labels(gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]]) -> list[str]:
    return sorted({s.label for doc in gold for s in doc} | {s.label for doc in pred for s in doc})


def _doc_counts(gold: Sequence[Span], pred: Sequence[Span], *, partial: bool) -> PRF:
    if partial:
        tp_pred = sum(any(g.label == p.label and overlaps(p.start, p.end, g.start, g.end) for g in gold) for p in pred)
        tp_gold = sum(any(g.label == p.label and overlaps(p.start, p.end, g.start, g.end) for p in pred) for g in gold)
        return PRF(tp_pred, len(pred), tp_gold, len(gold))
    gold_keys = {g.key for g in gold}
    pred_keys = {p.key for p in pred}
    hits = len(gold_keys & pred_keys)
    return PRF(hits, len(pred_keys), hits, len(gold_keys))


def span_scores(
    gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]], *, partial: bool = False
) -> dict[str, PRF]:
    """Per-label and micro (key ``"micro"``) span P/R/F1; ``partial=True`` counts overlaps as matches."""
    _check_lengths(gold, pred)
    out: dict[str, PRF] = {}
    for label in _labels(gold, pred):
        total = ZERO
        for g_doc, p_doc in zip(gold, pred, strict=True):
            total = total + _doc_counts(
                [g for g in g_doc if g.label == label], [p for p in p_doc if p.label == label], partial=partial
            )
        out[label] = total
    micro = ZERO
    for prf in out.values():
        micro = micro + prf
    out[MICRO] = micro
    return out


def word_flags(text: str, spans: Sequence[Span], *, label: str | None = None) -> list[bool]:
    """One flag per word of ``text``: does it overlap a span (of ``label``, or of any label)?"""
    ranges = sorted((s.start, s.end) for s in spans if label is None or s.label == label)
    flags = []
    j = 0
    for start, end in token_spans(text):
        while j < len(ranges) and ranges[j][1] <= start:
            j += 1
        k, hit = j, False
        while k < len(ranges) and ranges[k][0] < end:
            if overlaps(start, end, *ranges[k]):
                hit = True
                break
            k += 1
        flags.append(hit)
    return flags


def word_scores(texts: Sequence[str], gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]]) -> dict[str, PRF]:
    """Word-level P/R/F1 of the positive class over all words, per label and ``"micro"`` (any label)."""
    _check_lengths(gold, pred, texts)
    out: dict[str, PRF] = {}
    for label in [*_labels(gold, pred), None]:
        tp = n_pred = n_gold = 0
        for text, g_doc, p_doc in zip(texts, gold, pred, strict=True):
            g_flags = word_flags(text, g_doc, label=label)
            p_flags = word_flags(text, p_doc, label=label)
            tp += sum(g and p for g, p in zip(g_flags, p_flags, strict=True))
            n_pred += sum(p_flags)
            n_gold += sum(g_flags)
        out[MICRO if label is None else label] = PRF(tp, n_pred, tp, n_gold)
    return out


def evaluate(texts: Sequence[str], gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]]) -> dict:
    """All metrics as plain JSON-ready dicts: ``{"exact": {...}, "partial": {...}, "word": {...}}``."""
    return {
        "n_texts": len(texts),
        "exact": {k: v.as_dict() for k, v in span_scores(gold, pred).items()},
        "partial": {k: v.as_dict() for k, v in span_scores(gold, pred, partial=True).items()},
        "word": {k: v.as_dict() for k, v in word_scores(texts, gold, pred).items()},
    }


def format_report(metrics: dict) -> str:
    """A fixed-width human table of :func:`evaluate`'s output."""
    lines = [f"{'measure':<9} {'label':<16} {'P':>7} {'R':>7} {'F1':>7} {'pred':>7} {'gold':>7}"]
    for measure in ("exact", "partial", "word"):
        for label, m in metrics[measure].items():
            lines.append(
                f"{measure:<9} {label:<16} {m['precision']:7.3f} {m['recall']:7.3f} {m['f1']:7.3f}"
                f" {m['n_pred']:7d} {m['n_gold']:7d}"
            )
    return "\n".join(lines)
