"""The model source's corrected rates: per-outlet ratio when the version stored per-outlet CV counts, else pooled."""

from datetime import UTC, datetime

import pytest

from annotator.common.models import JobStatus
from annotator.projects.models import Label
from annotator.scoring.models import ArticleScore
from annotator.scoring.selectors import ScoreQuery, framing_scores, outlet_comparison, outlet_comparison_table
from annotator.training import services as training_services
from annotator.training.models import ModelVersion
from tests.annotator.projects.factories import make_article, make_outlet, make_project

LABEL = "loaded term"
# Cross-validation: outlet A's model predicted twice the gold spans, outlet B's predicted exactly the gold spans.
# Every article alike: each outlet's own ratio has no sampling variance, so the empirical-Bayes weight keeps it.
CV = {
    "a": {"gold": [50, 50, 50, 50], "predicted": [100, 100, 100, 100]},
    "b": {"gold": [100] * 4, "predicted": [100] * 4},
}
POOLED = {"tp_pred": 450, "n_pred": 800, "tp_gold": 450, "n_gold": 600}


def expected_factor(outlet: str) -> float:
    """The outlet's own ratio G_s / P_s, by hand from CV."""
    return sum(CV[outlet]["gold"]) / sum(CV[outlet]["predicted"])


@pytest.fixture
def scored(db):
    """Two outlets with model counts: A 4 spans in 10 tokens per article, B 2 spans in 10 tokens per article."""
    outlets = {"a": make_outlet("Outlet A"), "b": make_outlet("Outlet B")}
    articles = {
        key: [
            make_article(
                text=f"{key} story {i} " + "word " * 7, outlet=outlet, published_at=datetime(2020 + i, 3, 1, tzinfo=UTC)
            )
            for i in range(2)
        ]
        for key, outlet in outlets.items()
    }
    project = make_project(articles=[a for arts in articles.values() for a in arts])
    label = Label.objects.get(project=project, name=LABEL)

    def version_with(metrics: dict) -> ModelVersion:
        ModelVersion.objects.filter(project=project).update(is_active=False)
        number = ModelVersion.objects.filter(project=project).count() + 1
        version = ModelVersion.objects.create(
            project=project, number=number, status=JobStatus.SUCCEEDED, is_active=True, metrics=metrics
        )
        for key, arts in articles.items():
            for article in arts:
                ArticleScore.objects.create(
                    project=project, article=article, source=f"model:{version.pk}", model_version=version,
                    label=label, n_spans=4 if key == "a" else 2, n_tokens=10, score_sum=1.0,
                )  # fmt: skip
        return version

    return project, outlets, version_with


def by_slug(outlets) -> dict:
    """The per-outlet counts as training stores them: keyed by outlet slug."""
    return {LABEL: {outlets[key].slug: counts for key, counts in CV.items()}}


def rows_by_outlet(project, **query) -> dict[str, dict]:
    return {r["outlet"]: r for r in framing_scores(project=project, query=ScoreQuery(label=LABEL, **query))}


def test_each_outlet_is_corrected_with_its_own_cross_validated_ratio(scored):
    project, outlets, version_with = scored
    version_with({"grouped_kfold": {"partial": {LABEL: POOLED}, "per_outlet_spans": by_slug(outlets)}})
    rows = rows_by_outlet(project)
    a, b = rows[outlets["a"].slug], rows[outlets["b"].slug]
    assert a["rate_per_1k"] == pytest.approx(400.0) and b["rate_per_1k"] == pytest.approx(200.0)
    # A's count is halved, B's kept: each outlet's own ratio, not pulled towards the pooled 0.75
    assert a["corrected_rate_per_1k"] == pytest.approx(400.0 * 0.5)
    assert b["corrected_rate_per_1k"] == pytest.approx(200.0 * 1.0)
    for row in (a, b):
        assert row["corrected_rate_ci_low"] <= row["corrected_rate_per_1k"] <= row["corrected_rate_ci_high"]
        assert row["method"].endswith(
            "correction: per-outlet precision/recall ratio (empirical Bayes): own precision/recall ratio G_s/P_s "
            "(4 cross-validated articles)"
        )
        assert "cross-validated" not in (row["warning"] or "")  # (two articles: the small-group warning only)
    # Per period, every period of an outlet gets that outlet's ratio.
    for row in framing_scores(project=project, query=ScoreQuery(label=LABEL, period="year")):
        key = "a" if row["outlet"] == outlets["a"].slug else "b"
        assert row["corrected_rate_per_1k"] == pytest.approx(row["rate_per_1k"] * expected_factor(key))


