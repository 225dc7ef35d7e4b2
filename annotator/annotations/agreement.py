"""Agreement in the app: the adapter from rows to `ml.agreement`, the report, the drill-down, and Job rows.

Coverage is who FINISHED each article: annotators whose assignment has status done. Only their annotator-layer
spans count. Filters:

* ``label``: only spans of that label (name), and only that label in the codebook list;
* ``outlet``: only articles of that outlet (slug);
* ``codebook_version``: only (article, annotator) pairs finished while that version (number) was the latest
  codebook version, i.e. the version the annotator worked under when they marked the article done;
* ``calibration``: only the calibration articles.

Codebook questions get their own figures (``questions`` in the result, rows with a ``question`` in the table; see
ml.agreement.questions for which coefficient fits which kind): from the same finished annotators' answers, per
article, per sentence (units keyed by the sentence's offsets) or, for a span attribute, per span that two or more
annotators marked with the same offsets (the attribute's label; the ``label`` filter keeps only its attributes).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from annotator.annotations.models import Answer, Layer, Span
from annotator.common.errors import ApplicationError
from annotator.common.jsonsafe import json_safe
from annotator.common.models import Job, JobStatus
from annotator.common.queueing import enqueue_on_commit
from annotator.common.services import job_fail, jobs_fail_stale
from annotator.corpus.models import Article
from annotator.projects.models import Assignment, CodebookVersion, Label, Project, ProjectArticle, Question
from annotator.projects.visibility import BLIND_LAYER, Hidden, Viewer
from ml.agreement import AnnotatedSpan, AnnotationSet, agreement_report, compare_spans, question_agreement

SYNC_MAX_SPANS = 5000  # GET computes in the request up to this many spans; above, a POST queues a Job


@dataclass(frozen=True)
class AgreementFilters:
    label: str | None = None
    outlet: str | None = None
    codebook_version: int | None = None
    calibration: bool = False
    threshold: float = 0.5

    def as_params(self) -> dict:
        return asdict(self)


def filters_validate(*, project: Project, filters: AgreementFilters) -> AgreementFilters:
    """ApplicationError naming the bad filter value; the filters otherwise."""
    if filters.label is not None and not Label.objects.filter(project=project, name=filters.label).exists():
        names = list(Label.objects.filter(project=project).values_list("name", flat=True))
        raise ApplicationError(f"Unknown label {filters.label!r}.", {"label": [f"Choose from {names}."]})
    if (
        filters.codebook_version is not None
        and not CodebookVersion.objects.filter(project=project, number=filters.codebook_version).exists()
    ):
        raise ApplicationError(
            f"Codebook version {filters.codebook_version} does not exist.", {"codebook_version": ["Unknown."]}
        )
    if not 0.0 < filters.threshold <= 1.0:
        raise ApplicationError("The overlap threshold must be in (0, 1].", {"threshold": [str(filters.threshold)]})
    return filters


def _version_at(versions: list[tuple], when) -> int | None:
    number = None
    for created_at, n in versions:
        if created_at <= when:
            number = n
    return number


def agreement_coverage(*, project: Project, filters: AgreementFilters) -> dict[int, set[int]]:
    """article id -> annotator ids who finished it, after the outlet / version / calibration filters."""
    rows = Assignment.objects.filter(project=project, status=Assignment.Status.DONE)
    if filters.outlet:
        rows = rows.filter(article__outlet__slug=filters.outlet)
    if filters.calibration:
        rows = rows.filter(is_calibration=True)
    versions = None
    if filters.codebook_version is not None:
        versions = list(
            CodebookVersion.objects.filter(project=project).order_by("number").values_list("created_at", "number")
        )
    coverage: dict[int, set[int]] = defaultdict(set)
    for article_id, annotator_id, updated_at in rows.values_list("article_id", "annotator_id", "updated_at"):
        if versions is not None and _version_at(versions, updated_at) != filters.codebook_version:
            continue
        coverage[article_id].add(annotator_id)
    return dict(coverage)


def agreement_data(*, project: Project, filters: AgreementFilters) -> AnnotationSet:
    """The project's finished annotator-layer spans as an `ml.agreement.AnnotationSet`."""
    coverage = agreement_coverage(project=project, filters=filters)
    texts = dict(Article.objects.filter(pk__any_of=coverage).values_list("pk", "text"))
    spans = Span.objects.filter(project=project, layer=Layer.ANNOTATOR, article_id__any_of=coverage)
    if filters.label:
        spans = spans.filter(label__name=filters.label)
    rows = spans.values_list("article_id", "annotator_id", "start_char", "end_char", "label__name")
    labels = (
        [filters.label] if filters.label else list(Label.objects.filter(project=project).values_list("name", flat=True))
    )
    return AnnotationSet.build(
        spans=[
            AnnotatedSpan(item_id=a, annotator=u, start=s, end=e, label=lb)
            for a, u, s, e, lb in rows
            if u in coverage.get(a, ())
        ],
        texts=texts,
        coverage=coverage,
        labels=labels,
    )


