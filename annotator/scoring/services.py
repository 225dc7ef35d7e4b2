"""Writes for scoring: run the active model over a project's corpus in resumable chunks, refresh human counts.

Results are keyed by (article, source, label). A chunk writes its articles' counts and suggestion spans together
(and the question classifiers' answer counts and pre-fill answers), in one transaction under the articles' row locks,
and only while its plan is the job's current one and the job is running: so a chunk that runs twice (a redelivered
message) changes nothing, and the chunks a resume re-planned away, or that are still queued when the run has
finished, write nothing at all.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from functools import lru_cache

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Max, Q
from django.db.models.functions import Least
from django.utils import timezone

from annotator.annotations.models import Adjudication, Layer, Span, Suggestions
from annotator.annotations.selectors import gold_article_ids
from annotator.common.copy import rows_insert, rows_read
from annotator.common.errors import ApplicationError
from annotator.common.models import Job, JobStatus
from annotator.common.queueing import enqueue_on_commit, enqueue_on_commit_once
from annotator.common.services import job_fail
from annotator.corpus.models import Article
from annotator.projects.locks import project_lock
from annotator.projects.models import Assignment, Label, Project
from annotator.scoring import codes
from annotator.scoring.models import AnswerCount, ArticleScore, PredictedAnswers, ScoreCache
from annotator.training.models import ModelVersion
from annotator.training.selectors import model_version_has_lexicon, model_version_labels

logger = logging.getLogger(__name__)

NO_ACTIVE_MODEL = "This project has no active model version: train one and activate it first."


def model_source(version: ModelVersion) -> str:
    return f"model:{version.pk}"


@lru_cache(maxsize=4)
def _loaded_model(artefact_path: str):
    """One model per worker process and artefact: loading is far slower than scoring a chunk."""
    from ml import artefact

    model, _manifest = artefact.load(artefact_path)
    return model


def _scored_article_ids(*, version: ModelVersion, has_lexicon: bool):
    """The version's scored articles: a chunk writes every article's span counts (for each label the lexicon
    predicts) and answer counts (at least one row per question) together, so either marks an article scored; a
    version without a lexicon has answer counts only."""
    if has_lexicon:
        return ArticleScore.objects.filter(source=model_source(version)).values("article_id")
    return AnswerCount.objects.filter(model_version=version).values("article_id")


def _articles_to_score(*, project: Project, version: ModelVersion, article_ids=None):
    scored = _scored_article_ids(version=version, has_lexicon=model_version_has_lexicon(version=version))
    articles = Article.objects.filter(project_links__project=project).exclude(pk__in=scored)
    if article_ids is not None:
        articles = articles.filter(pk__any_of=article_ids)
    return articles


@transaction.atomic
def scoring_run_start(
    *, project: Project, user=None, version: ModelVersion | None = None, article_ids=None, chunk_size: int | None = None
) -> Job:
    """Queue scoring of every not-yet-scored article of the project with the active (or given) version.

    A run of the whole project while one of the same version is unfinished returns that run: two would plan the
    same articles, score them twice, and the second to reach an article would not count it.
    """
    from annotator.scoring.tasks import scoring_run_plan_task

    version = version or ModelVersion.objects.filter(project=project, is_active=True).first()
    if version is None:
        raise ApplicationError(NO_ACTIVE_MODEL)
    if version.status != JobStatus.SUCCEEDED:
        raise ApplicationError("Only a successfully trained model version can score articles.")
    model_labels = model_version_labels(version=version)
    model_labels_check(
        version=version,
        model_labels=model_labels,
        project_labels=Label.objects.filter(project=project).values_list("name", flat=True),
    )
    codes.question_models_check(
        version=version,
        questions=codes.version_questions(version=version),
        has_lexicon=model_version_has_lexicon(version=version),
    )
    if article_ids is None:
        project_lock(project=project)  # two clicks at once start one run
        running = _unfinished_runs(version=version).filter(params__article_ids=None).order_by("pk").first()
        if running is not None:
            return running
    job = Job.objects.create(
        kind=Job.Kind.SCORING,
        project=project,
        created_by=user if user and user.is_authenticated else None,
        params={
            "model_version": version.pk,
            "article_ids": list(article_ids) if article_ids is not None else None,
            "chunk_size": chunk_size or settings.SCORING_CHUNK_SIZE,
        },
        message="Queued",
    )
    enqueue_on_commit(scoring_run_plan_task, job.pk)
    return job


def project_articles_added_score(*, project: Project, article_ids: list[int]) -> None:
    """Articles that join a project are scored with its active model when the project asks for it
    (``score_new_articles``; a projects.services.ARTICLES_ADDED_HOOKS hook)."""
    if project.score_new_articles and ModelVersion.objects.filter(project=project, is_active=True).exists():
        scoring_run_start(project=project, article_ids=article_ids)


def scoring_run_plan(*, job_id: int) -> int:
    """Split the articles still missing scores into chunks and queue them; returns the number of chunks.

    Also how a crashed or interrupted run resumes: only articles without results are planned again, and the new
    plan supersedes the old one, whose chunks may still be queued (a resume does not remove them from the broker).
    """
    from annotator.scoring.tasks import score_chunk_task

    with transaction.atomic():
        # The job row is the fence: a chunk of the old plan commits either before this (and is not planned again)
        # or after it (and finds its plan superseded, so it rolls back); progress is then never counted twice.
        job = Job.objects.select_for_update().get(pk=job_id)
        version = ModelVersion.objects.get(pk=job.params["model_version"])
        article_ids = job.params.get("article_ids")
        total = Article.objects.filter(project_links__project_id=job.project_id)
        if article_ids is not None:
            total = total.filter(pk__any_of=article_ids)
        missing = list(
            _articles_to_score(project=job.project, version=version, article_ids=article_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        n_total = total.count()
        plan = int(job.params.get("plan") or 0) + 1
        Job.objects.filter(pk=job_id).update(
            params={**job.params, "plan": plan},
            status=JobStatus.RUNNING if missing else JobStatus.SUCCEEDED,
            progress_total=n_total,
            progress_done=n_total - len(missing),
            started_at=job.started_at or timezone.now(),
            heartbeat_at=timezone.now(),
            finished_at=None if missing else timezone.now(),
            message=f"Scoring {len(missing)} articles" if missing else "Nothing left to score",
        )
        size = int(job.params.get("chunk_size") or settings.SCORING_CHUNK_SIZE)
        chunks = [missing[i : i + size] for i in range(0, len(missing), size)]
        for chunk in chunks:
            enqueue_on_commit(score_chunk_task, job_id, chunk, plan)
    return len(chunks)


def model_labels_check(*, version: ModelVersion, model_labels: Iterable[str], project_labels: Iterable[str]) -> None:
    """Refuse to score with a version that predicts none of the project's labels: nothing could be stored, and every
    later run would plan the same articles again."""
    model_labels = list(model_labels)
    if model_labels and not set(model_labels) & set(project_labels):
        raise ApplicationError(
            f"Model version {version.number} predicts none of this project's labels "
            f"(it knows {', '.join(model_labels)}); train a new version."
        )


def score_chunk(*, job_id: int, article_ids: list[int], plan: int) -> int:
    """Predict spans for these articles and store them with their per-label counts, and the question classifiers'
    answers with theirs and the annotator page's pre-fill (``codes.chunk_answer_rows``); returns newly scored.

    A chunk of a superseded plan, or of a run that is no longer running, writes nothing and returns 0.
    """
    job = Job.objects.select_related("project").get(pk=job_id)
    if job.status != JobStatus.RUNNING or job.params.get("plan") != plan:
        return 0  # checked again under the job's row lock below; this only saves the prediction
    version = ModelVersion.objects.get(pk=job.params["model_version"])
    project = job.project
    source = model_source(version)
    model = _loaded_model(version.artefact_path) if model_version_has_lexicon(version=version) else None
    labels = dict(Label.objects.filter(project=project).values_list("name", "pk"))
    questions = codes.version_questions(version=version)
    if model is not None:  # renamed since queued?
        model_labels_check(version=version, model_labels=model.labels_, project_labels=labels)
    codes.question_models_check(version=version, questions=questions, has_lexicon=model is not None)
    rows = Article.objects.filter(pk__any_of=article_ids).order_by("pk")
    rows = rows_read(rows.values_list("id", "text", "n_tokens", "language", "outlet__language"), ARTICLE_TYPES)
    articles = [(pk, text, n) for pk, text, n, _language, _outlet_language in rows]
    ids = [pk for pk, _text, _n in articles]
    texts = [text for _pk, text, _n in articles]
    spans, scores = [], []
    if model is not None:
        spans, scores = _chunk_results(
            found=model.predict_arrays(texts), model_labels=model.labels_, articles=articles,
            labels=labels, project_id=project.pk, version_id=version.pk, source=source,
        )  # fmt: skip
    answers = codes.chunk_answer_rows(
        version_id=version.pk, questions=questions, artefact_path=version.artefact_path,
        articles=[(pk, text, language or outlet_language) for pk, text, _n, language, outlet_language in rows],
    )  # fmt: skip
    with transaction.atomic():
        # A chunk can run twice at once (a redelivered message): the article rows are the lock, so the second
        # waits, sees the first's results and counts nothing twice.
        _lock_articles(Article.objects.filter(pk__any_of=ids))
        parents_lock(project_id=project.pk, label_ids=labels.values(), version_id=version.pk)
        already = set(
            _scored_article_ids(version=version, has_lexicon=model is not None)
            .filter(article_id__any_of=ids)
            .values_list("article_id", flat=True)
        )
        if connection.vendor == "postgresql":
            # Django's foreign keys are checked at commit by default, i.e. after the progress update below has taken
            # the job's row lock: every chunk of the run would then wait for the others' checks (those of the answer
            # counts; the counts and suggestions have none, see parents_lock). Checked now, row by row, the lock is
            # held for the update and the commit only.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        if already:  # counts and suggestion spans are only written and deleted together: no counts, no spans
            _results_delete(version=version, article_ids=sorted(already))
        rows_insert(Suggestions, SUGGESTIONS_FIELDS, spans)
        rows_insert(ArticleScore, SCORE_FIELDS, scores)
        rows_insert(AnswerCount, codes.ANSWER_COUNT_FIELDS, answers.counts)
        rows_insert(PredictedAnswers, codes.PREDICTED_ANSWERS_FIELDS, answers.predicted)
        new = len(set(ids) - already)
        # The update waits for the job's row lock and then re-checks the plan and status on the committed row.
        counted = Job.objects.filter(pk=job_id, status=JobStatus.RUNNING, params__plan=plan).update(
            progress_done=Least(F("progress_done") + new, F("progress_total")), heartbeat_at=timezone.now()
        )
        if not counted:
            transaction.set_rollback(True)
            return 0
        _finish_if_complete(job_id=job_id, project_id=project.pk)
    return new


ARTICLE_TYPES = ("bigint", "text", "integer", "text", "text")  # of score_chunk's article read
SUGGESTIONS_FIELDS = ("model_version_id", "article_id", "spans")
SCORE_FIELDS = (
    "project_id", "article_id", "source", "model_version_id", "label_id", "n_spans", "n_tokens", "score_sum",
    "computed_at",
)  # fmt: skip
#: numpy's form of annotations.suggestions.RECORD: a chunk's suggestions are packed in one go
SUGGESTION_RECORD = np.dtype([("start", "<i4"), ("end", "<i4"), ("label", "<i8"), ("score", "<f8")])


def _chunk_results(
    *, found, model_labels, articles: list[tuple[int, str, int]], labels: dict[str, int], project_id: int,
    version_id: int, source: str,
) -> tuple[list[tuple], list[tuple]]:  # fmt: skip
    """The packed suggestion rows (``SUGGESTIONS_FIELDS``, one per article with a suggestion) and per-label count
    rows (``SCORE_FIELDS``) of a chunk's predicted spans (``found``: the model's columns, ordered by article, start,
    end, label).

    Count rows are written for every label the model predicts, zeros included, and for no other: a label the model
    was trained without has not been measured, and a zero would read as "none found". Spans of a label the project
    no longer has are left out. Scores are rounded to 6 decimals and summed in span order, as from ``predict``, so
    the stored values do not depend on which of the two produced them."""
    now = timezone.now()
    label_ids = [labels.get(name) for name in model_labels]
    n_labels = len(model_labels)
    counts = [[0] * n_labels for _ in articles]
    sums = [[0.0] * n_labels for _ in articles]
    doc, label = found.doc, found.label
    kept = np.array([label_id is not None for label_id in label_ids], dtype=bool)[label] if len(label) else None
    if kept is not None and not kept.all():
        doc, label = doc[kept], label[kept]
        start, end, score = found.start[kept], found.end[kept], found.score[kept]
    else:
        start, end, score = found.start, found.end, found.score
    rounded = [round(x, 6) for x in score.tolist()]
    for d, li, x in zip(doc.tolist(), label.tolist(), rounded, strict=True):
        counts[d][li] += 1
        sums[d][li] += x
    records = np.empty(len(rounded), dtype=SUGGESTION_RECORD)
    records["start"], records["end"], records["score"] = start, end, rounded
    records["label"] = np.array([-1 if i is None else i for i in label_ids], dtype=np.int64)[label]
    bounds = np.searchsorted(doc, np.arange(len(articles) + 1)).tolist()
    suggestions = [
        (version_id, pk, records[bounds[d] : bounds[d + 1]].tobytes())
        for d, (pk, _text, _n_tokens) in enumerate(articles)
        if bounds[d + 1] > bounds[d]
    ]
    counted = [(li, label_id) for li, label_id in enumerate(label_ids) if label_id is not None]
    scores = [
        (project_id, pk, source, version_id, label_id, counts[d][li], n_tokens, sums[d][li], now)
        for d, (pk, _text, n_tokens) in enumerate(articles)
        for li, label_id in counted
    ]
    return suggestions, scores


def parents_lock(*, project_id: int, label_ids: Iterable[int], version_id: int | None = None, article_ids=None) -> None:
    """Take, once, the locks the foreign-key checks of the result rows would take row by row (``FOR KEY SHARE`` on
    the project, the labels, the model version and, given ``article_ids``, the articles): none of them can be
    deleted until the caller's transaction ends, so the ``ArticleScore`` and ``Suggestions`` rows it writes (whose
    keys have no database constraint) never outlive them. A scoring chunk passes no articles: it holds stronger
    locks on them already. Nothing to do on SQLite, whose writer holds the whole database."""
    if connection.vendor != "postgresql":
        return
    tables = [(Project, [project_id]), (Label, sorted(label_ids))]
    if version_id is not None:
        tables.append((ModelVersion, [version_id]))
    if article_ids is not None:
        tables.append((Article, sorted(article_ids)))
    with connection.cursor() as cursor:
        for model, ids in tables:
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE id = ANY(%s) FOR KEY SHARE) AS locked", [list(ids)]
            )
            if cursor.fetchone()[0] != len(set(ids)):  # what the row checks would have refused
                raise ApplicationError(
                    f"A {model._meta.verbose_name} these results refer to was deleted meanwhile: nothing was stored "
                    "(resume the run to score the rest with what is there now)."
                )


def _lock_articles(articles) -> None:
    # FOR NO KEY UPDATE: two runs of a chunk exclude each other, an annotator's span on one of the articles does not
    # wait (its foreign-key check takes FOR KEY SHARE).
    list(articles.select_for_update(of=("self",), no_key=True).order_by("pk").values_list("pk", flat=True))


def _results_delete(*, version: ModelVersion, article_ids=None) -> None:
    """A version's counts, answer counts, suggestion spans and predicted answers always go together (callers hold the
    articles' locks)."""
    spans = Suggestions.objects.filter(model_version=version)
    scores = ArticleScore.objects.filter(source=model_source(version))
    answers = AnswerCount.objects.filter(model_version=version)
    predicted = PredictedAnswers.objects.filter(model_version=version)
    if article_ids is not None:
        spans, scores = spans.filter(article_id__any_of=article_ids), scores.filter(article_id__any_of=article_ids)
        answers = answers.filter(article_id__any_of=article_ids)
        predicted = predicted.filter(article_id__any_of=article_ids)
    spans.delete()
    scores.delete()
    answers.delete()
    predicted.delete()


