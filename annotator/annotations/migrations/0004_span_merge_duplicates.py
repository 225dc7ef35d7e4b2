"""Merge the spans one annotator made twice (same article, label and offsets) before 0005 forbids them.

The oldest span of each group is kept; the others' distinct notes are appended to its note, their curation verdict
is kept if it had none, gold spans that named them as a source name it instead, and each removed span is recorded
as a SpanDeletion (deleted by no one: this migration).
"""

from django.db import migrations
from django.db.models import Count

NOTE_MAX_CHARS = 5000  # annotations.services.NOTE_MAX_CHARS at the time of writing
GROUP = ("annotator_id", "article_id", "label_id", "start_char", "end_char")


def merge_duplicates(apps, schema_editor):
    Span = apps.get_model("annotations", "Span")
    SpanDeletion = apps.get_model("annotations", "SpanDeletion")
    groups = (
        Span.objects.filter(layer="annotator").values(*GROUP).annotate(n=Count("id")).filter(n__gt=1).order_by()
    )
    for group in groups:
        spans = list(Span.objects.filter(layer="annotator", **{k: group[k] for k in GROUP}).order_by("id"))
        keep, extra = spans[0], spans[1:]
        notes = [keep.note] if keep.note else []
        for span in extra:
            if span.note and span.note not in notes:
                notes.append(span.note)
        keep.note = "\n\n".join(notes)[:NOTE_MAX_CHARS]
        curation = (keep.provenance or {}).get("curation")
        if not curation:
            curation = next((s.provenance["curation"] for s in extra if (s.provenance or {}).get("curation")), None)
            if curation:
                keep.provenance = {**(keep.provenance or {}), "curation": curation}
        keep.save(update_fields=["note", "provenance"])
        removed = {span.pk for span in extra}
        for gold in Span.objects.filter(project_id=keep.project_id, article_id=keep.article_id, layer="gold"):
            sources = (gold.provenance or {}).get("from_spans") or []
            if removed & set(sources):
                merged = sorted({keep.pk if pk in removed else pk for pk in sources})
                gold.provenance = {**gold.provenance, "from_spans": merged}
                gold.save(update_fields=["provenance"])
        SpanDeletion.objects.bulk_create(
            [SpanDeletion(span_id=s.pk, project_id=s.project_id, article_id=s.article_id, layer="annotator",
                          annotator_id=s.annotator_id) for s in extra]  # fmt: skip
        )
        Span.objects.filter(pk__in=removed).delete()


class Migration(migrations.Migration):
    dependencies = [("annotations", "0003_span_updated_by_spandeletion")]

    operations = [migrations.RunPython(merge_duplicates, migrations.RunPython.noop)]
