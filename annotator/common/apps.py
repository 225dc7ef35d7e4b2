from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "annotator.common"
    label = "common"

    def ready(self) -> None:
        from celery.signals import task_postrun
        from django.core.signals import request_finished
        from django.db.models import Field, ForeignObject

        from annotator.common.lookups import AnyOf
        from annotator.common.memory import fix_mmap_threshold, release_freed_memory

        # Relations keep their own table of lookups (Django's RelatedIn and co.), so they need it registered too.
        for field_class in (Field, ForeignObject):
            field_class.register_lookup(AnyOf)
        fix_mmap_threshold()
        # After the response is sent (a streamed export included) and after each task: see common.memory.
        request_finished.connect(release_freed_memory, dispatch_uid="release_freed_memory")
        task_postrun.connect(release_freed_memory, dispatch_uid="release_freed_memory", weak=False)
