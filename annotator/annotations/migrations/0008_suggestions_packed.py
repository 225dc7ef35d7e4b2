"""Model suggestions move from one span row each to one packed row per (model version, article).

The data migration packs every suggestion span (by version and article, in start, end, label order, as scoring
writes them), points the annotator spans that accepted one (``provenance.accepted_suggestion``) at its new id, and
deletes the suggestion spans. Backwards it unpacks them into span rows again (with their new ids)."""

import struct

import django.db.models.deletion
from django.db import migrations, models

RECORD = struct.Struct("<iiqd")  # annotations.suggestions.RECORD, frozen here
ID_STRIDE = 1_000_000


def pack_spans(apps, schema_editor):
    Span = apps.get_model("annotations", "Span")
    Suggestions = apps.get_model("annotations", "Suggestions")
    suggestions = Span.objects.filter(layer="suggestion", model_version__isnull=False)
    rows = suggestions.order_by("model_version_id", "article_id", "start_char", "end_char", "label_id", "id")
    new_ids: dict[int, int] = {}
    pending: list[tuple[object, list[int]]] = []  # (unsaved row, the span ids packed into it)
    group, records, span_ids = None, [], []

    def save_pending():
        created = Suggestions.objects.bulk_create([row for row, _ids in pending])  # ids set (PostgreSQL, SQLite)
        for row, (_unsaved, ids) in zip(created, pending, strict=True):
            new_ids.update({old: row.pk * ID_STRIDE + i for i, old in enumerate(ids)})
        pending.clear()

    def flush():
        if group is not None:
            pending.append(
                (Suggestions(model_version_id=group[0], article_id=group[1], spans=b"".join(records)), span_ids)
            )
            if len(pending) >= 1000:
                save_pending()

    for pk, version_id, article_id, start, end, label_id, score in rows.values_list(
        "pk", "model_version_id", "article_id", "start_char", "end_char", "label_id", "score"
    ).iterator(chunk_size=5000):
        if (version_id, article_id) != group:
            flush()
            group, records, span_ids = (version_id, article_id), [], []
        records.append(RECORD.pack(start, end, label_id, 0.0 if score is None else score))
        span_ids.append(pk)
    flush()
    save_pending()
    accepted = Span.objects.filter(provenance__has_key="accepted_suggestion").exclude(layer="suggestion")
    for span in accepted.only("pk", "provenance").iterator(chunk_size=2000):
        old = span.provenance.get("accepted_suggestion")
        if old in new_ids:
            Span.objects.filter(pk=span.pk).update(provenance={**span.provenance, "accepted_suggestion": new_ids[old]})
    Span.objects.filter(layer="suggestion").delete()


def unpack_spans(apps, schema_editor):
    Span = apps.get_model("annotations", "Span")
    Suggestions = apps.get_model("annotations", "Suggestions")
    for row in Suggestions.objects.select_related("article", "model_version").iterator(chunk_size=1000):
        text = row.article.text
        for start, end, label_id, score in RECORD.iter_unpack(bytes(row.spans)):
            Span.objects.create(
                project_id=row.model_version.project_id, article_id=row.article_id, layer="suggestion",
                label_id=label_id, start_char=start, end_char=end, text=text[start:end],
                model_version_id=row.model_version_id, score=score,
            )  # fmt: skip
    Suggestions.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0007_answer_restrict"),
        ("corpus", "0005_import_csv_layout"),
        ("training", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Suggestions",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("spans", models.BinaryField(help_text="Packed records: start, end (code points), label id, score.")),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="corpus.article"
                    ),
                ),
                (
                    "model_version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="training.modelversion"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("model_version", "article"), name="suggestions_unique")
                ],
            },
        ),
        migrations.RunPython(pack_spans, unpack_spans),
    ]
