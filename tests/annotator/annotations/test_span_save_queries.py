"""The span save is the annotator page's hot path: a bounded number of SQL queries, all rules still enforced."""

import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from annotator.annotations.models import Span
from annotator.projects.models import CodebookVersion, Label
from annotator.projects.services import label_create
from tests.annotator.projects.factories import make_article, make_project, make_user

pytestmark = pytest.mark.django_db

MAX_QUERIES = 5  # session, user, membership+project, article slice+label+codebook version, INSERT
LONG_TEXT = " ".join(f"word{i}" for i in range(20_000)) + " Troops liberate the town."


@pytest.fixture
def world():
    owner, ann = make_user(), make_user()
    article = make_article(text=LONG_TEXT)
    project = make_project(owner=owner, articles=[article], annotators=[ann])
    client = Client()
    client.force_login(ann)
    return project, article, owner, ann, client


def post(client, project, article_id, payload):
    return client.post(
        f"/api/v1/projects/{project.slug}/articles/{article_id}/spans/create/", payload, content_type="application/json"
    )


def payload_for(label, word, **extra):
    start = LONG_TEXT.index(word)
    return {"label": label.pk, "start_char": start, "end_char": start + len(word), "text": word, **extra}


def test_span_save_uses_at_most_five_queries_and_never_loads_the_whole_text(world):
    project, article, _, _, client = world
    label = Label.objects.filter(project=project).first()
    with CaptureQueriesContext(connection) as ctx:
        response = post(client, project, article.pk, payload_for(label, "liberate", client_id=str(uuid.uuid4())))
    assert response.status_code == 201, response.content
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert len(sqls) <= MAX_QUERIES, "\n".join(sqls)
    assert not any("SAVEPOINT" in sql for sql in sqls)
    # No query selects the article's full text column (only a SUBSTR of it).
    assert not any('"corpus_article"."text"' in sql and "SUBSTR" not in sql.upper() for sql in sqls), sqls
    span = Span.objects.get(pk=response.json()["id"])
    assert span.text == "liberate" and span.label == label
    assert span.codebook_version == CodebookVersion.objects.filter(project=project).order_by("-number").first()
    assert response.json()["label"] == label.name


def test_retry_with_same_client_id_returns_first_span_without_a_duplicate(world):
    project, article, _, _, client = world
    label = Label.objects.filter(project=project).first()
    payload = payload_for(label, "Troops", client_id=str(uuid.uuid4()))
    first = post(client, project, article.pk, payload)
    with CaptureQueriesContext(connection) as ctx:
        again = post(client, project, article.pk, payload)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Span.objects.filter(client_id=payload["client_id"]).count() == 1
    assert not any("SAVEPOINT" in q["sql"] for q in ctx.captured_queries)


def test_rules_hold_on_the_fast_path(world):
    project, article, owner, ann, client = world
    label = Label.objects.filter(project=project).first()
    foreign = Label.objects.filter(project=make_project(owner=owner)).first()
    other_article = make_article(text="Not in the project.")
    n = len(LONG_TEXT)
    cases = [
        (payload_for(foreign, "Troops"), 400, "label"),
        ({**payload_for(label, "Troops"), "text": "troops"}, 400, "text"),
        ({"label": label.pk, "start_char": n - 2, "end_char": n + 3, "text": LONG_TEXT[n - 2 :]}, 400, "end_char"),
        ({"label": label.pk, "start_char": 4, "end_char": 4, "text": ""}, 400, None),
        ({**payload_for(label, "Troops"), "note": "x" * 5001}, 400, "note"),
    ]
    for payload, status, field in cases:
        response = post(client, project, article.pk, payload)
        assert response.status_code == status, (payload, response.content)
        if field:
            assert field in response.json()["errors"], response.json()
    assert post(client, project, other_article.pk, payload_for(label, "Troops")).status_code == 404
    viewer = make_user()
    from annotator.projects.services import membership_add

    membership_add(project=project, user=viewer, role="viewer", by=owner)
    viewer_client = Client()
    viewer_client.force_login(viewer)
    assert post(viewer_client, project, article.pk, payload_for(label, "Troops")).status_code == 403
    assert Span.objects.count() == 0


def test_client_id_of_another_users_span_is_refused_over_http(world):
    project, article, owner, _, client = world
    label = Label.objects.filter(project=project).first()
    key = str(uuid.uuid4())
    assert post(client, project, article.pk, payload_for(label, "Troops", client_id=key)).status_code == 201
    owner_client = Client()
    owner_client.force_login(owner)
    response = post(owner_client, project, article.pk, payload_for(label, "Troops", client_id=key))
    assert response.status_code == 400 and "client_id" in response.json()["errors"]


def test_new_codebook_version_is_recorded_on_the_next_save(world):
    project, article, owner, _, client = world
    label = Label.objects.filter(project=project).first()
    label_create(project=project, name="new label", by=owner)
    response = post(client, project, article.pk, payload_for(label, "Troops"))
    latest = CodebookVersion.objects.filter(project=project).order_by("-number").first()
    assert Span.objects.get(pk=response.json()["id"]).codebook_version_id == latest.pk
