"""Code scores: shares per outlet and period from the model (corrected) and human layers, comparisons, the API."""

import csv
import io

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotator.annotations.answers import AnswerRow, answers_import
from annotator.common.errors import ApplicationError
from annotator.projects.models import Label, Role
from annotator.projects.questions import question_create
from annotator.projects.services import membership_add
from annotator.scoring import services
from annotator.scoring.code_scores import CodeScoreQuery, code_score_comparison, code_scores
from annotator.scoring.models import AnswerCount, ScoreCache
from annotator.scoring.selectors import ScoreQuery, framing_scores_key
from ml import artefact
from ml.codes import Misclassification, answer_shares
from tests.annotator.projects.factories import make_user
from tests.annotator.scoring.test_answer_counts import trained
from tests.annotator.scoring.test_score_chunk_rows import score_in_process
from tests.annotator.training.synthetic import (
    add_sentence_questions,
    add_tone_question,
    sentence_corpus,
    synthetic_project,
    tone_of,
)
from tests.conftest import client_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(django_capture_on_commit_callbacks):
    """A project whose `tone` answers three quarters of the articles have in gold; trained, active and scored."""
    project, articles = synthetic_project(n_per_outlet=14, seed=3)
    add_tone_question(project, [a for i, a in enumerate(articles) if i % 4])
    version = trained(project)
    score_in_process(project, chunk_size=20, on_commit=django_capture_on_commit_callbacks)
    return project, articles, version


def test_model_shares_are_the_ml_corrected_shares_of_the_stored_answers(scored):
    project, articles, version = scored
    rows = code_scores(project=project, query=CodeScoreQuery(question="tone"))
    answers = version.metrics["codes"]["tone"]["answers"]
    assert {(r["outlet"], r["answer"]) for r in rows} == {(a.outlet.slug, x) for a in articles for x in answers}
    # the same figures from the units, built independently: each article's stored answer and fold; each fold
    # corrected with the misclassification of the cross-fitted units of the other folds, per outlet
    stored = {
        a: (f, x)
        for a, f, x in AnswerCount.objects.filter(model_version=version).values_list("article_id", "fold", "answer")
    }
    outlet = {a.pk: a.outlet.slug for a in articles}
    units = artefact.load_code_units(version.artefact_path, "tone")
    truth = {a.pk: tone_of(a.text) for a in articles}
    cf_ids, cf_fold, cf_pred = units["article_id"].tolist(), units["fold"].tolist(), units["predicted"].tolist()

    def errors_without(fold):
        keep = [i for i, f in enumerate(cf_fold) if f != fold]
        return Misclassification.from_units(
            answers=answers, true=[truth[cf_ids[i]] for i in keep], predicted=[answers[cf_pred[i]] for i in keep],
            strata=[outlet[cf_ids[i]] for i in keep],
        )  # fmt: skip

    ids = sorted(stored)
    expected = answer_shares(
        groups=[(outlet[a], "") for a in ids], articles=ids, predicted=[stored[a][1] for a in ids], answers=answers,
        errors={f: errors_without(f) for f in {-1, 0, 1, 2, 3, 4}}, folds=[stored[a][0] for a in ids],
        strata=[outlet[a] for a in ids], n_resamples=project.bootstrap_resamples, seed=project.random_seed,
    )  # fmt: skip
    by_key = {(r["outlet"], r["answer"]): r for r in rows}
    for e in expected:
        row = by_key[(e.group[0], e.answer)]
        assert (row["n_units"], row["n_with_answer"], row["n_articles"]) == (e.n_units, e.n_with_answer, e.n_articles)
        assert row["share"] == pytest.approx(e.share) and row["corrected_share"] == pytest.approx(e.corrected_share)
        assert (row["corrected_ci_low"], row["corrected_ci_high"]) == pytest.approx(
            (e.corrected_ci_low, e.corrected_ci_high)
        )
        assert row["share_ci_low"] <= row["share"] <= row["share_ci_high"]
    assert all(r["model_version"] == version.number and "misclassification" in r["method"] for r in rows)
    for o in {a.outlet.slug for a in articles}:
        assert sum(by_key[(o, x)]["corrected_share"] for x in answers) == pytest.approx(1.0)


