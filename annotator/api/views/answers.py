"""Answers to codebook questions on the annotator page: the current user's own answers (blind, like their spans),
setting or clearing one, and the article's sentence units. The rules live in annotator.annotations.answers."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.annotations.answers import answer_set
from annotator.annotations.selectors import answer_rows_own, article_sentences
from annotator.projects.selectors import article_get_for_project, project_get_for_user
from annotator.projects.visibility import viewer_for
from annotator.scoring.selectors import predicted_answers


class AnswerOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    question_id = serializers.IntegerField()
    start_char = serializers.IntegerField(allow_null=True, help_text="Sentence scope: code-point offset, inclusive.")
    end_char = serializers.IntegerField(allow_null=True, help_text="Sentence scope: code-point offset, exclusive.")
    span_id = serializers.IntegerField(allow_null=True, help_text="Attributes: the span answered.")
    value = serializers.JSONField(help_text="Option value; list of option values (multiple choice); text.")
    updated_at = serializers.DateTimeField()


class AnswerListApi(APIView):
    @extend_schema(responses=AnswerOutputSerializer(many=True), summary="The current user's answers on an article.")
    def get(self, request: Request, slug: str, article_id: int) -> Response:
        project, role = project_get_for_user(slug=slug, user=request.user)
        article = article_get_for_project(project=project, article_id=article_id)
        rows = answer_rows_own(viewer=viewer_for(project=project, user=request.user, role=role), article=article)
        return Response(AnswerOutputSerializer(rows, many=True).data)


class PredictedAnswerListApi(APIView):
    class AnswerSerializer(serializers.Serializer):
        question_id = serializers.IntegerField()
        start_char = serializers.IntegerField(allow_null=True, help_text="Sentence questions: the sentence's start.")
        end_char = serializers.IntegerField(allow_null=True)
        value = serializers.JSONField(
            help_text="The predicted answer as an answer stores it (a list: multiple choice)."
        )
        score = serializers.FloatField(allow_null=True, help_text="The model's probability of that answer.")
        scores = serializers.JSONField(allow_null=True, help_text="Multiple choice: each option's probability.")

    class OutputSerializer(serializers.Serializer):
        model_version = serializers.IntegerField(allow_null=True, help_text="The active version (null: none).")
        answers = serializers.ListField(child=serializers.DictField())

    @extend_schema(
        responses=OutputSerializer,
        summary="The active model's predicted answers on an article, as its scoring run stored them (none until a "
        "run has covered the article), for the annotator page to pre-fill (an answer of the annotator's only when "
        "they confirm one).",
    )
    def get(self, request: Request, slug: str, article_id: int) -> Response:
        project, role = project_get_for_user(slug=slug, user=request.user)
        article = article_get_for_project(project=project, article_id=article_id)
        result = predicted_answers(viewer=viewer_for(project=project, user=request.user, role=role), article=article)
        answers = self.AnswerSerializer(result["answers"], many=True).data
        return Response({"model_version": result["model_version"], "answers": answers})


class AnswerSetApi(APIView):
    class InputSerializer(serializers.Serializer):
        question = serializers.IntegerField(help_text="Question id.")
        value = serializers.JSONField(allow_null=True, help_text="The answer; null clears it.")
        start_char = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)
        end_char = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
        span = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="Attributes: span id.")

    class OutputSerializer(serializers.Serializer):
        question_id = serializers.IntegerField()
        cleared = serializers.BooleanField()
        answer = AnswerOutputSerializer(allow_null=True)

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer, 201: OutputSerializer},
        summary="Set (201 new, 200 changed) or clear (value null) your answer to a question for the article, one "
        "of its sentences or one of your spans; sending the same change twice stores it once.",
    )
    def post(self, request: Request, slug: str, article_id: int) -> Response:
        project, _ = project_get_for_user(slug=slug, user=request.user)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        answer, created = answer_set(
            project=project, article=article_id, user=request.user, question_id=data["question"], value=data["value"],
            start_char=data["start_char"], end_char=data["end_char"], span_id=data["span"],
        )  # fmt: skip
        row = None
        if answer is not None:
            row = {f: getattr(answer, f) for f in ("id", "question_id", "start_char", "end_char", "span_id", "value")}
            row["updated_at"] = answer.updated_at
        body = {"question_id": data["question"], "cleared": answer is None, "answer": row}
        return Response(
            self.OutputSerializer(body).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class SentenceListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        start_char = serializers.IntegerField()
        end_char = serializers.IntegerField()

    @extend_schema(
        responses=OutputSerializer(many=True),
        summary="The article's sentences (code-point offsets) as the server splits them: the units of "
        "sentence-scope questions.",
    )
    def get(self, request: Request, slug: str, article_id: int) -> Response:
        project, _ = project_get_for_user(slug=slug, user=request.user)
        article = article_get_for_project(project=project, article_id=article_id)
        return Response(self.OutputSerializer(article_sentences(article=article), many=True).data)
