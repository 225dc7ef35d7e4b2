"""Queue a task only once the transaction that created its row has committed."""

from typing import Any

from celery import Task
from django.db import transaction


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    transaction.on_commit(lambda: task.delay(*args, **kwargs))
