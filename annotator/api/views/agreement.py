"""Agreement API (curators and owners): the report (latest Job result or computed now), recomputation on the
worker, and the drill-down to disagreeing spans per article. Annotators and viewers get 403 (blind mode: the
drill-down shows every annotator's spans)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.annotations.agreement import (
    AgreementFilters,
    agreement_disagreements,
    agreement_get_or_compute,
    agreement_job_create,
)
from annotator.common.models import JobStatus
from annotator.common.permissions import IsProjectCurator, project_from_request


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


class AgreementApi(APIView):
    permission_classes = [IsProjectCurator]

    @extend_schema(parameters=[AgreementFilterSerializer], responses={200: dict, 202: dict}, summary="Agreement.")
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        params = AgreementFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        job = agreement_get_or_compute(project=project, filters=_filters(params.validated_data), by=request.user)
        code = status.HTTP_200_OK if job.status == JobStatus.SUCCEEDED else status.HTTP_202_ACCEPTED
        return Response(_job_body(job), status=code)

    @extend_schema(request=AgreementFilterSerializer, responses={202: dict}, summary="Queue a recomputation.")
    def post(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        params = AgreementFilterSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        job = agreement_job_create(project=project, filters=_filters(params.validated_data), by=request.user)
        return Response(_job_body(job), status=status.HTTP_202_ACCEPTED)


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
        rows = agreement_disagreements(
            project=project, label=v["label"] or None, outlet=v["outlet"] or None, article_id=v["article_id"],
            limit=v["limit"],
        )  # fmt: skip
        return Response({"articles": rows})
