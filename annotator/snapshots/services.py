"""Frozen study snapshots: everything a framing study's figures rest on, in one hashed, immutable .zip archive.

``snapshot_freeze`` writes ``MEDIA_ROOT/snapshots/<project>-<hash12>.zip`` with

* ``data/*.jsonl|json``: outlets, articles (texts, hashes, dates, clusters), the codebook (labels, questions +
  versions), the gold layer, adjudications, the answers to the codebook's questions (gold and annotators'), the active model's lexicon, framing-score tables, agreement, project settings;
* ``model/``: the active model version's artefact files (``model.json`` + its ``manifest.json``);
* ``manifest.json``: format, counts, the sha256 of every file and the ``content_hash`` = sha256 of the canonical
  JSON of ``{path: sha256}`` over the data and model files (so the hash depends on the data, not on when the
  archive was made);
* ``METHODS.md``: a methods paragraph generated from the same figures.

Snapshots have no update service: the archive is checked against its manifest and the stored hashes whenever it
is downloaded or imported, and a changed byte gives an ApplicationError naming the file.
``snapshot_import`` re-creates the study (outlets, articles, project, codebook, gold, adjudications, model version
with its artefact) under a new slug and re-scores the corpus with the imported model; see docs/rigour.md.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from annotator.annotations.answers import AnswerRow, answers_import
from annotator.annotations.models import Adjudication, Answer, Layer, Span
from annotator.common.errors import ApplicationError
from annotator.common.models import Job, JobStatus
from annotator.common.queueing import enqueue_on_commit
from annotator.common.services import job_fail, jobs_fail_stale
from annotator.corpus.models import Article, Outlet, StoryCluster
from annotator.projects.codebook import codebook_questions
from annotator.projects.models import (
    Assignment,
    CodebookVersion,
    Label,
    Membership,
    Project,
    ProjectArticle,
    Question,
    QuestionOption,
    Role,
)
from annotator.projects.roles import role_at_least
from annotator.projects.selectors import membership_role
from annotator.projects.services import human_layers_changed
from annotator.snapshots.models import Snapshot
from annotator.training.models import LexiconTerm, ModelVersion

FreezeProgress = Callable[[int, int, str], None]  # (done, total, message)

FORMAT = "framescope-snapshot/1"
ANNOTATOR_NAMES_REAL, ANNOTATOR_NAMES_PSEUDONYMS = "usernames", "pseudonyms"
SCORE_PERIODS = ("all", "month")
PROJECT_SETTINGS = (
    "annotators_per_article",
    "overlap_fraction",
    "blind",
    "outlet_blind",
    "snap_to_words",
    "one_per_cluster",
    "stratify_by",
    "calibration_size",
    "random_seed",
    "training_source",
    "score_new_articles",
    "syndication_rule",
    "bootstrap_resamples",
    "time_zone",
)
NOT_ALLOWED = "Only curators and owners can freeze or import a study snapshot."
TAMPERED = "The snapshot archive has been modified since it was frozen: {detail}."
SYNDICATION_TEXT = {
    "per_outlet": "each outlet's copy of a syndicated story counted in that outlet",
    "once": "each story cluster of syndicated copies counted once (its first stored article)",
    "exclude_wire": "syndicated wire copies excluded (the source article kept)",
}


def canonical_json(data: Any) -> bytes:
    """The one byte form used for hashing and for comparing tables: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _jsonl(rows: Iterable[dict]) -> bytes:
    return b"".join(canonical_json(r) + b"\n" for r in rows)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_hash_of(files: dict[str, str]) -> str:
    """sha256 over the canonical JSON of {path: sha256 of the file} (manifest.json and METHODS.md excluded)."""
    return _sha256(canonical_json(files))


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


# --- freezing ------------------------------------------------------------------------------------------------


def _check_curator(project: Project, by) -> None:
    if by is None:
        return
    role = membership_role(project=project, user=by)
    if not role_at_least(role, Role.CURATOR):
        raise ApplicationError(NOT_ALLOWED, {"role": [f"You are {role or 'not a member'}."]}, status_code=403)


def _article_rows(project: Project) -> tuple[list[dict], list[dict]]:
    articles = (
        Article.objects.filter(project_links__project=project)
        .select_related("outlet")
        .order_by("pk")
        .values(
            "pk", "outlet__slug", "title", "text", "url", "published_at", "language", "byline", "external_id",
            "content_hash", "n_tokens", "metadata", "cluster_id", "is_wire_copy",
        )
    )  # fmt: skip
    rows, outlet_ids = [], set()
    for a in articles.iterator(chunk_size=2000):
        rows.append(
            {
                "id": a["pk"], "outlet": a["outlet__slug"], "title": a["title"], "text": a["text"], "url": a["url"],
                "published_at": _iso(a["published_at"]), "language": a["language"], "byline": a["byline"],
                "external_id": a["external_id"], "content_hash": a["content_hash"], "n_tokens": a["n_tokens"],
                "metadata": a["metadata"] or {}, "cluster": a["cluster_id"], "is_wire_copy": a["is_wire_copy"],
            }
        )  # fmt: skip
        outlet_ids.add(a["outlet__slug"])
    outlets = [
        {
            "slug": o.slug, "name": o.name, "country": o.country, "language": o.language, "leaning": o.leaning,
            "homepage": o.homepage, "is_wire_agency": o.is_wire_agency, "time_zone": o.time_zone,
        }
        for o in Outlet.objects.filter(slug__in=outlet_ids).order_by("slug")
    ]  # fmt: skip
    return outlets, rows


def _cluster_rows(article_rows: list[dict]) -> list[dict]:
    ids = sorted({a["cluster"] for a in article_rows if a["cluster"] is not None})
    return [
        {
            "id": c.pk, "representative": c.representative_id, "source_outlet": c.source_outlet.slug
            if c.source_outlet_id else None, "method": c.method, "threshold": c.threshold, "size": c.size,
        }
        for c in StoryCluster.objects.filter(pk__in=ids).select_related("source_outlet").order_by("pk")
    ]  # fmt: skip


