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

Incremental and lean: each article's MinHash signature is computed once and kept (``ArticleSignature``). Placing a
new batch hashes only the new articles' texts, then streams the stored signatures in chunks and compares them with
the new ones by LSH band keys; the new articles' matches, joined with the clusters they touch, are the clusters to
write. Because the stored clusters are the connected components of every earlier pair, this equals a full rebuild
(same members, representatives and wire-copy flags; tests/annotator/corpus/test_clustering.py). Texts are never
all in memory: a full rebuild signs the unsigned articles chunk by chunk and then holds only the signatures
(512 bytes an article). Labels (representative, source outlet, wire copy) are recomputed for every cluster, since
a new article's metadata can make an outlet a source. See docs/benchmarks.md, "Near-duplicates".
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from annotator.common.errors import ApplicationError
from annotator.common.queueing import enqueue_on_commit
from annotator.corpus.models import Article, ArticleSignature, Outlet, StoryCluster

if TYPE_CHECKING:  # the matcher pulls in datasketch and scipy: load it when clustering runs, not with the app
    import numpy as np

logger = logging.getLogger(__name__)

READ_CHUNK = 2000
WRITE_CHUNK = 900  # ids per update statement, so that no statement grows with the corpus
COPY_KEYS = ("republished_from", "source_outlet")
METHOD_EXACT, METHOD_NEAR = "exact", "minhash-lsh"
STAGE_SIGNED, STAGE_COMPARED = "signed", "compared"

ProgressCallback = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class ClusterSummary:
    threshold: float
    n_articles: int = 0
    n_new_articles: int | None = None
    full_rebuild: bool = False
    n_signed: int = 0
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


@dataclass(frozen=True)
class _Member:
    pk: int
    published_at: object
    outlet_id: int
    external_id: str
    content_hash: str


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


