from django.apps import AppConfig


class SnapshotsConfig(AppConfig):
    name = "annotator.snapshots"
    label = "snapshots"

    def ready(self) -> None:
        from annotator.common.recovery import STALE_JOB_RECOVERIES
        from annotator.snapshots.services import snapshot_jobs_fail_stale

        STALE_JOB_RECOVERIES["snapshot_jobs_failed"] = snapshot_jobs_fail_stale
