"""Framing scores from human layers: hand-computed rates, caching, and the demo corpus's outlet ordering."""

import pytest
from django.core.management import call_command

from annotator.annotations.models import Adjudication, Layer, Span
from annotator.common.errors import ApplicationError
from annotator.projects.models import Label, Project
from annotator.scoring.models import ScoreCache
from annotator.scoring.selectors import ScoreQuery, framing_scores, outlet_comparison
from annotator.scoring.services import framing_scores_store, human_scores_refresh_stale
from tests.annotator.projects.factories import make_article, make_outlet, make_project


def gold(project, article, label, word):
    start = article.text.index(word)
    return Span.objects.create(
        project=project, article=article, layer=Layer.GOLD, label=label,
        start_char=start, end_char=start + len(word), text=word,
    )  # fmt: skip


@pytest.fixture
def tiny(db):
    a, b = make_outlet("Alpha"), make_outlet("Beta")
    arts = [
        make_article(text="one two three four five six seven eight nine ten", outlet=a),  # 10 tokens
        make_article(text="alpha beta gamma delta epsilon", outlet=a),  # 5 tokens
        make_article(text="w1 w2 w3 w4", outlet=b),  # 4 tokens
    ]
    project = make_project(articles=arts)
    label = Label.objects.get(project=project, name="loaded term")
    gold(project, arts[0], label, "three")
    gold(project, arts[0], label, "nine")
    gold(project, arts[2], label, "w2")
    # The curator found nothing in the second article: adjudicated, it counts as a zero, not as missing.
    Adjudication.objects.create(project=project, article=arts[1], status=Adjudication.Status.DONE)
    human_scores_refresh_stale(project=project)  # what the worker runs after these writes
    return project, a, b, arts


def test_gold_rates_match_hand_computation(tiny):
    project, a, b, _ = tiny
    rows = {
        r["outlet"]: r for r in framing_scores(project=project, query=ScoreQuery(label="loaded term", source="gold"))
    }
    # Alpha: 2 spans over 15 tokens; one of two articles has a span. Beta: 1 span over 4 tokens.
    assert rows[a.slug]["n_articles"] == 2 and rows[a.slug]["n_tokens"] == 15 and rows[a.slug]["n_spans"] == 2
    assert rows[a.slug]["rate_per_1k"] == pytest.approx(2 / 15 * 1000)
    assert rows[a.slug]["share_articles"] == pytest.approx(0.5)
    assert rows[b.slug]["rate_per_1k"] == pytest.approx(250.0)
    assert rows[a.slug]["rate_ci_low"] <= rows[a.slug]["rate_per_1k"] <= rows[a.slug]["rate_ci_high"]
    assert "bootstrap" in rows[a.slug]["method"] and "seed" in rows[a.slug]["method"]


def test_a_read_stores_nothing_and_recounts_nothing(tiny):
    project, a, _, arts = tiny
    query = ScoreQuery(label="loaded term", source="gold")
    first = framing_scores(project=project, query=query)
    assert not ScoreCache.objects.filter(project=project, key__startswith="scores:").exists()
    label = Label.objects.get(project=project, name="loaded term")
    gold(project, arts[1], label, "gamma")
    assert framing_scores(project=project, query=query) == first  # counted by the recount, not by the read
    assert human_scores_refresh_stale(project=project) == ["gold"]
    assert human_scores_refresh_stale(project=project) == []  # nothing changed since: nothing recounted
    changed = {r["outlet"]: r for r in framing_scores(project=project, query=query)}
    assert changed[a.slug]["n_spans"] == 3


