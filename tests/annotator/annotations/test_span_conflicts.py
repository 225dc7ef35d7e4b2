"""One annotator never stores the same span twice (service and database), every delete is remembered with who did
it, and a stale page can ask for a span's current state: present or deleted, changed by whom."""

from __future__ import annotations

import importlib
import uuid

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.test import Client

from annotator.annotations.curation import gold_span_create, gold_span_delete, gold_span_update
from annotator.annotations.models import Layer, Span, SpanDeletion
from annotator.annotations.services import span_create, span_delete, span_update
from annotator.common.errors import ApplicationError
from annotator.projects.services import label_delete
from tests.annotator.annotations.helpers import make_world, mark

WORD = "liberate"


@pytest.fixture
def world(db):
    return make_world(name="Conflicts")


def create(world, user, word=WORD, label="loaded term", **kw):
    article = world.articles[0]
    start = article.text.index(word)
    return span_create(
        project=world.project, article=article, user=user, label_id=world.labels[label].pk, start_char=start,
        end_char=start + len(word), text=word, **kw,
    )  # fmt: skip


class TestDuplicates:
    def test_the_same_span_twice_is_refused_naming_the_first(self, world):
        first, _ = create(world, world.ann1, client_id=uuid.uuid4())
        with pytest.raises(ApplicationError) as err:
            create(world, world.ann1, client_id=uuid.uuid4())
        assert err.value.status_code == 409
        assert err.value.extra == {"duplicate_of": [first.pk]}
        assert "liberate" in err.value.message and "loaded term" in err.value.message
        assert Span.objects.filter(layer=Layer.ANNOTATOR).count() == 1

    def test_a_retry_with_the_same_client_id_is_still_the_first_span(self, world):
        key = uuid.uuid4()
        first, created = create(world, world.ann1, client_id=key)
        again, created_again = create(world, world.ann1, client_id=key)
        assert (created, created_again, again.pk) == (True, False, first.pk)

    def test_other_annotators_and_other_labels_are_not_duplicates(self, world):
        create(world, world.ann1)
        create(world, world.ann2)
        create(world, world.ann1, label="euphemism")
        assert Span.objects.filter(layer=Layer.ANNOTATOR).count() == 3

    def test_relabel_onto_an_existing_twin_is_refused(self, world):
        twin, _ = create(world, world.ann1, label="euphemism")
        span, _ = create(world, world.ann1)
        with pytest.raises(ApplicationError) as err:
            span_update(span=span, user=world.ann1, label_id=world.labels["euphemism"].pk)
        assert (err.value.status_code, err.value.extra) == (409, {"duplicate_of": [twin.pk]})
        span.refresh_from_db()
        assert span.label_id == world.labels["loaded term"].pk

    def test_the_database_refuses_a_duplicate_written_around_the_service(self, world):
        span, _ = create(world, world.ann1)
        with pytest.raises(IntegrityError), transaction.atomic():
            Span.objects.create(
                project=world.project, article=span.article, layer=Layer.ANNOTATOR, annotator=world.ann1,
                label=span.label, start_char=span.start_char, end_char=span.end_char, text=span.text,
            )  # fmt: skip

    def test_label_merge_drops_the_spans_that_would_duplicate(self, world):
        create(world, world.ann1, label="euphemism")
        kept, _ = create(world, world.ann1, label="loaded term")
        other, _ = create(world, world.ann2, label="euphemism")
        moved = label_delete(label=world.labels["euphemism"], by=world.owner, merge_into=world.labels["loaded term"])
        assert moved == 1
        rows = set(Span.objects.values_list("pk", "annotator_id", "label_id"))
        assert rows == {(kept.pk, world.ann1.pk, world.labels["loaded term"].pk),
                        (other.pk, world.ann2.pk, world.labels["loaded term"].pk)}  # fmt: skip
        other.refresh_from_db()
        assert other.updated_by == world.owner
        assert SpanDeletion.objects.get().deleted_by == world.owner


@pytest.mark.django_db(transaction=True)
def test_migration_merges_existing_duplicates_keeping_notes_and_gold_sources():
    world = make_world(name="Before the constraint")
    constraint = next(c for c in Span._meta.constraints if c.name == "span_annotator_unique")
    with connection.schema_editor() as editor:
        editor.remove_constraint(Span, constraint)
    try:
        first = mark(world, world.ann1, world.articles[0], WORD, "loaded term")
        copies = [
            Span.objects.create(
                project=world.project, article=first.article, layer=Layer.ANNOTATOR, annotator=world.ann1,
                label=first.label, start_char=first.start_char, end_char=first.end_char, text=first.text, note=note,
                provenance={"curation": {"status": "accepted"}} if note == "second" else {},
            )
            for note in ("second", "third", "second")
        ]  # fmt: skip
        gold = Span.objects.create(
            project=world.project, article=first.article, layer=Layer.GOLD, label=first.label,
            start_char=first.start_char, end_char=first.end_char, text=first.text,
            provenance={"from_spans": [copies[0].pk, copies[2].pk], "annotators": [world.ann1.pk]},
        )  # fmt: skip
        migration = importlib.import_module("annotator.annotations.migrations.0004_span_merge_duplicates")
        migration.merge_duplicates(apps, None)
    finally:
        with connection.schema_editor() as editor:
            editor.add_constraint(Span, constraint)
    kept = Span.objects.get(layer=Layer.ANNOTATOR)
    assert kept.pk == first.pk
    assert kept.note == "second\n\nthird"
    assert kept.provenance["curation"] == {"status": "accepted"}
    gold.refresh_from_db()
    assert gold.provenance["from_spans"] == [first.pk]
    assert set(SpanDeletion.objects.values_list("span_id", flat=True)) == {c.pk for c in copies}


