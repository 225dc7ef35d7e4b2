"""load_demo (annotator/ui/demo.py): two annotators' spans with disagreements on a dozen articles, agreement with real
numbers for every label, a disagreement to curate, a frozen snapshot, model v1 queued with its activation and scoring
linked; and a second run changes nothing."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from annotator.annotations.agreement import AgreementFilters, agreement_compute, agreement_disagreements
from annotator.annotations.models import Adjudication, Answer, Layer, Span
from annotator.projects.models import Assignment, CodebookVersion, Label, Project
from annotator.projects.visibility import system_viewer
from annotator.scoring.models import ArticleScore, Concept
from annotator.scoring.services import human_scores_refresh_stale
from annotator.snapshots.models import Snapshot
from annotator.training.models import ModelVersion
from annotator.ui.demo import DOUBLE_CODED, PROJECT_SLUG

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Project,
            Label,
            CodebookVersion,
            Span,
            Adjudication,
            Assignment,
            Snapshot,
            ModelVersion,
            Concept,
            Answer,
        )
    } | {"done": Assignment.objects.filter(status="done").count()}


def test_demo_has_two_annotators_who_agree_and_disagree_and_a_second_run_changes_nothing(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "model v1 queued (the worker trains, activates and scores it)" in out.getvalue()
    project = Project.objects.get(slug=PROJECT_SLUG)
    spans = Span.objects.filter(project=project, layer=Layer.ANNOTATOR)
    assert set(spans.values_list("annotator__username", flat=True)) == {"demo-annotator", "demo-annotator2"}
    assert spans.values("article").distinct().count() == DOUBLE_CODED
    done = Assignment.objects.filter(project=project, status="done")
    assert done.count() == 2 * DOUBLE_CODED

    report = agreement_compute(project=project, filters=AgreementFilters())
    rows = {(r["measure"], r["label"]): r["value"] for r in report["table"] if not r["question"]}
    for label in Label.objects.filter(project=project).values_list("name", flat=True):
        assert rows[("krippendorff_alpha", label)] is not None, label  # a figure for every label, none "undefined"
    assert 0.5 < rows[("krippendorff_alpha", "all")] < 1.0  # agreement, and disagreement
    disagreements = agreement_disagreements(viewer=system_viewer(project=project), label=None, outlet=None)
    assert (
        disagreements
        and not Adjudication.objects.filter(project=project, article_id=disagreements[0]["article_id"]).exists()
    )  # a disagreement on an article the curator has not settled yet

    # Codebook questions with both annotators' answers: agreement above chance, and disagreements to curate.
    questions = {q["question"]: q for q in report["questions"]}
    frame, target = questions["primary_frame"]["figures"], questions["target"]["figures"]
    assert frame["n_units"] == DOUBLE_CODED and 0.0 < frame["krippendorff_alpha"] < 1.0
    assert target["n_units"] > 5 and target["percent_agreement"] < 1.0
    answers = Answer.objects.filter(project=project, layer=Layer.ANNOTATOR)
    assert set(answers.values_list("annotator__username", flat=True)) == {"demo-annotator", "demo-annotator2"}
    assert answers.filter(span__isnull=False).exists()
    # the gold primary frame on the gold articles, with two frames at least: model v1 has a question to learn
    gold_frames = Answer.objects.filter(project=project, layer=Layer.GOLD, question__name="primary_frame")
    assert gold_frames.count() >= 8 and gold_frames.values("value").distinct().count() >= 2

    # every human source counted before any worker runs: gold and both annotators on Scores at once
    assert human_scores_refresh_stale(project=project) == []
    sources = set(ArticleScore.objects.filter(project=project).values_list("source", flat=True))
    annotators = get_user_model().objects.filter(username__startswith="demo-annotator").values_list("pk", flat=True)
    assert len(annotators) == 2 and sources >= {"gold", *(f"annotator:{pk}" for pk in annotators)}

    snapshot = Snapshot.objects.get(project=project)
    assert snapshot.manifest["counts"]["annotator_spans"] == spans.count()
    version = ModelVersion.objects.get(project=project)
    assert (version.number, version.status, version.training_source) == (1, "queued", "gold")

    before = _counts()
    call_command("load_demo", stdout=io.StringIO())
    assert _counts() == before


def test_no_model_leaves_model_v1_to_the_test():
    call_command("load_demo", "--no-model", stdout=io.StringIO())
    assert not ModelVersion.objects.exists()