def _finish_if_complete(*, job_id: int, project_id: int) -> None:
    """Called inside the chunk's transaction, holding the job's row lock: exactly one chunk sees the transition."""
    finished = Job.objects.filter(pk=job_id, status=JobStatus.RUNNING, progress_done__gte=F("progress_total")).update(
        status=JobStatus.SUCCEEDED, finished_at=timezone.now(), message="Done"
    )
    if finished:  # warm the dashboard's default tables once
        from annotator.scoring.tasks import score_cache_warm_task

        enqueue_on_commit(score_cache_warm_task, project_id)


def _unfinished_runs(*, version: ModelVersion):
    return Job.objects.filter(
        kind=Job.Kind.SCORING,
        project_id=version.project_id,
        status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
        params__model_version=version.pk,
    )


@transaction.atomic
def scoring_results_clear(*, version: ModelVersion) -> int:
    """Discard a version's counts, suggestion spans and predicted answers together, so the next run scores every
    article again.

    Returns the number of articles cleared.
    """
    unfinished = _unfinished_runs(version=version).first()
    if unfinished is not None:
        raise ApplicationError(
            f"Scoring run {unfinished.pk} of this model version is still {unfinished.status}: "
            "wait until it has finished before discarding its results."
        )
    scored = ArticleScore.objects.filter(source=model_source(version)).values("article_id")
    with_spans = Suggestions.objects.filter(model_version=version).values("article_id")
    answered = AnswerCount.objects.filter(model_version=version).values("article_id")
    articles = Article.objects.filter(Q(pk__in=scored) | Q(pk__in=with_spans) | Q(pk__in=answered))
    n_articles = articles.count()
    _lock_articles(articles)
    _results_delete(version=version)
    return n_articles