def question_agreement_list(*, project: Project, filters: AgreementFilters, coverage: dict[int, set[int]]) -> list:
    """Agreement on each codebook question from the finished annotators' answers (ml.agreement.questions results)."""
    questions = Question.objects.filter(project=project).select_related("label").prefetch_related("options")
    if filters.label:
        questions = questions.exclude(Q(scope=Question.Scope.SPAN) & ~Q(label__name=filters.label))
    questions = list(questions.order_by("order", "name"))
    ratings: dict[int, dict[tuple, dict[int, object]]] = {q.pk: defaultdict(dict) for q in questions}
    rows = Answer.objects.filter(
        project=project, layer=Layer.ANNOTATOR, article_id__any_of=coverage, question_id__in=list(ratings)
    ).values_list(
        "question_id", "article_id", "annotator_id", "unit_key", "span__start_char", "span__end_char", "value"
    )
    for question_id, article_id, annotator_id, unit, span_start, span_end, value in rows:
        if annotator_id not in coverage.get(article_id, ()):
            continue
        # An attribute's unit is the span's offsets: the spans two annotators both marked are one unit.
        key = (article_id, f"span:{span_start}-{span_end}") if span_start is not None else (article_id, unit)
        ratings[question_id][key][annotator_id] = value
    return [
        question_agreement(
            question=q.name,
            kind=q.kind,
            options=[o.value for o in sorted(q.options.all(), key=lambda o: o.order)],
            ratings=dict(ratings[q.pk]),
        )  # fmt: skip
        for q in questions
    ]


def agreement_compute(*, project: Project, filters: AgreementFilters) -> dict:
    """The full report (JSON-ready) plus the flat table, the questions' agreement and the annotators' usernames."""
    filters = filters_validate(project=project, filters=filters)
    data = agreement_data(project=project, filters=filters)
    report = agreement_report(data, threshold=filters.threshold).to_dict()
    questions = [asdict(q) for q in question_agreement_list(project=project, filters=filters, coverage=data.coverage)]
    from django.contrib.auth import get_user_model

    names = dict(get_user_model().objects.filter(pk__in=list(data.annotators)).values_list("pk", "username"))
    return {
        "filters": filters.as_params(),
        "annotator_names": {str(k): v for k, v in names.items()},
        "table": agreement_table(report) + question_agreement_table(questions),
        "report": report,
        "questions": questions,
    }


def _row(measure: str, label: str, value, n_items: int, n_units: int, reason=None, question: str = "") -> dict:
    return {
        "measure": measure,
        "question": question,
        "label": label,
        "value": value,
        "n_items": n_items,
        "n_units": n_units,
        "reason": reason,
    }


QUESTION_MEASURES = ("krippendorff_alpha", "cohen_kappa", "fleiss_kappa", "percent_agreement")


def question_agreement_table(questions: list[dict]) -> list[dict]:
    """Rows for the questions: one per measure x question, and per option ("label") for multiple choice; a
    scale's alpha is ``krippendorff_alpha_ordinal``."""
    rows = []
    for q in questions:
        if q["figures"] is None:
            rows.append(_row("krippendorff_alpha", "all", None, q["n_items"], 0, q["reason"], question=q["question"]))
            continue
        for label, figures in [("all", q["figures"]), *sorted(q["per_option"].items())]:
            for measure in QUESTION_MEASURES:
                name = (
                    f"{measure}_ordinal"
                    if measure == "krippendorff_alpha" and figures["alpha_level"] == "ordinal"
                    else measure
                )
                n_units = figures["fleiss_units"] if measure == "fleiss_kappa" else figures["n_units"]
                reason = figures["reasons"].get(measure)
                rows.append(_row(name, label, figures[measure], q["n_items"], n_units, reason, question=q["question"]))
    return rows


