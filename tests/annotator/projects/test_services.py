"""Projects: creation, members, articles, the versioned codebook, the queue and assignment status."""

import datetime as dt

import pytest

from annotator.annotations.models import Span
from annotator.annotations.services import span_create
from annotator.common.errors import ApplicationError
from annotator.corpus.models import ImportBatch
from annotator.projects.models import Assignment, CodebookVersion, Label, Membership, ProjectArticle, Role
from annotator.projects.selectors import assignment_queue, project_list_for_user
from annotator.projects.services import (
    assignment_create_for_annotator,
    assignment_set_status,
    codebook_create_default,
    corpus_grant_add,
    label_create,
    label_delete,
    label_update,
    membership_add,
    membership_update,
    project_add_articles,
    project_create,
    project_update,
)
from tests.annotator.projects.factories import make_article, make_outlet, make_project, make_user

pytestmark = pytest.mark.django_db


class TestProjectCreate:
    def test_creator_becomes_owner(self):
        user = make_user()
        project = project_create(name="Gaza coverage 2024", created_by=user)
        assert project.slug == "gaza-coverage-2024"
        assert Membership.objects.get(project=project, user=user).role == Role.OWNER
        assert list(project_list_for_user(user=user)) == [project]
        assert list(project_list_for_user(user=make_user())) == []

    def test_duplicate_slug_is_refused_with_field_error(self):
        user = make_user()
        project_create(name="Study", created_by=user)
        with pytest.raises(ApplicationError) as err:
            project_create(name="Study", created_by=user)
        assert "slug" in err.value.extra


class TestMembership:
    def test_only_owner_manages_members_and_last_owner_stays(self):
        owner, annotator = make_user(), make_user()
        project = project_create(name="P", created_by=owner)
        membership = membership_add(project=project, user=annotator, role=Role.ANNOTATOR, by=owner)
        with pytest.raises(ApplicationError) as err:
            membership_add(project=project, user=make_user(), by=annotator)
        assert err.value.status_code == 403
        membership = membership_update(membership=membership, role=Role.CURATOR, by=owner)
        assert Membership.objects.get(pk=membership.pk).role == Role.CURATOR
        owner_membership = Membership.objects.get(project=project, user=owner)
        with pytest.raises(ApplicationError, match="at least one owner"):
            membership_update(membership=owner_membership, role=Role.VIEWER, by=owner)
        with pytest.raises(ApplicationError, match="Unknown role"):
            membership_update(membership=membership, role="boss", by=owner)