def framing_scores_store(*, project: Project, query) -> list[dict]:
    """Compute the framing-score table of ``query`` (a ``selectors.ScoreQuery``) and store it for readers, keyed by the
    counts it was computed from."""
    from annotator.scoring.selectors import (
        _label,
        framing_scores_compute,
        framing_scores_fingerprint,
        framing_scores_key,
        resolve_source,
    )

    resolved = resolve_source(project=project, source=query.source)
    fingerprint = framing_scores_fingerprint(project=project, resolved=resolved)
    rows = framing_scores_compute(project=project, query=query, resolved=resolved, label=_label(project, query.label))
    ScoreCache.objects.update_or_create(
        project=project,
        key=framing_scores_key(query),
        defaults={"query": query.__dict__, "fingerprint": fingerprint, "result": {"rows": rows}},
    )
    return rows


def score_cache_warm(*, project_id: int) -> int:
    """Compute the framing-score tables of every label and the code-score tables of every question, per outlet and
    per outlet and month (the dashboard's two charts as it opens), from the active model, so that no reader waits
    for them (a read computes what is not stored, and stores nothing); returns tables stored."""
    from annotator.scoring.code_scores import code_scores_store
    from annotator.scoring.selectors import STORED_PERIODS, ScoreQuery

    project = Project.objects.get(pk=project_id)
    version = ModelVersion.objects.filter(project=project, is_active=True).first()
    if version is None:
        return 0
    labels = list(Label.objects.filter(project=project).values_list("name", flat=True))
    for name in labels:
        for period in STORED_PERIODS:
            query = ScoreQuery(label=name, source="model", period=period, syndication=project.syndication_rule)
            framing_scores_store(project=project, query=query)
    return len(labels) * len(STORED_PERIODS) + code_scores_store(project=project, version=version)


