"""A small two-annotator project with a curator and a viewer, spans made through the real services."""

from __future__ import annotations

from dataclasses import dataclass

from annotator.annotations.services import span_create
from annotator.projects.models import Label, Role
from annotator.projects.services import assignment_set_status, membership_add
from tests.annotator.projects.factories import make_article, make_outlet, make_project, make_user

TEXT_A = "Syrian troops liberate areas from Takfiri Daesh terrorists, the regime claimed on Monday."
TEXT_B = "Rebels said the so-called ceasefire was collateral damage control by the government."


@dataclass
class World:
    project: object
    owner: object
    curator: object
    viewer: object
    ann1: object
    ann2: object
    articles: list
    labels: dict


def make_world(*, name: str | None = None, prefix: str = "") -> World:
    owner, curator, viewer = make_user(f"{prefix}owner"), make_user(f"{prefix}curator"), make_user(f"{prefix}viewer")
    ann1, ann2 = make_user(f"{prefix}ann1"), make_user(f"{prefix}ann2")
    north, south = make_outlet("North Star"), make_outlet("South Post")
    articles = [
        make_article(text=TEXT_A, title="Liberation story", outlet=north),
        make_article(text=TEXT_B, title="Ceasefire story", outlet=south),
    ]
    project = make_project(owner=owner, articles=articles, annotators=[ann1, ann2], name=name)
    membership_add(project=project, user=curator, role=Role.CURATOR, by=owner)
    membership_add(project=project, user=viewer, role=Role.VIEWER, by=owner)
    labels = {label.name: label for label in Label.objects.filter(project=project)}
    return World(project, owner, curator, viewer, ann1, ann2, articles, labels)


def mark(world: World, user, article, word: str, label: str, *, nth: int = 0):
    start = -1
    for _ in range(nth + 1):
        start = article.text.index(word, start + 1)
    span, _ = span_create(
        project=world.project, article=article, user=user, label_id=world.labels[label].pk,
        start_char=start, end_char=start + len(word), text=word,
    )  # fmt: skip
    return span


def finish(world: World, user, article) -> None:
    assignment_set_status(project=world.project, annotator=user, article_id=article.pk, status="done")


def annotate_standard(world: World) -> dict:
    """ann1 and ann2 agree on 'liberate' and 'terrorists'; disagree on 'Takfiri' (label) and 'regime' (only ann1).

    On article B only ann2 finished. Returns the spans by name.
    """
    a, b = world.articles
    spans = {
        "liberate1": mark(world, world.ann1, a, "liberate", "loaded term"),
        "liberate2": mark(world, world.ann2, a, "liberate", "loaded term"),
        "terrorists1": mark(world, world.ann1, a, "terrorists", "loaded term"),
        "terrorists2": mark(world, world.ann2, a, "terrorists", "loaded term"),
        "takfiri1": mark(world, world.ann1, a, "Takfiri", "actor label"),
        "takfiri2": mark(world, world.ann2, a, "Takfiri", "loaded term"),
        "regime1": mark(world, world.ann1, a, "regime", "loaded term"),
        "claimed2": mark(world, world.ann2, a, "claimed", "attribution/hedge"),
        "socalled2": mark(world, world.ann2, b, "so-called", "scare quotes"),
    }
    finish(world, world.ann1, a)
    finish(world, world.ann2, a)
    finish(world, world.ann2, b)
    return spans


# Kept for the modules that still import it; tests/conftest.py (`_fast_password_hashing`) already does this for all.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