def _codebook(project: Project) -> dict:
    labels = [
        {
            "name": lab.name, "description": lab.description, "colour": lab.colour, "hotkey": lab.hotkey,
            "parent": lab.parent.name if lab.parent_id else None, "positive_examples": lab.positive_examples,
            "negative_examples": lab.negative_examples, "order": lab.order,
        }
        for lab in Label.objects.filter(project=project).select_related("parent").order_by("order", "name")
    ]  # fmt: skip
    versions = []
    for v in CodebookVersion.objects.filter(project=project).order_by("number"):
        row = {"number": v.number, "changelog": v.changelog, "labels_snapshot": v.labels_snapshot}
        if v.questions_snapshot:  # only then: a study without questions keeps the hash it always had
            row["questions_snapshot"] = v.questions_snapshot
        versions.append(row)
    codebook = {"labels": labels, "versions": versions, "current_version": versions[-1]["number"] if versions else None}
    questions = [
        {key: value for key, value in q.items() if key not in ("id", "label_id")}
        for q in codebook_questions(project=project)
    ]
    if questions:
        codebook["questions"] = questions
    return codebook


def _gold(project: Project) -> tuple[list[dict], list[dict]]:
    spans = [
        {
            "article": s.article_id, "label": s.label.name, "start_char": s.start_char, "end_char": s.end_char,
            "text": s.text, "note": s.note, "codebook_version": s.codebook_version.number
            if s.codebook_version_id else None, "provenance": s.provenance or {},
        }
        for s in Span.objects.filter(project=project, layer=Layer.GOLD)
        .select_related("label", "codebook_version")
        .order_by("article_id", "start_char", "end_char", "label__name", "pk")
    ]  # fmt: skip
    adjudications = [
        {"article": a, "status": s}
        for a, s in Adjudication.objects.filter(project=project)
        .order_by("article_id")
        .values_list("article_id", "status")
    ]
    return spans, adjudications


def _annotator_layer(
    project: Project, *, with_names: bool
) -> tuple[list[dict], list[dict], list[dict], dict[int, str]]:
    """Annotators, their assignments and their annotator-layer spans, and each annotator's name in the snapshot;
    usernames become ``annotator-NN`` (numbered in user-id order) unless ``with_names``. Span notes are left out
    (free text that may name people)."""
    spans = Span.objects.filter(project=project, layer=Layer.ANNOTATOR, annotator__isnull=False)
    assignments = Assignment.objects.filter(project=project)
    answerers = Answer.objects.filter(project=project, layer=Layer.ANNOTATOR, annotator__isnull=False)
    user_ids = sorted(
        set(spans.values_list("annotator_id", flat=True))
        | set(assignments.values_list("annotator_id", flat=True))
        | set(answerers.values_list("annotator_id", flat=True))
    )
    names = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
    alias = {uid: names[uid] if with_names else f"annotator-{i:02d}" for i, uid in enumerate(user_ids, start=1)}
    annotators = [{"name": alias[uid]} for uid in user_ids]
    assignment_rows = [
        {"article": a, "annotator": alias[u], "status": st, "is_calibration": cal, "position": pos}
        for a, u, st, cal, pos in assignments.order_by("annotator_id", "position", "article_id").values_list(
            "article_id", "annotator_id", "status", "is_calibration", "position"
        )
    ]
    span_rows = [
        {
            "article": s.article_id, "annotator": alias[s.annotator_id], "label": s.label.name,
            "start_char": s.start_char, "end_char": s.end_char, "text": s.text,
            "codebook_version": s.codebook_version.number if s.codebook_version_id else None,
        }
        for s in spans.select_related("label", "codebook_version").order_by(
            "article_id", "annotator_id", "start_char", "end_char", "label__name", "pk"
        )
    ]  # fmt: skip
    return annotators, assignment_rows, span_rows, alias


def _answers(project: Project, *, alias: dict[int, str], with_names: bool) -> list[dict]:
    """The gold and annotator-layer answers: the unit is the article, a sentence's offsets, or (an attribute) its
    span's layer, annotator, label and offsets. Provenance (which may name curators and annotators) only in a
    snapshot with names."""
    rows = []
    for a in (
        Answer.objects.filter(project=project, layer__in=(Layer.GOLD, Layer.ANNOTATOR))
        .select_related("question", "codebook_version", "span__label")
        .order_by("article_id", "question__order", "question__name", "layer", "annotator_id", "start_char",
                  "span__start_char", "span__end_char", "pk")
    ):  # fmt: skip
        span = None
        if a.span_id is not None:
            span = {"label": a.span.label.name, "start_char": a.span.start_char, "end_char": a.span.end_char}
        rows.append(
            {
                "article": a.article_id, "question": a.question.name, "layer": a.layer,
                "annotator": alias.get(a.annotator_id) if a.annotator_id else None, "start_char": a.start_char,
                "end_char": a.end_char, "span": span, "value": a.value,
                "codebook_version": a.codebook_version.number if a.codebook_version_id else None,
                "provenance": (a.provenance or {}) if with_names else {},
            }
        )  # fmt: skip
    return rows


def _model(project: Project) -> tuple[dict | None, list[dict], dict[str, bytes]]:
    version = ModelVersion.objects.filter(project=project, is_active=True).first()
    if version is None:
        return None, [], {}
    directory = Path(version.artefact_path)
    files = {}
    # every file of the artefact, its folders too (the question classifiers are in codes/)
    for path in sorted(directory.rglob("*")) if directory.is_dir() else []:
        if path.is_file():
            files[f"model/{path.relative_to(directory).as_posix()}"] = path.read_bytes()
    if not files:
        raise ApplicationError(
            f"The active model version v{version.number} has no artefact files at {directory}; retrain or activate "
            "another version before freezing.",
            {"model": ["artefact missing"]},
        )
    info = {
        "number": version.number, "training_source": version.training_source, "params": version.params,
        "data_hash": version.data_hash, "n_articles": version.n_articles, "n_spans": version.n_spans,
        "metrics": version.metrics, "finished_at": _iso(version.finished_at),
    }  # fmt: skip
    terms = [
        {
            "term": t.term, "label": t.label.name, "weight": t.weight, "support": t.support, "n_seen": t.n_seen,
            "precision": t.precision, "is_pinned": t.is_pinned,
        }
        for t in LexiconTerm.objects.filter(model_version=version).select_related("label").order_by("label__name", "term")
    ]  # fmt: skip
    return info, terms, files


