"""Suggestions moved from one span row each to one packed row per (version, article): a database migrated before the
move keeps every suggestion (same offsets, labels and scores, texts cut from the article), and a span that accepted
one points at its new id."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from annotator.annotations.models import Layer, Span, Suggestions
from annotator.annotations.selectors import suggestion_exists, suggestions_of_version

BEFORE = ("annotations", "0007_answer_restrict")
# The apps' states as they stood when suggestions were spans (later columns, such as the time zones, not yet there).
BEFORE_STATE = [BEFORE, ("projects", "0006_snapshot_moves_to_snapshots_app"), ("corpus", "0005_import_csv_layout")]
TEXT = "Troops liberate the town; rebels claimed the bridge."


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
def test_suggestion_spans_are_packed_and_accepting_spans_follow_them():
    try:
        executor = migrate(BEFORE_STATE)
        old = executor.loader.project_state(BEFORE_STATE).apps
        user = old.get_model("auth", "User").objects.create(username="ann")
        project = old.get_model("projects", "Project").objects.create(name="Study", slug="study", created_by=user)
        outlet = old.get_model("corpus", "Outlet").objects.create(name="Planet", slug="planet")
        Article = old.get_model("corpus", "Article")
        a = Article.objects.create(outlet=outlet, title="a", text=TEXT, content_hash="a" * 64)
        b = Article.objects.create(outlet=outlet, title="b", text=TEXT.upper(), content_hash="b" * 64)
        Label = old.get_model("projects", "Label")
        loaded, hedge = (Label.objects.create(project=project, name=n) for n in ("loaded term", "attribution/hedge"))
        Version = old.get_model("training", "ModelVersion")
        v1 = Version.objects.create(project=project, number=1, status="succeeded")
        v2 = Version.objects.create(project=project, number=2, status="succeeded", is_active=True)
        OldSpan = old.get_model("annotations", "Span")

        def suggestion(article, version, word, label, score):
            start = article.text.lower().index(word)
            return OldSpan.objects.create(
                project=project, article=article, layer="suggestion", label=label, model_version=version,
                start_char=start, end_char=start + len(word), text=article.text[start : start + len(word)], score=score,
            )  # fmt: skip

        # created out of order: packed by (start, end, label) as scoring writes them
        claimed = suggestion(a, v2, "claimed", hedge, 0.7)
        liberate = suggestion(a, v2, "liberate", loaded, 0.912345)
        rebels_b = suggestion(b, v2, "rebels", loaded, 0.5)
        suggestion(a, v1, "rebels", loaded, 0.25)
        accepting = OldSpan.objects.create(
            project=project, article=a, layer="annotator", annotator=user, label=loaded, start_char=liberate.start_char,
            end_char=liberate.end_char, text="liberate", provenance={"accepted_suggestion": liberate.pk},
        )  # fmt: skip
        gold = OldSpan.objects.create(
            project=project, article=a, layer="gold", label=hedge, start_char=claimed.start_char,
            end_char=claimed.end_char, text="claimed",
        )  # fmt: skip
        old_ids = {"claimed": claimed.pk, "rebels_b": rebels_b.pk}
    finally:
        executor = migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert not executor.migration_plan(executor.loader.graph.leaf_nodes())
    assert not Span.objects.filter(layer=Layer.SUGGESTION).exists()
    assert set(Span.objects.values_list("pk", flat=True)) == {accepting.pk, gold.pk}  # human spans untouched
    assert Suggestions.objects.count() == 3  # (v2, a), (v2, b), (v1, a)
    packed = [(s.article_id, s.text, s.label, s.score) for s in suggestions_of_version(version_id=v2.pk)]
    assert packed == [
        (a.pk, "liberate", "loaded term", 0.912345),
        (a.pk, "claimed", "attribution/hedge", 0.7),
        (b.pk, "REBELS", "loaded term", 0.5),
    ]
    assert [(s.text, s.score) for s in suggestions_of_version(version_id=v1.pk)] == [("rebels", 0.25)]
    new_liberate = suggestions_of_version(version_id=v2.pk)[0].id
    from annotator.projects.models import Project

    study = Project.objects.get(slug="study")
    assert Span.objects.get(pk=accepting.pk).provenance == {"accepted_suggestion": new_liberate}
    assert suggestion_exists(project=study, article_id=a.pk, suggestion_id=new_liberate)
    assert not suggestion_exists(project=study, article_id=b.pk, suggestion_id=new_liberate)  # another article's
    assert not any(suggestion_exists(project=study, article_id=a.pk, suggestion_id=i) for i in old_ids.values())
