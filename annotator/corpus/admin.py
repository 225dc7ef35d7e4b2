"""Admin for outlets, articles, clusters and import batches, with the corpus upload page and live progress."""

from typing import Any

from django.contrib import admin, messages
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from annotator.common.queueing import enqueue_on_commit
from annotator.corpus.forms import CorpusUploadForm
from annotator.corpus.importing.preview import PREVIEW_HEAD_BYTES
from annotator.corpus.models import Article, ImportBatch, Outlet, StoryCluster
from annotator.corpus.selectors import import_batch_progress
from annotator.corpus.services import import_batch_create
from annotator.corpus.tasks import import_batch_task


@admin.register(Outlet)
class OutletAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # a typed "example.org" is https://
    list_display = ["name", "slug", "country", "language", "leaning", "is_wire_agency", "time_zone"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "outlet", "published_at", "n_tokens", "batch"]
    list_filter = ["outlet"]
    list_select_related = ["outlet", "batch"]
    search_fields = ["title", "external_id", "url"]
    raw_id_fields = ["outlet", "batch", "cluster"]
    readonly_fields = ["content_hash", "n_tokens", "created_at"]
    show_full_result_count = False
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(StoryCluster)
class StoryClusterAdmin(admin.ModelAdmin):
    list_display = ["id", "representative", "source_outlet", "method", "size", "created_at"]
    raw_id_fields = ["representative", "source_outlet"]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["id", "source_name", "format", "status", "rows_read", "created_count", "duplicate_count",
                    "rejected_count", "dry_run", "created_at"]  # fmt: skip
    list_filter = ["status", "format", "dry_run"]
    change_form_template = "admin/corpus/importbatch/change_form.html"
    change_list_template = "admin/corpus/importbatch/change_list.html"
    exclude = ["errors"]

    def get_readonly_fields(self, request: HttpRequest, obj: ImportBatch | None = None) -> list[str]:
        return [field.name for field in ImportBatch._meta.fields if field.name != "errors"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None and request.method == "POST" else super().has_change_permission(request, obj)

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("upload/", wrap(self.upload_view), name="corpus_importbatch_upload"),
            path("<int:pk>/status/", wrap(self.status_view), name="corpus_importbatch_status"),
            *super().get_urls(),
        ]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        return redirect("admin:corpus_importbatch_upload")

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return HttpResponse(status=403)
        form = CorpusUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            with transaction.atomic():
                batch = import_batch_create(
                    source_name=data["file"].name, format=data["format"], outlet_slug=data["outlet"] or "",
                    delimiter=data["delimiter"], column_map=data["column_map"], strict=data["strict"],
                    dry_run=data["dry_run"], user=request.user, upload=data["file"],
                )  # fmt: skip
                enqueue_on_commit(import_batch_task, batch.pk)
            messages.success(request, f"Upload saved; import {batch.pk} is queued.")
            return redirect("admin:corpus_importbatch_change", batch.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": "Upload corpus",
            "preview_url": reverse("api:import-batch-preview"),
            "preview_head_bytes": PREVIEW_HEAD_BYTES,
        }
        return TemplateResponse(request, "admin/corpus/importbatch/upload.html", context)

    def status_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        if not self.has_view_permission(request):
            return JsonResponse({"detail": "forbidden"}, status=403)
        return JsonResponse(import_batch_progress(batch=get_object_or_404(ImportBatch, pk=pk)))

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = context.get("original")
        if obj is not None:
            context["status_url"] = reverse("admin:corpus_importbatch_status", args=[obj.pk])
            context["import_errors"] = obj.errors or []
        return super().render_change_form(request, context, *args, **kwargs)