def _score_sources(project: Project) -> list[str]:
    return (["model"] if ModelVersion.objects.filter(project=project, is_active=True).exists() else []) + ["gold"]


def score_tables(*, project: Project, on_table: Callable[[int], None] | None = None) -> list[dict]:
    """Framing scores for each label × source (active model, gold) × period (all, month), uncached."""
    from annotator.scoring.selectors import ScoreQuery, framing_scores
    from annotator.scoring.services import human_scores_refresh_stale

    human_scores_refresh_stale(project=project, sources=["gold"])  # a freeze holds the gold layer as it is now
    tables = []
    for label in Label.objects.filter(project=project).order_by("order", "name"):
        for source in _score_sources(project):
            for period in SCORE_PERIODS:
                query = ScoreQuery(label=label.name, source=source, period=period, syndication=project.syndication_rule)
                rows = framing_scores(project=project, query=query, use_cache=False)
                tables.append({"query": dict(query.__dict__), "rows": rows})
                if on_table is not None:
                    on_table(len(tables))
    return tables


def _agreement(project: Project) -> dict:
    from annotator.annotations.agreement import AgreementFilters, agreement_compute

    try:
        result = agreement_compute(project=project, filters=AgreementFilters())
    except Exception as exc:  # any reason it cannot be computed is recorded, not fatal for the snapshot
        return {"computed": False, "reason": f"{type(exc).__name__}: {exc}"}
    return {"computed": True, "filters": result["filters"], "table": result["table"]}


def _settings(project: Project) -> dict:
    from ml.artefact import code_version

    return {
        "project": {name: getattr(project, name) for name in PROJECT_SETTINGS},
        # periods are bucketed in an outlet's own time zone where it has one (scoring.selectors.publication_periods)
        "outlet_time_zones": dict(
            Outlet.objects.filter(articles__project_links__project=project)
            .exclude(time_zone="")
            .distinct()
            .order_by("slug")
            .values_list("slug", "time_zone")
        ),  # fmt: skip
        "near_dup_threshold": settings.NEAR_DUP_THRESHOLD,
        "code_version": code_version(),
    }


@dataclass
class _Archive:
    files: dict[str, bytes] = field(default_factory=dict)

    def add(self, path: str, data: bytes) -> None:
        self.files[path] = data

    def hashes(self) -> dict[str, str]:
        return {path: _sha256(data) for path, data in sorted(self.files.items())}


def methods_paragraph(manifest: dict, *, agreement: dict, tables: list[dict]) -> str:
    """The generated METHODS.md text (Markdown)."""
    s = manifest["settings"]["project"]
    counts = manifest["counts"]
    model = manifest.get("model")
    agreement_text = "Inter-annotator agreement could not be computed for this snapshot"
    if agreement.get("computed"):
        overall = [r for r in agreement["table"] if r.get("label") == "all" and r.get("value") is not None]
        figures = "; ".join(
            f"{r['measure']}{' of question ' + r['question'] if r.get('question') else ''} = {r['value']:.3f} "
            f"({r['n_items']} articles)"
            for r in overall
        )
        agreement_text = f"Inter-annotator agreement (annotators who finished each article): {figures or 'n/a'}"
    model_text = (
        f"Model-based scores use lexicon model version {model['number']} (trained on the {model['training_source']} "
        f"layer of {model['n_articles']} articles with {model['n_spans']} spans; training data hash "
        f"{model['data_hash'][:12]}; artefact hash {model['model_sha256'][:12]})."
        if model
        else "No model version was active; only the gold layer was scored."
    )
    n_tables = len(tables)
    return (
        f"# Methods: {manifest['name']}\n\n"
        f"Corpus: {counts['articles']} articles from {counts['outlets']} outlets"
        f"{' published ' + manifest['period'] if manifest.get('period') else ''}; codebook version "
        f"{manifest['codebook_version']} with {counts['labels']} labels; gold layer of {counts['gold_spans']} spans "
        f"in {counts['adjudicated']} adjudicated articles. "
        "Framing scores are loaded terms per 1,000 tokens (spans of a label divided by the word tokens of the "
        "articles, ×1,000) and the share of articles with at least one span, per outlet and period (calendar months "
        f"of the publication date in {_zones_text(manifest['settings'])}), with 95 % "
        f"percentile bootstrap confidence intervals over articles with {s['bootstrap_resamples']} resamples, "
        f"seed {s['random_seed']}. Syndicated copies were grouped into story clusters (MinHash over 3-word shingles, "
        f"Jaccard ≥ {manifest['settings']['near_dup_threshold']}; {counts['clusters']} clusters) and "
        f"{SYNDICATION_TEXT.get(s['syndication_rule'], s['syndication_rule'])}. {agreement_text}. {model_text} "
        f"The snapshot holds {n_tables} score tables; its content hash is sha256 {manifest['content_hash']}.\n"
    )


def _zones_text(settings_: dict) -> str:
    """The time zone of periods: the project's, and any outlet's own (snapshots before 2026-12 were all UTC)."""
    text = settings_["project"].get("time_zone", "UTC")
    own = [f"{slug} in {name}" for slug, name in sorted((settings_.get("outlet_time_zones") or {}).items())]
    return text + (f"; outlets' own: {', '.join(own)}" if own else "")


