"""Test data for projects and annotation: users, outlets, articles (made directly with the ORM), projects."""

from __future__ import annotations

import hashlib
import itertools

from django.contrib.auth import get_user_model

from annotator.corpus.models import Article, Outlet
from annotator.projects.models import Project, Role
from annotator.projects.services import (
    codebook_create_default,
    corpus_grant_add,
    membership_add,
    project_add_articles,
    project_create,
)
from ml.tokenise import count_tokens

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery"


def make_user(username: str | None = None):
    username = username or f"user{next(_seq)}"
    return get_user_model().objects.create_user(username=username, password=PASSWORD)


def make_outlet(name: str = "Daily Planet") -> Outlet:
    slug = f"{name.lower().replace(' ', '-')}-{next(_seq)}"
    return Outlet.objects.create(name=name, slug=slug)


def make_article(*, text: str, title: str = "A story", outlet: Outlet | None = None, **fields) -> Article:
    return Article.objects.create(
        outlet=outlet or make_outlet(),
        title=title,
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        n_tokens=count_tokens(text),
        **fields,
    )


def grant_outlets(project: Project, articles) -> None:
    """What staff do before an owner adds articles: grant the articles' outlets to the project."""
    for outlet_id in {a.outlet_id for a in articles}:
        corpus_grant_add(project=project, by=None, outlet=Outlet(pk=outlet_id))


def make_project(*, owner=None, articles: list[Article] = (), annotators=(), name: str | None = None) -> Project:
    owner = owner or make_user()
    project = project_create(name=name or f"Framing study {next(_seq)}", created_by=owner)
    codebook_create_default(project=project, by=owner)
    if articles:
        grant_outlets(project, articles)
        project_add_articles(project=project, by=owner, article_ids=[a.pk for a in articles])
    for user in annotators:
        membership_add(project=project, user=user, role=Role.ANNOTATOR, by=owner)
    return project


def make_project_creator(username: str | None = None):
    """A user who may start projects without being staff: the ``projects.add_project`` permission."""
    from django.contrib.auth.models import Permission

    user = make_user(username)
    user.user_permissions.add(Permission.objects.get(codename="add_project", content_type__app_label="projects"))
    return user


def make_suggestions(*, version, article: Article, spans) -> list:
    """A model version's suggestions on an article, stored as scoring stores them (one packed row): ``spans`` are
    (start, end, label, score) in the model's order. Returns one object per suggestion, its ``pk`` the suggestion id
    (what a span that accepts it records) and its fields as the suggestions API shows them."""
    from types import SimpleNamespace

    from annotator.annotations.models import Suggestions
    from annotator.annotations.suggestions import ID_STRIDE, pack

    row = Suggestions.objects.create(
        model_version=version, article=article, spans=pack([(s, e, label.pk, score) for s, e, label, score in spans])
    )
    return [
        SimpleNamespace(pk=row.pk * ID_STRIDE + i, start_char=s, end_char=e, label=label, score=score,
                        text=article.text[s:e], article=article, model_version=version)
        for i, (s, e, label, score) in enumerate(spans)
    ]  # fmt: skip