def agreement_table(report: dict) -> list[dict]:
    """One row per measure x label ("all" = every label): value, items and units behind it."""
    rows = []
    for rule, f1 in report["span_f1"].items():
        name = f"span_f1_{rule}"
        pooled = f1["pooled"]
        rows.append(_row(name, "all", f1["value"], f1["n_items"], f1["n_spans"], pooled.get("reason")))
        for label, per in sorted(f1["per_label"].items()):
            p = per["pooled"]
            rows.append(_row(name, label, per["value"], p["n_items"], p["n_spans_a"] + p["n_spans_b"], p.get("reason")))
    for key in ("cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "unitizing_alpha"):
        result = report.get(key)
        if not result:
            continue
        rows.append(_row(key, "all", result["value"], result["n_items"], result["n_units"], result["reason"]))
        for label, per in sorted(result["per_label"].items()):
            rows.append(_row(key, label, per["value"], per["n_items"], per["n_units"], per["reason"]))
    return rows


def agreement_fingerprint(*, project: Project) -> str:
    """Changes whenever a span, an answer or an assignment of the project changes (stale Job results are not
    served)."""
    spans = Span.objects.filter(project=project, layer=Layer.ANNOTATOR).aggregate(n=Count("id"), t=Max("updated_at"))
    done = Assignment.objects.filter(project=project).aggregate(n=Count("id"), t=Max("updated_at"))
    versions = CodebookVersion.objects.filter(project=project).aggregate(n=Count("id"))
    answers = Answer.objects.filter(project=project, layer=Layer.ANNOTATOR).aggregate(
        n=Count("id"), t=Max("updated_at")
    )
    raw = json.dumps([spans, done, versions, answers], default=str, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _job_params(project: Project, filters: AgreementFilters) -> dict:
    return {**filters.as_params(), "fingerprint": agreement_fingerprint(project=project)}


def agreement_job_latest(*, project: Project, filters: AgreementFilters) -> Job | None:
    """The newest agreement Job for these filters on the current data (any status), or None."""
    params = _job_params(project, filters)
    for job in Job.objects.filter(project=project, kind=Job.Kind.AGREEMENT).order_by("-created_at", "-id")[:50]:
        if job.params == params:
            return job
    return None


@transaction.atomic
def agreement_job_create(*, project: Project, filters: AgreementFilters, by=None, queue: bool = True) -> Job:
    """A Job row for these filters; queued on the worker after commit unless `queue` is False."""
    filters = filters_validate(project=project, filters=filters)
    job = Job.objects.create(
        kind=Job.Kind.AGREEMENT, project=project, created_by=by, params=_job_params(project, filters), progress_total=3
    )
    if queue:
        from annotator.annotations.tasks import agreement_compute_task

        enqueue_on_commit(agreement_compute_task, job.pk)
    return job


def agreement_job_run(*, job_id: int) -> dict:
    """Compute and store the report in the Job row (idempotent: a finished job is left alone)."""
    job = Job.objects.select_related("project").get(pk=job_id)
    if job.status == JobStatus.SUCCEEDED:
        return {"job_id": job.pk, "status": job.status}
    params = {k: v for k, v in job.params.items() if k != "fingerprint"}
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(), progress_done=1,
        message="Reading spans",
    )  # fmt: skip
    result = agreement_compute(project=job.project, filters=AgreementFilters(**params))
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED,
        result=json_safe(result),
        progress_done=3,
        finished_at=timezone.now(),
        message="Done",
    )
    return {"job_id": job.pk, "status": JobStatus.SUCCEEDED}


def agreement_job_fail(*, job_id: int, reason: str) -> None:
    job_fail(job_id=job_id, reason=reason)


def agreement_jobs_fail_stale(*, now=None) -> int:
    """Mark agreement jobs that stalled as failed (a killed worker, a lost message); the page then computes afresh."""
    seconds = settings.AGREEMENT_STALE_SECONDS
    return jobs_fail_stale(
        kind=Job.Kind.AGREEMENT, seconds=seconds, now=now,
        running_error=f"The computation started more than {seconds} s ago and never finished (the worker was killed "
        "or crashed). Open the agreement page again to recompute.",
        queued_error=f"No worker took the job up within {seconds} s (the queued message was lost, or no worker serves "
        "the default queue). Open the agreement page again to recompute.",
    )  # fmt: skip


