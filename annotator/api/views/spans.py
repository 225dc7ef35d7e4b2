"""Span API: list / create / update (label, note) / delete the current user's spans. Rules live in services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.annotations.selectors import (
    span_get_own,
    span_list_own,
    span_rows_for_others,
    span_state_for_viewer,
    span_text_shown,
    suggestion_list_for_article,
)
from annotator.annotations.services import span_create, span_delete, span_update
from annotator.projects.selectors import article_get_for_project, project_get_for_user
from annotator.projects.visibility import viewer_for


class SpanOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    article_id = serializers.IntegerField()
    label_id = serializers.IntegerField()
    label = serializers.CharField(source="label.name")
    start_char = serializers.IntegerField(help_text="Code-point offset (Python string index), inclusive.")
    end_char = serializers.IntegerField(help_text="Code-point offset, exclusive.")
    text = serializers.CharField(trim_whitespace=False)
    note = serializers.CharField(trim_whitespace=False)
    client_id = serializers.UUIDField(allow_null=True)
    codebook_version_id = serializers.IntegerField(allow_null=True)
    provenance = serializers.JSONField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SpanListApi(APIView):
    @extend_schema(responses=SpanOutputSerializer(many=True), summary="The current user's spans on an article.")
    def get(self, request: Request, slug: str, article_id: int) -> Response:
        project, role = project_get_for_user(slug=slug, user=request.user)
        article = article_get_for_project(project=project, article_id=article_id)
        spans = span_list_own(viewer=viewer_for(project=project, user=request.user, role=role), article=article)
        return Response(SpanOutputSerializer(spans, many=True).data)


class SpanCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        label = serializers.IntegerField(help_text="Label id.")
        start_char = serializers.IntegerField(min_value=0)
        end_char = serializers.IntegerField(min_value=1)
        text = serializers.CharField(trim_whitespace=False, max_length=5000)
        note = serializers.CharField(trim_whitespace=False, allow_blank=True, required=False, default="")
        client_id = serializers.UUIDField(required=False, allow_null=True, default=None)
        provenance = serializers.DictField(
            required=False,
            default=dict,
            help_text='Only {"accepted_suggestion": <suggestion id>} when the span accepts a model suggestion.',
        )

        def validate_provenance(self, value: dict) -> dict:
            unknown = set(value) - {"accepted_suggestion"}
            if unknown:
                raise serializers.ValidationError(f"Unknown provenance key(s): {', '.join(sorted(unknown))}.")
            suggestion = value.get("accepted_suggestion")
            if suggestion is not None and (not isinstance(suggestion, int) or isinstance(suggestion, bool)):
                raise serializers.ValidationError("accepted_suggestion is a suggestion id (an integer).")
            return value

    @extend_schema(
        request=InputSerializer,
        responses={201: SpanOutputSerializer, 200: SpanOutputSerializer},
        summary="Create a span; a retry with the same client_id returns the first one (200).",
    )
    def post(self, request: Request, slug: str, article_id: int) -> Response:
        project, role = project_get_for_user(slug=slug, user=request.user)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # span_create checks that the article is in the project (404 otherwise) in the same query that reads
        # the covered slice of its text: the hot path never loads the whole article.
        span, created = span_create(
            project=project,
            article=article_id,
            user=request.user,
            label_id=data["label"],
            start_char=data["start_char"],
            end_char=data["end_char"],
            text=data["text"],
            note=data["note"],
            client_id=data["client_id"],
            accepted_suggestion_id=data["provenance"].get("accepted_suggestion"),
        )
        span = span_text_shown(viewer=viewer_for(project=project, user=request.user, role=role), span=span)
        return Response(
            SpanOutputSerializer(span).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class SpanUpdateApi(APIView):
    class InputSerializer(serializers.Serializer):
        label = serializers.IntegerField(required=False, help_text="New label id.")
        note = serializers.CharField(trim_whitespace=False, allow_blank=True, required=False)

    @extend_schema(request=InputSerializer, responses=SpanOutputSerializer, summary="Relabel a span or edit its note.")
    def patch(self, request: Request, slug: str, span_id: int) -> Response:
        project, role = project_get_for_user(slug=slug, user=request.user)
        viewer = viewer_for(project=project, user=request.user, role=role)
        span = span_get_own(viewer=viewer, span_id=span_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        span = span_update(span=span, user=request.user, label_id=data.get("label"), note=data.get("note"))
        return Response(SpanOutputSerializer(span_text_shown(viewer=viewer, span=span)).data)


class SpanDeleteApi(APIView):
    @extend_schema(request=None, responses={204: None}, summary="Delete one of your spans.")
    def delete(self, request: Request, slug: str, span_id: int) -> Response:
        project, role = project_get_for_user(slug=slug, user=request.user)
        span = span_get_own(viewer=viewer_for(project=project, user=request.user, role=role), span_id=span_id)
        span_delete(span=span, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SpanStateApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        state = serializers.ChoiceField(choices=["present", "deleted"])
        span = serializers.DictField(allow_null=True, help_text="The span's fields when present.")
        changed_by = serializers.CharField(allow_null=True, help_text="Who created, changed or deleted it last.")
        changed_by_you = serializers.BooleanField()
        changed_at = serializers.DateTimeField()

    @extend_schema(
        responses=OutputSerializer,
        summary="A span as the server has it now (present or deleted) and who changed it last: what a page shows "
        "when its copy went stale. The spans the visibility rule lets you see (annotator and gold layers).",
    )
    def get(self, request: Request, slug: str, span_id: int) -> Response:
        project, role = project_get_for_user(slug=slug, user=request.user)
        state = span_state_for_viewer(viewer=viewer_for(project=project, user=request.user, role=role), span_id=span_id)
        return Response(self.OutputSerializer(state).data)


class SuggestionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The suggestion's id (stable while its version's results are kept).")
    label_id = serializers.IntegerField()
    label = serializers.CharField()
    start_char = serializers.IntegerField()
    end_char = serializers.IntegerField()
    text = serializers.CharField(trim_whitespace=False)
    score = serializers.FloatField(allow_null=True)
    model_version = serializers.IntegerField(help_text="The version's number.")


class SuggestionListApi(APIView):
    @extend_schema(
        responses=SuggestionOutputSerializer(many=True),
        summary="The active model version's suggestions on an article (read-only; accept one by creating a span "
        'with provenance {"accepted_suggestion": id}).',
    )
    def get(self, request: Request, slug: str, article_id: int) -> Response:
        project, role = project_get_for_user(slug=slug, user=request.user)
        article = article_get_for_project(project=project, article_id=article_id)
        viewer = viewer_for(project=project, user=request.user, role=role)
        suggestions = suggestion_list_for_article(viewer=viewer, article=article)
        return Response(SuggestionOutputSerializer(suggestions, many=True).data)


class OtherSpanOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label_id = serializers.IntegerField()
    start_char = serializers.IntegerField()
    end_char = serializers.IntegerField()
    text = serializers.CharField(trim_whitespace=False)
    annotator = serializers.CharField()


class OtherSpanListApi(APIView):
    @extend_schema(
        responses=OtherSpanOutputSerializer(many=True),
        summary="Other annotators' spans on an article, read-only; 403 for annotators and viewers of a blind project.",
    )
    def get(self, request: Request, slug: str, article_id: int) -> Response:
        project, role = project_get_for_user(slug=slug, user=request.user)
        article = article_get_for_project(project=project, article_id=article_id)
        rows = span_rows_for_others(viewer=viewer_for(project=project, user=request.user, role=role), article=article)
        return Response(OtherSpanOutputSerializer(rows, many=True).data)
