"""Every role x every curation / agreement / assignment endpoint and page: allowed, 403, or 404; and blind mode:
an annotator cannot reach another annotator's spans through any endpoint or page."""

from __future__ import annotations

import pytest
from django.test import Client

from annotator.annotations.models import Layer, Span
from tests.annotator.annotations.helpers import annotate_standard, make_world
from tests.annotator.projects.factories import make_user

pytestmark = pytest.mark.django_db

ROLES = ["owner", "curator", "annotator", "viewer", "outsider"]


@pytest.fixture
def world():
    w = make_world()
    w.spans = annotate_standard(w)
    w.outsider = make_user("outsider")
    return w


def user_for(world, role):
    return {"annotator": world.ann1}.get(role) or getattr(world, role)


def client_for(world, role) -> Client:
    client = Client()
    client.force_login(user_for(world, role))
    return client


# (name, method, url template, body, minimum role). {p} project, {a} article, {s} another annotator's span (ann2),
# {g} a gold span.
ENDPOINTS = [
    ("assignment-generate", "post", "/api/v1/projects/{p}/assignments/generate/", {}, "owner"),
    ("assignment-preview", "get", "/api/v1/projects/{p}/assignments/preview/", None, "curator"),
    ("assignment-progress", "get", "/api/v1/projects/{p}/assignments/", None, "curator"),
    ("curation-list", "get", "/api/v1/projects/{p}/curate/articles/", None, "curator"),
    ("curation-article", "get", "/api/v1/projects/{p}/curate/articles/{a}/", None, "curator"),
    ("span-accept", "post", "/api/v1/projects/{p}/curate/spans/{s}/accept/", {}, "curator"),
    ("span-reject", "post", "/api/v1/projects/{p}/curate/spans/{s}/reject/", {}, "curator"),
    ("gold-update", "patch", "/api/v1/projects/{p}/curate/gold/{g}/", {"note": "x"}, "curator"),
    ("gold-create", "post", "/api/v1/projects/{p}/curate/articles/{a}/gold/", "GOLD", "curator"),
    ("bulk-accept", "post", "/api/v1/projects/{p}/curate/bulk-accept/", {}, "curator"),
    ("adjudication", "post", "/api/v1/projects/{p}/curate/articles/{a}/adjudication/", {"status": "done"}, "curator"),
    ("curation-answers", "get", "/api/v1/projects/{p}/curate/articles/{a}/answers/", None, "curator"),
    ("gold-answer-set", "post", "/api/v1/projects/{p}/curate/articles/{a}/answers/gold/", "GOLD_ANSWER", "curator"),
    ("gold-answer-bulk-accept", "post", "/api/v1/projects/{p}/curate/answers/bulk-accept/", {}, "curator"),
    ("agreement-get", "get", "/api/v1/projects/{p}/agreement/", None, "curator"),
    ("agreement-post", "post", "/api/v1/projects/{p}/agreement/", {}, "curator"),
    ("agreement-table", "get", "/api/v1/projects/{p}/agreement/table/", None, "curator"),
    ("disagreements", "get", "/api/v1/projects/{p}/agreement/disagreements/", None, "curator"),
    ("page-curate-list", "get", "/projects/{p}/curate/", None, "curator"),
    ("page-curate", "get", "/projects/{p}/curate/{a}/", None, "curator"),
    ("page-curate-action", "post", "/projects/{p}/curate/{a}/action/", {"action": "bulk_accept"}, "curator"),
    ("page-agreement", "get", "/projects/{p}/agreement/", None, "curator"),
    ("page-assignments", "get", "/projects/{p}/assignments/", None, "curator"),
    ("page-assignments-generate", "post", "/projects/{p}/assignments/", {}, "owner"),
]
RANK = {"owner": 4, "curator": 3, "annotator": 2, "viewer": 1, "outsider": 0}


def fill(world, template: str) -> str:
    gold = Span.objects.filter(project=world.project, layer=Layer.GOLD).first()
    if gold is None:
        a = world.articles[0]
        start = a.text.index("Monday")
        gold = Span.objects.create(
            project=world.project, article=a, layer=Layer.GOLD, label=world.labels["loaded term"],
            start_char=start, end_char=start + 6, text="Monday", provenance={"action": "create"},
        )  # fmt: skip
    return template.format(p=world.project.slug, a=world.articles[0].pk, s=world.spans["claimed2"].pk, g=gold.pk)


def body_for(world, body):
    if body == "GOLD_ANSWER":
        from annotator.projects.models import Question
        from annotator.projects.questions import question_create

        question = Question.objects.filter(project=world.project).first() or question_create(
            project=world.project, name="frame", prompt="Frame?", options=[{"value": "a"}, {"value": "b"}]
        )
        return {"question": question.pk, "value": "a"}
    if body == "GOLD":
        a = world.articles[0]
        start = a.text.index("areas")
        return {"label": world.labels["loaded term"].pk, "start_char": start, "end_char": start + 5, "text": "areas"}
    return body


def call(client, method, url, body, *, api: bool):
    if method == "get":
        return client.get(url)
    if api:
        return getattr(client, method)(url, body or {}, content_type="application/json")
    return client.post(url, body or {})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name, method, template, body, min_role", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_role_matrix(world, role, name, method, template, body, min_role):
    url = fill(world, template)
    response = call(client_for(world, role), method, url, body_for(world, body), api=url.startswith("/api/"))
    if role == "outsider":
        expected = {404}
    elif RANK[role] >= RANK[min_role]:
        expected = {200, 201, 202, 204, 302}
    else:
        expected = {403}
    assert response.status_code in expected, (role, name, response.status_code, response.content[:300])


