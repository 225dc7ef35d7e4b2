from django.contrib import admin

from annotator.projects.models import (
    Assignment,
    CodebookVersion,
    CorpusGrant,
    Label,
    Membership,
    Project,
    ProjectArticle,
)
from annotator.projects.services import label_create, label_delete, label_update


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class CorpusGrantInline(admin.TabularInline):
    """Staff grant outlets or import batches to the project; its owners and curators add only those articles."""

    model = CorpusGrant
    extra = 0
    fields = ["outlet", "batch", "granted_by", "created_at"]
    readonly_fields = ["granted_by", "created_at"]
    raw_id_fields = ["batch"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_by", "created_at", "blind", "annotators_per_article"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, CorpusGrantInline]

    def save_formset(self, request, form, formset, change):
        for grant in formset.save(commit=False):
            if isinstance(grant, CorpusGrant) and grant.pk is None:
                grant.granted_by = request.user
        super().save_formset(request, form, formset, change)


@admin.register(CorpusGrant)
class CorpusGrantAdmin(admin.ModelAdmin):
    list_display = ["project", "outlet", "batch", "granted_by", "created_at"]
    list_filter = ["project"]
    raw_id_fields = ["batch"]
    readonly_fields = ["granted_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if obj.pk is None:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(CodebookVersion)
class CodebookVersionAdmin(admin.ModelAdmin):
    list_display = ["project", "number", "changelog", "created_by", "created_at"]
    list_filter = ["project"]
    readonly_fields = ["project", "number", "changelog", "labels_snapshot", "created_by", "created_at"]


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "hotkey", "colour", "order"]
    list_filter = ["project"]
    search_fields = ["name"]
    fields = ["project", "name", "description", "colour", "hotkey", "parent", "order"]

    def get_readonly_fields(self, request, obj=None):
        return ["project"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        # Through the services, so every codebook change makes a CodebookVersion.
        data = {name: form.cleaned_data[name] for name in ["description", "colour", "hotkey", "parent", "order"]}
        if change:
            label_update(label=Label.objects.get(pk=obj.pk), by=None, name=form.cleaned_data["name"], **data)
        else:
            created = label_create(project=obj.project, name=obj.name, by=None, **data)
            obj.pk = created.pk

    def delete_model(self, request, obj):
        label_delete(label=obj, by=None)


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["project", "annotator", "article", "status", "position"]
    list_filter = ["project", "status"]
    raw_id_fields = ["article"]


@admin.register(ProjectArticle)
class ProjectArticleAdmin(admin.ModelAdmin):
    list_display = ["project", "article", "is_calibration", "added_at"]
    list_filter = ["project"]
    raw_id_fields = ["article"]
