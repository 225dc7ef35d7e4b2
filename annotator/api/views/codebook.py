"""Codebook history: every change to a project's labels makes a numbered version with a changelog and a snapshot
of the labels as they were. Any member may read it (the current labels are `projects/<slug>/labels/`)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.projects.roles import IsProjectViewer, project_from_request
from annotator.projects.selectors import codebook_version_list


class CodebookVersionOutputSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    changelog = serializers.CharField(trim_whitespace=False)
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    n_labels = serializers.SerializerMethodField()
    labels = serializers.JSONField(source="labels_snapshot", help_text="The labels as they were in this version.")

    def get_n_labels(self, version) -> int:
        return len(version.labels_snapshot or [])


class CodebookVersionListApi(APIView):
    permission_classes = [IsProjectViewer]

    @extend_schema(
        responses=CodebookVersionOutputSerializer(many=True),
        summary="The codebook's versions, oldest first, with changelog and label snapshot.",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        versions = codebook_version_list(project=project).select_related("created_by")
        return Response(CodebookVersionOutputSerializer(versions, many=True).data)


class CodebookVersionDetailApi(APIView):
    permission_classes = [IsProjectViewer]

    @extend_schema(responses=CodebookVersionOutputSerializer, summary="One codebook version by its number.")
    def get(self, request: Request, slug: str, number: int) -> Response:
        project = project_from_request(request, self)
        version = codebook_version_list(project=project).filter(number=number).select_related("created_by").first()
        if version is None:
            raise Http404("No such codebook version in this project.")
        return Response(CodebookVersionOutputSerializer(version).data)
