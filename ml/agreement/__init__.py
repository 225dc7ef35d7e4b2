"""Inter-annotator agreement for span annotation (span F1, token kappa/alpha, unitizing alpha, gamma) and for the
answers to codebook questions (ml.agreement.questions).

Pure Python + numpy/scipy (no Django). Build an :class:`AnnotationSet` from rows, then call the measures or
:func:`agreement_report` for all of them. Every result is a dataclass that ``dataclasses.asdict`` turns into
JSON-ready dicts (string keys, ``None`` instead of NaN). See docs/agreement.md.
"""

from ml.agreement.coefficients import (
    Coefficient,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha_nominal,
    krippendorff_alpha_ordinal,
)
from ml.agreement.data import AgreementInputError, AnnotatedSpan, AnnotationSet, pair_key
from ml.agreement.drilldown import Disagreements, SpanPair, SpanView, compare_spans, item_disagreements
from ml.agreement.gamma import GammaResult, GammaUnavailableError, gamma_agreement, gamma_available
from ml.agreement.questions import CategoricalAgreement, QuestionAgreement, question_agreement
from ml.agreement.report import AgreementReport, agreement_report
from ml.agreement.results import AgreementResult, AveragedF1, F1Score, PairSpanF1, SpanF1Result
from ml.agreement.span_match import MatchRule, match_spans, overlap_ratios, span_f1
from ml.agreement.tokens import (
    TokenTable,
    build_token_table,
    token_cohen_kappa,
    token_fleiss_kappa,
    token_krippendorff_alpha,
)
from ml.agreement.unitizing import unitizing_alpha, unitizing_alpha_category

__all__ = [
    "AgreementInputError",
    "AgreementReport",
    "AgreementResult",
    "AnnotatedSpan",
    "AnnotationSet",
    "AveragedF1",
    "CategoricalAgreement",
    "Coefficient",
    "Disagreements",
    "F1Score",
    "GammaResult",
    "GammaUnavailableError",
    "MatchRule",
    "PairSpanF1",
    "QuestionAgreement",
    "SpanF1Result",
    "SpanPair",
    "SpanView",
    "TokenTable",
    "agreement_report",
    "build_token_table",
    "cohen_kappa",
    "compare_spans",
    "fleiss_kappa",
    "gamma_agreement",
    "gamma_available",
    "item_disagreements",
    "krippendorff_alpha_nominal",
    "krippendorff_alpha_ordinal",
    "match_spans",
    "overlap_ratios",
    "pair_key",
    "question_agreement",
    "span_f1",
    "token_cohen_kappa",
    "token_fleiss_kappa",
    "token_krippendorff_alpha",
    "unitizing_alpha",
    "unitizing_alpha_category",
]