def _period(articles: list[dict]) -> str:
    dates = sorted(a["published_at"][:10] for a in articles if a["published_at"])
    return f"{dates[0]} to {dates[-1]}" if dates else ""


def _check_freeze(project: Project, by, name: str) -> str:
    """The cleaned name, after the checks that need no data read (also run before a freeze is queued)."""
    _check_curator(project, by)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ApplicationError("A snapshot needs a name of 1 to 200 characters.", {"name": ["Give a short name."]})
    if not ProjectArticle.objects.filter(project=project).exists():
        raise ApplicationError("The project has no articles to freeze.", {"project": ["empty"]})
    return name


def snapshot_freeze(
    *,
    project: Project,
    by,
    name: str,
    on_progress: FreezeProgress | None = None,
    on_saved: Callable[[Snapshot], None] | None = None,
    with_names: bool = False,
) -> Snapshot:
    """Freeze the study as it is now into an immutable, hashed archive and a Snapshot row.

    The annotator layers go in with pseudonyms (``annotator-01`` …) unless ``with_names`` keeps the usernames.

    ``on_progress(done, total, message)`` is called after each step (each score table is one); ``on_saved``
    runs in the transaction that saves the Snapshot row (a job marks itself done there: no half-finished state).
    """
    name = _check_freeze(project, by, name)
    n_tables = Label.objects.filter(project=project).count() * len(_score_sources(project)) * len(SCORE_PERIODS)
    total = n_tables + 4

    def step(done: int, message: str) -> None:
        if on_progress is not None:
            on_progress(done, total, message)

    step(0, "Reading articles")
    outlets, articles = _article_rows(project)
    if not articles:
        raise ApplicationError("The project has no articles to freeze.", {"project": ["empty"]})
    step(1, "Reading the codebook, gold layer and model")
    codebook = _codebook(project)
    gold, adjudications = _gold(project)
    annotators, assignments, annotator_spans, alias = _annotator_layer(project, with_names=with_names)
    answers = _answers(project, alias=alias, with_names=with_names)
    model, terms, model_files = _model(project)
    step(2, f"Computing {n_tables} score tables")
    tables = score_tables(project=project, on_table=lambda n: step(2 + n, f"Score table {n} of {n_tables}"))
    step(2 + n_tables, "Computing agreement")
    agreement = _agreement(project)
    step(3 + n_tables, "Writing the archive")
    archive = _Archive()
    archive.add("data/project.json", canonical_json({"name": project.name, "slug": project.slug,
                                                     "description": project.description,
                                                     "guidelines": project.guidelines}))  # fmt: skip
    archive.add("data/settings.json", canonical_json(_settings(project)))
    archive.add("data/outlets.jsonl", _jsonl(outlets))
    archive.add("data/articles.jsonl", _jsonl(articles))
    archive.add("data/clusters.jsonl", _jsonl(_cluster_rows(articles)))
    archive.add("data/codebook.json", canonical_json(codebook))
    archive.add("data/gold_spans.jsonl", _jsonl(gold))
    archive.add("data/adjudications.jsonl", _jsonl(adjudications))
    archive.add("data/annotators.jsonl", _jsonl(annotators))
    archive.add("data/assignments.jsonl", _jsonl(assignments))
    archive.add("data/annotator_spans.jsonl", _jsonl(annotator_spans))
    if answers or codebook.get("questions"):
        archive.add("data/answers.jsonl", _jsonl(answers))
    archive.add("data/lexicon_terms.jsonl", _jsonl(terms))
    archive.add("data/model_version.json", canonical_json(model))
    archive.add("data/scores.json", canonical_json(tables))
    archive.add("data/agreement.json", canonical_json(agreement))
    for path, data in model_files.items():
        archive.add(path, data)
    hashes = archive.hashes()
    content_hash = content_hash_of(hashes)
    if model:
        model["model_sha256"] = json.loads(model_files.get("model/manifest.json", b"{}")).get("model_sha256", "")
    manifest = {
        "format": FORMAT,
        "name": name,
        "project": {"slug": project.slug, "name": project.name},
        "created_at": timezone.now().astimezone(UTC).isoformat(timespec="seconds"),
        "created_by": getattr(by, "username", None),
        "content_hash": content_hash,
        "files": hashes,
        "codebook_version": codebook["current_version"],
        "period": _period(articles),
        "counts": {
            "outlets": len(outlets),
            "articles": len(articles),
            "labels": len(codebook["labels"]),
            "gold_spans": len(gold),
            "adjudicated": sum(a["status"] == "done" for a in adjudications),
            "clusters": len({a["cluster"] for a in articles if a["cluster"] is not None}),
            "lexicon_terms": len(terms),
            "score_tables": len(tables),
            "annotators": len(annotators),
            "annotator_spans": len(annotator_spans),
            "assignments": len(assignments),
            "questions": len(codebook.get("questions", [])),
            "answers": len(answers),
            "gold_answers": sum(a["layer"] == Layer.GOLD for a in answers),
        },  # fmt: skip
        "annotator_names": ANNOTATOR_NAMES_REAL if with_names else ANNOTATOR_NAMES_PSEUDONYMS,
        "model": model,
        "score_queries": [t["query"] for t in tables],
        "settings": _settings(project),
    }
    methods = methods_paragraph(manifest, agreement=agreement, tables=tables)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        zf.writestr("METHODS.md", methods)
        for path, data in sorted(archive.files.items()):
            zf.writestr(path, data)
    body = buffer.getvalue()
    snapshot = Snapshot(
        project=project,
        name=name,
        content_hash=content_hash,
        manifest={**manifest, "archive_sha256": _sha256(body), "methods": methods},
        created_by=by,
    )
    with transaction.atomic():
        snapshot.archive.save(f"{project.slug}-{content_hash[:12]}.zip", ContentFile(body), save=False)
        snapshot.save()
        if on_saved is not None:
            on_saved(snapshot)
    step(total, "Done")
    return snapshot


