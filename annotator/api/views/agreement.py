"""Agreement API (curators and owners): the report (latest Job result or computed now), its flat table (one typed
row per measure x label, tidy CSV with ``?format=csv``), recomputation on the worker, and the drill-down to
disagreeing spans per article. Annotators and viewers get 403 (blind mode: the drill-down shows every annotator's
spans)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.annotations.agreement import (
    AgreementFilters,
    agreement_disagreements,
    agreement_job_create,
    agreement_read,
)
from annotator.common.models import JobStatus
from annotator.projects.roles import IsProjectCurator, project_from_request
from annotator.projects.visibility import viewer_for


class AgreementFilterSerializer(serializers.Serializer):
    label = serializers.CharField(required=False, allow_blank=True, default="", help_text="Label name.")
    outlet = serializers.CharField(required=False, allow_blank=True, default="", help_text="Outlet slug.")
    codebook_version = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    calibration = serializers.BooleanField(required=False, default=False)
    threshold = serializers.FloatField(required=False, default=0.5, help_text="Jaccard threshold, tolerant F1.")


def _filters(data: dict) -> AgreementFilters:
    return AgreementFilters(
        label=data["label"] or None,
        outlet=data["outlet"] or None,
        codebook_version=data["codebook_version"],
        calibration=data["calibration"],
        threshold=data["threshold"],
    )


def _job_body(job) -> dict:
    return {
        "job_id": job.pk,
        "status": job.status,
        "progress": {"done": job.progress_done, "total": job.progress_total},
        "params": job.params,
        "error": job.error,
        "result": job.result if job.status == JobStatus.SUCCEEDED else None,
    }


def _not_computed() -> dict:
    return {
        "job_id": None,
        "status": "not computed",
        "detail": "Too large to compute in a request: POST to this project's agreement/ to compute it on the worker.",
    }


class AgreementApi(APIView):
    permission_classes = [IsProjectCurator]

    @extend_schema(parameters=[AgreementFilterSerializer], responses={200: dict, 202: dict}, summary="Agreement.")
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        params = AgreementFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        job = agreement_read(project=project, filters=_filters(params.validated_data))
        if job is None:
            return Response(_not_computed(), status=status.HTTP_202_ACCEPTED)
        code = status.HTTP_200_OK if job.status == JobStatus.SUCCEEDED else status.HTTP_202_ACCEPTED
        return Response(_job_body(job), status=code)

    @extend_schema(request=AgreementFilterSerializer, responses={202: dict}, summary="Queue a recomputation.")
    def post(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        params = AgreementFilterSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        job = agreement_job_create(project=project, filters=_filters(params.validated_data), by=request.user)
        return Response(_job_body(job), status=status.HTTP_202_ACCEPTED)


class AgreementTableApi(APIView):
    """The report's flat table, one row per measure x label, each row carrying the filters and the job it came from,
    so that a CSV saved today still says what it measured. While the report is being computed: 202, with the job's
    progress and a ``Retry-After`` header, and no rows."""

    permission_classes = [IsProjectCurator]

    class RowSerializer(serializers.Serializer):
        measure = serializers.CharField(help_text="span_f1_exact, span_f1_overlap, cohen_kappa, krippendorff_alpha, …")
        question = serializers.CharField(
            allow_blank=True, help_text="A codebook question's name for its rows; empty for the span measures."
        )
        label = serializers.CharField(
            help_text='A label name, or "all" (every label pooled); for a multiple-choice question, an option.'
        )
        value = serializers.FloatField(allow_null=True, help_text="Empty when the measure is undefined (see reason).")
        n_items = serializers.IntegerField(help_text="Articles (or article pairs) behind the value.")
        n_units = serializers.IntegerField(help_text="Spans or tokens behind the value.")
        reason = serializers.CharField(allow_null=True, help_text="Why the value is undefined, if it is.")
        filter_label = serializers.CharField(allow_blank=True)
        filter_outlet = serializers.CharField(allow_blank=True)
        codebook_version = serializers.IntegerField(allow_null=True)
        calibration = serializers.BooleanField()
        threshold = serializers.FloatField(help_text="Jaccard threshold of the tolerant span F1.")
        job_id = serializers.IntegerField(allow_null=True, help_text="Empty when computed for this request.")
        computed_at = serializers.DateTimeField()

    @extend_schema(
        parameters=[AgreementFilterSerializer],
        responses={200: RowSerializer(many=True), 202: dict},
        summary="Agreement as a table (one row per measure x label; ?format=csv for tidy CSV).",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        params = AgreementFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = _filters(params.validated_data)
        job = agreement_read(project=project, filters=filters)
        if job is None:
            return Response(_not_computed(), status=status.HTTP_202_ACCEPTED)
        if job.status != JobStatus.SUCCEEDED:
            body = {key: value for key, value in _job_body(job).items() if key != "result"}
            body["detail"] = f"The agreement report is being computed (job {job.pk}); ask again in a few seconds."
            return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Retry-After": "5"})
        context = {
            "filter_label": filters.label or "",
            "filter_outlet": filters.outlet or "",
            "codebook_version": filters.codebook_version,
            "calibration": filters.calibration,
            "threshold": filters.threshold,
            "job_id": job.pk,
            "computed_at": job.finished_at,
        }
        rows = [{**row, **context} for row in job.result["table"]]
        return Response(self.RowSerializer(rows, many=True).data)


class AgreementDisagreementsApi(APIView):
    permission_classes = [IsProjectCurator]

    class FilterSerializer(serializers.Serializer):
        label = serializers.CharField(required=False, allow_blank=True, default="")
        outlet = serializers.CharField(required=False, allow_blank=True, default="")
        article_id = serializers.IntegerField(required=False, allow_null=True, default=None)
        limit = serializers.IntegerField(required=False, default=100, min_value=1, max_value=1000)

    @extend_schema(parameters=[FilterSerializer], responses={200: dict}, summary="Disagreeing spans per article.")
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        v = params.validated_data
        viewer = viewer_for(project=project, user=request.user, role=project.user_role)
        rows = agreement_disagreements(
            viewer=viewer, label=v["label"] or None, outlet=v["outlet"] or None, article_id=v["article_id"],
            limit=v["limit"],
        )  # fmt: skip
        return Response({"articles": rows})
