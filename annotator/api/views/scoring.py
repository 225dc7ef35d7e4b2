"""Scoring API: start a scoring run, follow jobs, framing scores, comparisons, term choice, distinctive terms,
concepts and keyword-in-context examples.

Every read answers JSON by default and tidy CSV with `?format=csv` or `Accept: text/csv` (pandas.read_csv reads
it as is). Who may read what is the visibility rule's (annotator/projects/visibility.py, docs/security.md): any
member may read scores except annotators of an outlet-blind project (scores name outlets: 403), and each source
(gold, annotator:<name>) only by those who read that layer. Starting a run or adding a concept needs curator or
owner. The comparisons, examples, distinctive terms, term choice and scoring start share the `expensive` budget.
"""

from __future__ import annotations

import math

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.throttling import ExpensiveThrottleMixin
from annotator.projects.roles import IsProjectCurator, IsProjectViewer, project_from_request
from annotator.projects.selectors import job_get_for_viewer
from annotator.projects.visibility import SOURCE_HELP, viewer_for
from annotator.scoring import kwic
from annotator.scoring import selectors as score_selectors
from annotator.scoring.concepts import concept_create
from annotator.scoring.selectors import PERIODS, SYNDICATION_RULES, ScoreQuery
from annotator.scoring.services import scoring_run_start


def viewer_of(request: Request, view) -> object:
    """The visibility rule's viewer for the request's user in the URL's project (role read once per request)."""
    project = project_from_request(request, view)
    return viewer_for(project=project, user=request.user, role=project.user_role)


