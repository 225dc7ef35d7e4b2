"""Small helpers to write corpus files for the import tests."""

import csv
import gzip
import json
from pathlib import Path
from typing import Any


def write_jsonl(path: Path, rows: list[dict[str, Any] | str], *, gz: bool = False) -> Path:
    lines = "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)
    data = lines.encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, gz: bool = False) -> Path:
    import io

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def article(i: int, **extra: Any) -> dict[str, Any]:
    return {"outlet": "Daily Courier", "title": f"Title {i}", "text": f"Body of article {i}.", "external_id": f"a{i}",
            **extra}  # fmt: skip


def wait_for_story_clustering(timeout: float = 180) -> None:
    """Wait until the worker has clustered every article (each has a stored signature) and no clustering runs.

    A test whose import queued clustering on the worker waits for it before its database is emptied: the task's
    writes would otherwise deadlock with the flush.
    """
    from django.core.cache import cache

    from annotator.corpus.models import Article, ArticleSignature
    from tests.conftest import wait_for

    def clustered() -> bool:
        return ArticleSignature.objects.count() == Article.objects.count() and not cache.get("story-clusters:running")

    wait_for(clustered, timeout=timeout, what="the imported articles to be clustered")
