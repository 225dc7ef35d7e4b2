"""Snapshots moved from the projects app to their own: a database migrated before the move keeps its snapshots."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from annotator.snapshots.models import Snapshot

BEFORE_THE_MOVE = ("projects", "0005_corpus_grant")


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)  # a fresh loader sees what is applied now


def table_names() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


@pytest.mark.django_db(transaction=True)
def test_a_database_with_a_snapshot_at_the_old_state_upgrades_with_it_intact():
    content_type = ContentType.objects.get_for_model(Snapshot)
    permissions = set(Permission.objects.filter(content_type=content_type).values_list("pk", flat=True))
    try:
        executor = migrate([BEFORE_THE_MOVE])
        assert "projects_snapshot" in table_names() and "snapshots_snapshot" not in table_names()
        old = executor.loader.project_state([BEFORE_THE_MOVE]).apps
        user = old.get_model("auth", "User").objects.create(username="curator")
        project = old.get_model("projects", "Project").objects.create(name="Study", slug="study", created_by=user)
        old.get_model("projects", "Snapshot").objects.create(
            project=project, name="Before the move", content_hash="ab" * 32, manifest={"format": "framescope-snapshot/1"},
            archive="snapshots/study-abababababab.zip", created_by=user,
        )  # fmt: skip
        assert ContentType.objects.get(pk=content_type.pk).app_label == "projects"
    finally:
        executor = migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert not executor.migration_plan(executor.loader.graph.leaf_nodes())  # fully migrated again
    assert "projects_snapshot" not in table_names()
    snapshot = Snapshot.objects.select_related("project", "created_by").get()
    assert (snapshot.name, snapshot.project.slug, snapshot.created_by.username) == (
        "Before the move",
        "study",
        "curator",
    )
    assert (snapshot.content_hash, snapshot.manifest) == ("ab" * 32, {"format": "framescope-snapshot/1"})
    assert snapshot.archive.name == "snapshots/study-abababababab.zip"
    assert snapshot.project.snapshots.get() == snapshot  # the reverse relation the freeze and list use
    # The content type (and the permissions granted on it) moved with the model instead of being made anew.
    ContentType.objects.clear_cache()
    assert ContentType.objects.get_for_model(Snapshot, for_concrete_model=True).pk == content_type.pk
    assert set(Permission.objects.filter(content_type=content_type).values_list("pk", flat=True)) == permissions
    Snapshot.objects.create(project=snapshot.project, name="After the move", content_hash="cd" * 32)
    assert Snapshot.objects.count() == 2  # the id sequence carried over too
