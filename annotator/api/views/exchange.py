"""Annotation export API: a project's spans streamed as native JSONL, doccano, Label Studio, CoNLL or CSV.

    GET /api/v1/projects/<slug>/annotations/export/?format=native&layer=all&annotator=<username>

What each member may export is the visibility rule's (``annotator/projects/visibility.py``, docs/security.md): in a
blind project an annotator gets only their own spans (their default) and a 403 for anything else; an outlet-blind
annotator's export comes masked.
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from annotator.annotations.exchange.export import EXPORT_LAYERS, export_filename, export_scope, export_text
from annotator.annotations.exchange.formats import FORMATS, select_format
from annotator.annotations.exchange.offsets import OffsetUnit
from annotator.api.throttling import ExpensiveThrottleMixin
from annotator.projects.selectors import project_get_for_user
from annotator.projects.visibility import viewer_for


class _FormatIsNotARenderer(BaseContentNegotiation):
    """`?format=` names an export format here, not a DRF renderer; errors still render as JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):  # type: ignore[no-untyped-def]
        return JSONRenderer(), JSONRenderer.media_type

    def select_parser(self, request, parsers):  # type: ignore[no-untyped-def]
        return None


class AnnotationExportApi(ExpensiveThrottleMixin, APIView):
    """Stream a project's spans (all layers, gold, or one annotator) in an exchange format; see docs/exchange.md."""

    content_negotiation_class = _FormatIsNotARenderer

    class FilterSerializer(serializers.Serializer):
        format = serializers.ChoiceField(choices=list(FORMATS), default="native")
        layer = serializers.ChoiceField(choices=list(EXPORT_LAYERS), required=False, allow_blank=True, default="")
        annotator = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)
        offset_unit = serializers.ChoiceField(
            choices=list(OffsetUnit), required=False, allow_blank=True, default="",
            help_text="doccano: utf16 (default, as doccano counts), grapheme (a doccano project in grapheme mode) or "
            "codepoint; the other formats count code points.",
        )  # fmt: skip
        question = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=100,
            help_text="doccano-classification: the question whose answers are the categories (default: the project's "
            "only article question of single or multiple choice).",
        )  # fmt: skip

    @extend_schema(
        parameters=[FilterSerializer],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        summary="Stream the project's annotations in an exchange format (code points; doccano: UTF-16 units).",
    )
    def get(self, request: Request, slug: str) -> StreamingHttpResponse:
        project, role = project_get_for_user(slug=slug, user=request.user)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        viewer = viewer_for(project=project, user=request.user, role=role)
        scope = export_scope(project=project, layer=data["layer"], annotator=data["annotator"], viewer=viewer)
        fmt, unit = data["format"], data["offset_unit"]
        pieces = export_text(project=project, fmt=fmt, scope=scope, offset_unit=unit, question=data["question"])
        response = StreamingHttpResponse(
            (piece.encode("utf-8") for piece in pieces),
            content_type=f"{select_format(fmt).content_type}; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{export_filename(project=project, fmt=fmt, scope=scope, offset_unit=unit)}"'
        )
        response["X-Accel-Buffering"] = "no"
        response["Cache-Control"] = "no-store"
        return response
