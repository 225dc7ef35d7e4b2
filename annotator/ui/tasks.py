"""The demo's one task: after model v1 of `make run`'s demo has trained, activate it and score the project."""

from celery import shared_task

from annotator.common.queueing import RETRY_POLICY
from annotator.ui.demo import demo_model_publish


@shared_task(name="annotator.ui.tasks.demo_model_publish_task", acks_late=True, **RETRY_POLICY)
def demo_model_publish_task(version_id: int) -> dict:
    return {"version_id": version_id, "outcome": demo_model_publish(version_id=version_id)}
