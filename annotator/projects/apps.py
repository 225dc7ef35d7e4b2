from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "annotator.projects"
    label = "projects"

    def ready(self) -> None:
        from annotator.common.recovery import STALE_JOB_RECOVERIES
        from annotator.corpus.services import POST_IMPORT_HOOKS
        from annotator.projects.services import project_articles_after_import
        from annotator.projects.snapshots import snapshot_jobs_fail_stale

        if project_articles_after_import not in POST_IMPORT_HOOKS:
            POST_IMPORT_HOOKS.append(project_articles_after_import)
        STALE_JOB_RECOVERIES["snapshot_jobs_failed"] = snapshot_jobs_fail_stale
