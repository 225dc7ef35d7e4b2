from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotator.annotations"
    label = "annotations"

    def ready(self) -> None:
        from annotator.annotations.agreement import agreement_jobs_fail_stale
        from annotator.annotations.answers import answers_done_check
        from annotator.annotations.services import SPAN_LABEL_USE
        from annotator.common.recovery import STALE_JOB_RECOVERIES
        from annotator.projects.services import ASSIGNMENT_DONE_CHECKS, LABEL_USES

        if answers_done_check not in ASSIGNMENT_DONE_CHECKS:
            ASSIGNMENT_DONE_CHECKS.append(answers_done_check)
        STALE_JOB_RECOVERIES["agreement_jobs_failed"] = agreement_jobs_fail_stale
        if SPAN_LABEL_USE not in LABEL_USES:
            LABEL_USES.append(SPAN_LABEL_USE)
