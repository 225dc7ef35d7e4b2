"""python manage.py cluster_stories [--threshold 0.3] [--batch ID]: (re)build the story clusters of the corpus.

Without ``--batch`` every cluster is rebuilt from the stored signatures (unsigned articles are hashed first);
with it, only the batch's articles are hashed and placed into the stored clusters.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.common.errors import ApplicationError
from annotator.corpus.clustering import story_clusters_update
from annotator.corpus.models import ImportBatch


class Command(BaseCommand):
    help = "Group exact and near-duplicate copies of a story (wire copy, syndication) into story clusters."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--threshold",
            type=float,
            default=settings.NEAR_DUP_THRESHOLD,
            help=f"Jaccard similarity of 3-word shingles (default NEAR_DUP_THRESHOLD = {settings.NEAR_DUP_THRESHOLD})",
        )
        parser.add_argument("--batch", type=int, help="only place this import batch's articles into clusters")

    def handle(self, *args: Any, **options: Any) -> None:
        ids = None
        if options["batch"] is not None:
            batch = ImportBatch.objects.filter(pk=options["batch"]).first()
            if batch is None:
                raise CommandError(f"no import batch with id {options['batch']}")
            ids = list(batch.articles.values_list("pk", flat=True))
        last = [("", -1)]

        def progress(stage: str, done: int, total: int) -> None:
            percent = int(100 * done / max(total, 1))
            if (stage, percent) != last[0]:
                if stage != last[0][0] and last[0][0]:
                    self.stderr.write("")
                last[0] = (stage, percent)
                self.stderr.write(f"\r{stage} {done:,} / {total:,} articles ({percent} %)", ending="")
                self.stderr.flush()

        try:
            summary = story_clusters_update(article_ids=ids, threshold=options["threshold"], on_progress=progress)
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} {exc.extra or ''}".strip()) from None
        self.stderr.write("")
        mode = "full rebuild" if summary.full_rebuild else "incremental"
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.n_clusters_written} story cluster(s) written ({summary.n_clustered_articles} articles, "
                f"{summary.n_wire_copies} wire copies), {summary.n_clusters_deleted} removed; threshold "
                f"{summary.threshold}, {summary.n_articles} articles ({summary.n_signed} newly hashed), {mode}, "
                f"in {summary.seconds:.1f} s."
            )
        )