# --- freezing in the background (page and API) ------------------------------------------------------------------


def snapshot_job_create(*, project: Project, by, name: str, with_names: bool = False) -> Job:
    """Queue a freeze as a Job (the page and API poll ``jobs/<id>/``); bad input is refused before queueing.

    A second request with the same name while one is queued or running returns that job (a double click).
    """
    name = _check_freeze(project, by, name)
    with transaction.atomic():
        running = Job.objects.filter(
            project=project, kind=Job.Kind.SNAPSHOT, status__in=[JobStatus.QUEUED, JobStatus.RUNNING], params__name=name
        ).first()
        if running is not None:
            return running
        job = Job.objects.create(
            kind=Job.Kind.SNAPSHOT,
            project=project,
            created_by=by,
            message="Queued",
            params={"name": name, "with_names": bool(with_names)},
        )
        from annotator.snapshots.tasks import snapshot_freeze_task

        enqueue_on_commit(snapshot_freeze_task, job.pk)
    return job


def snapshot_job_run(*, job_id: int) -> dict:
    """Freeze for a queued Job, reporting progress in the row; a finished job is left alone (retry-safe)."""
    job = Job.objects.select_related("project", "created_by").get(pk=job_id)
    if job.status == JobStatus.SUCCEEDED:
        return {"job_id": job.pk, "status": job.status, **job.result}
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(), error="", message="Started"
    )

    def progress(done: int, total: int, message: str) -> None:
        Job.objects.filter(pk=job.pk).update(
            progress_done=done, progress_total=total, message=message[:500], heartbeat_at=timezone.now()
        )

    def finished(snapshot: Snapshot) -> None:
        from django.urls import reverse

        result = {
            "snapshot_id": snapshot.pk,
            "name": snapshot.name,
            "content_hash": snapshot.content_hash,
            "download_url": reverse(
                "api:snapshot-download", kwargs={"slug": job.project.slug, "snapshot_id": snapshot.pk}
            ),
        }
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.SUCCEEDED, result=result, finished_at=timezone.now(), message="Done"
        )

    snapshot_freeze(project=job.project, by=job.created_by, name=job.params["name"], on_progress=progress,
                    on_saved=finished, with_names=bool(job.params.get("with_names")))  # fmt: skip
    job.refresh_from_db()
    return {"job_id": job.pk, "status": job.status, **job.result}


def snapshot_job_fail(*, job_id: int, reason: str) -> None:
    job_fail(job_id=job_id, reason=reason)


def snapshot_jobs_fail_stale(*, now=None) -> int:
    """Fail freeze jobs whose worker died (no step for SNAPSHOT_STALE_SECONDS) or whose message was lost.

    Failing, not re-queueing: a freeze that is only slow would otherwise run twice. The page then offers a new one.
    """
    seconds = settings.SNAPSHOT_STALE_SECONDS
    return jobs_fail_stale(
        kind=Job.Kind.SNAPSHOT, seconds=seconds, now=now,
        running_error=f"The freeze reported no progress for {seconds} s (the worker was killed or crashed). "
        "Freeze again.",
        queued_error=f"No worker took the freeze up within {seconds} s (no worker serves the default queue, or the "
        "message was lost). Freeze again.",
    )  # fmt: skip


# --- verifying and reading an archive ----------------------------------------------------------------------------


@dataclass
class SnapshotArchive:
    manifest: dict
    files: dict[str, bytes]

    def json(self, path: str) -> Any:
        return json.loads(self.files[path])

    def jsonl(self, path: str) -> list[dict]:
        return [json.loads(line) for line in self.files[path].splitlines() if line.strip()]


def snapshot_archive_read(*, path: str | Path, expected_hash: str | None = None) -> SnapshotArchive:
    """Open and verify an archive: every file against the manifest, the content hash, and ``expected_hash``."""
    path = Path(path)
    if not path.is_file():
        raise ApplicationError(f"No snapshot archive at {path}.", {"archive": ["missing"]}, status_code=404)
    try:
        with zipfile.ZipFile(path) as zf:
            files = {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    except (zipfile.BadZipFile, OSError) as exc:
        raise ApplicationError(
            TAMPERED.format(detail=f"not a readable zip archive ({exc})"), {"archive": ["corrupt"]}
        ) from exc
    except Exception as exc:  # zlib.error, CRC mismatch: bytes changed inside the archive
        raise ApplicationError(
            TAMPERED.format(detail=f"a member cannot be read ({exc})"), {"archive": ["corrupt"]}
        ) from exc
    try:
        manifest = json.loads(files.pop("manifest.json"))
    except (KeyError, ValueError) as exc:
        raise ApplicationError(
            TAMPERED.format(detail="manifest.json is missing or unreadable"), {"archive": [str(exc)]}
        ) from exc
    if manifest.get("format") != FORMAT:
        raise ApplicationError(
            f"Not a Framescope snapshot (format {manifest.get('format')!r}, expected {FORMAT!r}).",
            {"archive": ["format"]},
        )
    declared = manifest.get("files") or {}
    files.pop("METHODS.md", None)
    for name in sorted(set(declared) | set(files)):
        if name not in files:
            raise ApplicationError(TAMPERED.format(detail=f"{name} is missing"), {"archive": [name]})
        if name not in declared:
            raise ApplicationError(TAMPERED.format(detail=f"{name} is not in manifest.json"), {"archive": [name]})
        if _sha256(files[name]) != declared[name]:
            raise ApplicationError(
                TAMPERED.format(detail=f"{name} does not match its sha256 in manifest.json"), {"archive": [name]}
            )
    actual = content_hash_of(declared)
    if actual != manifest.get("content_hash") or (expected_hash is not None and actual != expected_hash):
        raise ApplicationError(
            TAMPERED.format(
                detail=f"content hash {actual} differs from the recorded {expected_hash or manifest.get('content_hash')}"
            ),
            {"archive": ["content_hash"]},
        )
    return SnapshotArchive(manifest=manifest, files=files)


def snapshot_verify(*, snapshot: Snapshot) -> SnapshotArchive:
    """The verified archive of a stored snapshot (whole-file hash, then every member)."""
    if not snapshot.archive:
        raise ApplicationError("This snapshot has no archive file.", {"archive": ["missing"]}, status_code=404)
    path = Path(snapshot.archive.path)
    if not path.is_file():
        raise ApplicationError(
            f"The snapshot archive {path.name} is missing.", {"archive": ["missing"]}, status_code=404
        )
    recorded = (snapshot.manifest or {}).get("archive_sha256")
    if recorded and _sha256(path.read_bytes()) != recorded:
        raise ApplicationError(
            TAMPERED.format(detail=f"{path.name} does not match the sha256 recorded when it was frozen"),
            {"archive": ["archive_sha256"]},
        )
    return snapshot_archive_read(path=path, expected_hash=snapshot.content_hash)


# --- importing --------------------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    project: Project
    articles_created: int = 0
    articles_reused: int = 0
    outlets_created: int = 0
    gold_spans: int = 0
    clusters_created: int = 0
    cluster_mismatches: int = 0
    annotators: int = 0
    annotators_created: int = 0
    annotator_spans: int = 0
    assignments: int = 0
    questions: int = 0
    answers: int = 0
    rescored: int = 0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "project"} | {"project": self.project.slug}


