"""Codebook questions and span attributes: list and read (any member), add, edit, delete (owners and curators).

Every change makes a codebook version, as label changes do. The rules live in annotator.projects.questions."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.projects.codebook import codebook_question, codebook_questions
from annotator.projects.models import Project, Question
from annotator.projects.questions import question_create, question_delete, question_update, questions_reorder
from annotator.projects.selectors import (
    label_get_for_project,
    project_get_for_user,
    question_get_for_project,
)


class OptionSerializer(serializers.Serializer):
    value = serializers.CharField(allow_blank=True, help_text="Stable key, stored in answers (1 to 100 characters).")
    text = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="Shown to annotators.")
    description = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    numeric = serializers.FloatField(required=False, allow_null=True, help_text="The scale point (scales only).")
    hotkey = serializers.CharField(required=False, allow_blank=True, max_length=1)
    order = serializers.IntegerField(read_only=True)


class QuestionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prompt = serializers.CharField()
    description = serializers.CharField(trim_whitespace=False)
    positive_examples = serializers.ListField(child=serializers.CharField())
    negative_examples = serializers.ListField(child=serializers.CharField())
    scope = serializers.ChoiceField(choices=Question.Scope.choices)
    kind = serializers.ChoiceField(choices=Question.Kind.choices)
    required = serializers.BooleanField()
    hotkey = serializers.CharField()
    order = serializers.IntegerField()
    label_id = serializers.IntegerField(allow_null=True, help_text="Attributes: the label whose spans it is asked of.")
    label = serializers.CharField(allow_null=True)
    options = OptionSerializer(many=True)


class QuestionInputSerializer(serializers.Serializer):
    """A question's fields (all optional on PATCH; ``options`` is then the full new list, matched by value)."""

    name = serializers.CharField(max_length=100)
    prompt = serializers.CharField(max_length=300)
    description = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)
    positive_examples = serializers.ListField(child=serializers.CharField(), required=False, max_length=100)
    negative_examples = serializers.ListField(child=serializers.CharField(), required=False, max_length=100)
    scope = serializers.ChoiceField(choices=Question.Scope.choices, required=False)
    kind = serializers.ChoiceField(choices=Question.Kind.choices, required=False)
    required = serializers.BooleanField(required=False)
    hotkey = serializers.CharField(allow_blank=True, required=False, max_length=1)
    order = serializers.IntegerField(required=False, min_value=0)
    label = serializers.IntegerField(allow_null=True, required=False, help_text="Label id (attributes only).")
    options = OptionSerializer(many=True, required=False, max_length=200)
    changelog = serializers.CharField(allow_blank=True, required=False, default="", max_length=2000)


def _question_fields(project: Project, data: dict) -> tuple[dict, str]:
    fields = dict(data)
    changelog = fields.pop("changelog", "")
    if "label" in fields:
        fields["label"] = label_get_for_project(project=project, label_id=fields["label"], field="label")
    if "options" in fields:
        fields["options"] = [dict(o) for o in fields["options"]]
    return fields, changelog


def _url_question(project: Project, question_id: int) -> Question:
    return question_get_for_project(project=project, question_id=question_id, status_code=404)


class QuestionListApi(APIView):
    @extend_schema(responses=QuestionOutputSerializer(many=True), summary="The codebook's questions and attributes.")
    def get(self, request: Request, slug: str) -> Response:
        project, _ = project_get_for_user(slug=slug, user=request.user)
        rows = codebook_questions(project=project)
        return Response(QuestionOutputSerializer(rows, many=True).data)

    @extend_schema(
        request=QuestionInputSerializer,
        responses={201: QuestionOutputSerializer},
        summary="Add a question or a span attribute (owners and curators); makes a codebook version.",
    )
    def post(self, request: Request, slug: str) -> Response:
        project, _ = project_get_for_user(slug=slug, user=request.user)
        data = QuestionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields, changelog = _question_fields(project, data.validated_data)
        question = question_create(project=project, by=request.user, changelog=changelog, **fields)
        question = _url_question(project, question.pk)
        return Response(QuestionOutputSerializer(codebook_question(question)).data, status=status.HTTP_201_CREATED)


class QuestionDetailApi(APIView):
    class DeleteInputSerializer(serializers.Serializer):
        changelog = serializers.CharField(allow_blank=True, required=False, default="", max_length=2000)

    @extend_schema(responses=QuestionOutputSerializer, summary="A question of the codebook.")
    def get(self, request: Request, slug: str, question_id: int) -> Response:
        project, _ = project_get_for_user(slug=slug, user=request.user)
        return Response(QuestionOutputSerializer(codebook_question(_url_question(project, question_id))).data)

    @extend_schema(
        request=QuestionInputSerializer,
        responses=QuestionOutputSerializer,
        summary="Edit a question (owners and curators); scope, kind and label are fixed once it has answers.",
    )
    def patch(self, request: Request, slug: str, question_id: int) -> Response:
        project, _ = project_get_for_user(slug=slug, user=request.user)
        question = _url_question(project, question_id)
        data = QuestionInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields, changelog = _question_fields(project, data.validated_data)
        question_update(question=question, by=request.user, changelog=changelog, **fields)
        return Response(QuestionOutputSerializer(codebook_question(_url_question(project, question_id))).data)

    @extend_schema(
        parameters=[DeleteInputSerializer],
        responses={204: None},
        summary="Delete a question that has no answers (owners and curators).",
    )
    def delete(self, request: Request, slug: str, question_id: int) -> Response:
        project, _ = project_get_for_user(slug=slug, user=request.user)
        question = _url_question(project, question_id)
        params = self.DeleteInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        question_delete(question=question, by=request.user, changelog=params.validated_data["changelog"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class QuestionReorderApi(APIView):
    class InputSerializer(serializers.Serializer):
        order = serializers.ListField(
            child=serializers.IntegerField(), max_length=1000, help_text="Every question id of the codebook, once."
        )
        changelog = serializers.CharField(allow_blank=True, required=False, default="", max_length=2000)

    @extend_schema(
        request=InputSerializer,
        responses=QuestionOutputSerializer(many=True),
        summary="Put the questions and attributes in a new order (owners and curators); one codebook version.",
    )
    def post(self, request: Request, slug: str) -> Response:
        project, _ = project_get_for_user(slug=slug, user=request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        questions_reorder(project=project, by=request.user, **data.validated_data)
        return Response(QuestionOutputSerializer(codebook_questions(project=project), many=True).data)
