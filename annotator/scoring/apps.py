from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "annotator.scoring"
    label = "scoring"
