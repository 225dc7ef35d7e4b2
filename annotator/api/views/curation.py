"""Curation API: generate assignments (owner), progress, the curator's article view, accept / reject / edit gold,
bulk accept, adjudication. Everything except generation needs curator or owner; annotators and viewers get 403,
non-members and objects of other projects 404. Annotators never see other annotators' spans here (blind mode).
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.annotations import curation
from annotator.annotations.answers import gold_answer_set, gold_answers_bulk_accept
from annotator.annotations.models import Adjudication, Layer, Span
from annotator.annotations.selectors import curation_answers_view
from annotator.annotations.services import NOTE_MAX_CHARS
from annotator.corpus.models import Article
from annotator.projects.assignment import assignment_preview, assignment_progress, assignments_generate
from annotator.projects.models import Project
from annotator.projects.roles import IsProjectCurator, IsProjectOwner, project_from_request
from annotator.projects.selectors import article_get_for_project
from annotator.projects.services import MAX_ANNOTATORS_PER_ARTICLE


class CurationApi(APIView):
    """A curator endpoint: curators and owners only; the URL's project, article and span, looked up once each.

    An article or span of another project, or a span of the wrong layer, is a 404.
    """

    permission_classes = [IsProjectCurator]

    def project(self) -> Project:
        return project_from_request(self.request, self)

    def article(self) -> Article:
        return article_get_for_project(project=self.project(), article_id=self.kwargs["article_id"])

    def span(self, layer: str) -> Span:
        span = (
            Span.objects.select_related("label", "article")
            .filter(pk=self.kwargs["span_id"], project=self.project(), layer=layer)
            .first()
        )
        if span is None:
            raise Http404("No such span in this project.")
        return span


class GoldSpanOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    article_id = serializers.IntegerField()
    label_id = serializers.IntegerField()
    label = serializers.CharField(source="label.name")
    start_char = serializers.IntegerField()
    end_char = serializers.IntegerField()
    text = serializers.CharField(trim_whitespace=False)
    note = serializers.CharField(trim_whitespace=False)
    provenance = serializers.JSONField()
    updated_at = serializers.DateTimeField()


SEEN_UPDATED_AT_HELP = (
    "The span's updated_at as your page shows it: if another curator changed it since, 409 instead of overwriting."
)


class AssignmentSettingsSerializer(serializers.Serializer):
    """The settings a plan uses; absent ones are the project's."""

    annotators_per_article = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ANNOTATORS_PER_ARTICLE)
    overlap_fraction = serializers.FloatField(required=False, min_value=0.0, max_value=1.0)
    calibration_size = serializers.IntegerField(required=False, min_value=0, max_value=10_000)


class AssignmentPreviewApi(CurationApi):
    class OutputSerializer(serializers.Serializer):
        class AnnotatorSerializer(serializers.Serializer):
            username = serializers.CharField()
            existing = serializers.IntegerField()
            new = serializers.IntegerField()
            new_calibration = serializers.IntegerField()
            total = serializers.IntegerField()

        class CalibrationSerializer(serializers.Serializer):
            id = serializers.IntegerField()
            title = serializers.CharField()

        settings = serializers.DictField()
        annotators = AnnotatorSerializer(many=True)
        new_assignments = serializers.IntegerField()
        eligible_articles = serializers.IntegerField()
        overlap_articles = serializers.IntegerField()
        calibration_articles = CalibrationSerializer(many=True)
        cluster_duplicates_skipped = serializers.IntegerField()
        notes = serializers.ListField(child=serializers.CharField())
        plan = serializers.CharField(help_text="Pass it to generate to insist on this plan (409 if it changed).")

    @extend_schema(
        parameters=[AssignmentSettingsSerializer],
        responses=OutputSerializer,
        summary="What a generation would add now (articles per annotator, overlap, calibration set); writes nothing.",
    )
    def get(self, request: Request, slug: str) -> Response:
        params = AssignmentSettingsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return Response(self.OutputSerializer(assignment_preview(project=self.project(), **params.validated_data)).data)


