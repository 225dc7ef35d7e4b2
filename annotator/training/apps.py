from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "annotator.training"
    label = "training"