class SeesScores(IsProjectViewer):
    """Members the visibility rule lets read scores (they name outlets): 403 with its reason otherwise."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        viewer_of(request, view).require_outlets()
        return True


SCORE_READERS = [SeesScores]


def _source_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(required=False, default="model", help_text=SOURCE_HELP, max_length=200, **kwargs)


def finite(rows: list[dict]) -> list[dict]:
    """NaN/inf (e.g. a share with no mentions at all) become null: JSON has no NaN and CSV readers differ on it."""
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()} for row in rows]


def _default_syndication(request: Request, view) -> str:
    return project_from_request(request, view).syndication_rule


class ScoreRowSerializer(serializers.Serializer):
    outlet = serializers.CharField(help_text="Outlet slug.")
    label = serializers.CharField()
    source = serializers.CharField()
    period = serializers.CharField(help_text="The granularity asked for: all, year, month or week.")
    period_start = serializers.CharField(allow_null=True, help_text="ISO date the period starts; null for all.")
    n_articles = serializers.IntegerField()
    n_tokens = serializers.IntegerField()
    n_spans = serializers.IntegerField()
    rate_per_1k = serializers.FloatField(help_text="Spans per 1,000 tokens (pooled: sum spans / sum tokens).")
    rate_ci_low = serializers.FloatField()
    rate_ci_high = serializers.FloatField()
    share_articles = serializers.FloatField(help_text="Share of articles with at least one span.")
    share_ci_low = serializers.FloatField()
    share_ci_high = serializers.FloatField()
    corrected_rate_per_1k = serializers.FloatField(
        allow_null=True, help_text="Model source only: rate corrected by cross-validated precision/recall."
    )
    corrected_rate_ci_low = serializers.FloatField(allow_null=True)
    corrected_rate_ci_high = serializers.FloatField(allow_null=True)
    model_version = serializers.IntegerField(allow_null=True, help_text="Version number for the model source.")
    too_small = serializers.BooleanField(
        help_text="Fewer articles than any interval method needs to keep 90 % coverage (see warning)."
    )
    warning = serializers.CharField(
        allow_null=True,
        help_text="Why the row's interval is unreliable (too few articles), and/or why its corrected rate is not the "
        "outlet's own (no cross-validated articles: the pooled ratio, its interval widened by the between-outlet "
        "spread); null when neither.",
    )
    method = serializers.CharField(
        help_text="How the intervals were computed (resamples, seed, syndication), for periods their time zone, and, "
        "for corrected rates, what correction was applied to this outlet: its own precision/recall ratio, shrunk "
        "with weight w, or the pooled ratio."
    )


class FramingScoreListApi(APIView):
    permission_classes = SCORE_READERS

    class FilterSerializer(serializers.Serializer):
        label = serializers.CharField(help_text="Label name.")
        source = _source_field()
        period = serializers.ChoiceField(choices=PERIODS, required=False, default="all")
        outlet = serializers.CharField(required=False, help_text="Only this outlet (slug).")
        syndication = serializers.ChoiceField(
            choices=SYNDICATION_RULES,
            required=False,
            help_text="per_outlet: every outlet's copy counts; once: one article per story cluster; "
            "exclude_wire: drop wire copies. Default: the project's setting.",
        )

    @extend_schema(
        parameters=[FilterSerializer],
        responses=ScoreRowSerializer(many=True),
        summary="Framing scores per outlet (and period) for one label, with bootstrap CIs.",
        description="One row per outlet (and period start for year/month/week). Results are cached until the "
        "underlying per-article counts change. 403 for annotators of outlet-blind projects.",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        query = ScoreQuery(
            label=data["label"],
            source=data["source"],
            period=data["period"],
            outlet=data.get("outlet") or None,
            syndication=data.get("syndication") or _default_syndication(request, self),
        )
        rows = score_selectors.framing_scores(project=project, query=query, viewer=viewer_of(request, self))
        return Response(ScoreRowSerializer(finite(rows), many=True).data)


class ComparisonRowSerializer(serializers.Serializer):
    group_a = serializers.CharField()
    group_b = serializers.CharField(help_text="An outlet, or `rest` (all other outlets pooled).")
    rate_a = serializers.FloatField()
    rate_b = serializers.FloatField()
    difference = serializers.FloatField(help_text="rate_a - rate_b, per 1,000 tokens.")
    ci_low = serializers.FloatField()
    ci_high = serializers.FloatField()
    p_value = serializers.FloatField(
        help_text="Two-sided p-value of equal rates: studentized cluster bootstrap test under the null (articles "
        "resampled within each outlet; `test` and `method` name it)."
    )
    p_holm = serializers.FloatField(allow_null=True, help_text="Holm-adjusted (pairwise table only).")
    p_bh = serializers.FloatField(allow_null=True, help_text="Benjamini-Hochberg-adjusted (pairwise table only).")
    n_articles_a = serializers.IntegerField()
    n_articles_b = serializers.IntegerField()
    corrected_difference = serializers.FloatField(allow_null=True)
    corrected_ci_low = serializers.FloatField(allow_null=True)
    corrected_ci_high = serializers.FloatField(allow_null=True)
    n_resamples = serializers.IntegerField()
    n_permutations = serializers.IntegerField(help_text="Resamples of the test.")
    seed = serializers.IntegerField()
    confidence = serializers.FloatField()
    method = serializers.CharField()
    test = serializers.CharField()


class OutletPairFilter(serializers.Serializer):
    """The outlets of a comparison: a vs b, a vs the rest (no b), or every pair (neither)."""

    a = serializers.CharField(required=False, help_text="Outlet slug. Without a and b: every pair.")
    b = serializers.CharField(required=False, help_text="Outlet slug; without it, a is compared with the rest.")

    def validate(self, attrs: dict) -> dict:
        if attrs.get("b") and not attrs.get("a"):
            raise serializers.ValidationError({"a": ["give a when you give b (or neither for the full table)"]})
        if attrs.get("a") and attrs.get("a") == attrs.get("b"):
            raise serializers.ValidationError({"b": ["compare two different outlets"]})
        return attrs


class FramingScoreCompareApi(ExpensiveThrottleMixin, APIView):
    permission_classes = SCORE_READERS

    class FilterSerializer(OutletPairFilter):
        label = serializers.CharField(help_text="Label name.")
        source = _source_field()
        syndication = serializers.ChoiceField(choices=SYNDICATION_RULES, required=False)

    @extend_schema(
        parameters=[FilterSerializer],
        responses=ComparisonRowSerializer(many=True),
        summary="Compare outlets' rates: a vs b, a vs the rest, or (no a/b) every pair with Holm and BH p-values.",
        description="Always a list: one row for a/b, one row per pair for the table. Differences are per 1,000 "
        "tokens with a bootstrap CI over articles; p-values come from a studentized cluster bootstrap test, valid "
        "for outlets of different size and dispersion.",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        common = {
            "project": project,
            "label": data["label"],
            "source": data["source"],
            "syndication": data.get("syndication") or _default_syndication(request, self),
            "viewer": viewer_of(request, self),
        }
        if data.get("a"):
            rows = [score_selectors.outlet_comparison(**common, a=data["a"], b=data.get("b") or None)]
        else:
            rows = score_selectors.outlet_comparison_table(**common)
        return Response(ComparisonRowSerializer(finite(rows), many=True).data)


class TermChoiceApi(ExpensiveThrottleMixin, APIView):
    permission_classes = SCORE_READERS

    class FilterSerializer(serializers.Serializer):
        concept = serializers.SlugField(help_text="Concept slug (see concepts/).")

    class OutputSerializer(serializers.Serializer):
        concept = serializers.CharField()
        outlet = serializers.CharField()
        variant = serializers.CharField()
        count = serializers.IntegerField(help_text="Mentions of this variant in the outlet.")
        n_mentions = serializers.IntegerField(help_text="Mentions of any variant of the concept in the outlet.")
        share = serializers.FloatField(allow_null=True, help_text="count / n_mentions; null without mentions.")
        ci_low = serializers.FloatField(allow_null=True)
        ci_high = serializers.FloatField(allow_null=True)
        n_articles = serializers.IntegerField()
        n_articles_mentioning = serializers.IntegerField(help_text="The outlet's articles that mention the concept.")
        too_small = serializers.BooleanField(
            help_text="Too few mentioning articles for any interval to keep 90 % coverage (see warning)."
        )
        warning = serializers.CharField(allow_null=True)
        method = serializers.CharField(
            help_text="effective-count: Wilson interval on the design-effect-adjusted number of mentions."
        )

    @extend_schema(
        parameters=[FilterSerializer],
        responses=OutputSerializer(many=True),
        summary="Term choice: each outlet's share of each variant of a concept (e.g. rebels vs terrorists).",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = score_selectors.term_choice(
            project=project, concept_slug=params.validated_data["concept"], viewer=viewer_of(request, self)
        )
        return Response(self.OutputSerializer(finite(rows), many=True).data)


class DistinctiveTermsApi(ExpensiveThrottleMixin, APIView):
    permission_classes = SCORE_READERS

    class FilterSerializer(serializers.Serializer):
        outlet = serializers.CharField(help_text="Outlet slug.")
        limit = serializers.IntegerField(required=False, default=30, min_value=1, max_value=500)

    class OutputSerializer(serializers.Serializer):
        outlet = serializers.CharField()
        term = serializers.CharField()
        delta = serializers.FloatField(help_text="Log-odds ratio, outlet vs all others (informative Dirichlet prior).")
        z = serializers.FloatField(help_text="delta / its standard deviation; > 1.96 over-used, < -1.96 under-used.")
        count_group = serializers.IntegerField()
        count_rest = serializers.IntegerField()

    @extend_schema(
        parameters=[FilterSerializer],
        responses=OutputSerializer(many=True),
        summary="Words an outlet over- and under-uses against all other outlets (weighted log-odds, z-scores).",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = score_selectors.distinctive_terms_for_outlet(
            project=project, outlet=params.validated_data["outlet"], limit=params.validated_data["limit"],
            viewer=viewer_of(request, self),
        )  # fmt: skip
        return Response(self.OutputSerializer(finite(rows), many=True).data)


class KwicApi(ExpensiveThrottleMixin, APIView):
    permission_classes = SCORE_READERS

    class FilterSerializer(serializers.Serializer):
        term = serializers.CharField(required=False, help_text="A word or phrase (whole words, any case).")
        label = serializers.CharField(required=False, help_text="Instead of term: spans of this label.")
        source = _source_field()
        outlet = serializers.CharField(required=False, help_text="Only this outlet (slug).")
        limit = serializers.IntegerField(required=False, default=20, min_value=1, max_value=kwic.MAX_LIMIT)
        width = serializers.IntegerField(required=False, default=kwic.DEFAULT_WIDTH, min_value=0, max_value=500)

        def validate(self, attrs: dict) -> dict:
            if bool(attrs.get("term")) == bool(attrs.get("label")):
                raise serializers.ValidationError({"term": ["give either term or label (exactly one)"]})
            return attrs

    class OutputSerializer(serializers.Serializer):
        article_id = serializers.IntegerField()
        title = serializers.CharField()
        outlet = serializers.CharField(allow_null=True)
        published_at = serializers.DateTimeField(allow_null=True)
        start_char = serializers.IntegerField()
        end_char = serializers.IntegerField()
        left = serializers.CharField(trim_whitespace=False)
        match = serializers.CharField(trim_whitespace=False)
        right = serializers.CharField(trim_whitespace=False)
        url = serializers.CharField(help_text="The article on the annotator page.")

    @extend_schema(
        parameters=[FilterSerializer],
        responses=OutputSerializer(many=True),
        summary="Examples in context: occurrences of a term, or spans of a label from a source, with context.",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        common = {"project": project, "outlet": data.get("outlet"), "limit": data["limit"], "width": data["width"],
                  "viewer": viewer_of(request, self)}  # fmt: skip
        if data.get("term"):
            rows = kwic.kwic_for_term(**common, term=data["term"])
        else:
            rows = kwic.kwic_for_label(**common, label=data["label"], source=data["source"])
        return Response(self.OutputSerializer(rows, many=True).data)


class JobOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField(help_text="queued, running, succeeded or failed.")
    progress_done = serializers.IntegerField()
    progress_total = serializers.IntegerField()
    progress = serializers.FloatField(source="progress_fraction", help_text="0 to 1.")
    message = serializers.CharField()
    error = serializers.CharField()
    params = serializers.JSONField()
    result = serializers.JSONField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class ScoringRunStartApi(ExpensiveThrottleMixin, APIView):
    permission_classes = [IsProjectCurator]

    @extend_schema(
        request=None,
        responses={202: JobOutputSerializer},
        summary="Score the project's not-yet-scored articles with the active model (curator or owner).",
        description="Returns a Job at once; poll jobs/<id>/ for progress. 400 when there is no active model.",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        job = scoring_run_start(project=project, user=request.user)
        return Response(JobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class JobDetailApi(APIView):
    permission_classes = [IsProjectViewer]

    @extend_schema(responses=JobOutputSerializer, summary="A job of this project (scoring run, …) and its progress.")
    def get(self, request: Request, slug: str, job_id: int) -> Response:
        job = job_get_for_viewer(viewer=viewer_of(request, self), job_id=job_id)
        return Response(JobOutputSerializer(job).data)


class ConceptOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    variants = serializers.JSONField(help_text='[{"name": "terrorists", "terms": ["terrorist", "terrorists"]}]')


class ConceptListApi(APIView):
    permission_classes = [IsProjectViewer]

    @extend_schema(responses=ConceptOutputSerializer(many=True), summary="Concepts and their competing variants.")
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        return Response(ConceptOutputSerializer(score_selectors.concept_list(project=project), many=True).data)


class ConceptCreateApi(APIView):
    permission_classes = [IsProjectCurator]

    class InputSerializer(serializers.Serializer):
        class VariantSerializer(serializers.Serializer):
            name = serializers.CharField(max_length=200)
            terms = serializers.ListField(
                child=serializers.CharField(max_length=200), required=False, default=list, max_length=100
            )

        name = serializers.CharField(max_length=200)
        slug = serializers.SlugField(max_length=100)
        variants = VariantSerializer(many=True)

    @extend_schema(
        request=InputSerializer,
        responses={201: ConceptOutputSerializer},
        summary="Define a concept with its competing variants (curator or owner).",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        concept = concept_create(project=project, name=data["name"], slug=data["slug"], variants=data["variants"])
        return Response(ConceptOutputSerializer(concept).data, status=status.HTTP_201_CREATED)