def test_gold_and_annotator_sources_count_the_layers_answers(scored):
    project, articles, _version = scored
    gold = {(r["outlet"], r["answer"]): r for r in code_scores(project=project, query=CodeScoreQuery("tone", "gold"))}
    answered = [a for i, a in enumerate(articles) if i % 4]
    for o in {a.outlet.slug for a in answered}:
        mine = [a for a in answered if a.outlet.slug == o]
        hostile = sum(tone_of(a.text) == "hostile" for a in mine)
        row = gold[(o, "hostile")]
        assert (row["n_units"], row["n_with_answer"]) == (len(mine), hostile)
        assert row["share"] == pytest.approx(hostile / len(mine)) and row["corrected_share"] is None
    ann = make_user("coder")
    membership_add(project=project, user=ann, role=Role.ANNOTATOR, by=project.memberships.get(role="owner").user)
    result = answers_import(
        project=project,
        rows=[AnswerRow(article_id=a.pk, question="tone", value="neutral", annotator_id=ann.pk) for a in articles[:5]],
    )
    assert not result.errors
    rows = code_scores(project=project, query=CodeScoreQuery("tone", "annotator:coder"))
    assert sum(r["n_with_answer"] for r in rows if r["answer"] == "neutral") == 5
    assert sum(r["n_with_answer"] for r in rows if r["answer"] == "hostile") == 0


def test_periods_split_the_articles_by_publication_month(scored):
    project, articles, _version = scored
    from datetime import UTC, datetime

    from annotator.corpus.models import Article

    for i, a in enumerate(articles):
        Article.objects.filter(pk=a.pk).update(published_at=datetime(2024, 1 + i % 3, 10, tzinfo=UTC))
    rows = code_scores(project=project, query=CodeScoreQuery("tone", period="month"))
    assert {r["period_start"] for r in rows} == {"2024-01-01", "2024-02-01", "2024-03-01"}
    assert sum(r["n_units"] for r in rows if r["answer"] == "hostile") == len(articles)


def test_comparisons_adjust_for_every_pair_and_correct_the_difference(scored):
    project, articles, _version = scored
    outlets = sorted({a.outlet.slug for a in articles})
    table = code_score_comparison(project=project, question="tone", answer="hostile")
    assert len(table) == 3 and {(r["group_a"], r["group_b"]) for r in table} == {
        (outlets[0], outlets[1]), (outlets[0], outlets[2]), (outlets[1], outlets[2])
    }  # fmt: skip
    shares = {
        r["outlet"]: r for r in code_scores(project=project, query=CodeScoreQuery("tone")) if r["answer"] == "hostile"
    }
    for r in table:
        assert r["difference"] == pytest.approx(shares[r["group_a"]]["share"] - shares[r["group_b"]]["share"])
        assert r["ci_low"] <= r["difference"] <= r["ci_high"]
        assert r["p_value"] <= r["p_holm"] + 1e-12 and r["p_bh"] <= r["p_holm"] + 1e-12
        assert r["corrected_ci_low"] <= r["corrected_difference"] <= r["corrected_ci_high"]
    one = code_score_comparison(project=project, question="tone", a=outlets[0])
    assert {(r["group_b"], r["answer"]) for r in one} == {("(rest)", "hostile"), ("(rest)", "neutral")}
    assert one[0]["corrected_difference"] is not None
    with pytest.raises(ApplicationError, match="Unknown answer"):
        code_score_comparison(project=project, question="tone", answer="furious")
    # within one month: the month's articles only, every pair again
    from datetime import UTC, datetime

    from annotator.corpus.models import Article

    for i, a in enumerate(articles):
        Article.objects.filter(pk=a.pk).update(published_at=datetime(2024, 1 + i % 2, 10, tzinfo=UTC))
    months = code_scores(project=project, query=CodeScoreQuery("tone", period="month"))
    february = {r["outlet"]: r for r in months if r["period_start"] == "2024-02-01" and r["answer"] == "hostile"}
    within = code_score_comparison(project=project, question="tone", answer="hostile", period="month",
                                   period_start="2024-02-01")  # fmt: skip
    assert {r["period_start"] for r in within} == {"2024-02-01"} and len(within) == len(february) * (
        len(february) - 1
    ) / 2
    for r in within:
        assert r["difference"] == pytest.approx(february[r["group_a"]]["share"] - february[r["group_b"]]["share"])
        assert r["n_articles_a"] == february[r["group_a"]]["n_articles"]
    with pytest.raises(ApplicationError, match="Name the period"):
        code_score_comparison(project=project, question="tone", period="month", period_start="1999-01-01")


