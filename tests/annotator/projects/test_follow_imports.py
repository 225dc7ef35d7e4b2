"""Projects that follow outlets take those outlets' newly imported articles, and score them with the active model."""

import pytest

from annotator.common.errors import ApplicationError
from annotator.common.models import Job, JobStatus
from annotator.corpus import services as corpus
from annotator.corpus.models import Article, Outlet
from annotator.projects.models import ProjectArticle
from annotator.projects.services import project_update
from annotator.scoring.models import ArticleScore, ScoreCache
from annotator.training.selectors import model_version_labels
from tests.annotator.corpus.helpers import wait_for_story_clustering, write_jsonl
from tests.annotator.projects.factories import make_project
from tests.conftest import wait_for


def import_rows(tmp_path, rows, name="new.jsonl"):
    path = write_jsonl(tmp_path / name, rows)
    batch = corpus.import_batch_create(source_name=path.name, format="jsonl")
    return corpus.import_batch_run(batch_id=batch.pk, path=path)


def row(i, outlet):
    return {
        "outlet": outlet,
        "title": f"Story {i}",
        "text": f"Body of story {i} from {outlet}.",
        "external_id": f"s{i}",
    }


def project_article_outlets(project):
    return sorted(
        ProjectArticle.objects.filter(project=project).values_list("article__outlet__slug", flat=True).distinct()
    )


@pytest.mark.django_db
def test_a_project_takes_the_new_imports_of_the_outlets_it_follows_and_only_those(tmp_path):
    Outlet.objects.create(name="Herald", slug="herald")
    Outlet.objects.create(name="Ledger", slug="ledger")
    follows_herald, follows_all, follows_none = make_project(), make_project(), make_project()
    project_update(project=follows_herald, follow_outlets=["herald", " herald"])
    project_update(project=follows_all, follow_outlets=["ledger", "*"])
    follows_herald.refresh_from_db()
    follows_all.refresh_from_db()
    assert follows_herald.follow_outlets == ["herald"]
    assert follows_all.follow_outlets == ["*"]

    summary = import_rows(tmp_path, [row(1, "Herald"), row(2, "Ledger"), row(3, "Herald"), row(4, "Wire Service")])
    assert summary.created == 4
    herald_ids = set(Article.objects.filter(outlet__slug="herald").values_list("pk", flat=True))
    assert set(follows_herald.project_articles.values_list("article_id", flat=True)) == herald_ids
    assert project_article_outlets(follows_all) == ["herald", "ledger", "wire-service"]
    assert not follows_none.project_articles.exists()

    # Importing the same file again creates nothing and adds nothing twice.
    again = import_rows(tmp_path, [row(1, "Herald"), row(3, "Herald")], name="again.jsonl")
    assert again.created == 0
    assert follows_herald.project_articles.count() == 2


@pytest.mark.django_db
def test_following_an_unknown_outlet_is_refused_and_changes_nothing():
    Outlet.objects.create(name="Herald", slug="herald")
    project = make_project()
    project_update(project=project, follow_outlets=["herald"])
    with pytest.raises(ApplicationError) as err:
        project_update(project=project, follow_outlets=["herald", "no-such-paper"])
    assert "no-such-paper" in err.value.extra["follow_outlets"][0]
    with pytest.raises(ApplicationError):
        project_update(project=project, follow_outlets="herald")
    project.refresh_from_db()
    assert project.follow_outlets == ["herald"]


@pytest.mark.worker
def test_new_imports_of_a_followed_outlet_are_scored_by_the_active_model(celery_worker, tmp_path):
    from tests.annotator.scoring.test_scoring_worker import trained_project, wait_job

    project, articles, version = trained_project(n_per_outlet=4, seed=31)
    outlet = articles[0].outlet
    project_update(project=project, follow_outlets=[outlet.slug])
    before = Job.objects.filter(project=project, kind=Job.Kind.SCORING).count()

    text = "Later the terrorists liberated nothing, officials said."
    summary = import_rows(
        tmp_path, [{"outlet": outlet.slug, "title": "Late story", "text": text, "external_id": "late"}]
    )
    assert summary.created == 1
    late = Article.objects.get(outlet=outlet, external_id="late")
    assert ProjectArticle.objects.filter(project=project, article=late).exists()

    jobs = Job.objects.filter(project=project, kind=Job.Kind.SCORING).order_by("created_at")
    assert jobs.count() == before + 1
    job = wait_job(jobs.last())
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.params["article_ids"] == [late.pk]
    scored = ArticleScore.objects.filter(source=f"model:{version.pk}", article=late)
    assert scored.count() == len(model_version_labels(version=version))

    # The finished run warms the dashboard's tables and the import queued story clustering, both on the worker:
    # wait for them before the test's database is emptied (their writes would deadlock with the flush).
    wait_for(
        lambda: (
            ScoreCache.objects.filter(project=project, key__startswith="scores:").count() == 2 * project.labels.count()
        ),  # per outlet and per month
        timeout=120,
        what="the score cache to be warmed",
    )
    wait_for_story_clustering()
