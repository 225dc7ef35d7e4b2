"""A project's annotations as a paginated, filterable list: the annotators' spans, the gold layer, model suggestions.

    GET /api/v1/projects/<slug>/annotations/?layer=gold&label=loaded%20term&format=csv

Who may see which layer is decided by the export rules (`annotations.exchange.export.export_scope`, one home for
the rule): owners, curators and viewers see every layer and annotator; in a blind project an annotator sees only
their own annotator-layer spans (the default for them) and gets a 403 for anything else; in an outlet-blind project
the `outlet` column is null for annotators. For a whole project at once use the streamed export
(`annotations/export/`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.annotations.exchange.export import EXPORT_LAYERS, ExportScope, export_scope
from annotator.annotations.models import Span
from annotator.api.pagination import IdCursorPagination
from annotator.common.permissions import IsProjectViewer, project_from_request
from annotator.projects.models import Label, Project


def _spans_in_scope(*, project: Project, scope: ExportScope, article_id: int | None, label: str) -> QuerySet[Span]:
    spans = Span.objects.filter(project=project, layer__in=scope.layers).select_related(
        "label", "annotator", "codebook_version", "model_version", "article__outlet"
    )
    if scope.annotator_id is not None:
        spans = spans.filter(annotator_id=scope.annotator_id)
    if article_id is not None:
        spans = spans.filter(article_id=article_id)
    if label:
        spans = spans.filter(label__name=label)
    return spans


class AnnotationListApi(APIView):
    permission_classes = [IsProjectViewer]
    pagination_class = IdCursorPagination
    cursor_ordering = "id"

    class FilterSerializer(serializers.Serializer):
        layer = serializers.ChoiceField(
            choices=list(EXPORT_LAYERS),
            required=False,
            allow_blank=True,
            default="",
            help_text="all (annotators' and gold, the default), annotator, gold or suggestion.",
        )
        annotator = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=150, help_text="Only this member's spans."
        )
        article = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
        label = serializers.CharField(required=False, allow_blank=True, default="", help_text="Label name.")

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        article_id = serializers.IntegerField()
        outlet = serializers.CharField(allow_null=True, help_text="Outlet slug; null for outlet-blind annotators.")
        layer = serializers.CharField()
        label = serializers.CharField(source="label.name")
        label_id = serializers.IntegerField()
        annotator = serializers.CharField(source="annotator.username", allow_null=True, default=None)
        start_char = serializers.IntegerField(help_text="Code-point offset into the article text, inclusive.")
        end_char = serializers.IntegerField(help_text="Code-point offset, exclusive.")
        text = serializers.CharField(trim_whitespace=False)
        note = serializers.CharField(trim_whitespace=False)
        codebook_version = serializers.IntegerField(source="codebook_version.number", allow_null=True, default=None)
        model_version = serializers.IntegerField(source="model_version.number", allow_null=True, default=None)
        score = serializers.FloatField(allow_null=True, help_text="Model confidence (suggestions).")
        created_at = serializers.DateTimeField()

        def to_representation(self, instance: Span) -> dict[str, Any]:
            hide = self.context.get("hide_outlet", False)
            instance.outlet = None if hide else instance.article.outlet.slug
            return super().to_representation(instance)

    @extend_schema(
        parameters=[FilterSerializer],
        responses=OutputSerializer(many=True),
        summary="The project's spans by layer (annotator, gold, suggestion), respecting blind mode.",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        v = params.validated_data
        if v["label"] and not Label.objects.filter(project=project, name=v["label"]).exists():
            raise serializers.ValidationError({"label": [f"no label {v['label']!r} in this project"]})
        scope = export_scope(
            project=project, layer=v["layer"], annotator=v["annotator"], user=request.user, role=project.user_role
        )
        spans = _spans_in_scope(project=project, scope=scope, article_id=v["article"], label=v["label"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(spans, request, view=self)
        data = self.OutputSerializer(page, many=True, context={"hide_outlet": scope.hide_outlet}).data
        return paginator.get_paginated_response(data)
