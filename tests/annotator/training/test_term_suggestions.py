"""Term suggestions: agreed spans → new terms, gold precision, outlet frequency, verification queues."""

import pytest

from annotator.annotations.models import Adjudication, Layer, Span
from annotator.common.errors import ApplicationError
from annotator.common.models import JobStatus
from annotator.projects.models import Assignment, Label, Role
from annotator.projects.services import membership_add
from annotator.training.models import LexiconTerm, ModelVersion, TermRule
from annotator.training.term_suggestions import term_suggestions, term_verification_send, verification_order
from ml.tokenise import count_tokens
from tests.annotator.projects.factories import (
    PASSWORD,
    make_article,
    make_outlet,
    make_project,
    make_suggestions,
    make_user,
)

T1 = "The regime forces shelled the town. The thugs fled."
T2 = "Regime officials met the thugs again."
T3 = "The regime said nothing about the talks."


def span(project, article, label, word, *, user=None, layer=Layer.ANNOTATOR, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = article.text.index(word, start + 1)
    return Span.objects.create(
        project=project, article=article, layer=layer, annotator=user, label=label, start_char=start,
        end_char=start + len(word), text=word,
    )  # fmt: skip


@pytest.fixture
def setup(db):
    a, b = make_outlet("Alpha"), make_outlet("Beta")
    a1, a2, a3 = make_article(text=T1, outlet=a), make_article(text=T2, outlet=a), make_article(text=T3, outlet=b)
    u1, u2, u3 = make_user(), make_user(), make_user()
    project = make_project(articles=[a1, a2, a3], annotators=[u1, u2, u3])
    loaded = Label.objects.get(project=project, name="loaded term")
    euph = Label.objects.get(project=project, name="euphemism")
    span(project, a1, loaded, "regime forces", user=u1)  # overlaps u2's "regime": they agree on "regime"
    span(project, a1, loaded, "regime", user=u2)
    span(project, a1, loaded, "thugs", user=u1)  # exact agreement, but "thugs" is in the lexicon already
    span(project, a1, loaded, "thugs", user=u2)
    span(project, a1, loaded, "shelled", user=u1)  # one annotator only
    span(project, a2, loaded, "thugs", user=u1)  # different labels: no agreement
    span(project, a2, euph, "thugs", user=u2)
    version = ModelVersion.objects.create(project=project, number=1, status=JobStatus.SUCCEEDED, is_active=True)
    LexiconTerm.objects.create(model_version=version, term="thugs", label=loaded, weight=2.0)
    # Gold: a1 adjudicated with "regime forces" (covers its "regime"); a3 adjudicated with nothing; a2 not.
    span(project, a1, loaded, "regime forces", layer=Layer.GOLD)
    Adjudication.objects.create(project=project, article=a1, status=Adjudication.Status.DONE)
    Adjudication.objects.create(project=project, article=a3, status=Adjudication.Status.DONE)
    return project, (a, b), (a1, a2, a3), (u1, u2, u3), version, loaded


def test_agreed_new_terms_with_gold_precision_and_frequency(setup):
    project, (a, b), (a1, a2, a3), _, _, _ = setup
    rows = term_suggestions(project=project)
    assert [(r["term"], r["label"]) for r in rows] == [("regime", "loaded term")]
    row = rows[0]
    assert row["n_annotators"] == 2 and row["n_agreements"] == 1 and row["n_articles"] == 1
    assert row["occurrences"] == 3  # "Regime" in a2 too: case-insensitive, whole words
    assert (row["gold_covered"], row["gold_occurrences"]) == (1, 2) and row["gold_precision"] == pytest.approx(0.5)
    tokens_a = count_tokens(T1) + count_tokens(T2)
    assert row["frequency"][a.slug] == pytest.approx(round(1000 * 2 / tokens_a, 4))
    assert row["frequency"][b.slug] == pytest.approx(round(1000 / count_tokens(T3), 4))
    assert "regime forces" in row["examples"][0]


def test_rules_thresholds_and_bans(setup):
    project, *_, loaded = setup
    assert term_suggestions(project=project, match="exact") == []  # "regime forces" vs "regime" is no exact match
    assert term_suggestions(project=project, min_annotators=3) == []
    TermRule.objects.create(project=project, term="Regime", label=loaded, action=TermRule.Action.BAN)
    assert term_suggestions(project=project) == []
    ModelVersion.objects.filter(project=project).update(is_active=False)  # no model: "thugs" is new again
    assert {r["term"] for r in term_suggestions(project=project)} == {"thugs"}
    with pytest.raises(ApplicationError, match="match rule"):
        term_suggestions(project=project, match="fuzzy")
    with pytest.raises(ApplicationError, match="at least 2"):
        term_suggestions(project=project, min_annotators=1)


def test_verification_queues_most_uncertain_first(setup):
    project, _, (a1, a2, a3), (u1, u2, u3), version, loaded = setup
    for article, word, score in ((a3, "regime", 0.55), (a2, "Regime", 0.9)):  # |0.55-0.5| = 0.05, then 0.4
        start = article.text.index(word)
        make_suggestions(version=version, article=article, spans=[(start, start + len(word), loaded, score)])
    order = verification_order(project=project, term="regime")
    assert [r["article_id"] for r in order] == [a3.pk, a2.pk, a1.pk]
    assert order[0]["uncertainty"] == pytest.approx(0.05) and order[2]["uncertainty"] is None
    owner = project.created_by
    result = term_verification_send(project=project, by=owner, term="Regime", label="loaded term", annotators=[u3])
    assert result["queued"] == {u3.username: 3} and result["term"] == "regime"
    queue = list(Assignment.objects.filter(project=project, annotator=u3).order_by("position"))
    assert [x.article_id for x in queue] == [a3.pk, a2.pk, a1.pk]
    again = term_verification_send(project=project, by=owner, term="regime", label="loaded term", annotators=[u3])
    assert again["queued"] == {u3.username: 0}  # already queued: nothing added twice


def test_without_model_scores_fewest_annotations_first(setup):
    project, _, (a1, a2, a3), (u1, u2, u3), _, _ = setup
    ModelVersion.objects.filter(project=project).update(is_active=False)
    # annotator spans: a3 none, a2 two, a1 five
    assert [r["article_id"] for r in verification_order(project=project, term="regime")] == [a3.pk, a2.pk, a1.pk]
    result = term_verification_send(
        project=project, by=project.created_by, term="regime", label="loaded term", annotators=[u1, u3], limit=1
    )
    assert result["articles"] == [a3.pk] and result["queued"] == {u1.username: 1, u3.username: 1}


def test_verification_refuses_bad_requests(setup):
    project, _, _, (u1, _, u3), _, _ = setup
    with pytest.raises(ApplicationError, match="Only curators") as err:
        term_verification_send(project=project, by=u1, term="regime", label="loaded term", annotators=[u3])
    assert err.value.status_code == 403
    owner = project.created_by
    with pytest.raises(ApplicationError, match="does not occur"):
        term_verification_send(project=project, by=owner, term="ceasefire", label="loaded term", annotators=[u3])
    with pytest.raises(ApplicationError, match="Unknown label"):
        term_verification_send(project=project, by=owner, term="regime", label="nope", annotators=[u3])
    with pytest.raises(ApplicationError, match="at least one annotator"):
        term_verification_send(project=project, by=owner, term="regime", label="loaded term", annotators=[])
    outsider = make_user()
    with pytest.raises(ApplicationError, match="cannot annotate"):
        term_verification_send(project=project, by=owner, term="regime", label="loaded term", annotators=[outsider])


def test_api_and_page(setup, client):
    project, _, (a1, a2, a3), (u1, u2, u3), _, _ = setup
    curator = make_user()
    membership_add(project=project, user=curator, role=Role.CURATOR, by=project.created_by)
    client.login(username=curator.username, password=PASSWORD)
    api = f"/api/v1/projects/{project.slug}/term-suggestions/"
    rows = client.get(api).json()
    assert [r["term"] for r in rows] == ["regime"]
    assert client.get(api, {"match": "fuzzy"}).status_code == 400
    sent = client.post(api + "verify/", {"term": "regime", "label": "loaded term", "annotators": [u3.username]},
                       content_type="application/json")  # fmt: skip
    assert sent.status_code == 201 and sent.json()["queued"] == {u3.username: 3}
    bad = client.post(api + "verify/", {"term": "regime", "label": "loaded term", "annotators": ["ghost"]},
                      content_type="application/json")  # fmt: skip
    assert bad.status_code == 400 and "ghost" in str(bad.json())
    page = client.get(f"/projects/{project.slug}/term-suggestions/")
    assert page.status_code == 200 and b'data-term="regime"' in page.content
    posted = client.post(
        f"/projects/{project.slug}/term-suggestions/",
        {"term": "regime", "label": "loaded term", "annotators": [str(u2.pk)], "limit": "2"},
        follow=True,
    )
    assert b"sent for verification: 2 articles" in posted.content
    assert Assignment.objects.filter(project=project, annotator=u2).count() == 2
    client.logout()
    client.login(username=u1.username, password=PASSWORD)  # an annotator
    assert client.get(api).status_code == 403
    assert client.get(f"/projects/{project.slug}/term-suggestions/").status_code == 404