def scoring_run_fail(*, job_id: int, reason: str, plan: int | None = None) -> None:
    """Mark the run failed with ``reason``; given the ``plan`` of a failed chunk, only while that plan is current (a
    chunk of a superseded plan, e.g. a message queued before a resume, must not fail the run that replaced it)."""
    job_fail(job_id=job_id, reason=reason, **({} if plan is None else {"params__plan": plan}))


def scoring_runs_resume_stale(*, project: Project | None = None, now=None) -> list[int]:
    """Re-plan running scoring jobs whose workers stopped reporting (a killed worker, a lost message)."""
    now = now or timezone.now()
    stale = Job.objects.filter(
        kind=Job.Kind.SCORING,
        status=JobStatus.RUNNING,
        heartbeat_at__lt=now - timedelta(seconds=settings.SCORING_STALE_SECONDS),
    )
    if project is not None:
        stale = stale.filter(project=project)
    resumed = []
    for job in stale:
        Job.objects.filter(pk=job.pk).update(heartbeat_at=now, message="Resumed after a stall")
        scoring_run_plan(job_id=job.pk)
        resumed.append(job.pk)
    return resumed


def human_source_articles(*, project: Project, source: str) -> set[int]:
    """Articles a human source covers: `gold` → adjudicated articles (and any with gold spans);
    `annotator:<id>` → that annotator's finished assignments and the articles they labelled."""
    if source == "gold":
        return gold_article_ids(project=project)
    user_id = _annotator_id(source)
    done = Assignment.objects.filter(project=project, annotator_id=user_id, status=Assignment.Status.DONE)
    with_spans = Span.objects.filter(project=project, layer=Layer.ANNOTATOR, annotator_id=user_id)
    return set(done.values_list("article_id", flat=True)) | set(with_spans.values_list("article_id", flat=True))


