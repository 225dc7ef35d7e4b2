"""Story clusters: the demo corpus's wire copies, incremental placement, the import hook and syndication rules."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from annotator.common.errors import ApplicationError
from annotator.corpus import clustering
from annotator.corpus.clustering import story_clusters_after_import, story_clusters_update
from annotator.corpus.models import Article, ArticleSignature, Outlet, StoryCluster
from annotator.corpus.services import POST_IMPORT_HOOKS, import_batch_create, import_batch_run
from annotator.projects.models import Project
from annotator.scoring.selectors import ScoreQuery, framing_scores
from tests.annotator.corpus.helpers import write_jsonl
from tests.annotator.projects.factories import make_article, make_outlet

DEMO = Path(settings.BASE_DIR) / "seeds" / "demo_corpus.jsonl"


def _demo_rows() -> list[dict]:
    return [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines() if line.strip()]


def _expected_groups() -> set[frozenset[str]]:
    """From the seed file: each republished wire story with its copies, by external id."""
    groups: dict[str, set[str]] = {}
    for row in _demo_rows():
        if row.get("republished_from"):
            groups.setdefault(row["republished_from"], {row["republished_from"]}).add(row["external_id"])
    return {frozenset(g) for g in groups.values()}


def _import(path: Path, fmt: str = "jsonl") -> int:
    batch = import_batch_create(source_name=path.name, format=fmt)
    import_batch_run(batch_id=batch.pk, path=path)
    return batch.pk


def _stored_groups() -> set[frozenset[str]]:
    out: dict[int, set[str]] = {}
    for cid, ext in Article.objects.filter(cluster__isnull=False).values_list("cluster_id", "external_id"):
        out.setdefault(cid, set()).add(ext)
    return {frozenset(g) for g in out.values()}


@pytest.fixture
def demo(db):
    _import(DEMO)
    return story_clusters_update()


def test_demo_corpus_gives_exactly_the_republished_wire_stories(demo):
    expected = _expected_groups()
    assert len(expected) == 4 and all(len(g) == 3 for g in expected)
    assert _stored_groups() == expected
    assert StoryCluster.objects.count() == 4 and demo.n_clusters_written == 4
    wire = Outlet.objects.get(name="Wire Service Daily")
    for cluster in StoryCluster.objects.all():
        members = list(cluster.articles.all())
        assert cluster.size == len(members) == 3
        assert cluster.threshold == pytest.approx(0.3) and cluster.method == "minhash-lsh"
        # The wire story is the source (named by the copies' metadata), even where a copy has the same timestamp.
        assert cluster.representative.outlet_id == wire.pk and cluster.source_outlet_id == wire.pk
        copies = {a.external_id for a in members if a.is_wire_copy}
        assert copies == {a.external_id for a in members if a.metadata.get("republished_from")}
    assert Article.objects.filter(is_wire_copy=True).count() == 8 == demo.n_wire_copies


def test_rerun_is_idempotent_and_keeps_cluster_ids(demo):
    before = dict(Article.objects.filter(cluster__isnull=False).values_list("pk", "cluster_id"))
    again = story_clusters_update()
    assert dict(Article.objects.filter(cluster__isnull=False).values_list("pk", "cluster_id")) == before
    assert again.n_clusters_deleted == 0 and StoryCluster.objects.count() == 4


def test_wire_agency_outlet_makes_copies_without_metadata(db):
    text = (
        "The minister said on Monday that the new border rules would take effect next spring after a long "
        "debate in parliament, where the opposition had called the plan rushed and badly explained to voters."
    )
    agency, daily, weekly = make_outlet("Agency"), make_outlet("Daily"), make_outlet("Weekly")
    Outlet.objects.filter(pk=agency.pk).update(is_wire_agency=True)
    a = make_article(text=text, outlet=daily, external_id="d1")
    b = make_article(text=text.replace("spring", "summer"), outlet=agency, external_id="w1")
    c = make_article(text="Completely different words about the weather and a football match.", outlet=weekly)
    story_clusters_update()
    a.refresh_from_db(), b.refresh_from_db(), c.refresh_from_db()
    assert a.cluster_id == b.cluster_id is not None and c.cluster_id is None
    assert a.cluster.representative_id == b.pk  # the agency copy, although the daily's has the lower id
    assert a.is_wire_copy and not b.is_wire_copy and not c.is_wire_copy
    # Without an agency or metadata, the earliest is the representative and nobody is flagged as wire copy.
    Outlet.objects.filter(pk=agency.pk).update(is_wire_agency=False)
    story_clusters_update()
    a.refresh_from_db()
    assert a.cluster.representative_id == a.pk and not Article.objects.filter(is_wire_copy=True).exists()


def test_new_articles_join_existing_clusters_and_singletons_are_dropped(demo, tmp_path):
    wire_row = next(r for r in _demo_rows() if r["external_id"] == "wsd-20250922-ceasefire-takes-effect")
    cluster_id = Article.objects.get(external_id=wire_row["external_id"]).cluster_id
    copy = dict(wire_row, outlet="Island Post", external_id="ip-ceasefire", republished_from=wire_row["external_id"])
    lone = {"outlet": "Island Post", "external_id": "ip-lone", "text": "A recipe for lemon cake with thyme."}
    batch_id = _import(write_jsonl(tmp_path / "more.jsonl", [copy, lone]))
    ids = list(Article.objects.filter(batch_id=batch_id).values_list("pk", flat=True))
    summary = story_clusters_update(article_ids=ids)
    assert summary.n_clusters_written == 1 and summary.n_new_articles == 2
    new = Article.objects.get(external_id="ip-ceasefire")
    assert new.cluster_id == cluster_id and new.is_wire_copy
    assert StoryCluster.objects.get(pk=cluster_id).size == 4
    assert Article.objects.get(external_id="ip-lone").cluster_id is None
    assert StoryCluster.objects.count() == 4


def _words(seed: int, n: int) -> list[str]:
    import numpy as np

    return [f"w{seed}x{i}" for i in np.random.default_rng(seed).integers(0, 10**6, size=n)]


def _batches() -> list[list[dict]]:
    """The demo corpus in three imports, plus copies that join, bridge and re-label clusters in later batches."""
    rows = _demo_rows()
    a, b, c = _words(1, 60), _words(2, 60), _words(5, 60)
    extra_first = [
        {"outlet": "Island Post", "external_id": "ip-a", "text": " ".join(a), "published_at": "2025-01-02T00:00:00Z"},
        {"outlet": "Hill Times", "external_id": "ht-b", "text": " ".join(b), "published_at": "2025-01-01T00:00:00Z"},
        {"outlet": "Hill Times", "external_id": "ht-a2", "text": " ".join(a[:55] + _words(3, 5))},
        {"outlet": "Island Post", "external_id": "ip-empty", "text": " ... "},
        {"outlet": "Hill Times", "external_id": "ht-c", "text": " ".join(c)},
        {
            "outlet": "Island Post",
            "external_id": "ip-c",
            "text": " ".join(c[1:]),
            "published_at": "2025-01-01T00:00:00Z",
        },
    ]
    extra_later = [
        # Two thirds of a and of b: a copy of both, so the a and b clusters become one story.
        {"outlet": "Valley News", "external_id": "vn-ab", "text": " ".join(a[:40] + b[:40])},
        {"outlet": "Valley News", "external_id": "vn-b2", "text": " ".join(b[5:] + _words(4, 5))},
        {"outlet": "Hill Times", "external_id": "ht-empty", "text": " ... "},
        # Names Hill Times as its source: Hill Times becomes a source outlet, which re-labels older clusters.
        {
            "outlet": "Valley News",
            "external_id": "vn-last",
            "text": "Unrelated words here.",
            "source_outlet": "Hill Times",
        },
    ]
    third = len(rows) // 3
    return [rows[:third] + extra_first, rows[third : 2 * third], rows[2 * third :] + extra_later]


def _state() -> dict:
    """Everything a rebuild decides, by external id (cluster row ids may differ)."""
    ext = dict(Article.objects.values_list("pk", "external_id"))
    out = {}
    for cluster in StoryCluster.objects.all():
        members = frozenset(ext[pk] for pk in cluster.articles.values_list("pk", flat=True))
        copies = frozenset(cluster.articles.filter(is_wire_copy=True).values_list("external_id", flat=True))
        out[members] = (ext[cluster.representative_id], cluster.source_outlet_id, cluster.method, cluster.size, copies)
    assert not Article.objects.filter(cluster__isnull=True, is_wire_copy=True).exists()
    return out


def test_batch_by_batch_equals_one_full_rebuild_and_hashes_only_new_articles(db, tmp_path):
    for n, rows in enumerate(_batches()):
        batch_id = _import(write_jsonl(tmp_path / f"b{n}.jsonl", rows))
        ids = list(Article.objects.filter(batch_id=batch_id).values_list("pk", flat=True))
        summary = story_clusters_update(article_ids=ids)
        assert (
            not summary.full_rebuild
            and summary.n_signed == len(ids) == ArticleSignature.objects.filter(article_id__in=ids).count()
        )
        if n == 0:
            first_ab = {ext for g in _stored_groups() for ext in g if ext.startswith(("ip-a", "ht-a2"))}
            assert first_ab == {"ip-a", "ht-a2"}
    incremental = _state()
    groups = set(incremental)
    assert _expected_groups() <= groups
    assert frozenset({"ip-a", "ht-a2", "ht-b", "vn-ab", "vn-b2"}) in groups  # merged through the bridge
    assert frozenset({"ip-empty", "ht-empty"}) in groups  # texts without words: exact twins only
    merged = incremental[frozenset({"ip-a", "ht-a2", "ht-b", "vn-ab", "vn-b2"})]
    # The earliest, from Hill Times, which the last batch made a source outlet: every other member is a copy now.
    assert merged[0] == "ht-b" and merged[4] == {"ip-a", "ht-a2", "vn-ab", "vn-b2"}
    assert incremental[frozenset({"ht-c", "ip-c"})][::4] == ("ht-c", {"ip-c"})  # re-labelled, though not touched
    # The command's full rebuild, from the stored signatures, and one from the texts alone, agree with it.
    call_command("cluster_stories", stdout=StringIO(), stderr=StringIO())
    assert _state() == incremental
    ArticleSignature.objects.all().delete()
    StoryCluster.objects.all().delete()
    summary = story_clusters_update()
    assert summary.full_rebuild and summary.n_signed == Article.objects.count()
    assert _state() == incremental


def test_incremental_run_falls_back_to_a_full_rebuild_for_another_threshold(demo, tmp_path):
    batch_id = _import(write_jsonl(tmp_path / "one.jsonl", [{"outlet": "Island Post", "text": "A lemon cake."}]))
    ids = list(Article.objects.filter(batch_id=batch_id).values_list("pk", flat=True))
    summary = story_clusters_update(article_ids=ids, threshold=0.5)
    assert summary.full_rebuild and summary.n_signed == 1
    assert set(StoryCluster.objects.values_list("threshold", flat=True)) == {0.5}


def test_bad_threshold_is_refused(db):
    with pytest.raises(ApplicationError, match="strictly between 0 and 1"):
        story_clusters_update(threshold=1.5)
    with pytest.raises(CommandError, match="strictly between 0 and 1"):
        call_command("cluster_stories", "--threshold", "0", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="no import batch"):
        call_command("cluster_stories", "--batch", "999999", stdout=StringIO(), stderr=StringIO())


def test_command_reports_progress_and_result(db):
    _import(DEMO)
    out, err = StringIO(), StringIO()
    call_command("cluster_stories", "--threshold", "0.3", stdout=out, stderr=err)
    assert "4 story cluster(s) written" in out.getvalue() and "8 wire copies" in out.getvalue()
    assert "signed 49 / 49 articles (100 %)" in err.getvalue() and "compared 49 / 49 articles (100 %)" in err.getvalue()
    assert "49 newly hashed" in out.getvalue() and "full rebuild" in out.getvalue()


def test_import_hook_is_registered_and_queues_one_task_per_batch(db, monkeypatch, django_capture_on_commit_callbacks):
    assert story_clusters_after_import in POST_IMPORT_HOOKS
    queued = []
    from annotator.corpus import tasks

    monkeypatch.setattr(tasks.story_clusters_update_task, "delay", lambda batch_id: queued.append(batch_id))
    with django_capture_on_commit_callbacks(execute=True):
        batch_id = _import(DEMO)
        # A second call for the same batch while its task is pending queues nothing (debounce).
        summary = type("S", (), {"batch_id": batch_id, "created": 3, "dry_run": False})()
        story_clusters_after_import(summary)
    assert queued == [batch_id]
    # The task itself clusters the batch's articles.
    result = tasks.story_clusters_update_task.apply(args=[batch_id]).get()
    assert result["n_clusters_written"] == 4 and _stored_groups() == _expected_groups()
    assert clustering.pending_key(batch_id)


@pytest.fixture
def demo_project(db):
    call_command("load_demo", stdout=StringIO())
    story_clusters_update()
    return Project.objects.get(slug="demo-framing")


def _total(project, syndication: str) -> tuple[int, int, set[str]]:
    rows = framing_scores(
        project=project, query=ScoreQuery(label="loaded term", source="gold", syndication=syndication)
    )
    return sum(r["n_articles"] for r in rows), sum(r["n_tokens"] for r in rows), {r["method"] for r in rows}


def test_syndication_rules_use_the_clusters(demo_project):
    from annotator.annotations.selectors import gold_article_ids

    gold = Article.objects.filter(pk__in=gold_article_ids(project=demo_project))
    n_gold = gold.count()
    stories = {a.cluster_id if a.cluster_id else f"a{a.pk}" for a in gold}
    copies = gold.filter(is_wire_copy=True)
    assert len(stories) < n_gold and copies.exists()  # the demo's gold layer contains syndicated stories

    per_outlet, tokens_all, methods = _total(demo_project, "per_outlet")
    assert per_outlet == n_gold and all(m.endswith("syndication=per_outlet") for m in methods)
    once, _, methods = _total(demo_project, "once")
    assert once == len(stories) and all(m.endswith("syndication=once") for m in methods)
    excluded, tokens_excluded, methods = _total(demo_project, "exclude_wire")
    assert excluded == n_gold - copies.count() and all(m.endswith("syndication=exclude_wire") for m in methods)
    assert tokens_all - tokens_excluded == sum(copies.values_list("n_tokens", flat=True))


def test_once_credits_each_story_to_its_syndication_source(demo_project):
    from annotator.annotations.selectors import gold_article_ids

    gold = Article.objects.filter(pk__in=gold_article_ids(project=demo_project)).select_related(
        "outlet", "cluster__representative__outlet"
    )
    members: dict[int, list] = {}
    expected: dict[str, int] = {}
    for article in gold.order_by("pk"):
        if article.cluster_id is None:
            expected[article.outlet.slug] = expected.get(article.outlet.slug, 0) + 1
        else:
            members.setdefault(article.cluster_id, []).append(article)
    for group in members.values():
        # The representative (syndication source) stands for its cluster; if it is not scored, the first member.
        standing = next((a for a in group if a.pk == a.cluster.representative_id), group[0])
        expected[standing.outlet.slug] = expected.get(standing.outlet.slug, 0) + 1
    rows = framing_scores(
        project=demo_project, query=ScoreQuery(label="loaded term", source="gold", syndication="once")
    )
    assert {r["outlet"]: r["n_articles"] for r in rows} == expected
    assert "wire-service-daily" in expected