def test_sentence_multiple_choice_and_scale_questions(django_capture_on_commit_callbacks):
    project, articles = sentence_corpus(n_per_outlet=10, seed=5)
    add_sentence_questions(project, articles)
    question_create(
        project=project, name="intensity", prompt="How loaded?", kind="scale",
        options=[{"value": "low", "numeric": 0}, {"value": "mid", "numeric": 1}, {"value": "high", "numeric": 2}],
    )  # fmt: skip
    answers_import(
        project=project,
        rows=[
            AnswerRow(
                article_id=a.pk,
                question="intensity",
                layer="gold",
                value=["low", "mid", "high"][min(2, a.text.count("terrorists") + a.text.count("regime"))],
            )
            for a in articles
        ],  # fmt: skip
    )
    trained(project)
    score_in_process(project, chunk_size=9, on_commit=django_capture_on_commit_callbacks)
    from annotator.annotations.selectors import article_sentences

    bias = code_scores(project=project, query=CodeScoreQuery("bias"))
    for o in {a.outlet.slug for a in articles}:
        sentences = sum(len(article_sentences(article=a)) for a in articles if a.outlet.slug == o)
        rows = [r for r in bias if r["outlet"] == o]
        assert {r["n_units"] for r in rows} == {sentences}
        assert sum(r["n_with_answer"] for r in rows) == sentences
    frames = code_scores(project=project, query=CodeScoreQuery("frames"))
    assert {r["answer"] for r in frames} <= {"security", "economy", "other"}
    assert all(r["n_units"] == 10 and r["corrected_share"] is not None for r in frames)
    scale = code_scores(project=project, query=CodeScoreQuery("intensity", "gold"))
    for o in {r["outlet"] for r in scale}:
        rows = [r for r in scale if r["outlet"] == o]
        mean = sum(r["share"] * {"low": 0, "mid": 1, "high": 2}[r["answer"]] for r in rows)
        assert all(r["mean"] == pytest.approx(mean) for r in rows)
        assert rows[0]["mean_ci_low"] <= rows[0]["mean"] <= rows[0]["mean_ci_high"]


def test_the_api_answers_json_and_csv_and_reads_never_write(scored):
    project, articles, version = scored
    owner = project.memberships.get(role="owner").user
    client = client_login(owner)
    url = f"/api/v1/projects/{project.slug}/code-scores/"
    with CaptureQueriesContext(connection) as queries:
        rows = client.get(url, {"question": "tone"}).json()
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert not [w for w in writes if "scoring_" in w or "score" in w], writes
    assert set(rows[0]) >= {
        "outlet", "question", "answer", "period", "period_start", "n_units", "n_with_answer", "share", "share_ci_low",
        "share_ci_high", "corrected_share", "corrected_ci_low", "corrected_ci_high", "model_version", "method",
    }  # fmt: skip
    text = client.get(url, {"question": "tone", "format": "csv"}).content.decode()
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == len(rows) and float(table[0]["share"]) == pytest.approx(rows[0]["share"])
    compare = client.get(url + "compare/", {"question": "tone"}).json()
    assert len(compare) == 6 and {"p_holm", "p_bh", "corrected_difference"} <= set(compare[0])
    assert client.get(url, {"question": "nope"}).status_code == 400
    question_create(project=project, name="note", prompt="Note", kind="text")
    response = client.get(url, {"question": "note"})
    assert response.status_code == 400 and "not scored" in response.json()["detail"]
    # the scoring job stores the tables; a read then returns them as stored (and still writes nothing)
    assert services.score_cache_warm(project_id=project.pk) >= 2
    assert ScoreCache.objects.filter(project=project, key=CodeScoreQuery("tone").key()).exists()
    for period in ("all", "month"):  # the dashboard's framing charts as it opens, for every label
        for label in Label.objects.filter(project=project).values_list("name", flat=True):
            query = ScoreQuery(label=label, period=period, syndication=project.syndication_rule)
            assert ScoreCache.objects.filter(project=project, key=framing_scores_key(query)).exists(), (label, period)
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url, {"question": "tone"}).json()
    assert again == rows
    assert not [q for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]


