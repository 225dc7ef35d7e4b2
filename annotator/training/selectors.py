"""Reads for training: the labelled examples a model learns from, model versions, lexicon terms."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from django.db.models import QuerySet

from annotator.annotations.models import Layer, Span
from annotator.annotations.selectors import gold_article_ids
from annotator.corpus.models import Article
from annotator.projects.models import Assignment, Project
from annotator.projects.visibility import Viewer
from annotator.training.models import LexiconTerm, ModelVersion, TermRule
from ml.spans import Span as MlSpan


@dataclass
class TrainingData:
    """Plain inputs for ml: one entry per article, spans in ml form, groups/outlets for honest CV."""

    article_ids: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    spans: list[list[MlSpan]] = field(default_factory=list)
    outlets: list[str] = field(default_factory=list)

    @property
    def n_spans(self) -> int:
        return sum(len(s) for s in self.spans)

    def data_hash(self) -> str:
        digest = hashlib.sha256()
        for article_id, text, spans in zip(self.article_ids, self.texts, self.spans, strict=True):
            digest.update(json.dumps([article_id, text, [s.key for s in spans]], ensure_ascii=False).encode())
        return digest.hexdigest()


def training_data(*, project: Project, source: str) -> TrainingData:
    """The project's labelled articles, spans in ml form.

    ``source="gold"``: adjudicated articles (and any holding gold spans). ``source="all"``: every article an
    annotator finished or labelled, with all annotators' spans (identical spans merged). Finished articles
    without spans are negatives: the model must learn where loaded language is absent.
    """
    layer = Layer.GOLD if source == "gold" else Layer.ANNOTATOR
    span_rows = (
        Span.objects.filter(project=project, layer=layer)
        .values_list("article_id", "start_char", "end_char", "label__name")
        .order_by("article_id", "start_char", "end_char")
    )
    by_article: dict[int, set[tuple[int, int, str]]] = {}
    for article_id, start, end, label in span_rows.iterator(chunk_size=5000):
        by_article.setdefault(article_id, set()).add((start, end, label))
    if source == "gold":
        covered = gold_article_ids(project=project)
    else:
        done = Assignment.objects.filter(project=project, status=Assignment.Status.DONE)
        covered = set(done.values_list("article_id", flat=True))
    article_ids = sorted(set(by_article) | covered)
    data = TrainingData()
    articles = (
        Article.objects.filter(pk__any_of=article_ids).select_related("outlet").only("id", "text", "outlet__slug")
    )
    for article in articles.order_by("id").iterator(chunk_size=1000):
        data.article_ids.append(article.id)
        data.texts.append(article.text)
        data.spans.append([MlSpan(s, e, label) for s, e, label in sorted(by_article.get(article.id, ()))])
        data.outlets.append(article.outlet.slug)
    return data


def term_rules(*, project: Project) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(pinned, banned) as (term, label name) pairs for the next training run."""
    rules = TermRule.objects.filter(project=project).values_list("term", "label__name", "action")
    pinned = [(t, label) for t, label, action in rules if action == TermRule.Action.PIN]
    banned = [(t, label) for t, label, action in rules if action == TermRule.Action.BAN]
    return pinned, banned


def model_version_list(*, project: Project) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(project=project).order_by("-number")


def model_version_get(*, project: Project, number: int) -> ModelVersion:
    """A version of the project by its number (with its creator); Http404 otherwise."""
    from django.http import Http404

    version = model_version_list(project=project).filter(number=number).select_related("created_by").first()
    if version is None:
        raise Http404("No such model version in this project.")
    return version


def model_versions_shown(*, viewer: Viewer, versions) -> list[ModelVersion]:
    """Versions as the viewer may see them: metrics without their per-outlet parts for an outlet-blind annotator."""
    versions = list(versions)
    for version in versions:
        version.metrics = viewer.metrics(version.metrics)
    return versions


def term_rule_list(*, project: Project) -> QuerySet[TermRule]:
    """The project's pin/ban rules, by label and term."""
    return (
        TermRule.objects.filter(project=project).select_related("label", "created_by").order_by("label__name", "term")
    )


def model_version_active(*, project: Project) -> ModelVersion | None:
    return ModelVersion.objects.filter(project=project, is_active=True).first()


def model_version_labels(*, version: ModelVersion) -> list[str]:
    """The labels a trained version predicts (from its artefact's manifest; empty when it has no artefact)."""
    from ml.artefact import ArtefactError, read_manifest

    if not version.artefact_path:
        return []
    try:
        return list(read_manifest(version.artefact_path).get("labels") or [])
    except ArtefactError:
        return []


def model_version_has_lexicon(*, version: ModelVersion) -> bool:
    """False only for a version whose artefact holds question classifiers alone (``ml.artefact.CODES_ONLY_FORMAT``)."""
    from ml.artefact import CODES_ONLY_FORMAT, ArtefactError, read_manifest

    if not version.artefact_path:
        return True
    try:
        return read_manifest(version.artefact_path).get("format") != CODES_ONLY_FORMAT
    except ArtefactError:
        return True


def lexicon_term_list(*, version: ModelVersion, label: str | None = None) -> QuerySet[LexiconTerm]:
    terms = LexiconTerm.objects.filter(model_version=version).select_related("label")
    if label:
        terms = terms.filter(label__name=label)
    return terms.order_by("label__name", "-weight", "term")
