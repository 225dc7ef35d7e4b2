from django.apps import AppConfig


class UiConfig(AppConfig):
    name = "annotator.ui"
    label = "ui"
