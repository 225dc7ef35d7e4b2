"""Scoring API: framing scores (hand-computed gold rates), CSV for pandas, comparisons, term choice, distinctive
terms, examples in context, scoring runs and jobs, and who may see what."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime

import pandas as pd
import pytest

from annotator.annotations.models import Layer, Span
from annotator.common.models import Job, JobStatus
from annotator.projects.models import Label, Role
from annotator.projects.services import membership_add
from annotator.scoring.models import ArticleScore, Concept
from annotator.scoring.services import human_scores_refresh_stale
from annotator.training.models import ModelVersion
from ml.tokenise import count_tokens
from tests.annotator.projects.factories import make_article, make_outlet, make_project, make_user
from tests.conftest import client_login

pytestmark = pytest.mark.django_db
API = "/api/v1/projects"

# Per outlet: (text, published, words marked "loaded term" in the gold layer).
CORPUS = {
    "Alpha": [
        ("The terrorists attacked the town and the regime replied with force today.", "2024-01-10", ["terrorists", "regime"]),
        ("Rebels held the bridge while the terrorists fled across the river.", "2024-02-03", ["terrorists"]),
    ],
    "Beta": [
        ("Rebels and militants crossed the border near the old town at night.", "2024-01-15", ["militants"]),
        ("The rebels negotiated a ceasefire with local elders on Tuesday.", "2024-02-20", ["negotiated"]),
    ],
    "Gamma": [
        ("Officials said the rebels and the terrorists were one and the same group, the regime added.", "2024-01-20",
         ["rebels", "terrorists", "regime"]),
    ],
}  # fmt: skip


@pytest.fixture
def world():
    owner, viewer, annotator, curator = make_user(), make_user(), make_user(), make_user()
    outlets, articles = {}, {}
    for name, docs in CORPUS.items():
        outlets[name] = make_outlet(name)
        articles[name] = [
            make_article(
                text=text,
                title=f"{name} {i}",
                outlet=outlets[name],
                published_at=datetime.fromisoformat(day).replace(tzinfo=UTC),
            )
            for i, (text, day, _) in enumerate(docs)
        ]
    project = make_project(
        owner=owner, articles=[a for arts in articles.values() for a in arts], annotators=[annotator]
    )
    project.bootstrap_resamples = 200
    project.save()
    membership_add(project=project, user=viewer, role=Role.VIEWER, by=owner)
    membership_add(project=project, user=curator, role=Role.CURATOR, by=owner)
    label = Label.objects.get(project=project, name="loaded term")
    for name, docs in CORPUS.items():
        for article, (text, _, words) in zip(articles[name], docs, strict=True):
            for word in words:
                start = text.index(word)
                Span.objects.create(
                    project=project, article=article, layer=Layer.GOLD, label=label,
                    start_char=start, end_char=start + len(word), text=word,
                )  # fmt: skip
    human_scores_refresh_stale(project=project)  # the recount the worker runs after spans are written
    return {
        "project": project, "owner": owner, "viewer": viewer, "annotator": annotator, "curator": curator,
        "outlets": outlets, "articles": articles, "label": label,
    }  # fmt: skip


def expected_rate(name: str) -> tuple[int, int, float]:
    tokens = sum(count_tokens(text) for text, _, _ in CORPUS[name])
    spans = sum(len(words) for _, _, words in CORPUS[name])
    return spans, tokens, spans / tokens * 1000


def scores_url(w, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"label": "loaded term", "source": "gold", **params}.items())
    return f"{API}/{w['project'].slug}/framing-scores/?{query}"


class TestFramingScores:
    def test_gold_rates_per_outlet_are_spans_per_thousand_tokens(self, world):
        rows = client_login(world["viewer"]).get(scores_url(world)).json()
        by_outlet = {r["outlet"]: r for r in rows}
        assert set(by_outlet) == {o.slug for o in world["outlets"].values()}
        for name, outlet in world["outlets"].items():
            row = by_outlet[outlet.slug]
            spans, tokens, rate = expected_rate(name)
            assert (row["n_articles"], row["n_tokens"], row["n_spans"]) == (len(CORPUS[name]), tokens, spans)
            assert row["rate_per_1k"] == pytest.approx(rate)
            assert row["rate_ci_low"] <= row["rate_per_1k"] <= row["rate_ci_high"]
            assert row["share_articles"] == pytest.approx(1.0)  # every article has at least one gold span
            assert row["source"] == "gold" and row["label"] == "loaded term" and row["model_version"] is None
            assert row["corrected_rate_per_1k"] is None
            assert "bootstrap" in row["method"] and "200 resamples" in row["method"]

    def test_a_label_without_spans_scores_zero(self, world):
        rows = client_login(world["owner"]).get(scores_url(world, label="euphemism")).json()
        assert len(rows) == 3 and all(r["rate_per_1k"] == 0 and r["n_spans"] == 0 for r in rows)

    def test_monthly_rows_add_up_to_the_totals(self, world):
        rows = client_login(world["viewer"]).get(scores_url(world, period="month")).json()
        alpha = world["outlets"]["Alpha"].slug
        months = sorted((r["period_start"][:7], r["n_spans"]) for r in rows if r["outlet"] == alpha)
        assert months == [("2024-01", 2), ("2024-02", 1)]
        assert sum(r["n_spans"] for r in rows) == sum(expected_rate(n)[0] for n in CORPUS)

    def test_outlet_filter(self, world):
        beta = world["outlets"]["Beta"].slug
        rows = client_login(world["viewer"]).get(scores_url(world, outlet=beta)).json()
        assert [r["outlet"] for r in rows] == [beta]

    def test_exclude_wire_drops_wire_copies(self, world):
        alpha_first = world["articles"]["Alpha"][0]
        alpha_first.is_wire_copy = True
        alpha_first.save()
        rows = client_login(world["viewer"]).get(scores_url(world, syndication="exclude_wire")).json()
        alpha = next(r for r in rows if r["outlet"] == world["outlets"]["Alpha"].slug)
        text = CORPUS["Alpha"][1][0]
        assert (alpha["n_articles"], alpha["n_spans"]) == (1, 1)
        assert alpha["rate_per_1k"] == pytest.approx(1000 / count_tokens(text))

    def test_a_new_gold_span_counts_once_the_recount_ran(self, world):
        client = client_login(world["viewer"])
        beta = world["outlets"]["Beta"].slug
        before = {r["outlet"]: r for r in client.get(scores_url(world)).json()}[beta]
        article = world["articles"]["Beta"][0]
        start = article.text.index("border")
        Span.objects.create(
            project=world["project"], article=article, layer=Layer.GOLD, label=world["label"],
            start_char=start, end_char=start + 6, text="border",
        )  # fmt: skip
        assert {r["outlet"]: r for r in client.get(scores_url(world)).json()}[beta] == before  # a read never recounts
        assert human_scores_refresh_stale(project=world["project"]) == ["gold"]
        after = {r["outlet"]: r for r in client.get(scores_url(world)).json()}[beta]
        assert after["n_spans"] == before["n_spans"] + 1
        assert after["rate_per_1k"] == pytest.approx((before["n_spans"] + 1) / before["n_tokens"] * 1000)

    def test_csv_reads_with_pandas_as_is_both_ways(self, world):
        client = client_login(world["viewer"])
        as_json = client.get(scores_url(world)).json()
        for response in (
            client.get(scores_url(world, format="csv")),
            client.get(scores_url(world), HTTP_ACCEPT="text/csv"),
        ):
            assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
            frame = pd.read_csv(io.BytesIO(response.content))
            assert list(frame.columns) == list(as_json[0])
            assert len(frame) == len(as_json)
            by_outlet = frame.set_index("outlet")
            for row in as_json:
                assert by_outlet.loc[row["outlet"], "rate_per_1k"] == pytest.approx(row["rate_per_1k"])
                assert by_outlet.loc[row["outlet"], "n_tokens"] == row["n_tokens"]

    def test_model_source_has_corrected_rates(self, world):
        project, label = world["project"], world["label"]
        counts = {"tp_pred": 8, "n_pred": 10, "tp_gold": 8, "n_gold": 16, "precision": 0.8, "recall": 0.5, "f1": 0.6}
        version = ModelVersion.objects.create(
            project=project, number=1, status=JobStatus.SUCCEEDED, is_active=True,
            metrics={"grouped_kfold": {"partial": {label.name: counts}}},
        )  # fmt: skip
        for arts in world["articles"].values():
            for article in arts:
                ArticleScore.objects.create(
                    project=project, article=article, source=f"model:{version.pk}", model_version=version,
                    label=label, n_spans=2, n_tokens=article.n_tokens, score_sum=1.5,
                )  # fmt: skip
        rows = client_login(world["viewer"]).get(scores_url(world, source="model")).json()
        assert len(rows) == 3
        for row in rows:
            assert row["model_version"] == 1 and row["source"] == "model"
            assert row["rate_per_1k"] == pytest.approx(row["n_spans"] / row["n_tokens"] * 1000)
            # precision 0.8, recall 0.5: the corrected rate is rate * 0.8 / 0.5
            assert row["corrected_rate_per_1k"] == pytest.approx(row["rate_per_1k"] * 0.8 / 0.5)
            assert row["corrected_rate_ci_low"] <= row["corrected_rate_per_1k"] <= row["corrected_rate_ci_high"]


class TestComparisons:
    def test_a_vs_b_difference_is_the_difference_of_rates(self, world):
        o = {k: v.slug for k, v in world["outlets"].items()}
        url = f"{API}/{world['project'].slug}/framing-scores/compare/?label=loaded term&source=gold&a={o['Alpha']}&b={o['Beta']}"
        [row] = client_login(world["viewer"]).get(url).json()
        assert (row["group_a"], row["group_b"]) == (o["Alpha"], o["Beta"])
        assert row["difference"] == pytest.approx(expected_rate("Alpha")[2] - expected_rate("Beta")[2])
        assert 0 < row["p_value"] <= 1 and row["ci_low"] <= row["difference"] <= row["ci_high"]

    def test_a_vs_rest(self, world):
        gamma = world["outlets"]["Gamma"].slug
        url = f"{API}/{world['project'].slug}/framing-scores/compare/?label=loaded term&source=gold&a={gamma}"
        [row] = client_login(world["viewer"]).get(url).json()
        rest_spans = expected_rate("Alpha")[0] + expected_rate("Beta")[0]
        rest_tokens = expected_rate("Alpha")[1] + expected_rate("Beta")[1]
        assert row["rate_b"] == pytest.approx(rest_spans / rest_tokens * 1000)

    def test_pairwise_table_has_every_pair_with_adjusted_p_values(self, world):
        url = f"{API}/{world['project'].slug}/framing-scores/compare/?label=loaded term&source=gold"
        rows = client_login(world["viewer"]).get(url).json()
        assert len(rows) == 3
        slugs = sorted(o.slug for o in world["outlets"].values())
        expected_pairs = {frozenset(pair) for pair in itertools.combinations(slugs, 2)}
        assert {frozenset((r["group_a"], r["group_b"])) for r in rows} == expected_pairs
        for row in rows:
            eps = 1e-12  # the adjusted p-values are products/minima of floats: allow rounding in the last digit
            assert row["p_value"] <= row["p_bh"] + eps and row["p_bh"] <= row["p_holm"] + eps and row["p_holm"] <= 1
        csv = client_login(world["viewer"]).get(url + "&format=csv")
        frame = pd.read_csv(io.BytesIO(csv.content))
        assert {"p_value", "p_holm", "p_bh", "difference"} <= set(frame.columns) and len(frame) == 3


def concept_create(world, payload: dict, *, as_user: str = "curator"):
    return client_login(world[as_user]).post(
        f"{API}/{world['project'].slug}/concepts/create/", payload, content_type="application/json"
    )


class TestTermChoiceAndDistinctiveTerms:
    def test_concept_create_then_term_choice_shares(self, world):
        slug = world["project"].slug
        payload = {
            "name": "Armed opposition", "slug": "armed-opposition",
            "variants": [{"name": "terrorists", "terms": ["terrorist", "terrorists"]}, {"name": "rebels", "terms": ["rebel", "rebels"]}],
        }  # fmt: skip
        response = concept_create(world, payload)
        assert response.status_code == 201, response.content
        assert Concept.objects.filter(project=world["project"], slug="armed-opposition").exists()
        rows = client_login(world["viewer"]).get(f"{API}/{slug}/term-choice/?concept=armed-opposition").json()
        alpha = {r["variant"]: r for r in rows if r["outlet"] == world["outlets"]["Alpha"].slug}
        # Alpha: "terrorists" twice, "Rebels" once.
        assert (alpha["terrorists"]["count"], alpha["rebels"]["count"]) == (2, 1)
        assert alpha["terrorists"]["share"] == pytest.approx(2 / 3)
        listed = client_login(world["viewer"]).get(f"{API}/{slug}/concepts/").json()
        assert [c["slug"] for c in listed] == ["armed-opposition"]

    def test_a_term_written_twice_in_a_variant_counts_once(self, world):
        slug = world["project"].slug
        payload = {
            "name": "Armed opposition", "slug": "twice",
            "variants": [{"name": "terrorists", "terms": ["terrorists", "Terrorists", "terrorists "]}, {"name": "rebels", "terms": ["rebels", "REBELS"]}],
        }  # fmt: skip
        response = concept_create(world, payload)
        assert response.status_code == 201, response.content
        rows = client_login(world["viewer"]).get(f"{API}/{slug}/term-choice/?concept=twice").json()
        alpha = {r["variant"]: r for r in rows if r["outlet"] == world["outlets"]["Alpha"].slug}
        assert (alpha["terrorists"]["count"], alpha["rebels"]["count"]) == (2, 1)

    def test_a_term_in_two_variants_is_refused(self, world):
        payload = {
            "name": "Armed opposition", "slug": "shared",
            "variants": [{"name": "terrorists", "terms": ["terrorists", "militants"]}, {"name": "rebels", "terms": ["rebels", "Militants"]}],
        }  # fmt: skip
        response = concept_create(world, payload)
        assert response.status_code == 400
        assert response.json()["detail"] == "A term can belong to only one variant of a concept."
        assert "'Militants' is a term of both 'terrorists' and 'rebels'" in response.json()["errors"]["variants"][0]
        assert not Concept.objects.filter(project=world["project"], slug="shared").exists()

    def test_an_outlet_that_never_mentions_the_concept_gets_null_shares(self, world):
        slug = world["project"].slug
        payload = {"name": "Authority", "slug": "authority", "variants": [{"name": "regime"}, {"name": "government"}]}
        assert concept_create(world, payload).status_code == 201
        rows = client_login(world["viewer"]).get(f"{API}/{slug}/term-choice/?concept=authority").json()
        beta = [r for r in rows if r["outlet"] == world["outlets"]["Beta"].slug]
        assert beta and all(r["n_mentions"] == 0 and r["share"] is None for r in beta)
        gamma = {r["variant"]: r for r in rows if r["outlet"] == world["outlets"]["Gamma"].slug}
        assert (gamma["regime"]["share"], gamma["government"]["share"]) == (1.0, 0.0)
        csv = client_login(world["viewer"]).get(f"{API}/{slug}/term-choice/?concept=authority&format=csv")
        assert pd.read_csv(io.BytesIO(csv.content))["share"].isna().sum() == len(beta)

    def test_concept_errors(self, world):
        slug = world["project"].slug
        bad = {"name": "x", "slug": "x", "variants": [{"name": "only one"}]}
        response = concept_create(world, bad)
        assert response.status_code == 400 and set(response.json()) == {"detail", "errors"}
        response = concept_create(world, bad, as_user="annotator")
        assert response.status_code == 403
        response = client_login(world["viewer"]).get(f"{API}/{slug}/term-choice/?concept=nope")
        assert response.status_code == 404 and "concept" in response.json()["errors"]

    def test_distinctive_terms(self, world):
        slug, gamma = world["project"].slug, world["outlets"]["Gamma"].slug
        rows = client_login(world["viewer"]).get(f"{API}/{slug}/distinctive-terms/?outlet={gamma}").json()
        assert rows and all(r["outlet"] == gamma for r in rows)
        assert all(r["count_group"] + r["count_rest"] >= 3 for r in rows)
        response = client_login(world["viewer"]).get(f"{API}/{slug}/distinctive-terms/?outlet=nowhere")
        assert response.status_code == 400 and "outlet" in response.json()["errors"]


class TestExamples:
    def test_term_occurrences_with_context_link_to_the_annotator(self, world):
        slug = world["project"].slug
        rows = client_login(world["viewer"]).get(f"{API}/{slug}/examples/?term=TERRORISTS&width=10").json()
        assert len(rows) == 3  # Alpha twice, Gamma once
        first = rows[0]
        article = world["articles"]["Alpha"][0]
        assert first["match"] == "terrorists" and first["url"] == f"/projects/{slug}/articles/{article.pk}/"
        assert first["left"].endswith("The ") and first["right"].startswith(" attacked")
        assert article.text[first["start_char"] : first["end_char"]] == "terrorists"

    def test_label_spans_from_gold_for_one_outlet(self, world):
        slug, gamma = world["project"].slug, world["outlets"]["Gamma"].slug
        rows = (
            client_login(world["viewer"])
            .get(f"{API}/{slug}/examples/?label=loaded term&source=gold&outlet={gamma}")
            .json()
        )
        assert [r["match"] for r in rows] == ["rebels", "terrorists", "regime"]

    def test_examples_need_exactly_one_of_term_and_label(self, world):
        response = client_login(world["viewer"]).get(f"{API}/{world['project'].slug}/examples/")
        assert response.status_code == 400 and "term" in response.json()["errors"]


class TestPermissionsAndErrors:
    READ_PATHS = [
        "framing-scores/?label=loaded term&source=gold",
        "framing-scores/compare/?label=loaded term&source=gold",
        "distinctive-terms/?outlet=x",
        "examples/?term=rebels",
        "term-choice/?concept=x",
    ]

    @pytest.mark.parametrize("path", READ_PATHS + ["concepts/", "jobs/1/"])
    def test_non_member_gets_404(self, world, path):
        response = client_login(make_user()).get(f"{API}/{world['project'].slug}/{path}")
        assert response.status_code == 404 and set(response.json()) == {"detail", "errors"}

    @pytest.mark.parametrize("path", READ_PATHS)
    def test_annotators_of_outlet_blind_projects_get_403(self, world, path):
        project = world["project"]
        project.outlet_blind = True
        project.save()
        response = client_login(world["annotator"]).get(f"{API}/{project.slug}/{path}")
        assert response.status_code == 403
        assert "outlet-blind" in response.json()["detail"]
        assert client_login(world["viewer"]).get(scores_url(world)).status_code == 200  # viewers still may

    def test_annotators_may_read_scores_when_not_outlet_blind(self, world):
        annotator = client_login(world["annotator"])
        mine = f"annotator:{world['annotator'].username}"
        assert annotator.get(scores_url(world, source=mine)).status_code == 200
        # gold is what colleagues' work became: an annotator of a blind project may not read it (issue 17, point 1)
        assert annotator.get(scores_url(world)).status_code == 403
        world["project"].blind = False
        world["project"].save()
        assert annotator.get(scores_url(world)).status_code == 200

    def test_an_unknown_member_is_400_for_those_who_may_see_members_and_403_for_others(self, world):
        response = client_login(world["owner"]).get(scores_url(world, source="annotator:ghost"))
        assert response.status_code == 400 and "No member called 'ghost'" in response.json()["detail"]
        # a viewer of a blind project learns nothing about names: the same 403 for a member and for nobody
        viewer = client_login(world["viewer"])
        for name in ("ghost", world["annotator"].username):
            response = viewer.get(scores_url(world, source=f"annotator:{name}"))
            assert response.status_code == 403 and "blind" in response.json()["detail"]

    @pytest.mark.parametrize(
        "params, field",
        [
            ({"label": ""}, "label"),
            ({"period": "decade"}, "period"),
            ({"source": "robots"}, "source"),
            ({"syndication": "twice"}, "syndication"),
            ({"label": "no such label"}, "label"),
        ],
    )
    def test_bad_parameters_are_400_with_detail_and_errors(self, world, params, field):
        response = client_login(world["viewer"]).get(scores_url(world, **params))
        assert response.status_code == 400, response.content
        body = response.json()
        assert set(body) == {"detail", "errors"} and field in body["errors"]

    def test_compare_b_without_a_and_unknown_outlet(self, world):
        base = f"{API}/{world['project'].slug}/framing-scores/compare/?label=loaded term&source=gold"
        response = client_login(world["viewer"]).get(base + "&b=x")
        assert response.status_code == 400 and "a" in response.json()["errors"]
        response = client_login(world["viewer"]).get(base + "&a=nowhere")
        assert response.status_code == 400 and "a" in response.json()["errors"]

    def test_model_source_without_active_model_is_400(self, world):
        response = client_login(world["viewer"]).get(scores_url(world, source="model"))
        assert response.status_code == 400 and "source" in response.json()["errors"]


class TestScoringRunsAndJobs:
    def test_annotator_and_viewer_cannot_start_a_run(self, world):
        for user in (world["annotator"], world["viewer"]):
            response = client_login(user).post(f"{API}/{world['project'].slug}/score/")
            assert response.status_code == 403

    def test_without_an_active_model_starting_is_400(self, world):
        response = client_login(world["curator"]).post(f"{API}/{world['project'].slug}/score/")
        assert response.status_code == 400
        assert "no active model" in response.json()["detail"]
        assert not Job.objects.exists()

    def test_curator_starts_a_run_and_reads_its_job(self, world):
        project = world["project"]
        ModelVersion.objects.create(project=project, number=1, status=JobStatus.SUCCEEDED, is_active=True)
        response = client_login(world["curator"]).post(f"{API}/{project.slug}/score/")
        assert response.status_code == 202, response.content
        job = response.json()
        assert job["kind"] == "scoring" and job["status"] == "queued"
        detail = client_login(world["viewer"]).get(f"{API}/{project.slug}/jobs/{job['id']}/").json()
        assert detail["id"] == job["id"] and detail["progress"] == 0
        other = make_project(owner=world["owner"])
        assert client_login(world["owner"]).get(f"{API}/{other.slug}/jobs/{job['id']}/").status_code == 404
