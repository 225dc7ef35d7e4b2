"""Periods in the study's time zone: a project setting (default UTC), outlets may carry their own."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from annotator.common.errors import ApplicationError
from annotator.common.models import JobStatus
from annotator.corpus.models import Article
from annotator.projects.models import Label
from annotator.projects.services import project_update
from annotator.scoring.models import ArticleScore
from annotator.scoring.selectors import ScoreQuery, framing_scores, publication_periods
from annotator.snapshots.services import _settings, methods_paragraph
from annotator.training.models import ModelVersion
from tests.annotator.projects.factories import make_article, make_outlet, make_project, make_user
from tests.conftest import client_login

LABEL = "loaded term"
NEW_YORK, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")


def local(tz, *args) -> datetime:
    return datetime(*args, tzinfo=tz)


@pytest.fixture
def study(db):
    """A US outlet with articles in the evening of Sunday 31 March 2024, New York time (the next day, week and month
    in UTC), and a German outlet with its own time zone whose article is past midnight in Berlin, not in New York."""
    us, de = make_outlet("US Daily"), make_outlet("Berliner Blatt")
    de.time_zone = "Europe/Berlin"
    de.save()
    published = {
        "us-19": (us, local(NEW_YORK, 2024, 3, 31, 19, 0)),  # 23:00 UTC, still the 31st
        "us-2359": (us, local(NEW_YORK, 2024, 3, 31, 23, 59)),  # 03:59 UTC on Monday 1 April
        "us-20": (us, local(NEW_YORK, 2024, 3, 31, 20, 30)),  # 00:30 UTC on 1 April
        "us-noon": (us, local(NEW_YORK, 2024, 4, 1, 12, 0)),
        "de": (de, local(BERLIN, 2024, 4, 1, 0, 30)),  # 22:30 UTC and 18:30 New York on the 31st
    }
    articles = {
        key: make_article(text=f"{key} story " + "word " * 8, outlet=outlet, published_at=when)
        for key, (outlet, when) in published.items()
    }
    owner = make_user()
    project = make_project(owner=owner, articles=list(articles.values()))
    project_update(project=project, by=owner, time_zone="America/New_York")
    label = Label.objects.get(project=project, name=LABEL)
    version = ModelVersion.objects.create(
        project=project, number=1, status=JobStatus.SUCCEEDED, is_active=True, metrics={}
    )
    for article in articles.values():
        ArticleScore.objects.create(
            project=project, article=article, source=f"model:{version.pk}", model_version=version, label=label,
            n_spans=1, n_tokens=10, score_sum=1.0,
        )  # fmt: skip
    return project, owner, us, de, articles


def counts(project, period: str) -> dict[tuple[str, str], int]:
    rows = framing_scores(project=project, query=ScoreQuery(label=LABEL, period=period))
    return {(r["outlet"], r["period_start"]): r["n_articles"] for r in rows}


def test_evening_articles_of_a_us_outlet_land_on_the_local_day_week_and_month(study):
    project, owner, us, de, _ = study
    assert counts(project, "day") == {
        (us.slug, "2024-03-31"): 3, (us.slug, "2024-04-01"): 1, (de.slug, "2024-04-01"): 1,
    }  # fmt: skip
    # Sunday 31 March belongs to the ISO week of Monday 25 March; in UTC three of them would be in the week of 1 April
    assert counts(project, "week") == {
        (us.slug, "2024-03-25"): 3, (us.slug, "2024-04-01"): 1, (de.slug, "2024-04-01"): 1,
    }  # fmt: skip
    assert counts(project, "month") == {
        (us.slug, "2024-03-01"): 3, (us.slug, "2024-04-01"): 1, (de.slug, "2024-04-01"): 1,
    }  # fmt: skip
    [row, *_] = framing_scores(project=project, query=ScoreQuery(label=LABEL, period="month"))
    assert (
        f"periods by publication date in America/New_York (outlets' own: {de.slug} in Europe/Berlin)" in row["method"]
    )
    # The setting changes the buckets (and the cached tables are recomputed): in UTC two of the evening articles move
    # to April; the German outlet keeps its own zone.
    project_update(project=project, by=owner, time_zone="UTC")
    assert counts(project, "month") == {
        (us.slug, "2024-03-01"): 1, (us.slug, "2024-04-01"): 3, (de.slug, "2024-04-01"): 1,
    }  # fmt: skip
    de.time_zone = ""
    de.save()
    assert counts(project, "day")[(de.slug, "2024-03-31")] == 1  # 22:30 UTC


def test_code_scores_bucket_articles_the_same_way(study):
    project, _, us, de, articles = study
    rows = Article.objects.filter(pk__in=[a.pk for a in articles.values()]).order_by("pk")
    periods = publication_periods(
        rows, period="day", n=rows.count(), field="published_at", time_zone="America/New_York"
    )
    assert dict(zip([a.pk for a in rows], periods, strict=True)) == {
        articles["us-19"].pk: "2024-03-31", articles["us-2359"].pk: "2024-03-31", articles["us-20"].pk: "2024-03-31",
        articles["us-noon"].pk: "2024-04-01", articles["de"].pk: "2024-04-01",
    }  # fmt: skip
    assert publication_periods(rows, period="all", n=5, field="published_at") == [""] * 5


def test_the_time_zone_is_a_validated_setting_in_the_api_and_the_snapshot(study):
    project, owner, _, de, _ = study
    client = client_login(owner)
    url = f"/api/v1/projects/{project.slug}/"
    assert client.get(url).json()["time_zone"] == "America/New_York"
    response = client.patch(url, {"time_zone": "Mars/Olympus_Mons"}, content_type="application/json")
    assert response.status_code == 400 and "time_zone" in response.json()["errors"]
    response = client.patch(url, {"time_zone": "Asia/Kolkata"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["time_zone"] == "Asia/Kolkata"
    viewer = make_user()
    from annotator.projects.models import Membership, Role

    Membership.objects.create(project=project, user=viewer, role=Role.VIEWER)
    assert client_login(viewer).patch(url, {"time_zone": "UTC"}, content_type="application/json").status_code == 403
    project.refresh_from_db()
    assert project.time_zone == "Asia/Kolkata"
    with pytest.raises(ApplicationError) as err:
        project_update(project=project, by=owner, time_zone="EST5EDT+1")
    assert "time_zone" in err.value.extra
    settings = _settings(project)
    assert settings["project"]["time_zone"] == "Asia/Kolkata"
    assert settings["outlet_time_zones"] == {de.slug: "Europe/Berlin"}
    manifest = {
        "name": "s", "period": "", "codebook_version": 1, "content_hash": "0" * 64, "model": None,
        "counts": {"articles": 5, "outlets": 2, "labels": 1, "gold_spans": 0, "adjudicated": 0, "clusters": 0},
        "settings": {**settings, "near_dup_threshold": 0.3},
    }  # fmt: skip
    text = methods_paragraph(manifest, agreement={}, tables=[])
    assert f"calendar months of the publication date in Asia/Kolkata; outlets' own: {de.slug} in Europe/Berlin" in text
    assert outlet_api_zone(client, de) == "Europe/Berlin"


def outlet_api_zone(client, outlet) -> str:
    rows = client.get("/api/v1/outlets/", {"page_size": 100}).json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    return {r["slug"]: r["time_zone"] for r in rows}[outlet.slug]