def _find_article(outlet: Outlet, row: dict) -> Article | None:
    if row["external_id"]:
        return Article.objects.filter(outlet=outlet, external_id=row["external_id"]).first()
    return Article.objects.filter(outlet=outlet, external_id="", content_hash=row["content_hash"]).first()


def _import_articles(data: SnapshotArchive, report: ImportReport) -> dict[int, int]:
    outlets = {}
    for row in data.jsonl("data/outlets.jsonl"):
        outlet = Outlet.objects.filter(slug=row["slug"]).first()
        if outlet is None:
            outlet = Outlet.objects.create(**row)
            report.outlets_created += 1
        outlets[row["slug"]] = outlet
    mapping: dict[int, int] = {}
    new_rows: list[tuple[dict, Article]] = []
    for row in data.jsonl("data/articles.jsonl"):  # snapshot order = original id order, kept for new ids
        outlet = outlets[row["outlet"]]
        existing = _find_article(outlet, row)
        if existing is not None:
            if existing.content_hash != row["content_hash"]:
                raise ApplicationError(
                    f"Article {row['external_id'] or row['id']} of {outlet.slug} exists here with a different text; "
                    "the snapshot cannot be re-created on top of it.",
                    {"article": [row["external_id"] or str(row["id"])]},
                )
            mapping[row["id"]] = existing.pk
            report.articles_reused += 1
            continue
        article = Article(
            outlet=outlet, title=row["title"], text=row["text"], url=row["url"],
            published_at=parse_datetime(row["published_at"]) if row["published_at"] else None,
            language=row["language"], byline=row["byline"], external_id=row["external_id"],
            content_hash=row["content_hash"], n_tokens=row["n_tokens"], metadata=row["metadata"],
            is_wire_copy=row["is_wire_copy"],
        )  # fmt: skip
        new_rows.append((row, article))
    created = Article.objects.bulk_create([a for _, a in new_rows], batch_size=1000)
    if any(a.pk is None for a in created):  # backends without RETURNING: look the ids up
        created = [_find_article(a.outlet, row) for row, a in new_rows]
    for (row, _), article in zip(new_rows, created, strict=True):
        mapping[row["id"]] = article.pk
    report.articles_created = len(new_rows)
    _import_clusters(data, mapping, {row["id"] for row, _ in new_rows}, report)
    return mapping


def _import_clusters(data: SnapshotArchive, mapping: dict[int, int], new_ids: set[int], report: ImportReport) -> None:
    members: dict[int, list[dict]] = {}
    for row in data.jsonl("data/articles.jsonl"):
        if row["cluster"] is not None:
            members.setdefault(row["cluster"], []).append(row)
    current = dict(Article.objects.filter(pk__any_of=mapping.values()).values_list("pk", "cluster_id"))
    for c in data.jsonl("data/clusters.jsonl"):
        rows = members.get(c["id"], [])
        fresh = [r for r in rows if r["id"] in new_ids]
        old = {current[mapping[r["id"]]] for r in rows if r["id"] not in new_ids}
        if not fresh:
            if len(old) != 1 or None in old:
                report.cluster_mismatches += 1
            continue
        target = next(iter(old)) if len(old) == 1 and None not in old else None
        if target is None:
            source = Outlet.objects.filter(slug=c["source_outlet"]).first() if c["source_outlet"] else None
            cluster = StoryCluster.objects.create(
                representative_id=mapping.get(c["representative"]), source_outlet=source, method=c["method"],
                threshold=c["threshold"], size=c["size"],
            )  # fmt: skip
            target = cluster.pk
            report.clusters_created += 1
            if old:
                report.cluster_mismatches += 1
        Article.objects.filter(pk__in=[mapping[r["id"]] for r in fresh]).update(cluster_id=target)
    if report.cluster_mismatches:
        report.warnings.append(
            f"{report.cluster_mismatches} story cluster(s) differ from this instance's clusters; scores with "
            "syndication=once may differ."
        )


