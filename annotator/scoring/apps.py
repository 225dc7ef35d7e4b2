from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "annotator.scoring"
    label = "scoring"

    def ready(self) -> None:
        from annotator.common.recovery import STALE_JOB_RECOVERIES
        from annotator.scoring.services import scoring_runs_resume_stale

        STALE_JOB_RECOVERIES["scoring_runs_resumed"] = lambda: len(scoring_runs_resume_stale())