def test_anonymous_gets_nothing(world):
    client = Client()
    for _name, method, template, body, _ in ENDPOINTS:
        url = fill(world, template)
        response = call(client, method, url, body, api=url.startswith("/api/"))
        assert response.status_code in (302, 401, 403), (url, response.status_code)
        if response.status_code == 302:
            assert "/login" in response["Location"]


def test_objects_of_another_project_are_404_even_for_its_curator(world):
    other = make_world(name="Other study", prefix="other-")
    other_span = annotate_standard(other)["liberate1"]
    client = client_for(world, "curator")  # curator of `world`, not of `other`
    p = world.project.slug
    for method, url in [
        ("post", f"/api/v1/projects/{p}/curate/spans/{other_span.pk}/accept/"),
        ("post", f"/api/v1/projects/{p}/curate/spans/{other_span.pk}/reject/"),
        ("get", f"/api/v1/projects/{p}/curate/articles/{other.articles[0].pk}/"),
        ("get", f"/projects/{p}/curate/{other.articles[0].pk}/"),
    ]:
        response = call(client, method, url, {}, api=url.startswith("/api/"))
        assert response.status_code == 404, (url, response.status_code)
    assert not Span.objects.filter(layer=Layer.GOLD).exists()


def span_ids(data) -> set[int]:
    """Ids of every span-like object (id with start_char and end_char, not an answer) anywhere in a JSON body."""
    found = set()
    if isinstance(data, dict):
        if {"id", "start_char", "end_char"} <= data.keys() and "question_id" not in data:
            found.add(data["id"])
        for value in data.values():
            found |= span_ids(value)
    elif isinstance(data, list):
        for value in data:
            found |= span_ids(value)
    return found


def test_blind_mode_annotator_never_sees_another_annotators_spans(world):
    """ann1 tries every endpoint and page with ann2's article and span ids; no ann2 span ever appears."""
    from annotator.common.models import Job

    client = client_for(world, "annotator")
    p, a, b = world.project.slug, world.articles[0].pk, world.articles[1].pk
    theirs = [s for s in world.spans.values() if s.annotator_id == world.ann2.pk]
    only_theirs = {"claimed", "so-called"}  # words only ann2 marked
    assert {s.text for s in theirs} >= only_theirs
    # a curator queues agreement, so an agreement Job row exists for the project (a GET stores none)
    assert (
        client_for(world, "curator")
        .post(f"/api/v1/projects/{p}/agreement/", {}, content_type="application/json")
        .status_code
        == 202
    )
    job = Job.objects.get(kind=Job.Kind.AGREEMENT)
    reads = [
        f"/api/v1/projects/{p}/articles/{a}/spans/",
        f"/api/v1/projects/{p}/articles/{b}/spans/",
        f"/api/v1/projects/{p}/articles/{a}/",
        f"/api/v1/projects/{p}/articles/{b}/",
        f"/api/v1/projects/{p}/curate/articles/{a}/",
        f"/api/v1/projects/{p}/curate/articles/",
        f"/api/v1/projects/{p}/agreement/",
        f"/api/v1/projects/{p}/agreement/disagreements/",
        f"/api/v1/projects/{p}/agreement/disagreements/?article_id={a}",
        f"/api/v1/projects/{p}/jobs/{job.pk}/",
        f"/projects/{p}/articles/{a}/",
        f"/projects/{p}/articles/{b}/",
        f"/projects/{p}/",
        f"/projects/{p}/curate/{a}/",
        f"/projects/{p}/agreement/?drill=1",
        f"/api/v1/projects/{p}/annotations/export/",
        f"/api/v1/projects/{p}/annotations/export/?format=csv",
        f"/api/v1/projects/{p}/annotations/export/?annotator={world.ann2.username}",
        f"/api/v1/projects/{p}/annotations/export/?layer=annotator",
        f"/api/v1/projects/{p}/curate/articles/{a}/gold/",
        *(f"/api/v1/projects/{p}/spans/{s.pk}/" for s in theirs),
    ]
    for url in reads:
        response = client.get(url)
        assert response.status_code in (200, 400, 403, 404), (url, response.status_code)
        if response.status_code == 200:
            raw = b"".join(response.streaming_content) if response.streaming else response.content
            text = raw.decode()
            for word in only_theirs:
                for form in (f'"{word}"', f"“{word}”", f">{word}<", f",{word},"):
                    assert form not in text, (url, word)
            if response["Content-Type"].startswith("application/json") and not response.streaming:
                seen = span_ids(response.json())
                assert not seen & {s.pk for s in theirs}, (url, seen)
    # the export works for ann1 and carries their own spans, so the word check above is meaningful
    export = client.get(f"/api/v1/projects/{p}/annotations/export/?format=csv")
    assert export.status_code == 200 and b",regime," in b"".join(export.streaming_content)
    # the check above does see spans: ann1's own spans come back through the same walker
    own = {s.pk for s in world.spans.values() if s.annotator_id == world.ann1.pk}
    assert span_ids(client.get(f"/api/v1/projects/{p}/articles/{a}/spans/").json()) == own
    # writes on their spans: 403/404 and nothing changes
    for span in theirs:
        for method, url, body in [
            ("patch", f"/api/v1/projects/{p}/spans/{span.pk}/update/", {"note": "mine now"}),
            ("delete", f"/api/v1/projects/{p}/spans/{span.pk}/delete/", None),
            ("post", f"/api/v1/projects/{p}/curate/spans/{span.pk}/accept/", {}),
            ("post", f"/api/v1/projects/{p}/curate/spans/{span.pk}/reject/", {}),
        ]:
            response = call(client, method, url, body, api=True)
            assert response.status_code in (403, 404), (url, response.status_code)
        fresh = Span.objects.get(pk=span.pk)
        assert fresh.note == span.note and fresh.provenance == span.provenance
    assert not Span.objects.filter(layer=Layer.GOLD).exists()
