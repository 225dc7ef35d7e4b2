"""Balanced blind assignment: k annotators per article, overlap share, one article per story cluster, strata,
and a calibration set that every annotator codes first.

`plan_assignments` is the pure planner (plain data in, plain data out, no ORM); `assignments_generate` is the
service that reads the project, calls the planner and writes the Assignment rows. Running it again only adds
what is missing (new articles, new annotators, articles below their wanted number of annotators): it never
moves or removes an existing assignment.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Max, Q

from annotator.common.errors import ApplicationError
from annotator.corpus.models import Article
from annotator.projects.locks import project_lock
from annotator.projects.models import Assignment, Membership, Project, ProjectArticle, Role
from annotator.projects.roles import role_at_least

STRATA = ("outlet", "month", "topic")
UNKNOWN = "(unknown)"


# --- the pure planner ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanArticle:
    """One project article as the planner sees it."""

    article_id: int
    cluster_id: int | None = None
    is_representative: bool = False
    sort_key: tuple = ()  # earliest first within a cluster: (published_at or max, article_id)
    stratum: tuple[str, ...] = ()  # e.g. ("outlet:bbc", "month:2024-03")
    is_calibration: bool = False


@dataclass(frozen=True)
class PlannedAssignment:
    article_id: int
    annotator: Hashable
    is_calibration: bool


@dataclass
class AssignmentPlan:
    """What to add. `new` is in queue order per annotator (calibration first)."""

    new: list[PlannedAssignment]
    calibration_ids: list[int]
    eligible_ids: list[int]
    overlap_ids: list[int]
    cluster_duplicates: list[int]
    notes: list[str] = field(default_factory=list)

    def per_annotator(self) -> dict[Hashable, list[PlannedAssignment]]:
        out: dict[Hashable, list[PlannedAssignment]] = defaultdict(list)
        for item in self.new:
            out[item.annotator].append(item)
        return dict(out)


def pick_cluster_articles(articles: Sequence[PlanArticle], *, keep: Iterable[int] = ()) -> tuple[list, list[int]]:
    """One article per story cluster: one already assigned (`keep`), else the representative, else the earliest.

    Articles without a cluster are their own cluster. Returns (kept articles, dropped duplicate ids).
    """
    keep = set(keep)
    groups: dict[int, list[PlanArticle]] = defaultdict(list)
    kept: list[PlanArticle] = []
    for article in articles:
        if article.cluster_id is None:
            kept.append(article)
        else:
            groups[article.cluster_id].append(article)
    dropped: list[int] = []
    for members in groups.values():
        members = sorted(members, key=lambda a: (a.article_id not in keep, not a.is_representative, a.sort_key))
        kept.append(members[0])
        dropped += [a.article_id for a in members[1:]]
    return sorted(kept, key=lambda a: a.article_id), sorted(dropped)


def stratified_order(articles: Sequence[PlanArticle], rng: random.Random) -> list[PlanArticle]:
    """Shuffle within each stratum, then interleave the strata proportionally (systematic stratified order).

    Any prefix of the result holds every stratum in about its share of the whole.
    """
    by_stratum: dict[tuple, list[PlanArticle]] = defaultdict(list)
    for article in sorted(articles, key=lambda a: a.article_id):
        by_stratum[article.stratum].append(article)
    keyed = []
    for stratum in sorted(by_stratum):
        members = by_stratum[stratum]
        rng.shuffle(members)
        offset = rng.random()
        keyed += [((i + offset) / len(members), rng.random(), a) for i, a in enumerate(members)]
    return [a for *_, a in sorted(keyed, key=lambda t: (t[0], t[1]))]


class _Loads:
    """Regular assignments per annotator: overall, per stratum cell, per stratum value."""

    def __init__(self) -> None:
        self.total: Counter = Counter()
        self.cell: Counter = Counter()
        self.value: Counter = Counter()

    def add(self, annotator: Hashable, article: PlanArticle) -> None:
        self.total[annotator] += 1
        self.cell[(annotator, article.stratum)] += 1
        for value in article.stratum:
            self.value[(annotator, value)] += 1

    def key(self, annotator: Hashable, article: PlanArticle, rng: random.Random) -> tuple:
        by_value = sum(self.value[(annotator, value)] for value in article.stratum)
        return (self.total[annotator], self.cell[(annotator, article.stratum)], by_value, rng.random())


def _check_plan_args(*, k: int, overlap_fraction: float, calibration_size: int) -> None:
    if k < 1:
        raise ApplicationError("annotators_per_article must be at least 1.", {"annotators_per_article": [str(k)]})
    if not 0.0 <= overlap_fraction <= 1.0:
        raise ApplicationError(
            "overlap_fraction must be between 0 and 1.", {"overlap_fraction": [str(overlap_fraction)]}
        )
    if calibration_size < 0:
        raise ApplicationError("calibration_size must be 0 or more.", {"calibration_size": [str(calibration_size)]})


def _pick_calibration(
    pool: list[PlanArticle], existing: dict[int, set], size: int, rng: random.Random, notes: list[str]
) -> list[int]:
    """Flagged calibration articles, topped up in stratified order among articles nobody has started."""
    calibration = [a for a in pool if a.is_calibration]
    if len(calibration) < size:
        candidates = [a for a in pool if not a.is_calibration and not existing.get(a.article_id)]
        calibration += stratified_order(candidates, rng)[: size - len(calibration)]
        if len(calibration) < size:
            notes.append(f"calibration_size={size} but only {len(calibration)} article(s) available")
    return sorted(a.article_id for a in calibration)


def plan_assignments(
    *,
    articles: Sequence[PlanArticle],
    annotators: Sequence[Hashable],
    k: int,
    overlap_fraction: float,
    one_per_cluster: bool = True,
    calibration_size: int = 0,
    existing: Mapping[int, Iterable[Hashable]] | None = None,
    seed: int = 0,
) -> AssignmentPlan:
    """Decide who codes what. Deterministic for a given seed and input.

    * Calibration: articles flagged `is_calibration`, topped up (stratified, seeded) to `calibration_size`;
      every annotator gets every calibration article, first in their queue.
    * The other eligible articles (one per cluster when `one_per_cluster`) are put in stratified order; the
      first round(overlap_fraction * n) of them want k annotators, the rest one (k is capped by the number of
      annotators). Articles that already have 2+ annotators count towards the overlap share.
    * Each article's missing annotators are the least-loaded ones: fewest assignments overall, then fewest in
      the article's stratum, then fewest per stratum value, then a seeded random draw.
    """
    _check_plan_args(k=k, overlap_fraction=overlap_fraction, calibration_size=calibration_size)
    annotators = list(dict.fromkeys(annotators))
    existing_sets: dict[int, set] = {a: set(v) for a, v in (existing or {}).items()}
    notes: list[str] = []
    rng = random.Random(seed)
    if not annotators:
        return AssignmentPlan([], [], [], [], [], ["the project has no annotators: nothing to assign"])
    k_eff = min(k, len(annotators))
    if k_eff < k:
        notes.append(f"k={k} but only {len(annotators)} annotator(s): articles get at most {k_eff}")

    pool = sorted(articles, key=lambda a: a.article_id)
    duplicates: list[int] = []
    if one_per_cluster:
        pool, duplicates = pick_cluster_articles(pool, keep=[a for a, who in existing_sets.items() if who])
    calibration_ids = _pick_calibration(pool, existing_sets, calibration_size, rng, notes)
    calibration_set = set(calibration_ids)
    regular = [a for a in pool if a.article_id not in calibration_set]

    # Overlap share: articles that already have 2+ annotators count; the rest are taken in stratified order.
    order = stratified_order(regular, rng)
    target = round(overlap_fraction * len(regular)) if k_eff > 1 else 0
    overlap = {a.article_id for a in regular if len(existing_sets.get(a.article_id, ())) >= 2}
    for article in order:
        if len(overlap) >= target:
            break
        overlap.add(article.article_id)

    loads = _Loads()
    by_id = {a.article_id: a for a in regular}
    for article_id, who in existing_sets.items():
        for annotator in who if article_id in by_id else ():
            loads.add(annotator, by_id[article_id])

    new = [
        PlannedAssignment(article_id, annotator, True)
        for annotator in annotators
        for article_id in calibration_ids
        if annotator not in existing_sets.get(article_id, set())
    ]
    for article in order:
        have = existing_sets.get(article.article_id, set())
        missing = (k_eff if article.article_id in overlap else 1) - len(have)
        if missing <= 0:
            continue
        ranked = sorted((a for a in annotators if a not in have), key=lambda who: loads.key(who, article, rng))
        for annotator in ranked[:missing]:
            new.append(PlannedAssignment(article.article_id, annotator, False))
            loads.add(annotator, article)
    return AssignmentPlan(
        new=new,
        calibration_ids=calibration_ids,
        eligible_ids=sorted(a.article_id for a in regular),
        overlap_ids=sorted(overlap),
        cluster_duplicates=duplicates,
        notes=notes,
    )


# --- the ORM adapter and the service ---------------------------------------------------------------------


def _stratum(article, dimensions: Sequence[str]) -> tuple[str, ...]:
    values = []
    for dim in dimensions:
        if dim == "outlet":
            value = article.outlet.slug
        elif dim == "month":
            value = article.published_at.strftime("%Y-%m") if article.published_at else UNKNOWN
        else:  # topic
            value = str((article.metadata or {}).get("topic") or UNKNOWN)
        values.append(f"{dim}:{value}")
    return tuple(values)


def strata_validate(stratify_by: object) -> list[str]:
    """The project's strata as a list, or ApplicationError naming what is wrong."""
    if not isinstance(stratify_by, list) or not all(isinstance(s, str) for s in stratify_by):
        raise ApplicationError(
            "stratify_by must be a list of strata names.", {"stratify_by": [f"Choose from {', '.join(STRATA)}."]}
        )
    unknown = [s for s in stratify_by if s not in STRATA]
    if unknown:
        raise ApplicationError(
            f"Unknown stratum {unknown[0]!r}.", {"stratify_by": [f"Choose from {', '.join(STRATA)}; got {unknown}."]}
        )
    return list(dict.fromkeys(stratify_by))


