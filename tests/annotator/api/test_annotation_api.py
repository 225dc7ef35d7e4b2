"""The annotation API: projects, queue, article, spans CRUD, errors, CSRF, membership and blindness."""

import uuid

import pytest
from django.test import Client

from annotator.annotations.models import Span
from annotator.projects.models import Label
from tests.annotator.projects.factories import PASSWORD, make_article, make_project, make_user
from tests.conftest import client_login

pytestmark = pytest.mark.django_db

TEXT = "Syrian troops liberate areas from Takfiri Daesh terrorists. 👍🏽 done."
API = "/api/v1/projects"


@pytest.fixture
def world():
    owner, ann, other = make_user(), make_user(), make_user()
    articles = [make_article(text=TEXT, title="First"), make_article(text="Second story text.", title="Second")]
    project = make_project(owner=owner, articles=articles, annotators=[ann, other])
    labels = {label.name: label for label in Label.objects.filter(project=project)}
    return project, articles, owner, ann, other, labels


def span_payload(label, word, **extra):
    start = TEXT.index(word)
    return {"label": label.pk, "start_char": start, "end_char": start + len(word), "text": word, **extra}


def assert_fetch(client, method, url, expected_status, **kwargs):
    response = getattr(client, method)(url, content_type="application/json", **kwargs)
    assert response.status_code == expected_status, (method, url, response.content)
    return response


class TestReadEndpoints:
    def test_project_list_shows_only_my_projects(self, world):
        project, *_, ann, other, labels = world
        make_project(owner=make_user())
        response = assert_fetch(client_login(ann), "get", f"{API}/", 200)
        assert [p["slug"] for p in response.json()] == [project.slug]

    def test_detail_labels_queue_article(self, world):
        project, articles, _, ann, _, labels = world
        client = client_login(ann)
        detail = assert_fetch(client, "get", f"{API}/{project.slug}/", 200).json()
        assert detail["role"] == "annotator"
        assert [label["hotkey"] for label in detail["labels"]] == ["1", "2", "3", "4", "5"]
        assert len(assert_fetch(client, "get", f"{API}/{project.slug}/labels/", 200).json()) == 5
        queue = assert_fetch(client, "get", f"{API}/{project.slug}/queue/", 200).json()
        assert queue["progress"] == {"done": 0, "skipped": 0, "total": 2}
        assert [item["article_id"] for item in queue["items"]] == [a.pk for a in articles]
        article = assert_fetch(client, "get", f"{API}/{project.slug}/articles/{articles[0].pk}/", 200).json()
        assert article["text"] == TEXT
        assert article["next_article_id"] == articles[1].pk
        assert article["spans"] == []

    @pytest.mark.parametrize(
        "path",
        ["/", "/labels/", "/queue/", "/articles/{a}/", "/articles/{a}/spans/"],
    )
    def test_non_member_gets_404(self, world, path):
        project, articles, *_ = world
        url = f"{API}/{project.slug}" + path.format(a=articles[0].pk)
        response = assert_fetch(client_login(make_user()), "get", url, 404)
        assert set(response.json()) == {"detail", "errors"}

    def test_article_outside_project_is_404(self, world):
        project, _, _, ann, _, _ = world
        stranger = make_article(text="not in the project")
        assert_fetch(client_login(ann), "get", f"{API}/{project.slug}/articles/{stranger.pk}/", 404)

    def test_anonymous_is_refused(self, world):
        project, *_ = world
        assert Client().get(f"{API}/{project.slug}/").status_code in (401, 403)


