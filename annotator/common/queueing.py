"""How tasks are queued and retried: one helper to queue after commit, one retry policy for every task.

A task is queued only once the transaction that wrote its row (a Job, an ImportBatch, a ModelVersion) has
committed: queued earlier, a fast worker could look for the row before it exists, and a rolled-back request would
leave a task for a row that never was.

A task is retried only on transient errors, a dropped database, broker or cache connection, with exponential
backoff and jitter. A deterministic failure (bad data, a bug) fails the same way every time: it is not retried but
recorded on the task's row by its ``on_failure`` handler.
"""

from __future__ import annotations

from typing import Any

from celery import Signature, Task
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, transaction

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, ConnectionError)

#: Celery task options of every Framescope task: ``@shared_task(name=..., **RETRY_POLICY)``. Waits of about 5, 10
#: and 20 s (each drawn at random below that, so that tasks failing together do not retry together), then failure.
RETRY_POLICY: dict[str, Any] = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 3,
}


def enqueue_on_commit(task: Task, *args: Any, link: Signature | None = None, **kwargs: Any) -> None:
    """Queue ``task.delay(*args, **kwargs)`` when the current transaction commits (at once outside a transaction);
    ``link``: a task to run with its result once it succeeded."""
    if link is None:
        transaction.on_commit(lambda: task.delay(*args, **kwargs))
    else:
        transaction.on_commit(lambda: task.apply_async(args, kwargs, link=link))


def enqueue_on_commit_once(task: Task, *args: Any, key: str, delay: int) -> None:
    """Queue ``task(*args)`` to run ``delay`` seconds after the current transaction commits, unless a run for the same
    ``key`` is already waiting: the writes of those ``delay`` seconds share one run (a recount after a burst of span
    saves). The key lives in the shared cache for ``delay`` seconds and the task is due no earlier than it expires,
    so a write that found the key committed before the run it relies on starts."""

    def queue() -> None:
        if cache.add(f"enqueue-once:{key}", 1, timeout=delay):
            task.apply_async(args, countdown=delay)

    transaction.on_commit(queue)