def project_annotator_ids(*, project: Project) -> list[int]:
    """Members with the annotator role, by user id (owners and curators are not in the rotation)."""
    return list(
        Membership.objects.filter(project=project, role=Role.ANNOTATOR)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def plan_inputs(*, project: Project) -> tuple[list[PlanArticle], dict[int, set[int]]]:
    """The project's articles as PlanArticles, and who is already assigned to which article."""
    dimensions = strata_validate(project.stratify_by)
    links = (
        ProjectArticle.objects.filter(project=project)
        .select_related("article__outlet", "article__cluster")
        .order_by("article_id")
    )
    articles = []
    for link in links:
        art = link.article
        articles.append(
            PlanArticle(
                article_id=art.pk,
                cluster_id=art.cluster_id,
                is_representative=art.cluster_id is not None and art.cluster.representative_id == art.pk,
                sort_key=(art.published_at is None, art.published_at.isoformat() if art.published_at else "", art.pk),
                stratum=_stratum(art, dimensions),
                is_calibration=link.is_calibration,
            )
        )
    existing: dict[int, set[int]] = defaultdict(set)
    for article_id, annotator_id in Assignment.objects.filter(project=project).values_list(
        "article_id", "annotator_id"
    ):
        existing[article_id].add(annotator_id)
    return articles, dict(existing)


PLAN_SETTINGS = ("annotators_per_article", "overlap_fraction", "calibration_size")


def _plan(*, project: Project, seed: int | None = None) -> AssignmentPlan:
    articles, existing = plan_inputs(project=project)
    return plan_assignments(
        articles=articles,
        annotators=project_annotator_ids(project=project),
        k=project.annotators_per_article,
        overlap_fraction=project.overlap_fraction,
        one_per_cluster=project.one_per_cluster,
        calibration_size=project.calibration_size,
        existing=existing,
        seed=project.random_seed if seed is None else seed,
    )


def plan_digest(plan: AssignmentPlan) -> str:
    """A short fingerprint of what a plan adds: a generation can insist on the plan its preview showed."""
    rows = [(item.article_id, item.annotator, item.is_calibration) for item in plan.new]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def assignment_preview(*, project: Project, seed: int | None = None, **settings) -> dict:
    """What ``assignments_generate`` would add now, with the project's settings or the given ``settings`` (any of
    PLAN_SETTINGS, not saved): per annotator, the overlap, the calibration set. Writes nothing."""
    unknown = set(settings) - set(PLAN_SETTINGS)
    if unknown:
        raise ApplicationError(f"Unknown assignment setting(s): {', '.join(sorted(unknown))}.")
    planned = copy.copy(project)
    for name, value in settings.items():
        setattr(planned, name, value)
    plan = _plan(project=planned, seed=seed)
    members = dict(
        Membership.objects.filter(project=project, role=Role.ANNOTATOR).values_list("user_id", "user__username")
    )
    have = Counter(
        Assignment.objects.filter(project=project, annotator_id__in=list(members)).values_list(
            "annotator_id", flat=True
        )
    )
    per_annotator = plan.per_annotator()
    annotators = [
        {
            "username": members[user_id],
            "existing": have[user_id],
            "new": len(per_annotator.get(user_id, [])),
            "new_calibration": sum(1 for item in per_annotator.get(user_id, []) if item.is_calibration),
            "total": have[user_id] + len(per_annotator.get(user_id, [])),
        }
        for user_id in sorted(members, key=members.get)
    ]
    titles = dict(Article.objects.filter(pk__any_of=plan.calibration_ids).values_list("pk", "title"))
    return {
        "settings": {name: getattr(planned, name) for name in PLAN_SETTINGS},
        "annotators": annotators,
        "new_assignments": len(plan.new),
        "eligible_articles": len(plan.eligible_ids),
        "overlap_articles": len(plan.overlap_ids),
        "calibration_articles": [{"id": pk, "title": titles.get(pk, "")} for pk in plan.calibration_ids],
        "cluster_duplicates_skipped": len(plan.cluster_duplicates),
        "notes": plan.notes,
        "plan": plan_digest(plan),
    }


PLAN_CHANGED = "The articles, members or assignments changed since the preview: look at the new preview and confirm."


@transaction.atomic
def assignments_generate(
    *, project: Project, by, seed: int | None = None, settings: dict | None = None, expected_plan: str | None = None
) -> dict:
    """Write the plan as Assignment rows (owner only); returns a summary. Safe to run again.

    ``settings`` (any of PLAN_SETTINGS) are saved as the project's settings first, in the same transaction;
    ``expected_plan`` (a preview's ``plan``) refuses, writing nothing, when the plan is no longer the one shown."""
    from annotator.projects.selectors import membership_role
    from annotator.projects.services import project_update

    if by is not None and not role_at_least(membership_role(project=project, user=by), Role.OWNER):
        raise ApplicationError("Only a project owner can generate assignments.", status_code=403)
    project_lock(project=project)  # one generation at a time per project
    if settings:
        project_update(project=project, by=by, **{k: v for k, v in settings.items() if k in PLAN_SETTINGS})
    plan = _plan(project=project, seed=seed)
    if expected_plan is not None and plan_digest(plan) != expected_plan:
        raise ApplicationError(PLAN_CHANGED, {"plan": [PLAN_CHANGED]}, status_code=409)
    ProjectArticle.objects.filter(project=project, article_id__in=plan.calibration_ids, is_calibration=False).update(
        is_calibration=True
    )
    starts = dict(
        Assignment.objects.filter(project=project)
        .values("annotator_id")
        .annotate(n=Max("position"))
        .values_list("annotator_id", "n")
    )
    rows = []
    for annotator_id, items in plan.per_annotator().items():
        start = (starts.get(annotator_id) or 0) + 1
        rows += [
            Assignment(
                project=project,
                article_id=item.article_id,
                annotator_id=annotator_id,
                position=start + i,
                is_calibration=item.is_calibration,
            )
            for i, item in enumerate(items)
        ]
    Assignment.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return {
        "created": len(rows),
        "calibration_articles": len(plan.calibration_ids),
        "eligible_articles": len(plan.eligible_ids),
        "overlap_articles": len(plan.overlap_ids),
        "cluster_duplicates_skipped": len(plan.cluster_duplicates),
        "annotators": len(project_annotator_ids(project=project)),
        "notes": plan.notes,
    }


# --- reads: progress and the calibration gate ------------------------------------------------------------


def calibration_pending(*, project: Project, user) -> bool:
    """True while the user still has calibration assignments that are not done (their queue is gated)."""
    return (
        Assignment.objects.filter(project=project, annotator=user, is_calibration=True)
        .exclude(status=Assignment.Status.DONE)
        .exists()
    )


def assignment_progress(*, project: Project) -> list[dict]:
    """Per annotator (anyone with assignments): counts by status, calibration counts, by username."""
    done, skipped, in_progress = Assignment.Status.DONE, Assignment.Status.SKIPPED, Assignment.Status.IN_PROGRESS
    rows = (
        Assignment.objects.filter(project=project)
        .values("annotator_id", "annotator__username")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status=done)),
            skipped=Count("id", filter=Q(status=skipped)),
            in_progress=Count("id", filter=Q(status=in_progress)),
            calibration_total=Count("id", filter=Q(is_calibration=True)),
            calibration_done=Count("id", filter=Q(is_calibration=True, status=done)),
        )
        .order_by("annotator__username")
    )
    return [
        {
            "annotator_id": r["annotator_id"],
            "username": r["annotator__username"],
            "total": r["total"],
            "done": r["done"],
            "skipped": r["skipped"],
            "in_progress": r["in_progress"],
            "todo": r["total"] - r["done"] - r["skipped"] - r["in_progress"],
            "calibration_total": r["calibration_total"],
            "calibration_done": r["calibration_done"],
        }
        for r in rows
    ]
