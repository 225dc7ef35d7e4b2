"""Corpus API: outlets, articles (filters, full-text search, sparse fields) and import batches with their errors.

Who sees what (the visibility rule, `annotator/projects/visibility.py`, docs/security.md):

- staff see every outlet, article and import batch, and may upload a corpus (`import-batches/create/`, after
  a look at its first rows: `import-batches/preview/`);
- other users see the articles of the projects they are members of, and the import batches they started;
- in an outlet-blind project an annotator does not learn outlets: an article seen only through such projects comes
  with its outlet fields set to null (`outlet`, `outlet_name`, `url`, `byline`, `external_id`, `metadata`,
  `cluster_id`) and its title and text masked as on the annotator page, the outlet and cluster filters skip it,
  and its outlet is not in the outlet list.

Lists use cursor pagination and answer JSON, CSV (`?format=csv`) and JSON Lines (`?format=jsonl`). Article lists
leave out the full text unless asked for: `?fields=id,title,text`.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import transaction
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.common.errors import ApplicationError
from annotator.common.queueing import enqueue_on_commit
from annotator.corpus.forms import UPLOAD_DELIMITERS, UPLOAD_FORMATS, CorpusPreviewForm, CorpusUploadForm
from annotator.corpus.importing.errors import ImportFileError
from annotator.corpus.importing.preview import PREVIEW_HEAD_BYTES, import_preview
from annotator.corpus.models import Article, ImportBatch, Outlet
from annotator.corpus.selectors import (
    article_search,
    import_batch_get_for_user,
    import_batch_list_for_user,
    import_batch_progress,
)
from annotator.corpus.services import import_batch_create
from annotator.corpus.tasks import import_batch_task
from annotator.projects.models import Project
from annotator.projects.selectors import project_list_for_user
from annotator.projects.visibility import (
    corpus_article_get_for,
    corpus_article_shown,
    corpus_articles_for,
    corpus_outlet_get_for,
    corpus_outlets_for,
)

IMPORT_NEEDS_STAFF = "Uploading a corpus needs a staff account with the 'add import batch' permission."


# --- sparse fields ----------------------------------------------------------------------------------------------


def requested_fields(request: Request, *, allowed: list[str], default: list[str]) -> list[str]:
    """The `?fields=a,b` asked for (in the serializer's order), or `default`; unknown names are a 400."""
    raw = request.query_params.get("fields")
    if raw is None or not raw.strip():
        return default
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown:
        message = f"Unknown field(s) {', '.join(map(repr, unknown))}; choose from: {', '.join(allowed)}."
        raise ValidationError({"fields": [message]})
    return [name for name in allowed if name in names]


class SparseSerializer(serializers.Serializer):
    """Keeps only the fields named in `context["fields"]` (all of them when it is absent)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        keep = self.context.get("fields")
        if keep is not None:
            for name in set(self.fields) - set(keep):
                self.fields.pop(name)


class StrictOrderingFilter(OrderingFilter):
    """`?ordering=` with a clear 400 for unknown fields, and `id` as a tie-breaker so pages are stable."""

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        raw = request.query_params.get(self.ordering_param)
        allowed = [field for field in view.ordering_fields]
        if raw:
            fields = [part.strip() for part in raw.split(",") if part.strip()]
            bad = [field for field in fields if field.lstrip("-") not in allowed]
            if bad or len(fields) != 1:
                choices = ", ".join(f"{name}, -{name}" for name in allowed)
                message = f"ordering must be one field of: {choices} (got {raw!r})."
                raise ValidationError({self.ordering_param: [message]})
        else:
            fields = list(view.ordering)
        primary = fields[0]
        if primary.lstrip("-") == "id":
            return (primary,)
        return (primary, "-id" if primary.startswith("-") else "id")

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        names = [name for field in view.ordering_fields for name in (field, f"-{field}")]
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": f"Sort order (default {view.ordering[0]}); '-' for descending.",
                "schema": {"type": "string", "enum": names},
            }
        ]


# --- outlets ----------------------------------------------------------------------------------------------------


class OutletFilter(django_filters.FilterSet):
    country = django_filters.CharFilter(lookup_expr="iexact", help_text="Country (case-insensitive).")
    language = django_filters.CharFilter(lookup_expr="iexact", help_text="Language code, e.g. en.")
    leaning = django_filters.CharFilter(lookup_expr="iexact", help_text="Political leaning, as stored.")
    is_wire_agency = django_filters.BooleanFilter()

    class Meta:
        model = Outlet
        fields = ["country", "language", "leaning", "is_wire_agency"]


class OutletOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()
    country = serializers.CharField()
    language = serializers.CharField()
    leaning = serializers.CharField()
    homepage = serializers.CharField(help_text="The outlet's web address; empty when unknown.")
    is_wire_agency = serializers.BooleanField(help_text="A news agency whose copy other outlets syndicate.")
    time_zone = serializers.CharField(
        help_text="IANA time zone of the outlet's publication dates for periods; empty: each project's own."
    )


class OutletListApi(generics.ListAPIView):
    """Outlets you may see: all for staff; otherwise those of your projects' articles (outlet-blind rules apply)."""

    serializer_class = OutletOutputSerializer
    filterset_class = OutletFilter
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    ordering_fields = ["name", "slug", "country", "language", "leaning", "id"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet[Outlet]:
        if getattr(self, "swagger_fake_view", False):
            return Outlet.objects.none()
        return corpus_outlets_for(user=self.request.user)

    @extend_schema(summary="Outlets, filtered by country, language, leaning; ordered by name by default.")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class OutletDetailApi(APIView):
    @extend_schema(responses=OutletOutputSerializer, summary="One outlet by its slug.")
    def get(self, request: Request, slug: str) -> Response:
        return Response(OutletOutputSerializer(corpus_outlet_get_for(user=request.user, slug=slug)).data)


# --- articles ---------------------------------------------------------------------------------------------------


def _visible_outlets(request: Any) -> QuerySet[Outlet]:
    return corpus_outlets_for(user=request.user) if request is not None else Outlet.objects.none()


def _filterable_projects(request: Any) -> QuerySet[Project]:
    """Staff may filter by any project (they see every article anyway); others by projects they are in."""
    if request is None or not request.user.is_authenticated:
        return Project.objects.none()
    if request.user.is_staff:
        return Project.objects.all()
    return project_list_for_user(user=request.user)


class ArticleFilter(django_filters.FilterSet):
    outlet = django_filters.ModelMultipleChoiceFilter(
        queryset=_visible_outlets,
        to_field_name="slug",
        method="filter_outlet",
        help_text="Outlet slug; repeat for several (?outlet=a&outlet=b).",
    )
    project = django_filters.ModelChoiceFilter(
        queryset=_filterable_projects,
        to_field_name="slug",
        method="filter_project",
        help_text="Project slug: only articles of that project (one you are a member of).",
    )
    published_after = django_filters.DateTimeFilter(
        field_name="published_at", lookup_expr="gte", help_text="Published at or after (ISO 8601 date or datetime)."
    )
    published_before = django_filters.DateTimeFilter(
        field_name="published_at", lookup_expr="lt", help_text="Published strictly before (ISO 8601)."
    )
    q = django_filters.CharFilter(
        method="filter_q",
        max_length=500,
        help_text="Full-text search in title and text (PostgreSQL: web-search syntax; SQLite: every word).",
    )
    cluster = django_filters.NumberFilter(method="filter_cluster", help_text="Story cluster id (near-duplicates).")
    is_wire_copy = django_filters.BooleanFilter(help_text="Only syndicated copies (true) or only originals (false).")

    class Meta:
        model = Article
        fields = ["outlet", "project", "published_after", "published_before", "q", "cluster", "is_wire_copy"]

    def filter_outlet(self, queryset: QuerySet[Article], name: str, value: list[Outlet]) -> QuerySet[Article]:
        if not value:
            return queryset
        return queryset.filter(outlet__in=value, outlet_visible=True)

    def filter_project(self, queryset: QuerySet[Article], name: str, value: Project | None) -> QuerySet[Article]:
        return queryset if value is None else queryset.filter(project_links__project=value)

    def filter_q(self, queryset: QuerySet[Article], name: str, value: str) -> QuerySet[Article]:
        return article_search(articles=queryset, query=value)

    def filter_cluster(self, queryset: QuerySet[Article], name: str, value: int) -> QuerySet[Article]:
        return queryset if value is None else queryset.filter(cluster_id=int(value), outlet_visible=True)


class ArticleOutputSerializer(SparseSerializer):
    id = serializers.IntegerField(required=False)
    title = serializers.CharField(required=False)
    outlet = serializers.CharField(source="outlet.slug", required=False, allow_null=True, help_text="Outlet slug.")
    outlet_name = serializers.CharField(source="outlet.name", required=False, allow_null=True)
    published_at = serializers.DateTimeField(required=False, allow_null=True)
    language = serializers.CharField(required=False)
    byline = serializers.CharField(required=False, allow_null=True)
    url = serializers.CharField(required=False, allow_null=True)
    external_id = serializers.CharField(required=False, allow_null=True)
    n_tokens = serializers.IntegerField(required=False)
    is_wire_copy = serializers.BooleanField(required=False)
    cluster_id = serializers.IntegerField(required=False, allow_null=True)
    metadata = serializers.JSONField(required=False, allow_null=True)
    text = serializers.CharField(required=False, trim_whitespace=False, help_text="The exact text (span offsets).")

    def to_representation(self, instance: Article) -> dict[str, Any]:
        return corpus_article_shown(instance, super().to_representation(instance))


ARTICLE_FIELDS = list(ArticleOutputSerializer().fields)
ARTICLE_LIST_DEFAULT = [name for name in ARTICLE_FIELDS if name != "text"]
FIELDS_PARAMETER_HELP = (
    "Comma-separated fields to return, e.g. id,title,outlet. Lists leave out `text` unless it is named; "
    f"fields: {', '.join(ARTICLE_FIELDS)}."
)
FIELDS_PARAMETER = OpenApiParameter("fields", OpenApiTypes.STR, description=FIELDS_PARAMETER_HELP)


class ArticleListApi(generics.ListAPIView):
    """Articles you may see (staff: all; others: their projects' articles), newest id first by default."""

    serializer_class = ArticleOutputSerializer
    filterset_class = ArticleFilter
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self) -> QuerySet[Article]:
        if getattr(self, "swagger_fake_view", False):
            return Article.objects.none()
        return corpus_articles_for(user=self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        fields = requested_fields(self.request, allowed=ARTICLE_FIELDS, default=ARTICLE_LIST_DEFAULT)
        return {**super().get_serializer_context(), "fields": fields}

    @extend_schema(
        parameters=[FIELDS_PARAMETER],
        summary="Articles: filter by outlet, project, dates, cluster, wire copy; full-text search with q.",
        description="The full text is left out of lists unless `fields` names `text`. Outlet fields are null for "
        "articles you see only as an annotator of outlet-blind projects.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class ArticleDetailApi(APIView):
    @extend_schema(parameters=[FIELDS_PARAMETER], responses=ArticleOutputSerializer, summary="One article, with text.")
    def get(self, request: Request, article_id: int) -> Response:
        fields = requested_fields(request, allowed=ARTICLE_FIELDS, default=ARTICLE_FIELDS)
        article = corpus_article_get_for(user=request.user, article_id=article_id)
        return Response(ArticleOutputSerializer(article, context={"fields": fields}).data)


# --- import batches ---------------------------------------------------------------------------------------------


class CanImportCorpus(BasePermission):
    message = IMPORT_NEEDS_STAFF

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm("corpus.add_importbatch"))


class ImportErrorSerializer(serializers.Serializer):
    source = serializers.CharField(help_text="File (or member) the row came from.")
    line = serializers.IntegerField(help_text="1-based line (CSV: record) number.")
    message = serializers.CharField()


class ImportBatchOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source_name = serializers.CharField()
    format = serializers.CharField()
    outlet_slug = serializers.CharField(help_text="Default outlet for rows without one.")
    strict = serializers.BooleanField()
    dry_run = serializers.BooleanField()
    status = serializers.CharField()
    user = serializers.CharField(source="user.username", allow_null=True, default=None)
    rows_read = serializers.IntegerField()
    bytes_read = serializers.IntegerField()
    bytes_total = serializers.IntegerField(allow_null=True)
    fraction = serializers.FloatField(allow_null=True, help_text="Share of the file read (0-1).")
    created = serializers.IntegerField(source="created_count")
    duplicates = serializers.IntegerField(source="duplicate_count")
    rejected = serializers.IntegerField(source="rejected_count")
    outlets_created = serializers.IntegerField()
    n_errors = serializers.IntegerField(help_text="Row errors stored (the first 1,000 are kept).")
    error_message = serializers.CharField(help_text="Why the whole import failed, if it did.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance: ImportBatch) -> dict[str, Any]:
        instance.fraction = import_batch_progress(batch=instance)["fraction"]
        instance.n_errors = len(instance.errors or [])
        return super().to_representation(instance)


class ImportBatchDetailSerializer(ImportBatchOutputSerializer):
    errors = ImportErrorSerializer(many=True, help_text="Rejected rows: {source, line, message}.")


class ImportBatchListApi(generics.ListAPIView):
    """Import batches: every batch for staff, otherwise the ones you started. Newest first."""

    serializer_class = ImportBatchOutputSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[ImportBatch]:
        if getattr(self, "swagger_fake_view", False):
            return ImportBatch.objects.none()
        return import_batch_list_for_user(user=self.request.user)

    @extend_schema(summary="Import batches with their counts (staff: all; others: the ones they started).")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class ImportBatchDetailApi(APIView):
    @extend_schema(responses=ImportBatchDetailSerializer, summary="One import batch with its row errors.")
    def get(self, request: Request, batch_id: int) -> Response:
        batch = import_batch_get_for_user(user=request.user, batch_id=batch_id)
        return Response(ImportBatchDetailSerializer(batch).data)


class ImportBatchErrorListApi(APIView):
    @extend_schema(
        responses=ImportErrorSerializer(many=True),
        summary="The error report of an import batch: one row per rejected line (?format=csv for a spreadsheet).",
    )
    def get(self, request: Request, batch_id: int) -> Response:
        batch = import_batch_get_for_user(user=request.user, batch_id=batch_id)
        return Response(ImportErrorSerializer(batch.errors or [], many=True).data)


class ImportBatchCreateApi(APIView):
    """Upload a corpus file or a .zip of .txt files (staff): the same validation and service as the admin's upload
    page, then queued."""

    permission_classes = [IsAuthenticated, CanImportCorpus]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(
            help_text="A .jsonl or .csv file, optionally gzipped (.jsonl.gz, .csv.gz), or a .zip of a folder of .txt "
            "files (one article each, title on the first line; one sub-folder per outlet, or all for `outlet`)."
        )
        format = serializers.ChoiceField(
            choices=[value for value, _ in UPLOAD_FORMATS], required=False, help_text="Default: from the file name."
        )
        outlet = serializers.SlugField(
            required=False,
            help_text="Outlet slug for rows without an 'outlet' field (required for a .zip of .txt files).",
        )
        delimiter = serializers.ChoiceField(
            choices=[value for value, _ in UPLOAD_DELIMITERS], required=False,
            help_text="CSV: the delimiter (default: detected on the file's head).",
        )  # fmt: skip
        column_map = serializers.CharField(
            required=False, help_text="CSV: FIELD=COLUMN pairs, e.g. text=body,outlet=source (default: common names)."
        )
        strict = serializers.BooleanField(required=False, help_text="Import nothing if any row is bad.")
        dry_run = serializers.BooleanField(required=False, help_text="Validate and count only; write no articles.")

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={202: ImportBatchOutputSerializer},
        summary="Upload a corpus file (staff); the import runs in the background: poll the batch for progress.",
    )
    def post(self, request: Request) -> Response:
        form = CorpusUploadForm(request.data, request.FILES)
        if not form.is_valid():
            raise ValidationError({field: [str(e) for e in errors] for field, errors in form.errors.items()})
        data = form.cleaned_data
        with transaction.atomic():
            batch = import_batch_create(
                source_name=data["file"].name, format=data["format"], outlet_slug=data["outlet"] or "",
                delimiter=data["delimiter"], column_map=data["column_map"], strict=data["strict"],
                dry_run=data["dry_run"], user=request.user, upload=data["file"],
            )  # fmt: skip
            enqueue_on_commit(import_batch_task, batch.pk)
        return Response(ImportBatchOutputSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


class ImportPreviewApi(APIView):
    """The first rows of a corpus file as the import would store them (staff), from the file's head only: the
    detected encoding, delimiter and columns, and each row's fields or the reason it would be rejected. Nothing
    is written. Send the file's first bytes (the upload page sends its first 256 KiB) and its size."""

    permission_classes = [IsAuthenticated, CanImportCorpus]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(help_text=f"The file or its first {PREVIEW_HEAD_BYTES:,} bytes (read no further).")
        size = serializers.IntegerField(required=False, help_text="The whole file's size (to know if a row is cut).")
        format = serializers.ChoiceField(choices=[value for value, _ in UPLOAD_FORMATS], required=False)
        outlet = serializers.SlugField(required=False)
        delimiter = serializers.ChoiceField(choices=[value for value, _ in UPLOAD_DELIMITERS], required=False)
        column_map = serializers.CharField(required=False)

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={200: OpenApiTypes.OBJECT},
        summary="Preview a corpus file's first rows as they would be imported (staff); writes nothing.",
    )
    def post(self, request: Request) -> Response:
        form = CorpusPreviewForm(request.data, request.FILES)
        if not form.is_valid():
            raise ValidationError({field: [str(e) for e in errors] for field, errors in form.errors.items()})
        data = form.cleaned_data
        upload = data["file"]
        head = upload.read(PREVIEW_HEAD_BYTES)
        try:
            preview = import_preview(
                head=head, name=upload.name, format=data["format"], delimiter=data["delimiter"],
                column_map=data["column_map"], default_outlet=data["outlet"] or "",
                complete=(data["size"] if data["size"] is not None else upload.size) <= len(head),
            )  # fmt: skip
        except ImportFileError as exc:
            raise ApplicationError(exc.message, {"file": [exc.message]}) from None
        return Response(preview.as_dict())
