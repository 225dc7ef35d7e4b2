from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "annotator.scoring"
    label = "scoring"

    def ready(self) -> None:
        from annotator.common.recovery import STALE_JOB_RECOVERIES
        from annotator.projects.services import ARTICLES_ADDED_HOOKS
        from annotator.scoring.services import project_articles_added_score, scoring_runs_resume_stale

        STALE_JOB_RECOVERIES["scoring_runs_resumed"] = lambda: len(scoring_runs_resume_stale())
        if project_articles_added_score not in ARTICLES_ADDED_HOOKS:
            ARTICLES_ADDED_HOOKS.append(project_articles_added_score)