def _import_codebook(data: SnapshotArchive, project: Project) -> tuple[dict[str, Label], dict[int, CodebookVersion]]:
    codebook = data.json("data/codebook.json")
    labels: dict[str, Label] = {}
    for row in codebook["labels"]:
        labels[row["name"]] = Label.objects.create(
            project=project, name=row["name"], description=row["description"], colour=row["colour"],
            hotkey=row["hotkey"], positive_examples=row["positive_examples"],
            negative_examples=row["negative_examples"], order=row["order"],
        )  # fmt: skip
    for row in codebook["labels"]:
        if row["parent"]:
            Label.objects.filter(pk=labels[row["name"]].pk).update(parent=labels[row["parent"]])
    versions = {
        row["number"]: CodebookVersion.objects.create(
            project=project, number=row["number"], changelog=row["changelog"], labels_snapshot=row["labels_snapshot"],
            questions_snapshot=row.get("questions_snapshot", []),
        )
        for row in codebook["versions"]
    }  # fmt: skip
    for q in codebook.get("questions", []):
        question = Question.objects.create(
            project=project, name=q["name"], prompt=q["prompt"], description=q["description"],
            positive_examples=q["positive_examples"], negative_examples=q["negative_examples"], scope=q["scope"],
            kind=q["kind"], required=q["required"], hotkey=q["hotkey"], order=q["order"],
            label=labels[q["label"]] if q["label"] else None,
        )  # fmt: skip
        QuestionOption.objects.bulk_create(
            [
                QuestionOption(question=question, value=o["value"], text=o["text"], description=o["description"],
                               numeric=o["numeric"], hotkey=o["hotkey"], order=o["order"])
                for o in q["options"]
            ]
        )  # fmt: skip
    return labels, versions


def _check_offsets(rows: list[dict], mapping: dict[int, int], texts: dict[int, str], what: str, key: str) -> None:
    for s in rows:
        if texts[mapping[s["article"]]][s["start_char"] : s["end_char"]] != s["text"]:
            raise ApplicationError(
                f"{what} {s['start_char']}-{s['end_char']} does not match the text of article {s['article']}.",
                {key: ["offset mismatch"]},
            )


def _import_annotator_layer(
    data: SnapshotArchive, project: Project, mapping: dict[int, int], labels: dict[str, Label],
    versions: dict[int, CodebookVersion], texts: dict[int, str], report: ImportReport,
) -> dict:  # fmt: skip
    """Annotators (inactive users without a password), their assignments and spans, so agreement can be recomputed;
    the users by their name in the snapshot.

    Pseudonyms become ``<slug>.annotator-NN`` (one set per imported project); real usernames (a snapshot made with
    names) attach to the user of that name here, created if missing.
    """
    if "data/annotator_spans.jsonl" not in data.files:
        report.warnings.append("This snapshot predates annotator layers: agreement cannot be recomputed from it.")
        return {}
    real = data.manifest.get("annotator_names") == ANNOTATOR_NAMES_REAL
    users = {}
    for row in data.jsonl("data/annotators.jsonl"):
        username = row["name"] if real else f"{project.slug}.{row['name']}"
        user, created = get_user_model().objects.get_or_create(username=username[:150], defaults={"is_active": False})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            report.annotators_created += 1
        users[row["name"]] = user
        Membership.objects.get_or_create(project=project, user=user, defaults={"role": Role.ANNOTATOR})
    report.annotators = len(users)
    assignments = data.jsonl("data/assignments.jsonl")
    Assignment.objects.bulk_create(
        [
            Assignment(project=project, article_id=mapping[a["article"]], annotator=users[a["annotator"]],
                       status=a["status"], is_calibration=a["is_calibration"], position=a["position"])
            for a in assignments
        ],
        batch_size=2000,
    )  # fmt: skip
    spans = data.jsonl("data/annotator_spans.jsonl")
    _check_offsets(spans, mapping, texts, "Annotator span", "annotator_spans")
    # A snapshot frozen before spans were unique per annotator may hold one span twice: restore it once.
    once: dict[tuple, dict] = {}
    for s in spans:
        once.setdefault((s["article"], s["annotator"], s["label"], s["start_char"], s["end_char"]), s)
    spans = list(once.values())
    Span.objects.bulk_create(
        [
            Span(project=project, article_id=mapping[s["article"]], layer=Layer.ANNOTATOR,
                 annotator=users[s["annotator"]], label=labels[s["label"]], start_char=s["start_char"],
                 end_char=s["end_char"], text=s["text"], codebook_version=versions.get(s["codebook_version"]))
            for s in spans
        ],
        batch_size=2000,
    )  # fmt: skip
    report.assignments, report.annotator_spans = len(assignments), len(spans)
    return users


def _import_answers(
    data: SnapshotArchive, project: Project, mapping: dict[int, int], users: dict, versions: dict[int, CodebookVersion],
    report: ImportReport,
) -> None:  # fmt: skip
    """The answers, through the answer rules (``answers_import``); an attribute finds its span by layer, annotator,
    label and offsets among the spans just re-created. Any answer the rules refuse stops the import, naming it."""
    if "data/answers.jsonl" not in data.files:
        return
    rows = data.jsonl("data/answers.jsonl")
    spans = {
        (layer, annotator_id, label, start, end, article_id): pk
        for pk, layer, annotator_id, label, start, end, article_id in Span.objects.filter(project=project).values_list(
            "pk", "layer", "annotator_id", "label__name", "start_char", "end_char", "article_id"
        )
    }
    answer_rows = []
    for line, a in enumerate(rows, start=1):
        annotator_id = users[a["annotator"]].pk if a["annotator"] is not None else None
        article_id = mapping[a["article"]]
        span_id = None
        if a["span"] is not None:
            s = a["span"]
            span_id = spans.get((a["layer"], annotator_id, s["label"], s["start_char"], s["end_char"], article_id))
        version = versions.get(a["codebook_version"])
        answer_rows.append(
            AnswerRow(
                article_id=article_id, question=a["question"], value=a["value"], layer=a["layer"],
                annotator_id=annotator_id, start_char=a["start_char"], end_char=a["end_char"], span_id=span_id,
                codebook_version_id=version.pk if version else None, provenance=a["provenance"], line=line,
            )
        )  # fmt: skip
    result = answers_import(project=project, rows=answer_rows)
    if result.errors:
        shown = "; ".join(f"data/answers.jsonl line {line}: {message}" for line, message in result.errors[:5])
        raise ApplicationError(f"The snapshot's answers cannot be restored: {shown}", {"answers": [shown]})
    report.answers = result.created


