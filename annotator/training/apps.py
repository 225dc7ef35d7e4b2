from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "annotator.training"
    label = "training"

    def ready(self) -> None:
        from annotator.common.recovery import STALE_JOB_RECOVERIES
        from annotator.training.services import model_versions_reap_stale

        STALE_JOB_RECOVERIES["trainings_failed"] = model_versions_reap_stale
