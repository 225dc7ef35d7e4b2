"""The visibility rule (annotator/projects/visibility.py) on the paths issue 17 found open, one test per point.

Each test failed on the main branch before the rule had one home; the hostile matrix
(tests/annotator/api/test_hostile_matrix.py) then runs every endpoint against every role.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from annotator.annotations.answers import answer_set
from annotator.annotations.models import Layer, Span
from annotator.annotations.services import span_create
from annotator.common.errors import ApplicationError
from annotator.projects import visibility
from annotator.projects.models import Assignment, Question, Role
from annotator.projects.services import assignment_create_for_annotator, membership_add, project_update
from annotator.projects.visibility import LAYERS, viewer_for
from tests.annotator.annotations.helpers import annotate_standard, make_world
from tests.annotator.projects.factories import make_article, make_outlet, make_user

pytestmark = pytest.mark.django_db

SECRET = "Secret Outlet Times"
SECRET_TEXT = f"{SECRET} — Troops liberate the town, the regime claimed.\nMore at secret-outlet-times.example."


@pytest.fixture
def world():
    w = make_world()
    w.spans = annotate_standard(w)
    start = w.articles[0].text.index("Monday")
    Span.objects.create(
        project=w.project, article=w.articles[0], layer=Layer.GOLD, label=w.labels["loaded term"],
        start_char=start, end_char=start + 6, text="Monday",
    )  # fmt: skip
    return w


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(w) -> str:
    return f"/api/v1/projects/{w.project.slug}"


def test_layers_match_the_span_model():
    assert set(LAYERS) == set(Layer.values)


# --- point 1: a blind project's annotator asks for gold and colleagues' layers -------------------------------


def test_point1_blind_annotator_gets_no_gold_and_no_colleague_through_scores_examples_or_the_page(world):
    client, other = client_for(world.ann1), world.ann2.username
    label = "label=loaded%20term"
    for url in (
        f"{api(world)}/framing-scores/?{label}&source=annotator:{other}",
        f"{api(world)}/framing-scores/?{label}&source=gold",
        f"{api(world)}/framing-scores/compare/?{label}&source=gold",
        f"{api(world)}/examples/?{label}&source=annotator:{other}",
        f"{api(world)}/examples/?{label}&source=gold",
    ):
        response = client.get(url)
        assert response.status_code == 403, (url, response.status_code, response.content[:200])
        assert other not in response.content.decode() and "claimed" not in response.content.decode()
    mine = client.get(f"{api(world)}/examples/?{label}&source=annotator:{world.ann1.username}")
    assert mine.status_code == 200 and {row["match"] for row in mine.json()} >= {"liberate", "regime"}
    page = client.get(f"/projects/{world.project.slug}/scores/").content.decode()
    assert f"annotator:{other}" not in page and '"gold"' not in page
    assert f"annotator:{world.ann1.username}" in page


# --- point 2: an outlet-blind project's annotator -------------------------------------------------------------


@pytest.fixture
def outlet_blind(world):
    secret = make_outlet(SECRET)
    secret.homepage = "https://secret-outlet-times.example"
    secret.save()
    article = make_article(text=SECRET_TEXT, title=f"{SECRET}: town liberated", outlet=secret, external_id="sot-1")
    from tests.annotator.projects.factories import grant_outlets

    grant_outlets(world.project, [article])
    from annotator.projects.services import project_add_articles

    project_add_articles(project=world.project, by=world.owner, article_ids=[article.pk])
    project_update(project=world.project, by=world.owner, outlet_blind=True)
    assignment_create_for_annotator(project=world.project, annotator=world.ann1, article_ids=[article.pk])
    start = SECRET_TEXT.index("liberate")
    span_create(
        project=world.project, article=article, user=world.ann1, label_id=world.labels["loaded term"].pk,
        start_char=0, end_char=len(SECRET), text=SECRET,
    )  # fmt: skip
    span_create(
        project=world.project, article=article, user=world.ann1, label_id=world.labels["loaded term"].pk,
        start_char=start, end_char=start + 8, text="liberate",
    )  # fmt: skip
    return article


def assert_no_outlet(text: str, where: str) -> None:
    for term in (SECRET, "secret-outlet-times", "Secret Outlet", "sot-1"):
        assert term.lower() not in text.lower(), (where, term, text[:400])


def test_point2_outlet_blind_annotator_never_gets_the_outlet_from_corpus_api_span_errors_or_exports(
    world, outlet_blind
):
    client = client_for(world.ann1)
    detail = client.get(f"/api/v1/articles/{outlet_blind.pk}/")
    assert detail.status_code == 200
    assert detail.json()["text"].startswith(visibility.OutletBlinder(outlet_blind).text[:10])
    assert len(detail.json()["text"]) == len(SECRET_TEXT)
    assert_no_outlet(detail.content.decode(), "article detail")
    listing = client.get("/api/v1/articles/?fields=id,title,text,outlet,url,external_id")
    assert_no_outlet(listing.content.decode(), "article list")
    # a span over the masked characters with a wrong text: the error quotes what the annotator was shown
    bad = client.post(
        f"{api(world)}/articles/{outlet_blind.pk}/spans/create/",
        {"label": world.labels["loaded term"].pk, "start_char": 0, "end_char": len(SECRET), "text": "x" * len(SECRET)},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert_no_outlet(bad.content.decode(), "span create error")
    for url in (
        f"{api(world)}/annotations/export/",
        f"{api(world)}/annotations/export/?format=native",
        f"{api(world)}/annotations/export/?format=csv",
        f"{api(world)}/annotations/export/?format=labelstudio",
        f"{api(world)}/annotations/?layer=annotator",
        f"{api(world)}/articles/{outlet_blind.pk}/spans/",
        f"{api(world)}/queue/",
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert_no_outlet(body.decode(), url)
    native = b"".join(client.get(f"{api(world)}/annotations/export/?format=native").streaming_content).decode()
    record = next(
        json.loads(line) for line in native.splitlines() if json.loads(line)["article"]["id"] == outlet_blind.pk
    )
    assert len(record["text"]) == len(SECRET_TEXT) and record["spans"]  # masked, same offsets
    # a curator of the same project still sees everything
    curator = b"".join(client_for(world.curator).get(f"{api(world)}/annotations/export/").streaming_content)
    assert SECRET in curator.decode()


# --- point 6: no username probe --------------------------------------------------------------------------------


def test_point6_annotator_names_resolve_among_members_only(world):
    stranger = make_user("stranger-account")  # exists, but is not a member
    owner = client_for(world.owner)
    answers = []
    for name in ("stranger-account", "no-such-account"):
        response = owner.get(f"{api(world)}/framing-scores/?label=loaded%20term&source=annotator:{name}")
        answers.append((response.status_code, response.json()["detail"].replace(name, "NAME")))
    assert answers[0] == answers[1] == (400, "No member called 'NAME' in this project.")
    assert stranger.pk  # the account exists: the answer did not say so


# --- point 10: span_create checks the queue and the calibration gate ---------------------------------------------


def test_point10_span_create_refuses_articles_outside_the_queue_and_behind_the_calibration_gate(world):
    a, b = world.articles
    extra = make_article(text="Forces liberate a third town.", outlet=a.outlet)
    from annotator.projects.services import project_add_articles

    project_add_articles(project=world.project, by=world.owner, article_ids=[extra.pk])
    annotator = make_user("queued")
    membership_add(project=world.project, user=annotator, role=Role.ANNOTATOR, by=world.owner)
    assignment_create_for_annotator(project=world.project, annotator=annotator, article_ids=[a.pk, extra.pk])
    Assignment.objects.filter(project=world.project, annotator=annotator, article=a).update(is_calibration=True)
    label = world.labels["loaded term"].pk

    def create(article, word):
        start = article.text.index(word)
        return span_create(
            project=world.project, article=article, user=annotator, label_id=label,
            start_char=start, end_char=start + len(word), text=word,
        )  # fmt: skip

    with pytest.raises(ApplicationError) as err:
        create(b, "Rebels")  # not assigned to them
    assert err.value.status_code == 403 and "queue" in err.value.message
    with pytest.raises(ApplicationError) as err:
        create(extra, "liberate")  # assigned, but the calibration article is not done
    assert err.value.status_code == 403 and "calibration" in err.value.message
    # answers to codebook questions follow the same queue
    question = Question.objects.create(project=world.project, name="tone", prompt="Tone?", kind=Question.Kind.TEXT)
    for article, why in ((b, "queue"), (extra, "calibration")):
        with pytest.raises(ApplicationError) as err:
            answer_set(project=world.project, article=article.pk, user=annotator, question_id=question.pk, value="x")
        assert err.value.status_code == 403 and why in err.value.message
    assert create(a, "liberate")[1]  # the calibration article itself
    Assignment.objects.filter(project=world.project, annotator=annotator, article=a).update(status="done")
    assert create(extra, "liberate")[1]
    assert not Span.objects.filter(annotator=annotator, article=b).exists()


# --- point 11: viewers in blind projects --------------------------------------------------------------------------


def test_point11_a_viewer_of_a_blind_project_sees_results_but_no_individual_annotator(world):
    client = client_for(world.viewer)
    for url in (
        f"{api(world)}/annotations/?layer=annotator",
        f"{api(world)}/annotations/?annotator={world.ann1.username}",
        f"{api(world)}/annotations/export/?layer=annotator",
        f"{api(world)}/annotations/export/?layer=all",
        f"{api(world)}/articles/{world.articles[0].pk}/others/",
        f"{api(world)}/framing-scores/?label=loaded%20term&source=annotator:{world.ann1.username}",
    ):
        response = client.get(url)
        assert response.status_code == 403, (url, response.status_code)
    default = client.get(f"{api(world)}/annotations/").json()["results"]
    assert default and {row["layer"] for row in default} == {"gold"}
    assert all(row["annotator"] is None for row in default)
    assert client.get(f"{api(world)}/framing-scores/?label=loaded%20term&source=gold").status_code == 200
    world.project.blind = False
    world.project.save()
    assert client.get(f"{api(world)}/annotations/?layer=annotator").status_code == 200


def test_the_rule_as_a_table_matches_the_code(world):
    """Spot checks of the policy object itself (docs/security.md's table is checked in tests/test_docs_security.py)."""
    v = viewer_for(project=world.project, user=world.ann1)
    assert v.layers() == ("annotator", "suggestion") and not v.sees_others and v.sees_outlets
    assert viewer_for(project=world.project, user=world.viewer).layers() == ("gold", "suggestion")
    assert viewer_for(project=world.project, user=world.curator).layers() == LAYERS
    outsider = viewer_for(project=world.project, user=make_user("outsider"))
    assert outsider.layers() == () and not outsider.sees_outlets and not outsider.addable_articles().exists()
