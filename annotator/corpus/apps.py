from django.apps import AppConfig


class CorpusConfig(AppConfig):
    name = "annotator.corpus"
    label = "corpus"

    def ready(self) -> None:
        from annotator.corpus.clustering import story_clusters_after_import
        from annotator.corpus.services import POST_IMPORT_HOOKS

        if story_clusters_after_import not in POST_IMPORT_HOOKS:
            POST_IMPORT_HOOKS.append(story_clusters_after_import)
