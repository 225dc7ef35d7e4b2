from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "annotator.projects"
    label = "projects"

    def ready(self) -> None:
        from annotator.corpus.services import POST_IMPORT_HOOKS
        from annotator.projects.services import project_articles_after_import

        if project_articles_after_import not in POST_IMPORT_HOOKS:
            POST_IMPORT_HOOKS.append(project_articles_after_import)
