"""Project-facing API: the user's projects, labels, queue, an article to annotate, assignment status."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.annotations.selectors import span_list_own
from annotator.api.views.spans import SpanOutputSerializer
from annotator.projects.codebook import (
    CODEBOOK_SCHEMA,
    CODEBOOK_TEMPLATES,
    codebook_choose,
    codebook_document,
    codebook_questions,
)
from annotator.projects.models import Assignment, Label, Project
from annotator.projects.selectors import (
    article_get_for_project,
    article_shown,
    assignment_queue,
    codebook_version_latest,
    label_get_for_project,
    label_list,
    project_get_for_user,
    project_list_for_user,
    queue_for,
)
from annotator.projects.services import (
    assignment_set_status,
    label_create,
    label_delete,
    label_update,
    project_start,
    project_update,
)
from annotator.projects.visibility import viewer_for


class LabelOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    colour = serializers.CharField()
    hotkey = serializers.CharField()
    parent_id = serializers.IntegerField(allow_null=True)
    order = serializers.IntegerField()


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    skipped = serializers.IntegerField()
    total = serializers.IntegerField()


def _progress(queue) -> dict:
    return {"done": queue.n_done, "skipped": queue.n_skipped, "total": queue.total}


@extend_schema_field(CODEBOOK_SCHEMA)
class CodebookDocumentField(serializers.JSONField):
    """A codebook document (docs/codebook.md); checked by annotator/projects/codebook.py, not here."""


class ProjectListApi(APIView):
    """The projects you are a member of; staff, and accounts with the ``projects.add_project`` permission, start one
    (docs/getting-started.md)."""

    class OutputSerializer(serializers.Serializer):
        slug = serializers.SlugField()
        name = serializers.CharField()
        description = serializers.CharField()

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        slug = serializers.SlugField(max_length=100, required=False, default="", allow_blank=True)
        description = serializers.CharField(required=False, default="", allow_blank=True, trim_whitespace=False)
        guidelines = serializers.CharField(
            required=False, default="", allow_blank=True, trim_whitespace=False, help_text="Markdown."
        )
        codebook_template = serializers.ChoiceField(
            choices=sorted(CODEBOOK_TEMPLATES), required=False, help_text="Default: framing (without another source)."
        )
        codebook_from = serializers.SlugField(
            required=False, help_text="Copy the codebook of this project (one you are a member of)."
        )
        codebook = CodebookDocumentField(required=False, help_text="A codebook document (docs/codebook.md).")

    @extend_schema(responses=OutputSerializer(many=True), summary="Your projects.")
    def get(self, request: Request) -> Response:
        projects = project_list_for_user(user=request.user)
        return Response(self.OutputSerializer(projects, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer},
        summary="Start a project with a codebook from a template, another project or a document (staff and "
        "accounts with the projects.add_project permission); you become its owner.",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        codebook, origin = codebook_choose(
            by=request.user,
            template=fields.pop("codebook_template", ""),
            copy_from=fields.pop("codebook_from", ""),
            document=fields.pop("codebook", None),
        )
        project = project_start(
            owner=request.user, by=request.user, codebook=codebook, codebook_origin=origin, **fields
        )
        return Response(self.OutputSerializer(project).data, status=status.HTTP_201_CREATED)


class CodebookExportApi(APIView):
    """The project's current codebook as a shareable document (any member)."""

    @extend_schema(responses={200: CODEBOOK_SCHEMA}, summary="The codebook as a document (docs/codebook.md).")
    def get(self, request: Request, slug: str) -> Response:
        project, _ = project_get_for_user(slug=slug, user=request.user)
        response = Response(codebook_document(project=project))
        if request.query_params.get("download"):
            response["Content-Disposition"] = f'attachment; filename="{project.slug}-codebook.json"'
        return response


