"""The configured broker carries a task to a real worker process, which writes to the test database."""

import pytest

from annotator.common.models import Job, JobStatus
from annotator.common.tasks import job_touch_task
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def test_real_worker_round_trips_a_task(celery_worker):
    job = Job.objects.create(kind=Job.Kind.EXPORT)
    job_touch_task.delay(job.id)

    def done():
        job.refresh_from_db()
        return job.status == JobStatus.SUCCEEDED

    wait_for(done, timeout=30, what="the worker to mark the job succeeded")
    assert job.message == "touched by worker"


def test_healthz_and_readyz(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.content
    assert ready.json()["database"] == "ok"
    assert ready.json()["broker"] == "ok"
