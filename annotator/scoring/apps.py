from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "annotator.scoring"
    label = "scoring"

    def ready(self) -> None:
        from annotator.common.recovery import STALE_JOB_RECOVERIES
        from annotator.projects.services import ARTICLES_ADDED_HOOKS, HUMAN_LAYERS_CHANGED_HOOKS
        from annotator.scoring.services import (
            human_scores_refresh_all_stale,
            human_scores_refresh_queue,
            project_articles_added_score,
            scoring_runs_resume_stale,
        )

        STALE_JOB_RECOVERIES["scoring_runs_resumed"] = lambda: len(scoring_runs_resume_stale())
        if project_articles_added_score not in ARTICLES_ADDED_HOOKS:
            ARTICLES_ADDED_HOOKS.append(project_articles_added_score)
        if human_scores_refresh_queue not in HUMAN_LAYERS_CHANGED_HOOKS:
            HUMAN_LAYERS_CHANGED_HOOKS.append(human_scores_refresh_queue)
        STALE_JOB_RECOVERIES["human_scores_recounted"] = human_scores_refresh_all_stale
