from django.contrib import admin

from annotator.annotations.models import Span


@admin.register(Span)
class SpanAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "article", "layer", "annotator", "label", "start_char", "end_char", "text"]
    list_filter = ["project", "layer"]
    search_fields = ["text", "note"]
    raw_id_fields = ["article", "annotator", "label", "codebook_version", "model_version"]
    # Spans are written through annotator.annotations.services; the admin only shows them.
    readonly_fields = [f.name for f in Span._meta.fields]

    def has_add_permission(self, request):
        return False