class TestProjectAddArticles:
    def test_by_outlet_dates_search_and_ids_and_again_later(self):
        owner = make_user()
        project = project_create(name="P", created_by=owner)
        a, b = make_outlet("Alpha"), make_outlet("Beta")
        jan = dt.datetime(2024, 1, 10, tzinfo=dt.UTC)
        mar = dt.datetime(2024, 3, 10, tzinfo=dt.UTC)
        a1 = make_article(text="troops liberate town", outlet=a, published_at=jan)
        a2 = make_article(text="rebels seize town", outlet=a, published_at=mar)
        b1 = make_article(text="regime forces advance", outlet=b, published_at=jan)
        corpus_grant_add(project=project, by=None, outlet=a)
        corpus_grant_add(project=project, by=None, outlet=b)
        assert project_add_articles(project=project, by=owner, outlet=a, published_to=dt.date(2024, 1, 31)) == 1
        assert project_add_articles(project=project, by=owner, search="regime") == 1
        assert project_add_articles(project=project, by=owner, outlet=a.slug) == 1  # only a2 is new
        assert project_add_articles(project=project, by=owner, article_ids=[a1.pk, a2.pk, b1.pk]) == 0
        assert set(ProjectArticle.objects.filter(project=project).values_list("article_id", flat=True)) == {
            a1.pk,
            a2.pk,
            b1.pk,
        }

    def test_unknown_ids_and_no_filter_are_refused(self):
        owner = make_user()
        project = project_create(name="P", created_by=owner)
        with pytest.raises(ApplicationError, match="at least one filter"):
            project_add_articles(project=project, by=owner)
        with pytest.raises(ApplicationError) as err:
            project_add_articles(project=project, by=owner, article_ids=[999999])
        assert "article_ids" in err.value.extra
        assert ProjectArticle.objects.count() == 0

    def test_an_owner_adds_only_what_staff_granted_on_every_path(self):
        """Issue 17, point 5: staff curate the corpus and grant outlets or import batches; an owner who is not staff
        adds nothing else, by id, outlet, search or date, and the answer does not tell ungranted ids from missing."""
        owner, staff = make_user(), make_user()
        staff.is_staff = True
        staff.save()
        project = project_create(name="P", created_by=owner)
        granted, secret = make_outlet("Granted"), make_outlet("Secret Outlet Times")
        batch = ImportBatch.objects.create(source_name="b.jsonl", format="jsonl")
        mine = make_article(text="troops liberate the town", outlet=granted)
        hidden = make_article(text="troops liberate the city", outlet=secret)
        in_batch = make_article(text="troops liberate the port", outlet=secret, batch=batch)
        with pytest.raises(ApplicationError) as err:
            project_add_articles(project=project, by=owner, article_ids=[hidden.pk])
        with pytest.raises(ApplicationError) as missing:
            project_add_articles(project=project, by=owner, article_ids=[999999])
        assert err.value.message == missing.value.message  # no probe: ungranted and missing say the same
        assert project_add_articles(project=project, by=owner, outlet=secret.slug) == 0
        assert project_add_articles(project=project, by=owner, search="liberate") == 0
        with pytest.raises(ApplicationError) as err:
            corpus_grant_add(project=project, by=owner, outlet=secret)
        assert err.value.status_code == 403
        corpus_grant_add(project=project, by=staff, outlet=granted)
        corpus_grant_add(project=project, by=staff, batch=batch)
        assert project_add_articles(project=project, by=owner, search="liberate") == 2
        assert set(ProjectArticle.objects.filter(project=project).values_list("article_id", flat=True)) == {
            mine.pk,
            in_batch.pk,
        }
        # staff add anything
        membership_add(project=project, user=staff, role=Role.OWNER, by=owner)
        assert project_add_articles(project=project, by=staff, article_ids=[hidden.pk]) == 1

    def test_an_owner_follows_only_granted_outlets(self):
        owner = make_user()
        project = project_create(name="P", created_by=owner)
        granted, secret = make_outlet("Granted"), make_outlet("Secret")
        corpus_grant_add(project=project, by=None, outlet=granted)
        for follow in ([secret.slug], ["*"]):
            with pytest.raises(ApplicationError) as err:
                project_update(project=project, by=owner, follow_outlets=follow)
            assert "follow_outlets" in err.value.extra
        project_update(project=project, by=owner, follow_outlets=[granted.slug])
        assert project.follow_outlets == [granted.slug]

    def test_annotator_cannot_add_articles(self):
        owner, annotator = make_user(), make_user()
        project = make_project(owner=owner, annotators=[annotator])
        article = make_article(text="x y")
        with pytest.raises(ApplicationError) as err:
            project_add_articles(project=project, by=annotator, article_ids=[article.pk])
        assert err.value.status_code == 403


class TestCodebook:
    def test_default_codebook_has_five_labels_hotkeys_and_distinct_colours(self):
        owner = make_user()
        project = project_create(name="P", created_by=owner)
        labels = codebook_create_default(project=project, by=owner)
        assert [(label.name, label.hotkey) for label in labels] == [
            ("loaded term", "1"),
            ("euphemism", "2"),
            ("actor label", "3"),
            ("attribution/hedge", "4"),
            ("scare quotes", "5"),
        ]
        assert len({label.colour for label in labels}) == 5
        assert all(label.description for label in labels)
        version = CodebookVersion.objects.get(project=project)
        assert version.number == 1
        assert [entry["name"] for entry in version.labels_snapshot] == [label.name for label in labels]
        with pytest.raises(ApplicationError, match="already has labels"):
            codebook_create_default(project=project, by=owner)

    def test_every_change_makes_a_version_with_changelog_and_snapshot(self):
        owner = make_user()
        project = make_project(owner=owner)
        label = label_create(project=project, name="dehumanising", hotkey="6", colour="#112233", by=owner)
        label_update(label=label, name="dehumanizing", by=owner)
        label_update(label=label, name="dehumanizing", by=owner)  # no change: no version
        label_delete(label=label, by=owner)
        versions = list(CodebookVersion.objects.filter(project=project).order_by("number"))
        assert [v.number for v in versions] == [1, 2, 3, 4]
        assert versions[1].changelog == "Added label 'dehumanising'."
        assert versions[2].changelog == "Renamed label 'dehumanising' to 'dehumanizing'."
        assert "dehumanizing" in [entry["name"] for entry in versions[2].labels_snapshot]
        assert "dehumanizing" not in [entry["name"] for entry in versions[3].labels_snapshot]

    def test_label_validation_errors_name_the_field(self):
        owner = make_user()
        project = make_project(owner=owner)
        for kwargs, field in [
            ({"name": "euphemism"}, "name"),
            ({"name": "new", "hotkey": "1"}, "hotkey"),
            ({"name": "new", "colour": "red"}, "colour"),
            ({"name": "  "}, "name"),
        ]:
            with pytest.raises(ApplicationError) as err:
                label_create(project=project, by=owner, **kwargs)
            assert field in err.value.extra, kwargs
        assert CodebookVersion.objects.filter(project=project).count() == 1

    def test_rename_keeps_spans(self):
        owner = make_user()
        article = make_article(text="The regime fell.")
        project = make_project(owner=owner, articles=[article])
        label = Label.objects.get(project=project, name="loaded term")
        span, _ = span_create(
            project=project, article=article, user=owner, label_id=label.pk, start_char=4, end_char=10, text="regime"
        )
        label_update(label=label, name="loaded word", by=owner)
        span.refresh_from_db()
        assert span.label.name == "loaded word"

    def test_delete_in_use_is_refused_unless_merged(self):
        owner = make_user()
        article = make_article(text="The regime fell.")
        project = make_project(owner=owner, articles=[article])
        loaded = Label.objects.get(project=project, name="loaded term")
        actor = Label.objects.get(project=project, name="actor label")
        span, _ = span_create(
            project=project, article=article, user=owner, label_id=loaded.pk, start_char=4, end_char=10, text="regime"
        )
        with pytest.raises(ApplicationError) as err:
            label_delete(label=loaded, by=owner)
        assert "used by 1 span" in err.value.message
        assert "merge_into" in err.value.extra
        assert Label.objects.filter(pk=loaded.pk).exists()
        assert label_delete(label=loaded, merge_into=actor, by=owner) == 1
        span.refresh_from_db()
        assert span.label_id == actor.pk
        assert not Label.objects.filter(pk=loaded.pk).exists()
        assert "Merged label 'loaded term' into 'actor label'" in CodebookVersion.objects.latest("number").changelog

    def test_annotator_cannot_edit_codebook(self):
        owner, annotator = make_user(), make_user()
        project = make_project(owner=owner, annotators=[annotator])
        with pytest.raises(ApplicationError) as err:
            label_create(project=project, name="x", by=annotator)
        assert err.value.status_code == 403