class TestSpanCrud:
    def test_create_list_update_delete(self, world):
        project, articles, _, ann, _, labels = world
        client = client_login(ann)
        base = f"{API}/{project.slug}"
        created = assert_fetch(
            client, "post", f"{base}/articles/{articles[0].pk}/spans/create/", 201,
            data=span_payload(labels["actor label"], "Takfiri"),
        ).json()  # fmt: skip
        assert (created["start_char"], created["end_char"], created["label"]) == (34, 41, "actor label")
        listed = assert_fetch(client, "get", f"{base}/articles/{articles[0].pk}/spans/", 200).json()
        assert [s["id"] for s in listed] == [created["id"]]
        updated = assert_fetch(
            client, "patch", f"{base}/spans/{created['id']}/update/", 200,
            data={"label": labels["loaded term"].pk, "note": "pejorative <i>"},
        ).json()  # fmt: skip
        assert (updated["label"], updated["note"]) == ("loaded term", "pejorative <i>")
        assert_fetch(client, "delete", f"{base}/spans/{created['id']}/delete/", 204)
        assert Span.objects.count() == 0
        assert_fetch(client, "delete", f"{base}/spans/{created['id']}/delete/", 404)

    def test_retry_with_same_client_id_returns_existing(self, world):
        project, articles, _, ann, _, labels = world
        client = client_login(ann)
        url = f"{API}/{project.slug}/articles/{articles[0].pk}/spans/create/"
        payload = span_payload(labels["loaded term"], "liberate", client_id=str(uuid.uuid4()))
        first = assert_fetch(client, "post", url, 201, data=payload).json()
        second = assert_fetch(client, "post", url, 200, data=payload).json()
        assert first["id"] == second["id"] and first["client_id"] == payload["client_id"]
        assert Span.objects.count() == 1

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"start_char": 500, "end_char": 507}, "end_char"),
            ({"text": "takfiri"}, "text"),
            ({"label": 987654}, "label"),
            ({"start_char": "abc"}, "start_char"),
            ({"client_id": "not-a-uuid"}, "client_id"),
        ],
    )
    def test_bad_input_gives_400_with_field_errors(self, world, change, field):
        project, articles, _, ann, _, labels = world
        url = f"{API}/{project.slug}/articles/{articles[0].pk}/spans/create/"
        response = assert_fetch(
            client_login(ann), "post", url, 400, data={**span_payload(labels["euphemism"], "Takfiri"), **change}
        )
        body = response.json()
        assert set(body) == {"detail", "errors"} and field in body["errors"], body
        assert Span.objects.count() == 0

    def test_emoji_offsets_are_code_points(self, world):
        project, articles, _, ann, _, labels = world
        url = f"{API}/{project.slug}/articles/{articles[0].pk}/spans/create/"
        assert_fetch(client_login(ann), "post", url, 201, data=span_payload(labels["euphemism"], "done"))
        assert Span.objects.get().start_char == TEXT.index("done")

    def test_csrf_is_enforced_for_session_auth(self, world):
        project, articles, _, ann, _, labels = world
        client = Client(enforce_csrf_checks=True)
        assert client.login(username=ann.username, password=PASSWORD)
        url = f"{API}/{project.slug}/articles/{articles[0].pk}/spans/create/"
        payload = span_payload(labels["euphemism"], "Takfiri")
        refused = client.post(url, payload, content_type="application/json")
        assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
        client.get("/accounts/login/")  # any page with a form sets the CSRF cookie
        token = client.cookies["csrftoken"].value
        accepted = client.post(url, payload, content_type="application/json", headers={"X-CSRFToken": token})
        assert accepted.status_code == 201, accepted.content

    def test_blind_other_annotators_spans_are_invisible_and_untouchable(self, world):
        project, articles, _, ann, other, labels = world
        url = f"{API}/{project.slug}/articles/{articles[0].pk}/spans/create/"
        mine = assert_fetch(
            client_login(ann), "post", url, 201, data=span_payload(labels["euphemism"], "Takfiri")
        ).json()
        other_client = client_login(other)
        article = assert_fetch(other_client, "get", f"{API}/{project.slug}/articles/{articles[0].pk}/", 200).json()
        assert article["spans"] == []
        assert (
            assert_fetch(other_client, "get", f"{API}/{project.slug}/articles/{articles[0].pk}/spans/", 200).json()
            == []
        )
        assert_fetch(other_client, "patch", f"{API}/{project.slug}/spans/{mine['id']}/update/", 404, data={"note": "x"})
        assert_fetch(other_client, "delete", f"{API}/{project.slug}/spans/{mine['id']}/delete/", 404)
        assert Span.objects.filter(pk=mine["id"], note="").exists()


class TestAssignmentStatus:
    def test_done_then_next_and_progress(self, world):
        project, articles, _, ann, _, _ = world
        client = client_login(ann)
        url = f"{API}/{project.slug}/articles/{articles[0].pk}/status/"
        body = assert_fetch(client, "post", url, 200, data={"status": "done"}).json()
        assert body["next_article_id"] == articles[1].pk
        assert body["progress"] == {"done": 1, "skipped": 0, "total": 2}
        bad = assert_fetch(client, "post", url, 400, data={"status": "finished"}).json()
        assert "status" in bad["errors"]
        # Another annotator's progress is their own.
        other_queue = assert_fetch(client_login(world[4]), "get", f"{API}/{project.slug}/queue/", 200).json()
        assert other_queue["progress"]["done"] == 0
