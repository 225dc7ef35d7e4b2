"""A project's annotations as a paginated, filterable list: the annotators' spans, the gold layer, model suggestions.

    GET /api/v1/projects/<slug>/annotations/?layer=gold&label=loaded%20term&format=csv

Who may see which layer and whose spans is the visibility rule's (`annotator/projects/visibility.py`,
docs/security.md): owners and curators see every layer and annotator; in a blind project an annotator sees only
their own annotator-layer spans (the default for them), a viewer only the gold layer and suggestions, and anything
else asked for is a 403; ``layer=suggestion`` pages the active model version's suggestions article by article
(they are stored packed, one row per article: a page holds those of up to ``page_size`` articles); in an outlet-blind project annotators get a null `outlet` and masked span texts. For a
whole project at once use the streamed export (`annotations/export/`).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.annotations.exchange.export import EXPORT_LAYERS, export_scope
from annotator.annotations.models import Layer
from annotator.annotations.selectors import (
    span_list_for_viewer,
    span_page_shown,
    suggestion_page_shown,
    suggestion_rows_for_viewer,
)
from annotator.api.pagination import IdCursorPagination
from annotator.projects.roles import IsProjectViewer, project_from_request
from annotator.projects.selectors import label_get_by_name
from annotator.projects.visibility import viewer_for


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

    class SuggestionSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        article_id = serializers.IntegerField()
        outlet = serializers.CharField(allow_null=True)
        layer = serializers.CharField(default="suggestion")
        label = serializers.CharField()
        label_id = serializers.IntegerField()
        annotator = serializers.CharField(allow_null=True, default=None)
        start_char = serializers.IntegerField()
        end_char = serializers.IntegerField()
        text = serializers.CharField(trim_whitespace=False)
        note = serializers.CharField(default="")
        codebook_version = serializers.IntegerField(allow_null=True, default=None)
        model_version = serializers.IntegerField()
        score = serializers.FloatField(allow_null=True)
        created_at = serializers.DateTimeField(allow_null=True, default=None)

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
        if v["label"]:
            label_get_by_name(project=project, name=v["label"])
        viewer = viewer_for(project=project, user=request.user, role=project.user_role)
        scope = export_scope(project=project, layer=v["layer"], annotator=v["annotator"], viewer=viewer)
        paginator = self.pagination_class()
        if scope.layers == (Layer.SUGGESTION,):
            # Packed per article: a page holds the suggestions of up to page_size articles, by their row's id.
            rows = suggestion_rows_for_viewer(viewer=viewer, article_id=v["article"])
            page = suggestion_page_shown(
                viewer=viewer, rows=paginator.paginate_queryset(rows, request, view=self), label=v["label"]
            )
            return paginator.get_paginated_response(self.SuggestionSerializer(page, many=True).data)
        spans = span_list_for_viewer(
            viewer=viewer, layers=scope.layers, annotator_id=scope.annotator_id, article_id=v["article"],
            label=v["label"],
        )  # fmt: skip
        page = span_page_shown(viewer=viewer, spans=paginator.paginate_queryset(spans, request, view=self))
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)