class AssignmentGenerateApi(CurationApi):
    permission_classes = [IsProjectOwner]

    class InputSerializer(AssignmentSettingsSerializer):
        seed = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)
        plan = serializers.CharField(required=False, allow_null=True, default=None, help_text="A preview's plan.")

    @extend_schema(
        request=InputSerializer,
        responses={200: dict},
        summary="Generate balanced assignments (owner); given settings are saved first; with a preview's plan, 409 "
        "when the plan changed since.",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = self.project()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        seed, plan = fields.pop("seed"), fields.pop("plan")
        summary = assignments_generate(project=project, by=request.user, seed=seed, settings=fields, expected_plan=plan)
        return Response(summary)


class AssignmentProgressApi(CurationApi):
    class OutputSerializer(serializers.Serializer):
        annotator_id = serializers.IntegerField()
        username = serializers.CharField()
        total = serializers.IntegerField()
        done = serializers.IntegerField()
        skipped = serializers.IntegerField()
        in_progress = serializers.IntegerField()
        todo = serializers.IntegerField()
        calibration_total = serializers.IntegerField()
        calibration_done = serializers.IntegerField()

    @extend_schema(responses=OutputSerializer(many=True), summary="Assignment progress per annotator.")
    def get(self, request: Request, slug: str) -> Response:
        project = self.project()
        return Response(self.OutputSerializer(assignment_progress(project=project), many=True).data)


class CurationArticleListApi(CurationApi):
    class OutputSerializer(serializers.Serializer):
        article_id = serializers.IntegerField()
        title = serializers.CharField()
        outlet = serializers.CharField()
        is_calibration = serializers.BooleanField()
        finished = serializers.IntegerField(help_text="Annotators who marked the article done.")
        gold_spans = serializers.IntegerField()
        adjudication = serializers.CharField(allow_null=True, help_text="in_progress, done, or null.")

    @extend_schema(
        operation_id="projects_curate_articles_list",
        responses={200: OutputSerializer(many=True)},
        summary="Articles with finished annotators, gold spans, adjudication.",
    )
    def get(self, request: Request, slug: str) -> Response:
        return Response(curation.curation_article_list(project=self.project()))


class CurationArticleApi(CurationApi):
    @extend_schema(responses={200: dict}, summary="All annotators' spans, gold and disagreements on one article.")
    def get(self, request: Request, slug: str, article_id: int) -> Response:
        project = self.project()
        article = self.article()
        return Response(curation.curation_article_view(project=project, article=article))


class SpanAcceptApi(CurationApi):
    class InputSerializer(serializers.Serializer):
        label = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="Other label id.")

    @extend_schema(request=InputSerializer, responses=GoldSpanOutputSerializer, summary="Accept a span into gold.")
    def post(self, request: Request, slug: str, span_id: int) -> Response:
        project = self.project()
        span = self.span(Layer.ANNOTATOR)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        gold = curation.gold_span_accept(
            project=project, span=span, by=request.user, label_id=data.validated_data["label"]
        )
        return Response(GoldSpanOutputSerializer(gold).data)


class SpanRejectApi(CurationApi):
    @extend_schema(request=None, responses={200: dict}, summary="Reject an annotator's span (recorded).")
    def post(self, request: Request, slug: str, span_id: int) -> Response:
        project = self.project()
        span = self.span(Layer.ANNOTATOR)
        span = curation.annotator_span_reject(project=project, span=span, by=request.user)
        return Response({"id": span.pk, "curation": span.provenance["curation"]["status"]})


class GoldSpanCreateApi(CurationApi):
    class InputSerializer(serializers.Serializer):
        label = serializers.IntegerField()
        start_char = serializers.IntegerField(min_value=0)
        end_char = serializers.IntegerField(min_value=1)
        text = serializers.CharField(trim_whitespace=False, max_length=5000)
        note = serializers.CharField(
            trim_whitespace=False, allow_blank=True, required=False, default="", max_length=NOTE_MAX_CHARS
        )
        from_spans = serializers.ListField(
            child=serializers.IntegerField(min_value=1), required=False, default=list, max_length=1000,
            help_text="Restore a deleted gold span: the annotator spans it came from (linked and accepted again).",
        )  # fmt: skip

    @extend_schema(responses=GoldSpanOutputSerializer(many=True), summary="The article's gold spans, as they are now.")
    def get(self, request: Request, slug: str, article_id: int) -> Response:
        return Response(curation.gold_span_rows(project=self.project(), article=self.article()))

    @extend_schema(request=InputSerializer, responses={201: GoldSpanOutputSerializer}, summary="Draw a gold span.")
    def post(self, request: Request, slug: str, article_id: int) -> Response:
        project = self.project()
        article = self.article()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        gold = curation.gold_span_create(
            project=project, article=article, by=request.user, label_id=v["label"], start_char=v["start_char"],
            end_char=v["end_char"], text=v["text"], note=v["note"], from_spans=v["from_spans"],
        )  # fmt: skip
        return Response(GoldSpanOutputSerializer(gold).data, status=status.HTTP_201_CREATED)


