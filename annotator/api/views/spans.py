"""Span API: list / create / update (label, note) / delete the current user's spans. Rules live in services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.annotations.selectors import (
    span_get_for_user,
    span_list_for_annotator,
    span_rows_for_others,
    span_state_for_user,
    suggestion_list_for_article,
)
from annotator.annotations.services import span_create, span_delete, span_update
from annotator.common.errors import ApplicationError
from annotator.projects.blinding import MASK, OutletBlinder, matches_with_mask, outlet_blind_applies
from annotator.projects.selectors import article_get_for_project, project_get_for_user


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
        spans = list(span_list_for_annotator(project=project, article=article, user=request.user))
        if outlet_blind_applies(project=project, role=role):
            blinder = OutletBlinder(article)
            for span in spans:
                span.text = blinder.span_text(span.start_char, span.end_char)
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
            help_text='Only {"accepted_suggestion": <suggestion span id>} when the span accepts a model suggestion.',
        )

        def validate_provenance(self, value: dict) -> dict:
            unknown = set(value) - {"accepted_suggestion"}
            if unknown:
                raise serializers.ValidationError(f"Unknown provenance key(s): {', '.join(sorted(unknown))}.")
            suggestion = value.get("accepted_suggestion")
            if suggestion is not None and (not isinstance(suggestion, int) or isinstance(suggestion, bool)):
                raise serializers.ValidationError("accepted_suggestion is a suggestion span id (an integer).")
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
        if outlet_blind_applies(project=project, role=role):
            # Echo what the blinded annotator was shown (never the real text, which may name the outlet).
            shown = data["text"]
            span.text = shown if matches_with_mask(shown=shown, actual=span.text) else MASK * len(span.text)
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
        span = span_get_for_user(project=project, span_id=span_id, user=request.user)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        span = span_update(span=span, user=request.user, label_id=data.get("label"), note=data.get("note"))
        if outlet_blind_applies(project=project, role=role):
            article = article_get_for_project(project=project, article_id=span.article_id)
            span.text = OutletBlinder(article).span_text(span.start_char, span.end_char)
        return Response(SpanOutputSerializer(span).data)


class SpanDeleteApi(APIView):
    @extend_schema(request=None, responses={204: None}, summary="Delete one of your spans.")
    def delete(self, request: Request, slug: str, span_id: int) -> Response:
        project, _ = project_get_for_user(slug=slug, user=request.user)
        span = span_get_for_user(project=project, span_id=span_id, user=request.user)
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
        "when its copy went stale. Your own spans; curators and owners also any annotator's and gold spans.",
    )
    def get(self, request: Request, slug: str, span_id: int) -> Response:
        project, role = project_get_for_user(slug=slug, user=request.user)
        state = span_state_for_user(project=project, span_id=span_id, user=request.user, role=role)
        if state["span"] is not None and outlet_blind_applies(project=project, role=role):
            article = article_get_for_project(project=project, article_id=state["span"]["article_id"])
            span = state["span"]
            span["text"] = OutletBlinder(article).span_text(span["start_char"], span["end_char"])
        return Response(self.OutputSerializer(state).data)


class SuggestionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label_id = serializers.IntegerField()
    label = serializers.CharField(source="label.name")
    start_char = serializers.IntegerField()
    end_char = serializers.IntegerField()
    text = serializers.CharField(trim_whitespace=False)
    score = serializers.FloatField(allow_null=True)
    model_version = serializers.IntegerField(source="model_version.number")


class SuggestionListApi(APIView):
    @extend_schema(
        responses=SuggestionOutputSerializer(many=True),
        summary="The active model version's suggestions on an article (read-only; accept one by creating a span "
        'with provenance {"accepted_suggestion": id}).',
    )
    def get(self, request: Request, slug: str, article_id: int) -> Response:
        project, role = project_get_for_user(slug=slug, user=request.user)
        article = article_get_for_project(project=project, article_id=article_id)
        suggestions = list(suggestion_list_for_article(project=project, article=article))
        if outlet_blind_applies(project=project, role=role):
            blinder = OutletBlinder(article)
            for s in suggestions:
                s.text = blinder.span_text(s.start_char, s.end_char)
        return Response(SuggestionOutputSerializer(suggestions, many=True).data)


class OtherSpanOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label_id = serializers.IntegerField()
    start_char = serializers.IntegerField()
    end_char = serializers.IntegerField()
    text = serializers.CharField(trim_whitespace=False)
    annotator = serializers.CharField()


BLIND_REFUSAL = "This project is blind: annotators do not see each other's spans."


class OtherSpanListApi(APIView):
    @extend_schema(
        responses=OtherSpanOutputSerializer(many=True),
        summary="Other annotators' spans on an article, read-only; only in projects that are not blind (403).",
    )
    def get(self, request: Request, slug: str, article_id: int) -> Response:
        project, role = project_get_for_user(slug=slug, user=request.user)
        if project.blind:
            raise ApplicationError(BLIND_REFUSAL, {"project": [BLIND_REFUSAL]}, status_code=403)
        article = article_get_for_project(project=project, article_id=article_id)
        rows = span_rows_for_others(project=project, article=article, user=request.user)
        if outlet_blind_applies(project=project, role=role):
            blinder = OutletBlinder(article)
            for row in rows:
                row["text"] = blinder.span_text(row["start_char"], row["end_char"])
        return Response(OtherSpanOutputSerializer(rows, many=True).data)
