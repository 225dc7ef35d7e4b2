"""Research rigour API: frozen study snapshots (list, freeze, verified download) and term suggestions
(agreed spans → new lexicon terms with gold precision and per-outlet frequency; send a term for verification).

Everything here needs the curator role or above (snapshots and suggestions show outlets, texts and annotators'
work); non-members get 404.
"""

from __future__ import annotations

from pathlib import Path

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.views.scoring import JobOutputSerializer
from annotator.common.errors import ApplicationError
from annotator.projects.roles import IsProjectCurator, project_from_request
from annotator.projects.selectors import members_by_username
from annotator.projects.visibility import viewer_for
from annotator.snapshots.models import Snapshot
from annotator.snapshots.selectors import snapshot_get, snapshot_list
from annotator.snapshots.services import snapshot_job_create, snapshot_verify
from annotator.training.term_suggestions import MATCH_RULES, term_suggestions, term_verification_send


class SnapshotOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    content_hash = serializers.CharField(help_text="sha256 over the canonical JSON of {file: sha256} of the data.")
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    counts = serializers.JSONField(source="manifest.counts", help_text="articles, outlets, gold spans, tables …")
    methods = serializers.CharField(source="manifest.methods", default="", help_text="The METHODS.md paragraph.")
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, obj: Snapshot) -> str:
        return reverse("api:snapshot-download", kwargs={"slug": obj.project.slug, "snapshot_id": obj.pk})


class SnapshotListApi(APIView):
    permission_classes = [IsProjectCurator]

    @extend_schema(
        responses=SnapshotOutputSerializer(many=True), summary="The project's frozen snapshots, newest first."
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        viewer = viewer_for(project=project, user=request.user, role=project.user_role)
        return Response(SnapshotOutputSerializer(snapshot_list(viewer=viewer), many=True).data)


class SnapshotCreateApi(APIView):
    permission_classes = [IsProjectCurator]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        with_names = serializers.BooleanField(
            default=False, help_text="Keep annotators' usernames in the annotator layers (default: annotator-01 …)."
        )

    @extend_schema(
        request=InputSerializer,
        responses={202: JobOutputSerializer},
        summary="Freeze the study (curator or owner): queues a job; poll jobs/<id>/ for progress and the result.",
        description="The worker recomputes every score table (label × model/gold × all/month) and writes the archive. "
        "When the job has succeeded, its result holds snapshot_id, content_hash and download_url. Bad input (no name, "
        "no articles, not a curator) is refused at once; the same name while a freeze is queued returns that job.",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = snapshot_job_create(project=project, by=request.user, **serializer.validated_data)
        return Response(JobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class SnapshotDownloadApi(APIView):
    permission_classes = [IsProjectCurator]

    @extend_schema(
        responses={(200, "application/zip"): bytes},
        summary="Download the snapshot's .zip after checking every hash (409 if the archive was modified).",
    )
    def get(self, request: Request, slug: str, snapshot_id: int):
        project = project_from_request(request, self)
        viewer = viewer_for(project=project, user=request.user, role=project.user_role)
        snapshot = snapshot_get(viewer=viewer, snapshot_id=snapshot_id)
        try:
            snapshot_verify(snapshot=snapshot)
        except ApplicationError as exc:
            if exc.status_code == 400:
                exc.status_code = 409
            raise
        path = Path(snapshot.archive.path)
        return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type="application/zip")


class TermSuggestionOutputSerializer(serializers.Serializer):
    term = serializers.CharField(help_text="Normalised: tokens, lower-cased, one space apart.")
    label = serializers.CharField()
    n_annotators = serializers.IntegerField(help_text="Distinct annotators whose spans agree on it.")
    n_agreements = serializers.IntegerField(help_text="Matched span pairs.")
    n_articles = serializers.IntegerField()
    examples = serializers.ListField(child=serializers.CharField())
    occurrences = serializers.IntegerField(help_text="Whole-word occurrences in the project's articles.")
    gold_occurrences = serializers.IntegerField()
    gold_covered = serializers.IntegerField(help_text="Occurrences inside a gold span of the label.")
    gold_precision = serializers.FloatField(allow_null=True)
    frequency = serializers.DictField(child=serializers.FloatField(), help_text="outlet slug → per 1,000 tokens")


class TermVerificationOutputSerializer(serializers.Serializer):
    term = serializers.CharField()
    label = serializers.CharField()
    articles = serializers.ListField(child=serializers.IntegerField(), help_text="Article ids, most uncertain first.")
    queued = serializers.DictField(child=serializers.IntegerField(), help_text="username → assignments added")


class TermSuggestionListApi(APIView):
    permission_classes = [IsProjectCurator]

    class FilterSerializer(serializers.Serializer):
        match = serializers.ChoiceField(choices=MATCH_RULES, default="overlap")
        min_annotators = serializers.IntegerField(min_value=2, default=2)
        limit = serializers.IntegerField(min_value=1, max_value=5000, default=200)

    @extend_schema(
        parameters=[
            OpenApiParameter("match", str, enum=list(MATCH_RULES), description="overlap (default) or exact"),
            OpenApiParameter("min_annotators", int, description="distinct annotators who agree (default 2)"),
            OpenApiParameter("limit", int, description="at most this many terms (default 200)"),
        ],
        responses=TermSuggestionOutputSerializer(many=True),
        summary="New lexicon terms from agreed annotator spans, with gold precision and frequency per outlet.",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Response(term_suggestions(project=project, **filters.validated_data))


class TermVerificationSendApi(APIView):
    permission_classes = [IsProjectCurator]

    class InputSerializer(serializers.Serializer):
        term = serializers.CharField(max_length=500)
        label = serializers.CharField(max_length=100)
        annotators = serializers.ListField(child=serializers.CharField(), min_length=1, help_text="usernames")
        limit = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)

    @extend_schema(
        request=InputSerializer,
        responses={201: TermVerificationOutputSerializer},
        summary="Queue the articles containing a term for annotators to verify, most uncertain first.",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_from_request(request, self)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        names = list(dict.fromkeys(data["annotators"]))
        users, unknown = members_by_username(project=project, names=names)
        if unknown:
            raise ApplicationError("Unknown annotator(s).", {"annotators": [f"not members: {', '.join(unknown)}"]})
        result = term_verification_send(
            project=project, by=request.user, term=data["term"], label=data["label"],
            annotators=[users[n] for n in names], limit=data["limit"],
        )  # fmt: skip
        return Response(result, status=status.HTTP_201_CREATED)