class GoldSpanUpdateApi(CurationApi):
    class InputSerializer(serializers.Serializer):
        label = serializers.IntegerField(required=False)
        start_char = serializers.IntegerField(required=False, min_value=0)
        end_char = serializers.IntegerField(required=False, min_value=1)
        note = serializers.CharField(trim_whitespace=False, allow_blank=True, required=False, max_length=NOTE_MAX_CHARS)
        updated_at = serializers.DateTimeField(required=False, help_text=SEEN_UPDATED_AT_HELP)

    class DeleteInputSerializer(serializers.Serializer):
        updated_at = serializers.DateTimeField(required=False, help_text=SEEN_UPDATED_AT_HELP)

    @extend_schema(request=InputSerializer, responses=GoldSpanOutputSerializer, summary="Edit a gold span.")
    def patch(self, request: Request, slug: str, span_id: int) -> Response:
        project = self.project()
        span = self.span(Layer.GOLD)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        gold = curation.gold_span_update(
            project=project, span=span, by=request.user, label_id=v.get("label"), start_char=v.get("start_char"),
            end_char=v.get("end_char"), note=v.get("note"), seen_updated_at=v.get("updated_at"),
        )  # fmt: skip
        return Response(GoldSpanOutputSerializer(gold).data)

    @extend_schema(
        parameters=[DeleteInputSerializer], request=None, responses={204: None}, summary="Delete a gold span."
    )
    def delete(self, request: Request, slug: str, span_id: int) -> Response:
        project = self.project()
        data = self.DeleteInputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        curation.gold_span_delete(
            project=project, span=self.span(Layer.GOLD), by=request.user,
            seen_updated_at=data.validated_data.get("updated_at"),
        )  # fmt: skip
        return Response(status=status.HTTP_204_NO_CONTENT)


class GoldBulkAcceptApi(CurationApi):
    class InputSerializer(serializers.Serializer):
        article_id = serializers.IntegerField(required=False, allow_null=True, default=None)
        min_annotators = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=2)

    @extend_schema(request=InputSerializer, responses={200: dict}, summary="Accept all exact agreements.")
    def post(self, request: Request, slug: str) -> Response:
        project = self.project()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        article = (
            None if v["article_id"] is None else article_get_for_project(project=project, article_id=v["article_id"])
        )
        summary = curation.gold_bulk_accept(
            project=project, by=request.user, article=article, min_annotators=v["min_annotators"]
        )
        return Response(summary)


class AdjudicationSetApi(CurationApi):
    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Adjudication.Status.choices, default=Adjudication.Status.DONE)

    @extend_schema(request=InputSerializer, responses={200: dict}, summary="Mark the article's gold layer done.")
    def post(self, request: Request, slug: str, article_id: int) -> Response:
        project = self.project()
        article = self.article()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        adj = curation.adjudication_set(
            project=project, article=article, curator=request.user, status=data.validated_data["status"]
        )
        return Response({"article_id": article.pk, "status": adj.status, "curator": request.user.username})


# --- the gold layer of answers to codebook questions -----------------------------------------------------------------


class CurationAnswersApi(CurationApi):
    @extend_schema(
        responses={200: dict},
        summary="Every annotator's answers on an article side by side with the gold answers, unit by unit.",
    )
    def get(self, request: Request, slug: str, article_id: int) -> Response:
        return Response(curation_answers_view(project=self.project(), article=self.article()))


class GoldAnswerSetApi(CurationApi):
    class InputSerializer(serializers.Serializer):
        question = serializers.IntegerField(help_text="Question id.")
        value = serializers.JSONField(
            required=False, allow_null=True, default=None, help_text="The gold answer; null with no source clears it."
        )
        from_answers = serializers.ListField(
            child=serializers.IntegerField(), required=False, default=list, max_length=100,
            help_text="Annotators' answers taken (their common value).",
        )  # fmt: skip
        start_char = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)
        end_char = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
        span = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="A gold span's id.")
        seen_updated_at = serializers.DateTimeField(
            required=False, allow_null=True, default=None,
            help_text="The gold answer's updated_at as your page shows it: 409 if another curator changed it since.",
        )  # fmt: skip

    @extend_schema(
        request=InputSerializer,
        responses={200: dict},
        summary="Set a gold answer: take annotators' answers (from_answers) or give one (value); value null clears.",
    )
    def post(self, request: Request, slug: str, article_id: int) -> Response:
        article = self.article()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        answer = gold_answer_set(
            project=self.project(), article=article.pk, by=request.user, question_id=v["question"], value=v["value"],
            start_char=v["start_char"], end_char=v["end_char"], span_id=v["span"], from_answers=v["from_answers"],
            seen_updated_at=v["seen_updated_at"],
        )  # fmt: skip
        gold = None
        if answer is not None:
            gold = {"id": answer.pk, "value": answer.value, "provenance": answer.provenance,
                    "updated_at": answer.updated_at.isoformat(), "updated_by": request.user.username}  # fmt: skip
        return Response({"question_id": v["question"], "cleared": answer is None, "gold": gold})


class GoldAnswerBulkAcceptApi(CurationApi):
    class InputSerializer(serializers.Serializer):
        article = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="One article.")

    @extend_schema(
        request=InputSerializer,
        responses={200: dict},
        summary="Take every answer on which all annotators who finished an article agree (one article, or every "
        "article not adjudicated yet) into gold, where the unit has no gold answer.",
    )
    def post(self, request: Request, slug: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        article = data.validated_data["article"]
        if article is not None:
            article = article_get_for_project(project=self.project(), article_id=article).pk
        return Response(gold_answers_bulk_accept(project=self.project(), by=request.user, article=article))