def test_a_stored_table_is_read_back_while_its_counts_are_current(tiny):
    project, a, _, arts = tiny
    query = ScoreQuery(label="loaded term", source="gold")
    stored = framing_scores_store(project=project, query=query)
    assert ScoreCache.objects.filter(project=project, key__startswith="scores:").count() == 1
    ScoreCache.objects.filter(project=project, key__startswith="scores:").update(
        result={"rows": [{"marker": "from the cache"}]}
    )
    assert framing_scores(project=project, query=query) == [{"marker": "from the cache"}]
    assert framing_scores(project=project, query=query, use_cache=False) == stored
    gold(project, arts[1], Label.objects.get(project=project, name="loaded term"), "gamma")
    human_scores_refresh_stale(project=project)  # new counts: the stored table no longer matches
    assert {r["outlet"]: r for r in framing_scores(project=project, query=query)}[a.slug]["n_spans"] == 3


def test_every_human_write_announces_itself(tiny, monkeypatch):
    """Span saves, curation, assignments and codebook changes call the hook that queues the recount."""
    from annotator.annotations.curation import adjudication_set
    from annotator.projects import services as project_services

    project, _, _, arts = tiny
    announced: list[int] = []
    monkeypatch.setattr(project_services, "HUMAN_LAYERS_CHANGED_HOOKS", [announced.append])
    owner = project.created_by
    adjudication_set(project=project, article=arts[0], curator=owner, status=Adjudication.Status.DONE)
    project_services.label_create(project=project, name="new label", by=owner)
    assert announced == [project.pk, project.pk]


def test_bad_queries_are_refused_with_a_reason(tiny):
    project, *_ = tiny
    with pytest.raises(ApplicationError, match="label"):
        framing_scores(project=project, query=ScoreQuery(label="nope", source="gold"))
    with pytest.raises(ApplicationError, match="source"):
        framing_scores(project=project, query=ScoreQuery(label="loaded term", source="tarot"))
    with pytest.raises(ApplicationError, match="period"):
        framing_scores(project=project, query=ScoreQuery(label="loaded term", source="gold", period="decade"))
    with pytest.raises(ApplicationError, match="active model"):
        framing_scores(project=project, query=ScoreQuery(label="loaded term", source="model"))


def test_demo_corpus_ranks_outlets_by_their_invented_habits(db):
    call_command("load_demo", stdout=open("/dev/null", "w"))
    project = Project.objects.get(slug="demo-framing")
    human_scores_refresh_stale(project=project)
    rows = framing_scores(project=project, query=ScoreQuery(label="loaded term", source="gold"))
    rate = {r["outlet"]: r["rate_per_1k"] for r in rows}
    # The Herald's habit (terrorists, Takfiri, liberate) far outweighs the Courier's "regime"; the wire's
    # neutral style and the Ledger's actor labels (militants, insurgents) carry almost no loaded terms.
    assert rate["the-levant-herald"] > 2 * rate["coastal-courier"]
    assert rate["coastal-courier"] > 5 * max(rate["northern-ledger"], rate["wire-service-daily"])
    actors = {
        r["outlet"]: r["rate_per_1k"]
        for r in framing_scores(project=project, query=ScoreQuery(label="actor label", source="gold"))
    }
    assert actors["northern-ledger"] > actors["wire-service-daily"]
    diff = outlet_comparison(
        project=project, label="loaded term", source="gold", a="the-levant-herald", b="wire-service-daily"
    )
    assert diff["difference"] > 0 and diff["ci_low"] > 0
    assert diff["p_value"] < 0.05


def test_demo_term_choice_shows_each_outlets_name_for_the_armed_opposition(db):
    from annotator.scoring.selectors import term_choice

    call_command("load_demo", stdout=open("/dev/null", "w"))
    project = Project.objects.get(slug="demo-framing")
    rows = term_choice(project=project, concept_slug="armed-opposition")
    favourite = {}
    for row in rows:
        if row["share"] is not None and row["share"] > favourite.get(row["outlet"], ("", -1))[1]:
            favourite[row["outlet"]] = (row["variant"], row["share"])
    assert favourite["the-levant-herald"][0] == "terrorists"
    assert favourite["coastal-courier"][0] == "rebels"
    assert favourite["northern-ledger"][0] == "militants"
    assert favourite["wire-service-daily"][0] == "armed groups"
