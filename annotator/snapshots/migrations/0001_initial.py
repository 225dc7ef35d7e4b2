# The Snapshot model, moved from the projects app with its table (renamed to snapshots_snapshot by projects 0006)
# and rows: this migration only records it in the snapshots app's state, and moves its content type, so permissions
# granted on it are kept.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_type_move(apps, schema_editor, *, old: str, new: str) -> None:
    content_types = apps.get_model("contenttypes", "ContentType").objects.using(schema_editor.connection.alias)
    if not content_types.filter(app_label=new, model="snapshot").exists():
        content_types.filter(app_label=old, model="snapshot").update(app_label=new)


def forwards(apps, schema_editor) -> None:
    content_type_move(apps, schema_editor, old="projects", new="snapshots")


def backwards(apps, schema_editor) -> None:
    content_type_move(apps, schema_editor, old="snapshots", new="projects")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("projects", "0006_snapshot_moves_to_snapshots_app"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Snapshot",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("name", models.CharField(max_length=200)),
                        ("content_hash", models.CharField(max_length=64)),
                        ("manifest", models.JSONField(default=dict)),
                        ("archive", models.FileField(blank=True, max_length=500, upload_to="snapshots/")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "project",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="snapshots",
                                to="projects.project",
                            ),
                        ),
                    ],
                    options={"ordering": ["-created_at"]},
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