def _annotator_id(source: str) -> int:
    prefix, _, raw = source.partition(":")
    if prefix != "annotator" or not raw.isdigit():
        raise ApplicationError(
            "Unknown score source.", {"source": [f"{source!r}: use model, gold or annotator:<user id>"]}
        )
    return int(raw)


@transaction.atomic
def human_scores_refresh(*, project: Project, source: str) -> int:
    """Rebuild the per-article counts of a human layer (gold or one annotator); returns articles counted."""
    # Two requests refreshing at once would both delete and re-insert: the project row serialises them.
    project_lock(project=project)
    article_ids = human_source_articles(project=project, source=source)
    spans = Span.objects.filter(project=project, article_id__any_of=article_ids)
    if source == "gold":
        spans = spans.filter(layer=Layer.GOLD)
    else:
        spans = spans.filter(layer=Layer.ANNOTATOR, annotator_id=_annotator_id(source))
    counts = Counter(spans.values_list("article_id", "label_id"))
    labels = list(Label.objects.filter(project=project).values_list("pk", flat=True))
    parents_lock(project_id=project.pk, label_ids=labels, article_ids=article_ids)
    tokens = dict(Article.objects.filter(pk__any_of=article_ids).values_list("pk", "n_tokens"))
    ArticleScore.objects.filter(project=project, source=source).delete()
    ArticleScore.objects.bulk_create(
        [
            ArticleScore(
                project=project,
                article_id=a,
                source=source,
                label_id=label,
                n_spans=counts[(a, label)],
                n_tokens=tokens[a],
            )  # fmt: skip
            for a in sorted(article_ids)
            for label in labels
        ],
        batch_size=5000,
    )
    return len(article_ids)