class ProjectDetailApi(APIView):
    class OutputSerializer(serializers.Serializer):
        slug = serializers.SlugField()
        name = serializers.CharField()
        description = serializers.CharField()
        guidelines = serializers.CharField()
        role = serializers.CharField()
        blind = serializers.BooleanField()
        outlet_blind = serializers.BooleanField()
        snap_to_words = serializers.BooleanField()
        codebook_version = serializers.IntegerField(allow_null=True)
        labels = LabelOutputSerializer(many=True)
        questions = serializers.ListField(
            child=serializers.DictField(), help_text="The codebook's questions and attributes (as questions/)."
        )
        time_zone = serializers.CharField(
            help_text="IANA time zone in which publication dates fall into periods (an outlet's own zone wins)."
        )

    class PatchSerializer(serializers.Serializer):
        time_zone = serializers.CharField(
            max_length=64, help_text="IANA time zone name for periods, e.g. UTC, America/New_York (owner only)."
        )

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, slug: str) -> Response:
        project, role = project_get_for_user(slug=slug, user=request.user)
        return Response(self._output(project, role))

    def _output(self, project: Project, role: str) -> dict:
        version = codebook_version_latest(project=project)
        data = {
            **{f: getattr(project, f) for f in ("slug", "name", "description", "guidelines", "blind")},
            "outlet_blind": project.outlet_blind,
            "snap_to_words": project.snap_to_words,
            "role": role,
            "codebook_version": version.number if version else None,
            "labels": label_list(project=project),
            "questions": codebook_questions(project=project),
            "time_zone": project.time_zone,
        }
        return self.OutputSerializer(data).data

    @extend_schema(
        request=PatchSerializer, responses=OutputSerializer,
        summary="Change the project's time zone of periods (owner); an unknown name is a 400 naming the field.",
    )  # fmt: skip
    def patch(self, request: Request, slug: str) -> Response:
        project, role = project_get_for_user(slug=slug, user=request.user)
        data = self.PatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_update(project=project, by=request.user, **data.validated_data)
        return Response(self._output(project, role))


class LabelInputSerializer(serializers.Serializer):
    """A label's fields (all optional on PATCH); ``changelog`` is the codebook version's note (default: generated)."""

    name = serializers.CharField(max_length=100)
    description = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)
    colour = serializers.CharField(required=False, help_text="#rrggbb")
    hotkey = serializers.CharField(allow_blank=True, required=False, max_length=1)
    parent = serializers.IntegerField(allow_null=True, required=False, help_text="Id of a label of this project.")
    positive_examples = serializers.ListField(child=serializers.CharField(), required=False, max_length=100)
    negative_examples = serializers.ListField(child=serializers.CharField(), required=False, max_length=100)
    order = serializers.IntegerField(required=False)
    changelog = serializers.CharField(allow_blank=True, required=False, default="", max_length=2000)


def _label_fields(project: Project, data: dict) -> tuple[dict, str]:
    """Validated input as the label services' keyword arguments (``parent`` as a Label of this project)."""
    fields = dict(data)
    changelog = fields.pop("changelog", "")
    if "parent" in fields:
        fields["parent"] = label_get_for_project(project=project, label_id=fields["parent"] or None, field="parent")
    return fields, changelog


def _url_label(project: Project, label_id: int) -> Label:
    """The label of the URL: 404 if it is not in the project's codebook."""
    return label_get_for_project(project=project, label_id=label_id, status_code=404)  # type: ignore[return-value]


class LabelListApi(APIView):
    """The codebook's labels (any member); owners and curators add one (a new codebook version, as on the settings
    page)."""

    @extend_schema(responses=LabelOutputSerializer(many=True), summary="The codebook's labels.")
    def get(self, request: Request, slug: str) -> Response:
        project, _ = project_get_for_user(slug=slug, user=request.user)
        return Response(LabelOutputSerializer(label_list(project=project), many=True).data)

    @extend_schema(
        request=LabelInputSerializer,
        responses={201: LabelOutputSerializer},
        summary="Add a label (owners and curators).",
    )
    def post(self, request: Request, slug: str) -> Response:
        project, _ = project_get_for_user(slug=slug, user=request.user)
        data = LabelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields, changelog = _label_fields(project, data.validated_data)
        label = label_create(project=project, by=request.user, changelog=changelog, **fields)
        return Response(LabelOutputSerializer(label).data, status=status.HTTP_201_CREATED)


class LabelDetailApi(APIView):
    """One label: read (any member), edit or delete (owners and curators). Each change makes a new codebook version;
    a label that spans use is deleted only with ``merge_into`` (its spans move to that label first)."""

    class DeleteInputSerializer(serializers.Serializer):
        merge_into = serializers.IntegerField(required=False, allow_null=True, default=None)
        changelog = serializers.CharField(allow_blank=True, required=False, default="", max_length=2000)

    @extend_schema(responses=LabelOutputSerializer, summary="A label of the codebook.")
    def get(self, request: Request, slug: str, label_id: int) -> Response:
        project, _ = project_get_for_user(slug=slug, user=request.user)
        return Response(LabelOutputSerializer(_url_label(project, label_id)).data)

    @extend_schema(
        request=LabelInputSerializer, responses=LabelOutputSerializer, summary="Edit a label (owners and curators)."
    )
    def patch(self, request: Request, slug: str, label_id: int) -> Response:
        project, _ = project_get_for_user(slug=slug, user=request.user)
        label = _url_label(project, label_id)
        data = LabelInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields, changelog = _label_fields(project, data.validated_data)
        label = label_update(label=label, by=request.user, changelog=changelog, **fields)
        return Response(LabelOutputSerializer(label).data)

    @extend_schema(
        parameters=[DeleteInputSerializer],
        responses={200: dict},
        summary="Delete a label (owners and curators); ?merge_into=ID moves its spans first.",
    )
    def delete(self, request: Request, slug: str, label_id: int) -> Response:
        project, _ = project_get_for_user(slug=slug, user=request.user)
        label = _url_label(project, label_id)
        params = self.DeleteInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        merge_id = params.validated_data["merge_into"]
        merge_into = label_get_for_project(project=project, label_id=merge_id or None, field="merge_into")
        moved = label_delete(
            label=label, by=request.user, merge_into=merge_into, changelog=params.validated_data["changelog"]
        )
        return Response({"deleted": label_id, "spans_moved": moved})


class QueueApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class ItemSerializer(serializers.Serializer):
            article_id = serializers.IntegerField()
            title = serializers.CharField()
            status = serializers.CharField()
            position = serializers.IntegerField()

        progress = ProgressSerializer()
        next_article_id = serializers.IntegerField(allow_null=True)
        items = ItemSerializer(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, slug: str) -> Response:
        project, role = project_get_for_user(slug=slug, user=request.user)
        queue = queue_for(viewer=viewer_for(project=project, user=request.user, role=role))
        data = {"progress": _progress(queue), "next_article_id": queue.next_open(), "items": queue.items}
        return Response(self.OutputSerializer(data).data)


class ArticleForAnnotationApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        title = serializers.CharField()
        text = serializers.CharField(trim_whitespace=False)
        outlet = serializers.CharField(allow_null=True)
        byline = serializers.CharField(allow_null=True)
        url = serializers.CharField(allow_null=True)
        published_at = serializers.DateTimeField(allow_null=True)
        status = serializers.CharField()
        position = serializers.IntegerField(allow_null=True, help_text="0-based index in the user's queue.")
        previous_article_id = serializers.IntegerField(allow_null=True)
        next_article_id = serializers.IntegerField(allow_null=True)
        progress = ProgressSerializer()
        spans = SpanOutputSerializer(many=True)

    @extend_schema(
        responses=OutputSerializer,
        summary="An article with the current user's own spans (blind). In an outlet-blind project an annotator "
        "gets no outlet, byline or URL, '[outlet]' in the title and the outlet masked in the text (same offsets).",
    )
    def get(self, request: Request, slug: str, article_id: int) -> Response:
        project, role = project_get_for_user(slug=slug, user=request.user)
        article = article_get_for_project(project=project, article_id=article_id)
        return Response(self.OutputSerializer(article_for_annotation(project, article, request.user, role)).data)


def article_for_annotation(project, article, user, role: str | None = None) -> dict:
    """The data the annotator page needs for one article, as the user may see it."""
    viewer = viewer_for(project=project, user=user, role=role)
    queue = assignment_queue(project=project, user=user)
    index = queue.index_of(article.pk)
    previous_id, next_id = queue.neighbours(article.pk)
    return {
        **article_shown(viewer=viewer, article=article),
        "status": queue.items[index].status if index is not None else Assignment.Status.TODO,
        "position": index,
        "previous_article_id": previous_id,
        "next_article_id": next_id,
        "progress": _progress(queue),
        "spans": span_list_own(viewer=viewer, article=article),
    }


class AssignmentStatusUpdateApi(APIView):
    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Assignment.Status.choices)

    class OutputSerializer(serializers.Serializer):
        article_id = serializers.IntegerField()
        status = serializers.CharField()
        next_article_id = serializers.IntegerField(allow_null=True)
        progress = ProgressSerializer()

    @extend_schema(request=InputSerializer, responses=OutputSerializer, summary="Mark the article done / skipped.")
    def post(self, request: Request, slug: str, article_id: int) -> Response:
        project, _ = project_get_for_user(slug=slug, user=request.user)
        article = article_get_for_project(project=project, article_id=article_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = assignment_set_status(
            project=project, annotator=request.user, article_id=article.pk, status=serializer.validated_data["status"]
        )
        queue = assignment_queue(project=project, user=request.user)
        data = {
            "article_id": article.pk,
            "status": assignment.status,
            "next_article_id": queue.next_open(after_article_id=article.pk),
            "progress": _progress(queue),
        }
        return Response(self.OutputSerializer(data).data, status=status.HTTP_200_OK)
