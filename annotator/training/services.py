"""Writes for training: queue a model version, train it, fail it, activate it, pin/ban terms."""

from __future__ import annotations

import logging
import shutil
import traceback
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from celery.canvas import Signature
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from annotator.common.errors import ApplicationError
from annotator.common.models import JobStatus
from annotator.common.queueing import enqueue_on_commit
from annotator.projects.locks import project_lock
from annotator.projects.models import Label, Project
from annotator.training import codes, selectors
from annotator.training.models import LexiconTerm, ModelVersion, TermRule

logger = logging.getLogger(__name__)

MIN_ARTICLES = 4

TRAINING_NOTHING_TO_LEARN = (
    "There is nothing to learn from yet: the {source} layer has {n} annotated articles; need at least {min} for the "
    "lexicon, and no codebook question has enough answers."
)


@transaction.atomic
def model_version_create(
    *,
    project: Project,
    user=None,
    params: dict | None = None,
    source: str | None = None,
    then: Callable[[int], Signature] | None = None,
) -> ModelVersion:
    """Queue a new model version and its training task (sent once the row is committed).

    ``then(version_id)`` gives a Celery signature that the worker runs after the training task (load_demo activates
    and scores the demo's v1 this way)."""
    from annotator.training.tasks import model_version_train_task

    source = source or project.training_source
    if source not in {"gold", "all"}:
        raise ApplicationError("Unknown training source.", {"source": [f"{source!r} is not one of gold, all"]})
    project_lock(project=project)  # serialise version numbering
    number = (ModelVersion.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0) + 1
    version = ModelVersion.objects.create(
        project=project,
        number=number,
        created_by=user if user and user.is_authenticated else None,
        params={"random_state": project.random_seed, **(params or {})},
        training_source=source,
        status=JobStatus.QUEUED,
    )
    enqueue_on_commit(model_version_train_task, version.id, link=then(version.id) if then is not None else None)
    return version


def _progress(version_id: int, fraction: float, message: str) -> None:
    ModelVersion.objects.filter(pk=version_id).update(
        progress=round(fraction, 4), progress_message=message[:500], heartbeat_at=timezone.now()
    )


def _artefact_dir(version: ModelVersion) -> Path:
    return Path(settings.ARTEFACT_DIR) / version.project.slug / f"v{version.number}"


def model_version_train(*, version_id: int) -> ModelVersion:
    """Train, cross-validate and store one version. Safe to run twice: a finished version is left as it is."""
    from ml import artefact
    from ml.lexicon import LexiconClassifier
    from ml.validation import cross_validate

    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().select_related("project").get(pk=version_id)
        if version.status == JobStatus.SUCCEEDED:
            return version
        version.status = JobStatus.RUNNING
        version.started_at = timezone.now()
        version.heartbeat_at = timezone.now()
        version.error = ""
        version.save(update_fields=["status", "started_at", "heartbeat_at", "error"])
    project = version.project

    _progress(version.id, 0.02, "Collecting labelled articles")
    data = selectors.training_data(project=project, source=version.training_source)
    directory = _artefact_dir(version)
    # A retry after a crash starts from an empty directory: the manifest must list only what this run trains.
    shutil.rmtree(directory, ignore_errors=True)
    has_lexicon = len(data.texts) >= MIN_ARTICLES
    metrics: dict = {}
    model = None
    pinned, banned = selectors.term_rules(project=project)
    if has_lexicon:
        estimator = LexiconClassifier(**{**version.params, "pinned": pinned, "banned": banned})

        def cv_progress(done: int, total: int) -> None:
            _progress(version.id, 0.05 + 0.45 * done / total, f"Cross-validation fold {done} of {total}")

        metrics = cross_validate(
            estimator, data.texts, data.spans, groups=data.article_ids, outlets=data.outlets, progress=cv_progress
        )
        _progress(version.id, 0.52, "Fitting the final model on all labelled articles")
        model = estimator.fit(data.texts, data.spans, groups=data.article_ids)
        artefact.save(model, directory, metrics=metrics, data_sha256=data.data_hash())

    def codes_progress(fraction: float, message: str) -> None:
        _progress(version.id, 0.6 + 0.3 * fraction, message)

    code_metrics = codes.questions_train(
        project=project, source=version.training_source, directory=directory,
        seed=int(version.params.get("random_state") or 0), progress=codes_progress,
    )  # fmt: skip
    if code_metrics:
        metrics["codes"] = code_metrics
    trained = [name for name, m in code_metrics.items() if "skipped" not in m]
    if not has_lexicon and not trained:
        raise ApplicationError(
            TRAINING_NOTHING_TO_LEARN.format(source=version.training_source, n=len(data.texts), min=MIN_ARTICLES)
            + "".join(f" Question {name}: {m['skipped']}." for name, m in code_metrics.items())
        )
    _progress(version.id, 0.92, "Storing the lexicon" if has_lexicon else "Storing the question classifiers")
    with transaction.atomic():
        if model is not None:
            _store_lexicon(version=version, model=model, pinned=set(pinned), banned=set(banned))
        ModelVersion.objects.filter(pk=version.id).update(
            status=JobStatus.SUCCEEDED,
            progress=1.0,
            progress_message="Done",
            data_hash=data.data_hash() if has_lexicon else "",
            n_articles=len(data.texts) if has_lexicon else 0,
            n_spans=data.n_spans if has_lexicon else 0,
            metrics=metrics,
            artefact_path=str(directory),
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
        )
    version.refresh_from_db()
    return version