class TestQueue:
    def test_fallback_queue_is_project_articles_in_id_order(self):
        owner, annotator, viewer = make_user(), make_user(), make_user()
        articles = [make_article(text=f"story {i}") for i in range(3)]
        project = make_project(owner=owner, articles=list(reversed(articles)), annotators=[annotator])
        membership_add(project=project, user=viewer, role=Role.VIEWER, by=owner)
        queue = assignment_queue(project=project, user=annotator)
        assert [item.article_id for item in queue.items] == [a.pk for a in articles]
        assert not queue.from_assignments
        assert assignment_queue(project=project, user=viewer).items == []
        assert assignment_queue(project=project, user=make_user()).items == []

    def test_assignments_define_the_queue_and_status_changes_progress(self):
        owner, annotator = make_user(), make_user()
        articles = [make_article(text=f"story {i}") for i in range(3)]
        project = make_project(owner=owner, articles=articles, annotators=[annotator])
        assignment_create_for_annotator(
            project=project, annotator=annotator, article_ids=[articles[2].pk, articles[0].pk]
        )
        queue = assignment_queue(project=project, user=annotator)
        assert [item.article_id for item in queue.items] == [articles[2].pk, articles[0].pk]
        assignment_set_status(project=project, annotator=annotator, article_id=articles[2].pk, status="done")
        queue = assignment_queue(project=project, user=annotator)
        assert (queue.n_done, queue.total) == (1, 2)
        assert queue.next_open(after_article_id=articles[2].pk) == articles[0].pk
        with pytest.raises(ApplicationError, match="not in your queue"):
            assignment_set_status(project=project, annotator=annotator, article_id=articles[1].pk, status="done")
        with pytest.raises(ApplicationError, match="Unknown status"):
            assignment_set_status(project=project, annotator=annotator, article_id=articles[0].pk, status="finished")

    def test_marking_done_in_fallback_mode_keeps_the_whole_queue(self):
        owner, annotator = make_user(), make_user()
        articles = [make_article(text=f"story {i}") for i in range(3)]
        project = make_project(owner=owner, articles=articles, annotators=[annotator])
        assignment_set_status(project=project, annotator=annotator, article_id=articles[1].pk, status="skipped")
        queue = assignment_queue(project=project, user=annotator)
        assert queue.from_assignments
        assert [(i.article_id, i.status) for i in queue.items] == [
            (articles[0].pk, "todo"),
            (articles[1].pk, "skipped"),
            (articles[2].pk, "todo"),
        ]
        assert Assignment.objects.filter(annotator=annotator).count() == 3

    def test_cannot_assign_to_non_annotator(self):
        owner = make_user()
        article = make_article(text="x")
        project = make_project(owner=owner, articles=[article])
        with pytest.raises(ApplicationError, match="cannot annotate"):
            assignment_create_for_annotator(project=project, annotator=make_user(), article_ids=[article.pk])
        assert Span.objects.count() == 0