def test_outlet_blind_annotators_and_blind_projects_follow_the_rule(scored):
    project, _articles, _version = scored
    owner = project.memberships.get(role="owner").user
    annotator, other = make_user("ann-a"), make_user("ann-b")
    for user in (annotator, other):
        membership_add(project=project, user=user, role=Role.ANNOTATOR, by=owner)
    url = f"/api/v1/projects/{project.slug}/code-scores/"
    project.blind = True
    project.save()
    assert client_login(annotator).get(url, {"question": "tone", "source": "annotator:ann-b"}).status_code == 403
    assert client_login(annotator).get(url, {"question": "tone"}).status_code == 200
    project.outlet_blind = True
    project.save()
    assert client_login(annotator).get(url, {"question": "tone"}).status_code == 403
    assert client_login(owner).get(url, {"question": "tone", "source": "gold"}).status_code == 200
    assert np.isfinite([r["share"] for r in client_login(owner).get(url, {"question": "tone"}).json()]).all()


def test_attribute_rates_break_span_rates_down_by_value():
    from annotator.annotations.models import Layer, Span
    from annotator.projects.models import Label
    from annotator.scoring.code_scores import attribute_rates

    project, articles = synthetic_project(n_per_outlet=6, seed=8)
    label = Label.objects.get(project=project, name="loaded term")
    question_create(
        project=project, name="target", prompt="Aimed at?", scope="span", label=label,
        options=[{"value": "government"}, {"value": "opposition"}],
    )  # fmt: skip
    spans = list(Span.objects.filter(project=project, layer=Layer.GOLD).order_by("pk"))
    rows = [
        AnswerRow(article_id=s.article_id, question="target", layer="gold", span_id=s.pk,
                  value="opposition" if s.text.lower() in ("terrorists", "takfiri") else "government")
        for s in spans[1:]
    ]  # fmt: skip
    assert not answers_import(project=project, rows=rows).errors
    table = attribute_rates(project=project, attribute="target", source="gold")
    by_key = {(r["outlet"], r["value"]): r for r in table}
    for slug in {a.outlet.slug for a in articles}:
        mine = [s for s in spans if s.article.outlet.slug == slug]
        tokens = sum(a.n_tokens for a in articles if a.outlet.slug == slug)
        opposition = sum(s.text.lower() in ("terrorists", "takfiri") for s in mine if s.pk != spans[0].pk)
        row = by_key[(slug, "opposition")]
        assert (row["n_spans"], row["n_tokens"]) == (opposition, tokens)
        assert row["rate_per_1k"] == pytest.approx(1000 * opposition / tokens)
        assert row["rate_ci_low"] <= row["rate_per_1k"] <= row["rate_ci_high"]
        total = sum(by_key[(slug, v)]["n_spans"] for v in ("government", "opposition", "(no answer)"))
        assert total == len(mine)
    assert sum(r["n_spans"] for r in table if r["value"] == "(no answer)") == 1
    with pytest.raises(ApplicationError, match="does not predict attributes"):
        from annotator.training.models import ModelVersion

        ModelVersion.objects.create(project=project, number=1, status="succeeded", is_active=True)
        attribute_rates(project=project, attribute="target", source="model")