def _store_lexicon(*, version: ModelVersion, model, pinned: set[tuple[str, str]], banned: set[tuple[str, str]]) -> None:
    """The readable lexicon; banned terms are left out (the model never predicts them)."""
    labels = {label.name: label for label in Label.objects.filter(project=version.project)}
    LexiconTerm.objects.filter(model_version=version).delete()
    rows = [
        LexiconTerm(
            model_version=version,
            term=entry.term[:500],
            label=labels[entry.label],
            weight=float(entry.weight),
            support=int(entry.support),
            n_seen=int(entry.n_seen),
            precision=float(entry.precision),
            is_pinned=bool(entry.pinned or (entry.term, entry.label) in pinned),
        )
        for entry in model.lexicon_
        if entry.label in labels and (entry.term, entry.label) not in banned
    ]
    LexiconTerm.objects.bulk_create(rows, batch_size=2000)


def model_version_fail(*, version_id: int, reason: str) -> None:
    """Record why a version failed; a finished version is never downgraded."""
    ModelVersion.objects.filter(pk=version_id).exclude(status=JobStatus.SUCCEEDED).update(
        status=JobStatus.FAILED, error=reason[:5000], finished_at=timezone.now(), progress_message="Failed"
    )


def model_version_fail_from_exception(*, version_id: int, exc: BaseException) -> None:
    if isinstance(exc, ApplicationError):
        reason = exc.message
    else:
        reason = f"{exc.__class__.__name__}: {exc}\n" + "".join(traceback.format_exception(exc)[-3:])
    model_version_fail(version_id=version_id, reason=reason)


def model_versions_reap_stale(*, project: Project | None = None, now=None) -> int:
    """Mark running versions whose worker stopped reporting as failed, so none stays `running` for ever."""
    now = now or timezone.now()
    # A running version whose worker has not reported for this long is taken to be lost (killed worker).
    stale_after = timedelta(seconds=settings.TRAINING_STALE_SECONDS)
    stale = ModelVersion.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=now - stale_after)
    if project is not None:
        stale = stale.filter(project=project)
    return stale.update(
        status=JobStatus.FAILED,
        error=f"The worker stopped reporting progress for more than {settings.TRAINING_STALE_SECONDS} s "
        "(killed or crashed). Train again.",
        finished_at=now,
        progress_message="Failed",
    )


@transaction.atomic
def model_version_activate(*, version: ModelVersion) -> ModelVersion:
    """Make this version the project's active one; the previous one serves until this commits."""
    if version.status != JobStatus.SUCCEEDED:
        raise ApplicationError("Only a successfully trained version can be activated.", {"status": [version.status]})
    project_lock(project=version.project_id)  # two activations at once: the second waits, then deactivates the first
    ModelVersion.objects.filter(project=version.project_id, is_active=True).exclude(pk=version.pk).update(
        is_active=False
    )
    ModelVersion.objects.filter(pk=version.pk).update(is_active=True)
    version.refresh_from_db()
    return version


@transaction.atomic
def term_rule_set(*, project: Project, term: str, label: Label, action: str, user=None) -> TermRule:
    """Pin (always predict) or ban (never predict) a term for a label; the next training respects it."""
    term = " ".join(term.split()).lower()
    if not term:
        raise ApplicationError("A term cannot be empty.", {"term": ["This field may not be blank."]})
    if label.project_id != project.pk:
        raise ApplicationError("That label belongs to another project.", {"label": ["Unknown label."]})
    if action not in TermRule.Action.values:
        raise ApplicationError("Unknown action.", {"action": [f"{action!r} is not one of pin, ban"]})
    rule, _ = TermRule.objects.update_or_create(
        project=project, term=term, label=label, defaults={"action": action, "created_by": user}
    )
    return rule


def term_rule_delete(*, project: Project, rule_id: int) -> None:
    deleted, _ = TermRule.objects.filter(project=project, pk=rule_id).delete()
    if not deleted:
        raise ApplicationError("No such term rule.", status_code=404)