def _human_sources(*, project: Project) -> list[str]:
    """Every human score source of the project: gold, each annotator with spans or assignments, and any source
    counted before (an annotator whose work was since removed is recounted to nothing)."""
    annotators = set(
        Span.objects.filter(project=project, layer=Layer.ANNOTATOR, annotator__isnull=False).values_list(
            "annotator_id", flat=True
        )
    ) | set(Assignment.objects.filter(project=project).values_list("annotator_id", flat=True))
    counted = [
        key.removeprefix("human-marker:")
        for key in ScoreCache.objects.filter(project=project, key__startswith="human-marker:").values_list(
            "key", flat=True
        )
    ]
    return sorted({"gold", *(f"annotator:{pk}" for pk in annotators), *counted})


def _human_marker_state(*, project: Project, source: str) -> str:
    """What a human source's counts are computed from: its spans, the articles it covers (assignments finished,
    adjudications) and the project's labels. Any change (a save moves updated_at, a delete the count) moves it."""
    if source == "gold":
        spans = Span.objects.filter(project=project, layer=Layer.GOLD)
        coverage = Adjudication.objects.filter(project=project, status=Adjudication.Status.DONE)
    else:
        user_id = _annotator_id(source)
        spans = Span.objects.filter(project=project, layer=Layer.ANNOTATOR, annotator_id=user_id)
        coverage = Assignment.objects.filter(project=project, annotator_id=user_id, status=Assignment.Status.DONE)
    parts = [
        spans.aggregate(n=Count("id"), t=Max("updated_at")),
        coverage.aggregate(n=Count("id"), t=Max("updated_at")),
        Label.objects.filter(project=project).aggregate(n=Count("id"), m=Max("id")),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _human_marker_key(source: str) -> str:
    return f"human-marker:{source}"[:64]


def human_scores_refresh_stale(*, project: Project, sources: Iterable[str] | None = None) -> list[str]:
    """Recount every human source of the project (or the given ones) whose inputs changed since its last count;
    returns the sources recounted. Queued by the writes that change spans, assignments, adjudications or labels
    (``human_scores_refresh_queue``), and run by the periodic recovery for anything a write did not announce.

    Each recount runs under the project's lock and re-checks staleness once it holds it, so two refreshes at once
    recount a source once."""
    refreshed = []
    for source in sources if sources is not None else _human_sources(project=project):
        key = _human_marker_key(source)
        marker = ScoreCache.objects.filter(project=project, key=key).values_list("fingerprint", flat=True).first()
        if marker == _human_marker_state(project=project, source=source):
            continue
        with transaction.atomic():
            project_lock(project=project)
            state = _human_marker_state(project=project, source=source)
            marker = ScoreCache.objects.filter(project=project, key=key).values_list("fingerprint", flat=True).first()
            if marker == state:  # another refresh recounted it while this one waited for the lock
                continue
            human_scores_refresh(project=project, source=source)
            ScoreCache.objects.update_or_create(
                project=project, key=key, defaults={"fingerprint": state, "result": {}, "query": {}}
            )
        refreshed.append(source)
    return refreshed


#: Seconds between a write to a human layer and its recount: a burst of saves shares one recount.
HUMAN_SCORES_REFRESH_DELAY = 2


def human_scores_refresh_queue(project_id: int) -> None:
    """Queue a recount of the project's stale human sources once the current transaction commits (the
    projects.services.HUMAN_LAYERS_CHANGED_HOOKS hook of scoring)."""
    from annotator.scoring.tasks import human_scores_refresh_task

    enqueue_on_commit_once(
        human_scores_refresh_task, project_id, key=f"human-scores:{project_id}", delay=HUMAN_SCORES_REFRESH_DELAY
    )


def human_scores_refresh_all_stale() -> int:
    """The periodic safety net: recount the stale human sources of every project; returns the sources recounted."""
    return sum(len(human_scores_refresh_stale(project=p)) for p in Project.objects.all())
