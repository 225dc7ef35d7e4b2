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
