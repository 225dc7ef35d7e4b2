"""Code scores API: per outlet and period, the share of articles (or sentences) with each answer to a codebook
question, with bootstrap intervals and, for the model source, corrected for the classifier's errors; and outlet
comparisons with Holm and Benjamini-Hochberg adjusted p-values.

JSON by default, tidy CSV with `?format=csv` (or `Accept: text/csv`), like the framing scores; who may read which
source is the visibility rule's (scores name outlets: 403 for annotators of an outlet-blind project).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.throttling import ExpensiveThrottleMixin
from annotator.api.views.scoring import SCORE_READERS, OutletPairFilter, _source_field, finite, viewer_of
from annotator.projects.roles import project_from_request
from annotator.scoring.code_scores import CodeScoreQuery, attribute_rates, code_score_comparison, code_scores
from annotator.scoring.selectors import PERIODS

QUESTION_HELP = "The question's name (a single choice, multiple choice or scale of articles or sentences)."


class CodeScoreRowSerializer(serializers.Serializer):
    outlet = serializers.CharField(help_text="Outlet slug.")
    question = serializers.CharField()
    answer = serializers.CharField(help_text="The answer (option value); for multiple choice, one option.")
    source = serializers.CharField()
    period = serializers.CharField(help_text="The granularity asked for: all, year, month or week.")
    period_start = serializers.CharField(allow_null=True, help_text="ISO date the period starts; null for all.")
    n_articles = serializers.IntegerField()
    n_units = serializers.IntegerField(help_text="Articles (article questions) or sentences (sentence questions).")
    n_with_answer = serializers.IntegerField(help_text="Units with this answer (predicted, for the model source).")
    share = serializers.FloatField(allow_null=True, help_text="n_with_answer / n_units.")
    share_ci_low = serializers.FloatField(allow_null=True)
    share_ci_high = serializers.FloatField(allow_null=True)
    corrected_share = serializers.FloatField(
        allow_null=True, help_text="Model source only: corrected with the cross-validated misclassification matrix."
    )
    corrected_ci_low = serializers.FloatField(allow_null=True)
    corrected_ci_high = serializers.FloatField(allow_null=True)
    mean = serializers.FloatField(allow_null=True, help_text="Scales: the mean point value (null otherwise).")
    mean_ci_low = serializers.FloatField(allow_null=True)
    mean_ci_high = serializers.FloatField(allow_null=True)
    corrected_mean = serializers.FloatField(allow_null=True)
    corrected_mean_ci_low = serializers.FloatField(allow_null=True)
    corrected_mean_ci_high = serializers.FloatField(allow_null=True)
    model_version = serializers.IntegerField(allow_null=True, help_text="Version number for the model source.")
    too_small = serializers.BooleanField(
        help_text="Fewer articles than any interval method needs to keep 90 % coverage (see warning)."
    )
    warning = serializers.CharField(allow_null=True, help_text="Why the row's interval is unreliable, or null.")
    method = serializers.CharField(help_text="How the intervals and the correction were computed.")


class CodeScoreListApi(APIView):
    permission_classes = SCORE_READERS

    class FilterSerializer(serializers.Serializer):
        question = serializers.CharField(help_text=QUESTION_HELP, max_length=100)
        source = _source_field()
        period = serializers.ChoiceField(choices=PERIODS, required=False, default="all")
        outlet = serializers.CharField(required=False, help_text="Only this outlet (slug).", max_length=200)

    @extend_schema(
        parameters=[FilterSerializer],
        responses=CodeScoreRowSerializer(many=True),
        summary="Code scores: each outlet's share of units with each answer to a question, with bootstrap CIs.",
        description="One row per (outlet, answer, period). For the model source, corrected shares invert the "
        "classifier's cross-validated misclassification matrix per outlet. 403 for annotators of outlet-blind "
        "projects.",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        query = CodeScoreQuery(
            question=data["question"], source=data["source"], period=data["period"], outlet=data.get("outlet") or None
        )
        rows = code_scores(project=project, query=query, viewer=viewer_of(request, self))
        return Response(CodeScoreRowSerializer(finite(rows), many=True).data)


class CodeComparisonRowSerializer(serializers.Serializer):
    question = serializers.CharField()
    answer = serializers.CharField()
    source = serializers.CharField()
    model_version = serializers.IntegerField(allow_null=True)
    period = serializers.CharField(help_text="all, or the period kind compared within (year, month, week).")
    period_start = serializers.CharField(allow_null=True, help_text="The period's first day (null for all).")
    group_a = serializers.CharField()
    group_b = serializers.CharField(help_text="An outlet, or `(rest)` (all other outlets pooled).")
    share_a = serializers.FloatField(allow_null=True)
    share_b = serializers.FloatField(allow_null=True)
    difference = serializers.FloatField(allow_null=True, help_text="share_a - share_b.")
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(
        allow_null=True,
        help_text="Two-sided p-value of equal shares (studentized cluster bootstrap test; `test` names it).",
    )
    p_holm = serializers.FloatField(allow_null=True, help_text="Holm-adjusted over the answer's pairs.")
    p_bh = serializers.FloatField(allow_null=True, help_text="Benjamini-Hochberg-adjusted over the answer's pairs.")
    n_articles_a = serializers.IntegerField()
    n_articles_b = serializers.IntegerField()
    corrected_share_a = serializers.FloatField(allow_null=True)
    corrected_share_b = serializers.FloatField(allow_null=True)
    corrected_difference = serializers.FloatField(allow_null=True)
    corrected_ci_low = serializers.FloatField(allow_null=True)
    corrected_ci_high = serializers.FloatField(allow_null=True)
    n_resamples = serializers.IntegerField()
    n_permutations = serializers.IntegerField()
    seed = serializers.IntegerField()
    confidence = serializers.FloatField()
    method = serializers.CharField()
    test = serializers.CharField()


class CodeScoreCompareApi(ExpensiveThrottleMixin, APIView):
    permission_classes = SCORE_READERS

    class FilterSerializer(OutletPairFilter):
        question = serializers.CharField(help_text=QUESTION_HELP, max_length=100)
        source = _source_field()
        answer = serializers.CharField(required=False, help_text="Only this answer (default: every answer).")
        period = serializers.ChoiceField(
            choices=PERIODS, required=False, default="all",
            help_text="With period_start: compare within one period's articles (default: all of them).",
        )  # fmt: skip
        period_start = serializers.CharField(
            required=False, max_length=10, help_text="The period's first day, as code-scores/ gives it (2024-02-01)."
        )

    @extend_schema(
        parameters=[FilterSerializer],
        responses=CodeComparisonRowSerializer(many=True),
        summary="Compare outlets' answer shares: a vs b, a vs the rest, or every pair with Holm and BH p-values.",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        rows = code_score_comparison(
            project=project, question=data["question"], source=data["source"], answer=data.get("answer"),
            a=data.get("a"), b=data.get("b"), viewer=viewer_of(request, self), period=data["period"],
            period_start=data.get("period_start"),
        )  # fmt: skip
        return Response(CodeComparisonRowSerializer(finite(rows), many=True).data)


class AttributeRateRowSerializer(serializers.Serializer):
    outlet = serializers.CharField(help_text="Outlet slug.")
    attribute = serializers.CharField()
    label = serializers.CharField(help_text="The label whose spans the attribute describes.")
    value = serializers.CharField(help_text="The attribute's value (option), or `(no answer)`.")
    source = serializers.CharField()
    period = serializers.CharField()
    period_start = serializers.CharField(allow_null=True)
    n_articles = serializers.IntegerField()
    n_tokens = serializers.IntegerField()
    n_spans = serializers.IntegerField(help_text="Spans of the label with this value.")
    rate_per_1k = serializers.FloatField(allow_null=True, help_text="Those spans per 1,000 tokens.")
    rate_ci_low = serializers.FloatField(allow_null=True)
    rate_ci_high = serializers.FloatField(allow_null=True)
    method = serializers.CharField()


class AttributeRateListApi(APIView):
    permission_classes = SCORE_READERS

    class FilterSerializer(serializers.Serializer):
        attribute = serializers.CharField(help_text="The span attribute's name (a question of scope span).")
        source = serializers.CharField(
            required=False, default="gold", max_length=200, help_text="gold or annotator:<username>."
        )
        period = serializers.ChoiceField(choices=PERIODS, required=False, default="all")

    @extend_schema(
        parameters=[FilterSerializer],
        responses=AttributeRateRowSerializer(many=True),
        summary="Span rates by attribute value per outlet, e.g. loaded terms aimed at the armed opposition per "
        "1,000 tokens, with bootstrap CIs.",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        rows = attribute_rates(
            project=project, attribute=data["attribute"], source=data["source"], period=data["period"],
            viewer=viewer_of(request, self),
        )  # fmt: skip
        return Response(AttributeRateRowSerializer(finite(rows), many=True).data)