def agreement_read(*, project: Project, filters: AgreementFilters) -> Job | None:
    """The report for the filters on the current data, without writing a row: the latest stored Job (queued, running
    or done) when there is one; else, for a small project, a Job computed now and not saved (``pk`` None; the result
    is kept in the cache under the data's fingerprint); else None (a large project's report is computed on the worker
    after an explicit POST, ``agreement_job_create``)."""
    filters = filters_validate(project=project, filters=filters)
    job = agreement_job_latest(project=project, filters=filters)
    if job is not None and job.status != JobStatus.FAILED:
        return job
    n_spans = Span.objects.filter(project=project, layer=Layer.ANNOTATOR).count()
    if n_spans > SYNC_MAX_SPANS:
        return None
    params = _job_params(project, filters)
    key = "agreement:" + hashlib.sha256(json.dumps([project.pk, params], sort_keys=True).encode()).hexdigest()
    result = cache.get(key)
    if result is None:
        result = json_safe(agreement_compute(project=project, filters=filters))
        cache.set(key, result, timeout=3600)
    now = timezone.now()
    return Job(
        kind=Job.Kind.AGREEMENT, project=project, params=params, status=JobStatus.SUCCEEDED, result=result,
        progress_done=3, progress_total=3, finished_at=now, message="Computed for this request",
    )  # fmt: skip


# --- drill-down ------------------------------------------------------------------------------------------


def agreement_disagreements(
    *, viewer: Viewer, label: str | None = None, outlet: str | None = None, article_id: int | None = None,
    limit: int = 100,
) -> list[dict]:  # fmt: skip
    """Articles where finished annotators disagree, each with the disagreeing span pairs per annotator pair (every
    annotator's spans and names: for a viewer who may see them)."""
    if not viewer.sees_others:
        raise Hidden(BLIND_LAYER, "project")
    project = viewer.project
    filters = filters_validate(project=project, filters=AgreementFilters(label=label, outlet=outlet))
    coverage = agreement_coverage(project=project, filters=filters)
    if article_id is not None:
        coverage = {article_id: coverage[article_id]} if article_id in coverage else {}
    coverage = {a: who for a, who in coverage.items() if len(who) >= 2}
    spans = Span.objects.filter(project=project, layer=Layer.ANNOTATOR, article_id__any_of=coverage)
    if label:
        spans = spans.filter(label__name=label)
    by_item: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    for a, u, s, e, lb in spans.values_list("article_id", "annotator_id", "start_char", "end_char", "label__name"):
        by_item[(a, u)].append((s, e, lb))
    articles = {
        a.pk: a
        for a in Article.objects.filter(pk__any_of=coverage)
        .select_related("outlet")
        .only("id", "title", "text", "outlet__slug", "outlet__name")
    }
    from django.contrib.auth import get_user_model

    names = dict(
        get_user_model().objects.filter(pk__in={u for w in coverage.values() for u in w}).values_list("pk", "username")
    )
    out = []
    for item in sorted(coverage):
        who = sorted(coverage[item])
        pairs = []
        for i, ua in enumerate(who):
            for ub in who[i + 1 :]:
                d = compare_spans(by_item[(item, ua)], by_item[(item, ub)], text=articles[item].text)
                if d.n_disagreements:
                    body = asdict(d)
                    body.update(annotator_a=names[ua], annotator_b=names[ub], n_disagreements=d.n_disagreements)
                    del body["matched"], body["item_id"]
                    pairs.append(body)
        if pairs:
            art = articles[item]
            out.append({"article_id": item, "title": art.title, "outlet": art.outlet.slug, "pairs": pairs})
        if len(out) >= limit:
            break
    return out


def calibration_summary(*, project: Project, user) -> dict | None:
    """What an annotator may see about calibration: their progress and, once they are done, the agreement.

    Aggregate figures only (no spans). None when the project has no calibration articles for the user.
    """
    mine = Assignment.objects.filter(project=project, annotator=user, is_calibration=True)
    total = mine.count()
    if not total and not ProjectArticle.objects.filter(project=project, is_calibration=True).exists():
        return None
    done = mine.filter(status=Assignment.Status.DONE).count()
    summary = {"total": total, "done": done, "released": total == done, "figures": None, "mine": None}
    if total and total == done:
        data = agreement_data(project=project, filters=AgreementFilters(calibration=True))
        if len(data.annotators) >= 2:
            report = agreement_report(data, with_unitizing=False).to_dict()
            f1 = report["span_f1"]["overlap"]
            mine_pairs = [p["micro"]["f1"] for k, p in f1["per_pair"].items() if str(user.pk) in k.split("|")]
            mine_pairs = [v for v in mine_pairs if v is not None]
            summary["figures"] = {
                "span_f1_overlap": f1["value"],
                "cohen_kappa": report["cohen_kappa"]["value"],
                "krippendorff_alpha": report["krippendorff_alpha"]["value"],
                "n_annotators": report["n_annotators"],
                "n_items": report["n_items"],
            }
            summary["mine"] = sum(mine_pairs) / len(mine_pairs) if mine_pairs else None
    return summary
