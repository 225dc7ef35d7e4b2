"""`python manage.py load_demo`: demo users, the invented demo corpus, the seed article and a demo project.

Idempotent: a second run creates nothing new. The demo's gold spans are made by a small rule list below
(marked `provenance.demo_rule`), so that `make run` can show training and scores end to end; they are a
stand-in for a curator's work, not real annotation.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from annotator.annotations.models import Adjudication, Layer, Span
from annotator.corpus.models import Article
from annotator.corpus.services import import_batch_create, import_batch_run
from annotator.projects import services as project_services
from annotator.projects.models import Label, Project, Role

SEEDS = Path(settings.BASE_DIR) / "seeds"
DEMO_USERS = [
    ("demo-admin", "demo-admin-pw", True),
    ("demo-annotator", "demo-annotator-pw", False),
    ("demo-annotator2", "demo-annotator2-pw", False),
    ("demo-curator", "demo-curator-pw", False),
]
PROJECT_SLUG = "demo-framing"
# Demo stand-in for a curator's gold layer: (label, pattern) over whole words.
DEMO_GOLD_RULES = [
    (
        "loaded term",
        r"terrorists?|takfiri|liberat(?:e|ed|es|ion|ing)|foreign-sponsored|mercenar(?:y|ies)|regime|thugs?",
    ),
    ("euphemism", r"restore state authority|pacification|cleansing operation"),
    ("actor label", r"rebels?|militants?|insurgents?|opposition fighters|jihadists?|armed groups?"),
    ("scare quotes", r"[“\"](?:moderate|rebels|peaceful|ceasefire|humanitarian)[”\"]"),
]


class Command(BaseCommand):
    help = "Load demo users, the invented demo corpus, the seed article and the demo project (idempotent)."

    def handle(self, *args, **options):
        users = self._users()
        self._import(SEEDS / "demo_corpus.jsonl", "jsonl", "")
        self._import(SEEDS / "seed_article", "txt", "seed-outlet")
        project = self._project(users)
        n_gold = self._demo_gold(project)
        self._concepts(project)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: project '{project.slug}' with {project.articles.count()} articles, {n_gold} demo gold spans."
            )
        )
        for username, password, is_admin in DEMO_USERS:
            self.stdout.write(f"  {'admin' if is_admin else 'user '}  {username} / {password}")

    def _users(self) -> dict:
        User = get_user_model()
        users = {}
        for username, password, is_admin in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"is_staff": is_admin, "is_superuser": is_admin}
            )
            if created:
                user.set_password(password)
                user.save()
            users[username] = user
        return users

    def _import(self, path: Path, fmt: str, outlet: str) -> None:
        batch = import_batch_create(source_name=str(path.relative_to(SEEDS.parent)), format=fmt, outlet_slug=outlet)
        summary = import_batch_run(batch_id=batch.pk, path=path)
        self.stdout.write(
            f"Imported {path.name}: {summary.created} new, {summary.duplicates} already there, {summary.rejected} rejected."
        )

    @transaction.atomic
    def _project(self, users: dict) -> Project:
        admin = users["demo-admin"]
        project = Project.objects.filter(slug=PROJECT_SLUG).first()
        if project is None:
            project = project_services.project_create(
                name="Demo: framing of an invented conflict",
                slug=PROJECT_SLUG,
                created_by=admin,
                description="Four invented outlets report the same invented events with different words.",
                guidelines=(
                    "# Guidelines\n\nMark **loaded terms** (words that judge before they inform, e.g. *terrorists*, "
                    "*liberate*), **euphemisms**, **actor labels** (how armed groups are named), "
                    "**attribution/hedges** and **scare quotes**.\n\nSelect the shortest span that carries the "
                    "framing; do not include articles or punctuation."
                ),
                annotators_per_article=2,
            )
            project_services.codebook_create_default(project=project, by=admin)
        for username, role in (
            ("demo-annotator", Role.ANNOTATOR),
            ("demo-annotator2", Role.ANNOTATOR),
            ("demo-curator", Role.CURATOR),
        ):
            project_services.membership_add(project=project, user=users[username], role=role, by=admin)
        ids = list(Article.objects.filter(outlet__slug__in=_demo_outlets()).values_list("pk", flat=True))
        project_services.project_add_articles(project=project, by=admin, article_ids=ids)
        for username in ("demo-annotator", "demo-annotator2"):
            project_services.assignment_create_for_annotator(
                project=project, annotator=users[username], article_ids=sorted(ids)
            )
        return project

    def _concepts(self, project: Project) -> None:
        """The term-choice question the demo is built around: what do outlets call the armed opposition?"""
        from annotator.scoring.concepts import concept_create
        from annotator.scoring.models import Concept

        if Concept.objects.filter(project=project, slug="armed-opposition").exists():
            return
        concept_create(
            project=project,
            name="Armed opposition",
            slug="armed-opposition",
            variants=[
                {"name": "terrorists", "terms": ["terrorist", "terrorists", "Takfiri", "Takfiris"]},
                {"name": "rebels", "terms": ["rebel", "rebels", "opposition fighters"]},
                {"name": "militants", "terms": ["militant", "militants", "insurgent", "insurgents"]},
                {"name": "armed groups", "terms": ["armed group", "armed groups", "fighters"]},
            ],
        )

    def _demo_gold(self, project: Project) -> int:
        """Gold spans from the rule list on two thirds of the articles (the rest stay for annotators)."""
        if Span.objects.filter(project=project, layer=Layer.GOLD).exists():
            return Span.objects.filter(project=project, layer=Layer.GOLD).count()
        labels = {label.name: label for label in Label.objects.filter(project=project)}
        version = project.codebook_versions.order_by("-number").first()
        rows, adjudicated = [], []
        articles = Article.objects.filter(project_links__project=project).order_by("pk")
        for i, article in enumerate(articles):
            if i % 3 == 2:
                continue
            adjudicated.append(Adjudication(project=project, article=article, status=Adjudication.Status.DONE))
            for label_name, pattern in DEMO_GOLD_RULES:
                if label_name not in labels:
                    continue
                for m in re.finditer(rf"(?<![\w-])(?:{pattern})(?![\w-])", article.text, flags=re.IGNORECASE):
                    rows.append(
                        Span(
                            project=project, article=article, layer=Layer.GOLD, label=labels[label_name],
                            start_char=m.start(), end_char=m.end(), text=m.group(), codebook_version=version,
                            provenance={"demo_rule": pattern},
                        )
                    )  # fmt: skip
        Span.objects.bulk_create(rows, batch_size=2000)
        Adjudication.objects.bulk_create(adjudicated, ignore_conflicts=True)
        return len(rows)


def _demo_outlets() -> list[str]:
    import json

    from django.utils.text import slugify

    names = {
        json.loads(line)["outlet"]
        for line in (SEEDS / "demo_corpus.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    return [slugify(n) for n in names] + ["seed-outlet"]
