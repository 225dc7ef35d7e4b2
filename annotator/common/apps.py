from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "annotator.common"
    label = "common"

    def ready(self) -> None:
        from django.db.models import Field, ForeignObject

        from annotator.common.lookups import AnyOf

        # Relations keep their own table of lookups (Django's RelatedIn and co.), so they need it registered too.
        for field_class in (Field, ForeignObject):
            field_class.register_lookup(AnyOf)