class TestSpanState:
    def state(self, world, user, span_id):
        client = Client()
        client.force_login(user)
        return client.get(f"/api/v1/projects/{world.project.slug}/spans/{span_id}/")

    def test_present_then_deleted_with_who_did_it(self, world):
        span, _ = create(world, world.ann1)
        span_update(span=span, user=world.ann1, note="why")
        body = self.state(world, world.ann1, span.pk).json()
        assert (body["state"], body["changed_by"], body["changed_by_you"]) == ("present", "ann1", True)
        assert (body["span"]["note"], body["span"]["label"], body["span"]["text"]) == ("why", "loaded term", WORD)
        span_id = span.pk
        span_delete(span=span, user=world.ann1)
        body = self.state(world, world.ann1, span_id).json()
        assert (body["state"], body["span"], body["changed_by"]) == ("deleted", None, "ann1")

    def test_blind_another_annotators_span_is_not_found_but_a_curator_sees_it(self, world):
        span, _ = create(world, world.ann1)
        assert self.state(world, world.ann2, span.pk).status_code == 404
        assert self.state(world, world.viewer, span.pk).status_code == 404
        assert self.state(world, world.curator, span.pk).json()["changed_by"] == "ann1"
        span_id = span.pk
        span_delete(span=span, user=world.ann1)
        assert self.state(world, world.ann2, span_id).status_code == 404
        assert self.state(world, world.curator, span_id).json()["state"] == "deleted"

    def test_gold_spans_only_for_curators(self, world):
        article = world.articles[0]
        start = article.text.index(WORD)
        gold = gold_span_create(
            project=world.project, article=article, by=world.curator, label_id=world.labels["loaded term"].pk,
            start_char=start, end_char=start + len(WORD), text=WORD,
        )  # fmt: skip
        assert self.state(world, world.ann1, gold.pk).status_code == 404
        assert self.state(world, world.owner, gold.pk).json()["changed_by"] == "curator"


class TestGoldStale:
    def gold(self, world):
        article = world.articles[0]
        start = article.text.index(WORD)
        return gold_span_create(
            project=world.project, article=article, by=world.curator, label_id=world.labels["loaded term"].pk,
            start_char=start, end_char=start + len(WORD), text=WORD,
        )  # fmt: skip

    def test_an_edit_from_a_stale_page_is_refused_naming_who_changed_it(self, world):
        gold = self.gold(world)
        seen = gold.updated_at
        gold_span_update(project=world.project, span=gold, by=world.owner, note="owner's note")
        with pytest.raises(ApplicationError) as err:
            gold_span_update(
                project=world.project, span=gold, by=world.curator, label_id=world.labels["euphemism"].pk,
                seen_updated_at=seen,
            )  # fmt: skip
        assert err.value.status_code == 409 and "owner" in err.value.message
        gold.refresh_from_db()
        assert (gold.label_id, gold.note) == (world.labels["loaded term"].pk, "owner's note")
        with pytest.raises(ApplicationError):
            gold_span_delete(project=world.project, span=gold, by=world.curator, seen_updated_at=seen)
        assert Span.objects.filter(pk=gold.pk).exists()
        gold_id = gold.pk
        gold_span_delete(project=world.project, span=gold, by=world.curator, seen_updated_at=gold.updated_at)
        assert SpanDeletion.objects.get(span_id=gold_id).deleted_by == world.curator

    def test_api_409_and_gold_list(self, world):
        gold = self.gold(world)
        client = Client()
        client.force_login(world.curator)
        base = f"/api/v1/projects/{world.project.slug}/curate"
        rows = client.get(f"{base}/articles/{world.articles[0].pk}/gold/").json()
        assert [(r["id"], r["updated_at"]) for r in rows] == [(gold.pk, gold.updated_at.isoformat())]
        stale = "2020-01-01T00:00:00Z"
        response = client.patch(f"{base}/gold/{gold.pk}/", {"note": "x", "updated_at": stale}, "application/json")
        assert response.status_code == 409
        assert client.delete(f"{base}/gold/{gold.pk}/?updated_at={stale}").status_code == 409
        ok = client.patch(
            f"{base}/gold/{gold.pk}/", {"note": "x", "updated_at": rows[0]["updated_at"]}, "application/json"
        )
        assert ok.status_code == 200 and ok.json()["note"] == "x"
