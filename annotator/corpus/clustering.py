"""Story clusters: group exact and near-duplicate copies of one story (wire copy, syndication) across outlets.

``story_clusters_update`` runs :mod:`ml.near_duplicates` (3-word shingles, MinHash + LSH, Jaccard threshold
``settings.NEAR_DUP_THRESHOLD``) and writes the result into ``StoryCluster`` rows and ``Article.cluster`` /
``Article.is_wire_copy``. See docs/rigour.md for the rules; in short:

* **Representative** (the syndication source) of a cluster: an article from a *source outlet* if there is one,
  else the earliest published (undated last), ties by lowest id. Source outlets are wire agencies
  (``Outlet.is_wire_agency``) and outlets that other articles name in ``metadata.source_outlet``; an article
  whose ``external_id`` another article names in ``metadata.republished_from`` counts as a source too.
* **Wire copy**: a member other than the representative is a wire copy when the representative comes from a
  source outlet, or when its own metadata says ``republished_from`` / ``source_outlet``. Articles in no cluster
  are never wire copies (their source is not in the corpus, so excluding them would lose the story).

Incremental use (after an import): the index is rebuilt from every stored article's text, read in chunks, and
only the clusters that contain one of the new articles are written. Cost: about 1 ms of CPU per article
(a 100,000-article corpus takes 1-2 minutes and ~1 GB of memory, the texts being held by the index).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from annotator.common.errors import ApplicationError
from annotator.corpus.models import Article, Outlet, StoryCluster

if TYPE_CHECKING:  # the index pulls in datasketch and scipy: load it when clustering runs, not with the app
    from ml.near_duplicates import Cluster, Document

logger = logging.getLogger(__name__)

READ_CHUNK = 2000
WRITE_CHUNK = 900  # ids per IN (...) in updates, under every backend's parameter limit
COPY_KEYS = ("republished_from", "source_outlet")
METHOD_EXACT, METHOD_NEAR = "exact", "minhash-lsh"

ProgressCallback = Callable[[int, int], None]


@dataclass
class ClusterSummary:
    threshold: float
    n_articles: int = 0
    n_new_articles: int | None = None
    n_clusters_written: int = 0
    n_clusters_deleted: int = 0
    n_clustered_articles: int = 0
    n_wire_copies: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _SourceHints:
    """What the corpus says about who copies whom (read from metadata once per run)."""

    source_outlet_ids: frozenset[int]
    source_external_ids: frozenset[str]
    says_copy: frozenset[int]  # articles whose own metadata names a source


def _check_threshold(threshold: object) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0.0 < threshold < 1.0:
        raise ApplicationError(
            "The near-duplicate threshold must be a Jaccard similarity strictly between 0 and 1.",
            {"threshold": [f"got {threshold!r}"]},
        )
    return float(threshold)


def _source_hints() -> _SourceHints:
    named_outlets: set[str] = set()
    named_ids: set[str] = set()
    says_copy: set[int] = set()
    rows = Article.objects.filter(metadata__has_key="republished_from") | Article.objects.filter(
        metadata__has_key="source_outlet"
    )
    for pk, meta in rows.values_list("pk", "metadata").iterator(chunk_size=READ_CHUNK):
        meta = meta or {}
        if not any(meta.get(k) for k in COPY_KEYS):
            continue
        says_copy.add(pk)
        if meta.get("republished_from"):
            named_ids.add(str(meta["republished_from"]).strip())
        if meta.get("source_outlet"):
            named_outlets.add(str(meta["source_outlet"]).strip().lower())
    outlet_ids = {
        pk
        for pk, name, slug, agency in Outlet.objects.values_list("pk", "name", "slug", "is_wire_agency")
        if agency or name.strip().lower() in named_outlets or slug.lower() in named_outlets
    }
    return _SourceHints(frozenset(outlet_ids), frozenset(named_ids), frozenset(says_copy))


def _documents(queryset, hints: _SourceHints, info: dict[int, tuple]) -> Iterable[list[Document]]:
    fields = ("pk", "text", "published_at", "outlet_id", "external_id", "content_hash")
    from ml.near_duplicates import Document

    batch: list[Document] = []
    for pk, text, published_at, outlet_id, external_id, content_hash in (
        queryset.order_by("pk").values_list(*fields).iterator(chunk_size=READ_CHUNK)
    ):
        is_source = outlet_id in hints.source_outlet_ids or (
            bool(external_id) and external_id in hints.source_external_ids
        )
        info[pk] = (outlet_id, content_hash)
        batch.append(Document(pk, text, published_at, outlet_id, is_source))
        if len(batch) >= READ_CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def story_clusters_update(
    *,
    article_ids: Iterable[int] | None = None,
    threshold: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> ClusterSummary:
    """Cluster the corpus (``article_ids=None``: every cluster is rebuilt) or place new articles into clusters.

    With ``article_ids``, only the clusters that end up containing one of those articles are (re)written; the
    others are left as they are. Idempotent: running it twice writes the same clusters.
    """
    started = time.monotonic()
    threshold = _check_threshold(settings.NEAR_DUP_THRESHOLD if threshold is None else threshold)
    new_ids = None if article_ids is None else set(int(pk) for pk in article_ids)
    summary = ClusterSummary(threshold=threshold, n_new_articles=None if new_ids is None else len(new_ids))
    if new_ids is not None and not new_ids:
        return summary
    hints = _source_hints()
    from ml.near_duplicates import NearDuplicateIndex

    index = NearDuplicateIndex(threshold=threshold)
    info: dict[int, tuple] = {}
    total = Article.objects.count()
    for docs in _documents(Article.objects.all(), hints, info):
        index.add(docs)
        if on_progress is not None:
            on_progress(len(index), total)
    summary.n_articles = len(index)
    clusters = index.clusters()
    if new_ids is not None:
        clusters = [c for c in clusters if new_ids.intersection(c.members)]
    written, deleted, copies = _write(clusters, hints=hints, info=info, threshold=threshold, full=new_ids is None)
    summary.n_clusters_written, summary.n_clusters_deleted, summary.n_wire_copies = written, deleted, copies
    summary.n_clustered_articles = sum(c.size for c in clusters)
    summary.seconds = round(time.monotonic() - started, 3)
    logger.info("story clusters: %s", summary.as_dict())
    return summary


def _is_copy(member: int, cluster: Cluster, hints: _SourceHints) -> bool:
    if member == cluster.representative:
        return False
    return cluster.source_outlet in hints.source_outlet_ids or member in hints.says_copy


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), WRITE_CHUNK):
        yield ids[start : start + WRITE_CHUNK]


@transaction.atomic
def _write(
    clusters: list[Cluster], *, hints: _SourceHints, info: dict[int, tuple], threshold: float, full: bool
) -> tuple[int, int, int]:
    """Store the clusters (reusing StoryCluster rows members already share); returns (written, deleted, copies)."""
    current = dict(Article.objects.filter(cluster__isnull=False).values_list("pk", "cluster_id"))
    claimed: set[int] = set()
    touched_old: set[int] = set()
    in_clusters: set[int] = set()
    n_copies = 0
    for cluster in clusters:
        members = sorted(cluster.members)
        in_clusters.update(members)
        votes = Counter(current[m] for m in members if m in current)
        reuse = next((cid for cid, _ in votes.most_common() if cid not in claimed), None)
        touched_old.update(votes)
        method = METHOD_EXACT if len({info[m][1] for m in members}) == 1 else METHOD_NEAR
        fields = {
            "representative_id": cluster.representative,
            "source_outlet_id": cluster.source_outlet,
            "method": method,
            "threshold": threshold,
            "size": len(members),
        }
        if reuse is None:
            row = StoryCluster.objects.create(**fields)
        else:
            StoryCluster.objects.filter(pk=reuse).update(**fields)
            row = StoryCluster(pk=reuse)
        claimed.add(row.pk)
        copies = [m for m in members if _is_copy(m, cluster, hints)]
        n_copies += len(copies)
        others = sorted(set(members) - set(copies))
        for ids, flag in ((copies, True), (others, False)):
            for chunk in _chunks(ids):
                Article.objects.filter(pk__in=chunk).update(cluster_id=row.pk, is_wire_copy=flag)
    deleted = 0
    if full:
        stale = [pk for pk in current if pk not in in_clusters]
        for chunk in _chunks(stale):
            Article.objects.filter(pk__in=chunk).update(cluster=None, is_wire_copy=False)
        Article.objects.filter(cluster__isnull=True, is_wire_copy=True).update(is_wire_copy=False)
        deleted, _ = StoryCluster.objects.filter(articles__isnull=True).delete()
    else:
        # Clusters that lost members to a written one: recount; fewer than two left → no longer a cluster.
        for cid in touched_old - claimed:
            left = list(Article.objects.filter(cluster_id=cid).values_list("pk", flat=True))
            if len(left) < 2:
                Article.objects.filter(pk__in=left).update(cluster=None, is_wire_copy=False)
                StoryCluster.objects.filter(pk=cid).delete()
                deleted += 1
            else:
                StoryCluster.objects.filter(pk=cid).update(size=len(left))
    return len(clusters), deleted, n_copies


def story_clusters_after_import(summary) -> None:
    """Post-import hook: queue one clustering task for the batch (on the imports queue) once it committed.

    Debounced per batch: while a task for the batch is queued and not yet started, a second call queues nothing.
    """
    if getattr(summary, "dry_run", False) or not getattr(summary, "created", 0):
        return
    from django.core.cache import cache

    from annotator.corpus.tasks import story_clusters_update_task

    batch_id = summary.batch_id
    if cache.add(pending_key(batch_id), 1, timeout=3600):
        transaction.on_commit(lambda: story_clusters_update_task.delay(batch_id))


def pending_key(batch_id: int) -> str:
    return f"story-clusters:pending:{batch_id}"
