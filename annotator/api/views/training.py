"""Training API: model versions (list, detail, train, activate), their lexicon terms, and pin/ban term rules.

Reads need any role in the project; training and term rules need curator or owner; activating needs owner.
Non-members get 404 for everything (they cannot tell a private project from a missing one). An outlet-blind
annotator gets the metrics without their per-outlet parts (the visibility rule). Training starts share the
`expensive` budget.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.throttling import ExpensiveThrottleMixin
from annotator.projects.roles import IsProjectCurator, IsProjectOwner, IsProjectViewer, project_from_request
from annotator.projects.selectors import label_get_by_name, label_get_for_project
from annotator.projects.visibility import viewer_for
from annotator.training import selectors, services
from annotator.training.models import TermRule

TERM_ORDERINGS = {
    "-weight": ("-weight", "term"),
    "weight": ("weight", "term"),
    "-support": ("-support", "-weight", "term"),
    "support": ("support", "-weight", "term"),
    "-precision": ("-precision", "-weight", "term"),
    "term": ("term",),
}


class ModelVersionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField(help_text="Version number within the project (used in URLs).")
    status = serializers.CharField(help_text="queued, running, succeeded or failed.")
    progress = serializers.FloatField(help_text="0 to 1.")
    progress_message = serializers.CharField()
    training_source = serializers.CharField(help_text="gold (curated layer) or all (every annotator's spans).")
    is_active = serializers.BooleanField()
    n_articles = serializers.IntegerField()
    n_spans = serializers.IntegerField()
    data_hash = serializers.CharField()
    params = serializers.JSONField()
    metrics = serializers.JSONField(
        help_text="Cross-validated metrics: grouped_kfold and leave_one_outlet_out (or null), each "
        "{exact, partial, word: {label: {precision, recall, f1, tp_pred, n_pred, tp_gold, n_gold}}}."
    )
    error = serializers.CharField(help_text="Why the version failed (empty otherwise).")
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


def _shown(request: Request, project, versions) -> list:
    viewer = viewer_for(project=project, user=request.user, role=project.user_role)
    return selectors.model_versions_shown(viewer=viewer, versions=versions)


class ModelVersionListApi(APIView):
    permission_classes = [IsProjectViewer]

    @extend_schema(
        responses=ModelVersionOutputSerializer(many=True),
        summary="The project's model versions, newest first (status, progress, metrics, failure reason).",
        description="Poll this endpoint for live progress. A running version whose worker stopped reporting is "
        "marked failed by the periodic stale-job recovery (every STALE_JOB_RECOVERY_SECONDS), not by this read.",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        versions = selectors.model_version_list(project=project).select_related("created_by")
        return Response(ModelVersionOutputSerializer(_shown(request, project, versions), many=True).data)


class ModelVersionDetailApi(APIView):
    permission_classes = [IsProjectViewer]

    @extend_schema(responses=ModelVersionOutputSerializer, summary="One model version by its number.")
    def get(self, request: Request, slug: str, number: int) -> Response:
        project = project_from_request(request, self)
        [version] = _shown(request, project, [selectors.model_version_get(project=project, number=number)])
        return Response(ModelVersionOutputSerializer(version).data)


class ModelVersionTrainApi(ExpensiveThrottleMixin, APIView):
    permission_classes = [IsProjectCurator]

    class InputSerializer(serializers.Serializer):
        source = serializers.ChoiceField(
            choices=["gold", "all"],
            required=False,
            allow_null=True,
            default=None,
            help_text="Spans to learn from; default: the project's training source.",
        )

    @extend_schema(
        request=InputSerializer,
        responses={202: ModelVersionOutputSerializer},
        summary="Queue training of a new model version (curator or owner).",
        description="Returns the queued version at once; a Celery worker trains it. Poll the version for progress.",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = services.model_version_create(
            project=project, user=request.user, source=serializer.validated_data["source"]
        )
        return Response(ModelVersionOutputSerializer(version).data, status=status.HTTP_202_ACCEPTED)


class ModelVersionActivateApi(APIView):
    permission_classes = [IsProjectOwner]

    @extend_schema(
        request=None,
        responses=ModelVersionOutputSerializer,
        summary="Make this version the project's active model (owner only; it must have succeeded).",
    )
    def post(self, request: Request, slug: str, number: int) -> Response:
        project = project_from_request(request, self)
        version = services.model_version_activate(version=selectors.model_version_get(project=project, number=number))
        return Response(ModelVersionOutputSerializer(version).data)


class LexiconTermListApi(APIView):
    permission_classes = [IsProjectViewer]

    class FilterSerializer(serializers.Serializer):
        label = serializers.CharField(required=False, help_text="Only terms of this label (its name).")
        ordering = serializers.ChoiceField(
            choices=list(TERM_ORDERINGS), required=False, default="-weight", help_text="Sort order."
        )
        download = serializers.BooleanField(
            required=False, default=False, help_text="Send as an attachment (lexicon-v<N>.json / .csv)."
        )

    class OutputSerializer(serializers.Serializer):
        term = serializers.CharField()
        label = serializers.CharField(source="label.name")
        weight = serializers.FloatField()
        support = serializers.IntegerField(help_text="Times annotators marked it.")
        n_seen = serializers.IntegerField(help_text="Times it occurs in the training texts.")
        precision = serializers.FloatField(allow_null=True, help_text="support / n_seen.")
        is_pinned = serializers.BooleanField()

    @extend_schema(
        parameters=[FilterSerializer],
        responses=OutputSerializer(many=True),
        summary="Lexicon terms of a model version (JSON, or tidy CSV with ?format=csv).",
    )
    def get(self, request: Request, slug: str, number: int) -> Response:
        project = project_from_request(request, self)
        version = selectors.model_version_get(project=project, number=number)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        label = params.validated_data.get("label")
        if label:
            label_get_by_name(project=project, name=label)
        terms = selectors.lexicon_term_list(version=version, label=label).order_by(
            *TERM_ORDERINGS[params.validated_data["ordering"]]
        )
        response = Response(self.OutputSerializer(terms, many=True).data)
        if params.validated_data["download"]:
            fmt = "csv" if request.accepted_renderer.format == "csv" else "json"
            response["Content-Disposition"] = f'attachment; filename="{project.slug}-lexicon-v{number}.{fmt}"'
        return response


class TermRuleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    term = serializers.CharField()
    label_id = serializers.IntegerField()
    label = serializers.CharField(source="label.name")
    action = serializers.CharField(help_text="pin (always predict) or ban (never predict).")
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


class TermRuleListApi(APIView):
    permission_classes = [IsProjectViewer]

    @extend_schema(responses=TermRuleOutputSerializer(many=True), summary="Pin/ban rules the next training obeys.")
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        return Response(
            TermRuleOutputSerializer(selectors.term_rule_list(project=project).order_by("term"), many=True).data
        )


class TermRuleCreateApi(APIView):
    permission_classes = [IsProjectCurator]

    class InputSerializer(serializers.Serializer):
        term = serializers.CharField(max_length=500)
        label = serializers.IntegerField(help_text="Label id.")
        action = serializers.ChoiceField(choices=TermRule.Action.choices)

    @extend_schema(
        request=InputSerializer,
        responses={201: TermRuleOutputSerializer},
        summary="Pin or ban a term for a label (curator or owner); setting it again replaces the action.",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        label = label_get_for_project(project=project, label_id=data["label"])
        rule = services.term_rule_set(
            project=project, term=data["term"], label=label, action=data["action"], user=request.user
        )
        return Response(TermRuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)


class TermRuleDeleteApi(APIView):
    permission_classes = [IsProjectCurator]

    @extend_schema(request=None, responses={204: None}, summary="Remove a pin/ban rule (curator or owner).")
    def delete(self, request: Request, slug: str, rule_id: int) -> Response:
        project = project_from_request(request, self)
        services.term_rule_delete(project=project, rule_id=rule_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


__all__ = [
    "LexiconTermListApi",
    "ModelVersionActivateApi",
    "ModelVersionDetailApi",
    "ModelVersionListApi",
    "ModelVersionTrainApi",
    "TermRuleCreateApi",
    "TermRuleDeleteApi",
    "TermRuleListApi",
]
