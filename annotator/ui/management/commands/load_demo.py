"""`python manage.py load_demo`: the demo `make run` shows (annotator/ui/demo.py says what is in it). Idempotent."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from annotator.ui import demo


class Command(BaseCommand):
    help = "Load the demo users, corpus, project, annotations, snapshot and model v1 (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-model", action="store_true", help="leave model v1 out (for tests that train their own)"
        )

    def handle(self, *args, **options):
        users = demo.demo_users()
        for path, fmt, outlet in (
            (demo.SEEDS / "demo_corpus.jsonl", "jsonl", ""),
            (demo.SEEDS / "seed_article", "txt", "seed-outlet"),
        ):
            summary = demo.demo_import(path, fmt, outlet)
            self.stdout.write(
                f"Imported {path.name}: {summary.created} new, {summary.duplicates} already there, "
                f"{summary.rejected} rejected."
            )
        project = demo.demo_project(users)
        n_gold = demo.demo_gold(project)
        n_annotator = demo.demo_annotations(project, users)
        demo.demo_questions(project, users)
        n_answers = demo.demo_answers(project, users)
        demo.demo_concepts(project)
        demo.demo_term_rules(project, users)
        snapshot = demo.demo_snapshot(project, users)
        demo.demo_human_scores(project)
        version = None if options["no_model"] else demo.demo_model(project, users)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: project '{project.slug}' with {project.articles.count()} articles, {n_gold} demo gold "
                f"spans, {n_answers} answers, {n_annotator} spans of two annotators on {demo.DOUBLE_CODED} articles, "
                f"snapshot "
                f"{snapshot.content_hash[:12]}"
                + (f", model v{version.number} {version.status}" if version else "")
                + (" (the worker trains, activates and scores it)." if version and version.status == "queued" else ".")
            )
        )
        for username, password, is_admin in demo.DEMO_USERS:
            self.stdout.write(f"  {'admin' if is_admin else 'user '}  {username} / {password}")
