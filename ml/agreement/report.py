"""All agreement figures of a project in one call (what the agreement Celery task stores)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ml.agreement.data import AnnotationSet
from ml.agreement.results import AgreementResult, SpanF1Result
from ml.agreement.span_match import MatchRule, span_f1
from ml.agreement.tokens import build_token_table, token_cohen_kappa, token_fleiss_kappa, token_krippendorff_alpha
from ml.agreement.unitizing import unitizing_alpha


@dataclass
class AgreementReport:
    """Span F1 under three rules, token kappa/alpha, and unitizing alpha on characters."""

    n_items: int
    n_annotators: int
    n_spans: int
    labels: list[str]
    annotators: list[str]
    span_f1: dict[str, SpanF1Result]
    cohen_kappa: AgreementResult
    fleiss_kappa: AgreementResult
    krippendorff_alpha: AgreementResult
    unitizing_alpha: AgreementResult | None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def agreement_report(
    data: AnnotationSet,
    *,
    threshold: float = 0.5,
    overlap_measure: str = "jaccard",
    with_unitizing: bool = True,
) -> AgreementReport:
    """Every figure at once; the token table is built once and shared.

    Parameters
    ----------
    threshold, overlap_measure
        The boundary-tolerant span rule (see :func:`ml.agreement.span_f1`).
    with_unitizing : bool
        Also compute alpha_u on the character continuum (pure Python; skip it for very large projects).
    """
    table = build_token_table(data)
    f1 = {
        rule.value: span_f1(data, match=rule, threshold=threshold, overlap_measure=overlap_measure)
        for rule in MatchRule
    }
    return AgreementReport(
        n_items=len(data.items),
        n_annotators=len(data.annotators),
        n_spans=len(data.spans),
        labels=list(data.labels),
        annotators=[str(a) for a in data.annotators],
        span_f1=f1,
        cohen_kappa=token_cohen_kappa(data, table=table),
        fleiss_kappa=token_fleiss_kappa(data, table=table),
        krippendorff_alpha=token_krippendorff_alpha(data, table=table),
        unitizing_alpha=unitizing_alpha(data, unit="char") if with_unitizing else None,
        notes=data.notes(),
    )