def _chunks(ids: list, size: int = WRITE_CHUNK) -> Iterable[list]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def story_clusters_update(
    *,
    article_ids: Iterable[int] | None = None,
    threshold: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> ClusterSummary:
    """Cluster the corpus (``article_ids=None``: full rebuild) or place new articles into the stored clusters.

    Incremental placement hashes only the new (and any still unsigned) articles and equals a full rebuild; it falls
    back to one when the stored clusters were made with another threshold or signature scheme. Idempotent.
    """
    from ml.near_duplicates import signature_scheme

    started = time.monotonic()
    threshold = _check_threshold(settings.NEAR_DUP_THRESHOLD if threshold is None else threshold)
    new_ids = None if article_ids is None else {int(pk) for pk in article_ids}
    summary = ClusterSummary(threshold=threshold, n_new_articles=None if new_ids is None else len(new_ids))
    if new_ids is not None and not new_ids:
        return summary
    progress = on_progress or (lambda stage, done, total: None)
    with transaction.atomic():
        scheme = signature_scheme()
        stale = StoryCluster.objects.exclude(threshold=threshold).exists()
        stale = ArticleSignature.objects.exclude(scheme=scheme).delete()[0] > 0 or stale
        if stale:
            new_ids = None
        summary.full_rebuild = new_ids is None
        signed = _sign_unsigned(scheme=scheme, on_progress=progress)
        summary.n_signed = len(signed)
        probe = None if new_ids is None else sorted(new_ids | signed)
        edges = _similar_pairs(probe, threshold=threshold, on_progress=progress) + _wordless_twins()
        summary.n_articles = Article.objects.count()
        components = _components(edges, incremental=probe is not None)
        written, deleted = _write_membership(components, threshold=threshold, full=probe is None)
        copies = _label_clusters(_source_hints(), written=set(written))
    summary.n_clusters_written, summary.n_clusters_deleted, summary.n_wire_copies = len(written), deleted, copies
    summary.n_clustered_articles = sum(len(c) for c in components)
    summary.seconds = round(time.monotonic() - started, 3)
    logger.info("story clusters: %s", summary.as_dict())
    return summary


def _sign_unsigned(*, scheme: str, on_progress: ProgressCallback) -> set[int]:
    """Compute and store the signature of every article that has none; texts are read a chunk at a time."""
    from ml.near_duplicates import text_signatures

    unsigned = list(Article.objects.filter(signature__isnull=True).order_by("pk").values_list("pk", flat=True))
    for done, chunk in enumerate(_chunks(unsigned, READ_CHUNK)):
        rows = list(Article.objects.filter(pk__any_of=chunk).order_by("pk").values_list("pk", "text"))
        blobs = text_signatures([text for _, text in rows])
        ArticleSignature.objects.bulk_create(
            [
                ArticleSignature(article_id=pk, scheme=scheme, minhash=blob)
                for (pk, _), blob in zip(rows, blobs, strict=True)
            ],
            ignore_conflicts=True,  # a concurrent or retried run signed it already: same bytes
        )
        on_progress(STAGE_SIGNED, min((done + 1) * READ_CHUNK, len(unsigned)), len(unsigned))
    return set(unsigned)


def _decode(rows: list[tuple[int, bytes]]) -> tuple[list[int], np.ndarray]:
    from ml.near_duplicates import signatures_from_bytes

    signatures, kept = signatures_from_bytes([blob for _, blob in rows])
    return [rows[i][0] for i in kept.tolist()], signatures


def _stored_signatures() -> Iterator[tuple[list[int], np.ndarray, int]]:
    """Every stored signature, in chunks: (ids of the texts with words, their signatures, rows read)."""
    rows: list[tuple[int, bytes]] = []
    query = ArticleSignature.objects.order_by("article_id").values_list("article_id", "minhash")
    for row in query.iterator(chunk_size=READ_CHUNK):
        rows.append(row)
        if len(rows) >= READ_CHUNK:
            yield (*_decode(rows), len(rows))
            rows = []
    if rows:
        yield (*_decode(rows), len(rows))


def _similar_pairs(
    probe: list[int] | None, *, threshold: float, on_progress: ProgressCallback
) -> list[tuple[int, int]]:
    """Kept LSH pairs between the probe articles (``None``: all) and every stored signature."""
    import numpy as np

    from ml.near_duplicates import DEFAULT_NUM_PERM, SignatureMatcher

    if probe is None:
        parts = list(_stored_signatures())
        ids = [pk for part in parts for pk in part[0]]
        empty = np.empty((0, DEFAULT_NUM_PERM), dtype=np.uint32)
        signatures = np.concatenate([part[1] for part in parts]) if parts else empty
        del parts
        total = len(ids)
        chunks: Iterable = (
            (ids[s : s + READ_CHUNK], signatures[s : s + READ_CHUNK], len(ids[s : s + READ_CHUNK]))
            for s in range(0, len(ids), READ_CHUNK)
        )
    else:
        rows = [
            row
            for chunk in _chunks(probe)
            for row in ArticleSignature.objects.filter(article_id__any_of=chunk).values_list("article_id", "minhash")
        ]
        ids, signatures = _decode(rows)
        total = ArticleSignature.objects.count()
        chunks = _stored_signatures()
    matcher = SignatureMatcher(ids, signatures, threshold=threshold)
    edges: list[tuple[int, int]] = []
    done = 0
    for chunk_ids, chunk_sigs, n_read in chunks:
        edges += matcher.matches(chunk_ids, chunk_sigs)
        done += n_read
        on_progress(STAGE_COMPARED, done, total)
    return edges


def _wordless_twins() -> list[tuple[int, int]]:
    """Pairs of identical texts without words (no signature to compare); texts with words pair by signature."""
    first: dict[str, int] = {}
    edges = []
    query = Article.objects.filter(signature__minhash=b"").order_by("pk").values_list("content_hash", "pk")
    for digest, pk in query.iterator(chunk_size=READ_CHUNK):
        if first.setdefault(digest, pk) != pk:
            edges.append((first[digest], pk))
    return edges


def _components(edges: list[tuple[int, int]], *, incremental: bool) -> list[list[int]]:
    """Clusters to write: the components of the new pairs, joined (incremental) with the stored clusters they touch."""
    from ml.near_duplicates import connected_components

    if incremental:
        nodes = sorted({pk for edge in edges for pk in edge})
        touched = {
            cid
            for chunk in _chunks(nodes)
            for cid in Article.objects.filter(pk__any_of=chunk, cluster__isnull=False).values_list(
                "cluster_id", flat=True
            )
        }
        first: dict[int, int] = {}
        for chunk in _chunks(sorted(touched)):
            for pk, cid in (
                Article.objects.filter(cluster_id__any_of=chunk).order_by("pk").values_list("pk", "cluster_id")
            ):
                if first.setdefault(cid, pk) != pk:
                    edges.append((first[cid], pk))
    return connected_components(edges)


@transaction.atomic
def _write_membership(components: list[list[int]], *, threshold: float, full: bool) -> tuple[list[int], int]:
    """Point the members at StoryCluster rows (reusing the row most members share); returns (written ids, deleted)."""
    current = dict(Article.objects.filter(cluster__isnull=False).values_list("pk", "cluster_id"))
    claimed: list[int] = []
    touched_old: set[int] = set()
    for members in components:
        votes = Counter(current[m] for m in members if m in current)
        touched_old.update(votes)
        reuse = next((cid for cid, _ in votes.most_common() if cid not in claimed), None)
        if reuse is None:
            reuse = StoryCluster.objects.create(threshold=threshold, size=len(members)).pk
        claimed.append(reuse)
        moved = [m for m in members if current.get(m) != reuse]
        for chunk in _chunks(moved):
            Article.objects.filter(pk__any_of=chunk).update(cluster_id=reuse)
    for chunk in _chunks(claimed):
        StoryCluster.objects.filter(pk__any_of=chunk).exclude(threshold=threshold).update(threshold=threshold)
    if full:
        in_clusters = {m for members in components for m in members}
        for chunk in _chunks([pk for pk in current if pk not in in_clusters]):
            Article.objects.filter(pk__any_of=chunk).update(cluster=None)
        deleted, _ = StoryCluster.objects.filter(articles__isnull=True).delete()
        return claimed, deleted
    # Clusters that lost members to a written one: fewer than two left → no longer a cluster.
    deleted = 0
    for cid in touched_old - set(claimed):
        left = list(Article.objects.filter(cluster_id=cid).values_list("pk", flat=True))
        if len(left) < 2:
            Article.objects.filter(pk__in=left).update(cluster=None)
            StoryCluster.objects.filter(pk=cid).delete()
            deleted += 1
    return claimed, deleted


def _is_source(member: _Member, hints: _SourceHints) -> bool:
    return member.outlet_id in hints.source_outlet_ids or (
        bool(member.external_id) and member.external_id in hints.source_external_ids
    )


def _labels(members: list[_Member], hints: _SourceHints) -> tuple[dict, set[int]]:
    """A cluster's row fields (representative, source outlet, method, size) and its wire copies."""
    from ml.near_duplicates import source_order

    rep = min(
        members,
        key=lambda m: source_order(is_agency=_is_source(m, hints), published_at=m.published_at, position=m.pk),
    )
    from_source = rep.outlet_id in hints.source_outlet_ids
    copies = {m.pk for m in members if m.pk != rep.pk and (from_source or m.pk in hints.says_copy)}
    fields = {
        "representative_id": rep.pk,
        "source_outlet_id": rep.outlet_id,
        "method": METHOD_EXACT if len({m.content_hash for m in members}) == 1 else METHOD_NEAR,
        "size": len(members),
    }
    return fields, copies


def _label_clusters(hints: _SourceHints, *, written: set[int]) -> int:
    """Set every cluster's representative, method, size and wire copies from its members (only rows that change).

    All clusters, not only the written ones: a new article's metadata can turn an outlet into a source.
    Returns the number of wire copies in the ``written`` clusters.
    """
    members: dict[int, list[_Member]] = {}
    flags: dict[int, bool] = {}
    fields = ("pk", "cluster_id", "published_at", "outlet_id", "external_id", "content_hash", "is_wire_copy")
    query = Article.objects.filter(cluster__isnull=False).order_by("pk").values_list(*fields)
    for pk, cid, published_at, outlet_id, external_id, digest, flag in query.iterator(chunk_size=READ_CHUNK):
        members.setdefault(cid, []).append(_Member(pk, published_at, outlet_id, external_id, digest))
        flags[pk] = flag
    rows = {
        row["pk"]: row
        for row in StoryCluster.objects.values("pk", "representative_id", "source_outlet_id", "method", "size")
    }
    to_flag: dict[bool, list[int]] = {True: [], False: []}
    n_copies = 0
    for cid, group in members.items():
        wanted, copies = _labels(group, hints)
        if any(rows[cid][k] != v for k, v in wanted.items()):
            StoryCluster.objects.filter(pk=cid).update(**wanted)
        n_copies += len(copies) if cid in written else 0
        for m in group:
            if flags[m.pk] != (m.pk in copies):
                to_flag[m.pk in copies].append(m.pk)
    for flag, ids in to_flag.items():
        for chunk in _chunks(ids):
            Article.objects.filter(pk__any_of=chunk).update(is_wire_copy=flag)
    Article.objects.filter(cluster__isnull=True, is_wire_copy=True).update(is_wire_copy=False)
    return n_copies


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
        enqueue_on_commit(story_clusters_update_task, batch_id)


def pending_key(batch_id: int) -> str:
    return f"story-clusters:pending:{batch_id}"
