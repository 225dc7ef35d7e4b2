"""One way to queue a task (after commit) and one retry policy for every task."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from annotator.celery import app
from annotator.common.queueing import RETRY_POLICY, TRANSIENT_ERRORS, enqueue_on_commit


class RecordingTask:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def delay(self, *args, **kwargs) -> None:
        self.calls.append((args, kwargs))


def framescope_tasks() -> dict:
    app.loader.import_default_modules()  # the apps' tasks modules, as a worker imports them
    return {name: task for name, task in app.tasks.items() if name.startswith("annotator.")}


def test_every_task_retries_transient_errors_only_with_the_one_policy():
    tasks = framescope_tasks()
    assert len(tasks) >= 9, sorted(tasks)
    for name, task in tasks.items():
        options = {option: getattr(task, option, None) for option in RETRY_POLICY}
        assert options == RETRY_POLICY, name
    assert not any(issubclass(ValueError, error) for error in TRANSIENT_ERRORS)  # a bad input is not retried


@pytest.mark.django_db(transaction=True)
def test_a_task_is_queued_when_its_transaction_commits_and_never_after_a_rollback():
    task = RecordingTask()
    with transaction.atomic():
        enqueue_on_commit(task, 7, plan=2)
        assert task.calls == []  # a worker must not look for a row that is not committed yet
    assert task.calls == [((7,), {"plan": 2})]

    with pytest.raises(IntegrityError), transaction.atomic():
        enqueue_on_commit(task, 8)
        raise IntegrityError("rolled back")
    assert task.calls == [((7,), {"plan": 2})]
