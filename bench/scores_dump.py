"""Dump a project's model results to JSON, to compare two commits' scores to the last digit (issue 20).

    .venv/bin/python -m bench.scores_dump --database-url URL --project SLUG [--demo] [--rescore] -o FILE

Written with the code of whichever commit runs it (so an old commit's checkout can run it too): the framing scores
of every label (model source; periods all and month, computed, not read from the cache), the code scores of every
question the active version learned (same periods), and SHA-256 digests of the stored per-article counts
(``ArticleScore``, ``AnswerCount``) and of the version's suggestions (span rows before issue 20, packed rows after;
one digest over (article, start, end, label id, score) either way). Floats are written with ``repr``: every digit.

``--demo`` first loads the demo without its model and trains and activates model v1 in this process (no worker),
unless the project exists already; ``--rescore`` discards the active version's results and scores every article
again in this process (the broker calls mocked out, ``score_chunk`` called per chunk as a worker would).
Compare two dumps with ``diff`` or ``cmp``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from unittest import mock

from bench._django import django_setup, ensure_database

ROOT = Path(__file__).resolve().parent.parent


def _digest(rows) -> dict:
    h = hashlib.sha256()
    n = 0
    for row in sorted(rows):
        h.update(repr(row).encode())
        n += 1
    return {"rows": n, "sha256": h.hexdigest()}


def demo_with_model() -> None:
    from django.core.management import call_command

    from annotator.projects.models import Project
    from annotator.training import services as training
    from annotator.training.models import ModelVersion
    from annotator.ui.demo import PROJECT_SLUG

    if not Project.objects.filter(slug=PROJECT_SLUG).exists():
        call_command("load_demo", "--no-model", verbosity=0)
    project = Project.objects.get(slug=PROJECT_SLUG)
    if not ModelVersion.objects.filter(project=project, is_active=True).exists():
        with mock.patch("annotator.training.tasks.model_version_train_task.delay"):
            version = training.model_version_create(project=project, source="gold")
        version = training.model_version_train(version_id=version.pk)
        training.model_version_activate(version=version)


def rescore(project) -> None:
    from annotator.scoring import services
    from annotator.training.models import ModelVersion

    version = ModelVersion.objects.get(project=project, is_active=True)
    services.scoring_results_clear(version=version)
    chunks: list[tuple] = []
    with (
        mock.patch("annotator.scoring.tasks.scoring_run_plan_task.delay"),
        mock.patch("annotator.scoring.tasks.score_chunk_task.delay", side_effect=lambda *a: chunks.append(a)),
        mock.patch("annotator.scoring.tasks.score_cache_warm_task.delay"),
    ):
        job = services.scoring_run_start(project=project, version=version)
        services.scoring_run_plan(job_id=job.pk)
        for job_id, ids, plan in chunks:
            services.score_chunk(job_id=job_id, article_ids=ids, plan=plan)


def suggestion_rows(version) -> list[tuple]:
    """(article, start, end, label id, score) of every suggestion of the version, from wherever this commit keeps
    them."""
    try:
        from annotator.annotations.selectors import suggestions_of_version
    except ImportError:  # before issue 20: one span row each
        from annotator.annotations.models import Span

        spans = Span.objects.filter(model_version=version, layer="suggestion")
        return list(spans.values_list("article_id", "start_char", "end_char", "label_id", "score"))
    return [
        (s.article_id, s.start_char, s.end_char, s.label_id, s.score)
        for s in suggestions_of_version(version_id=version.pk)
    ]


def dump(project) -> dict:
    from annotator.projects.models import Label, Question
    from annotator.scoring.code_scores import CodeScoreQuery, code_scores
    from annotator.scoring.models import AnswerCount, ArticleScore
    from annotator.scoring.selectors import ScoreQuery, framing_scores
    from annotator.training.models import ModelVersion

    version = ModelVersion.objects.get(project=project, is_active=True)
    out: dict = {"project": project.slug, "model_version": version.number, "framing": {}, "codes": {}}
    for label in Label.objects.filter(project=project).order_by("name").values_list("name", flat=True):
        for period in ("all", "month"):
            rows = framing_scores(
                project=project, query=ScoreQuery(label=label, source="model", period=period), use_cache=False
            )
            out["framing"][f"{label}|{period}"] = rows
    learned = set(AnswerCount.objects.filter(model_version=version).values_list("question__name", flat=True))
    for name in (
        Question.objects.filter(project=project, name__in=learned).order_by("name").values_list("name", flat=True)
    ):
        for period in ("all", "month"):
            query = CodeScoreQuery(question=name, source="model", period=period)
            out["codes"][f"{name}|{period}"] = code_scores(project=project, query=query, use_cache=False)
    scores = ArticleScore.objects.filter(source=f"model:{version.pk}")
    out["article_scores"] = _digest(
        scores.values_list("article_id", "label_id", "n_spans", "n_tokens", "score_sum").iterator(chunk_size=20000)
    )
    answers = AnswerCount.objects.filter(model_version=version)
    out["answer_counts"] = _digest(
        answers.values_list("article_id", "question_id", "answer", "fold", "n_units", "n_with_answer")
    )
    out["suggestions"] = _digest(suggestion_rows(version))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--project", default="", help="project slug (default: the demo's with --demo)")
    parser.add_argument("--demo", action="store_true")
    parser.add_argument("--rescore", action="store_true")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    ensure_database(args.database_url)
    django_setup(args.database_url, ROOT / "var" / "bench-scores-dump")
    from annotator.projects.models import Project

    if args.demo:
        from annotator.ui.demo import PROJECT_SLUG

        demo_with_model()
        args.project = args.project or PROJECT_SLUG
    project = Project.objects.get(slug=args.project)
    if args.rescore:
        rescore(project)
    Path(args.output).write_text(json.dumps(dump(project), indent=1, sort_keys=True, default=str) + "\n")


if __name__ == "__main__":
    main()