def _import_model(data: SnapshotArchive, project: Project, labels: dict[str, Label], by) -> ModelVersion | None:
    from ml import artefact

    info = data.json("data/model_version.json")
    if not info:
        return None
    directory = Path(settings.ARTEFACT_DIR) / project.slug / f"v{info['number']}"
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    root = directory.resolve()
    for path, body in data.files.items():
        if path.startswith("model/"):
            target = (directory / path.removeprefix("model/")).resolve()
            if root not in target.parents:
                raise ApplicationError(f"The snapshot's model file {path!r} is outside the model.", {"model": [path]})
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
    try:
        artefact.load(directory)
    except artefact.ArtefactError as exc:
        raise ApplicationError(f"The snapshot's model artefact does not load: {exc}", {"model": [str(exc)]}) from exc
    version = ModelVersion.objects.create(
        project=project, number=info["number"], status=JobStatus.SUCCEEDED, progress=1.0, progress_message="Imported",
        params=info["params"], training_source=info["training_source"], data_hash=info["data_hash"],
        n_articles=info["n_articles"], n_spans=info["n_spans"], metrics=info["metrics"],
        artefact_path=str(directory), is_active=True, created_by=by, finished_at=timezone.now(),
    )  # fmt: skip
    LexiconTerm.objects.bulk_create(
        [
            LexiconTerm(
                model_version=version,
                term=t["term"],
                label=labels[t["label"]],
                weight=t["weight"],
                support=t["support"],
                n_seen=t["n_seen"],
                precision=t["precision"],
                is_pinned=t["is_pinned"],
            )  # fmt: skip
            for t in data.jsonl("data/lexicon_terms.jsonl")
        ],
        batch_size=2000,
    )
    return version


def _rescore(project: Project, version: ModelVersion, article_ids: list[int], by) -> int:
    """Run the imported model over the corpus now (same code path as the scoring workers, in this process)."""
    from annotator.scoring.services import score_chunk

    job = Job.objects.create(
        kind=Job.Kind.SCORING, project=project, created_by=by, status=JobStatus.RUNNING,
        params={"model_version": version.pk, "article_ids": None, "chunk_size": settings.SCORING_CHUNK_SIZE, "plan": 1},
        progress_total=len(article_ids), started_at=timezone.now(), message="Scoring the imported snapshot",
    )  # fmt: skip
    done = 0
    size = settings.SCORING_CHUNK_SIZE
    for start in range(0, len(article_ids), size):
        done += score_chunk(job_id=job.pk, article_ids=article_ids[start : start + size], plan=1)
    return done


def snapshot_import(*, archive_path: str | Path, by, slug: str | None = None, name: str | None = None) -> ImportReport:
    """Re-create a frozen study from its archive under a new project ``slug`` (default: the original slug).

    Outlets are matched by slug and articles by (outlet, external id) or (outlet, content hash), so importing on
    the instance that froze it reuses the stored articles; a stored article with a different text is refused.
    """
    data = snapshot_archive_read(path=archive_path)
    if by is None:
        raise ApplicationError("Say who imports the snapshot (they become the project's owner).", {"by": ["required"]})
    meta = data.json("data/project.json")
    slug = slug or meta["slug"]
    if Project.objects.filter(slug=slug).exists():
        raise ApplicationError(
            f"A project with slug '{slug}' already exists; import under another slug.", {"slug": ["Already in use."]}
        )
    with transaction.atomic():
        project = Project.objects.create(
            name=name or meta["name"], slug=slug, description=meta["description"], guidelines=meta["guidelines"],
            created_by=by, **data.json("data/settings.json")["project"],
        )  # fmt: skip
        Membership.objects.create(project=project, user=by, role=Role.OWNER)
        report = ImportReport(project=project)
        mapping = _import_articles(data, report)
        ProjectArticle.objects.bulk_create(
            [ProjectArticle(project=project, article_id=pk) for pk in sorted(mapping.values())], batch_size=2000
        )
        labels, versions = _import_codebook(data, project)
        texts = dict(Article.objects.filter(pk__any_of=mapping.values()).values_list("pk", "text"))
        gold = []
        gold_rows = data.jsonl("data/gold_spans.jsonl")
        _check_offsets(gold_rows, mapping, texts, "Gold span", "gold_spans")
        for s in gold_rows:
            article_id = mapping[s["article"]]
            gold.append(
                Span(
                    project=project, article_id=article_id, layer=Layer.GOLD, label=labels[s["label"]],
                    start_char=s["start_char"], end_char=s["end_char"], text=s["text"], note=s["note"],
                    codebook_version=versions.get(s["codebook_version"]), provenance=s["provenance"],
                )
            )  # fmt: skip
        Span.objects.bulk_create(gold, batch_size=2000)
        report.gold_spans = len(gold)
        Adjudication.objects.bulk_create(
            [
                Adjudication(project=project, article_id=mapping[a["article"]], status=a["status"], curator=by)
                for a in data.jsonl("data/adjudications.jsonl")
            ]
        )
        users = _import_annotator_layer(data, project, mapping, labels, versions, texts, report)
        report.questions = Question.objects.filter(project=project).count()
        _import_answers(data, project, mapping, users, versions, report)
        human_layers_changed(project=project)
        version = _import_model(data, project, labels, by)
        snapshot = Snapshot(
            project=project, name=data.manifest["name"], content_hash=data.manifest["content_hash"],
            manifest={**data.manifest, "imported_from": str(Path(archive_path).name),
                      "archive_sha256": _sha256(Path(archive_path).read_bytes())},
            created_by=by,
        )  # fmt: skip
        snapshot.archive.save(
            f"{slug}-{data.manifest['content_hash'][:12]}.zip", ContentFile(Path(archive_path).read_bytes()), save=False
        )
        snapshot.save()
    if version is not None:
        report.rescored = _rescore(project, version, sorted(mapping.values()), by)
    return report