def test_an_outlet_without_cross_validated_articles_is_labelled_pooled_in_every_row(scored):
    project, outlets, version_with = scored
    only_a = {LABEL: {outlets["a"].slug: CV["a"]}}
    version_with({"grouped_kfold": {"partial": {LABEL: POOLED}, "per_outlet_spans": only_a}})
    for period in ("all", "year"):
        rows = [r for r in framing_scores(project=project, query=ScoreQuery(label=LABEL, period=period))]
        b_rows = [r for r in rows if r["outlet"] == outlets["b"].slug]
        assert len(b_rows) == (1 if period == "all" else 2)
        for row in b_rows:
            # the pooled ratio of the cross-validated articles (here all of A's: 0.5), labelled as such
            assert row["corrected_rate_per_1k"] == pytest.approx(200.0 * 0.5)
            assert "pooled precision/recall ratio G/P (no cross-validated articles" in row["method"]
            assert "no cross-validated articles of this outlet" in row["warning"]
        for row in rows:
            if row["outlet"] == outlets["a"].slug:
                assert "cross-validated" not in (row["warning"] or "") and "own precision/recall ratio" in row["method"]


def test_a_version_without_per_outlet_counts_gets_the_pooled_ratio(scored):
    project, outlets, version_with = scored
    version_with({"grouped_kfold": {"partial": {LABEL: POOLED}}})
    precision, recall = 450 / 800, 450 / 600
    for row in rows_by_outlet(project).values():
        assert row["corrected_rate_per_1k"] == pytest.approx(row["rate_per_1k"] * precision / recall)
        assert row["method"].endswith("correction: pooled precision/recall ratio")


def test_comparisons_keep_the_pooled_ratio_and_say_so(scored):
    project, outlets, version_with = scored
    version_with({"grouped_kfold": {"partial": {LABEL: POOLED}, "per_outlet_spans": by_slug(outlets)}})
    diff = outlet_comparison(project=project, label=LABEL, source="model", a=outlets["a"].slug, b=outlets["b"].slug)
    assert diff["corrected_difference"] == pytest.approx((400.0 - 200.0) * 0.75)
    assert "correction: pooled precision/recall ratio (framing-score rates use the per-outlet" in diff["method"]
    [row] = outlet_comparison_table(project=project, label=LABEL, source="model")
    assert "correction: pooled precision/recall ratio (framing-score rates use" in row["method"]


def test_training_stores_each_cross_validated_articles_counts_by_outlet(db):
    from tests.annotator.training.synthetic import synthetic_project

    project, _ = synthetic_project()
    version = training_services.model_version_create(project=project)
    version = training_services.model_version_train(version_id=version.pk)
    assert version.status == JobStatus.SUCCEEDED, version.error
    kfold = version.metrics["grouped_kfold"]
    per_outlet = kfold["per_outlet_spans"]
    assert set(per_outlet[LABEL]) == {a.outlet.slug for a in project.articles.all()}
    for label, by_outlet in per_outlet.items():
        n_articles = sum(len(c["gold"]) for c in by_outlet.values())
        assert n_articles == version.n_articles
        assert sum(sum(c["gold"]) for c in by_outlet.values()) == kfold["partial"][label]["n_gold"]
        assert sum(sum(c["predicted"]) for c in by_outlet.values()) == kfold["partial"][label]["n_pred"]
