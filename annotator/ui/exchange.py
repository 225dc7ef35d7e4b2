"""The project's import/export page: download links for every format, and an upload form for curators."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotator.annotations.exchange.babe import babe_import
from annotator.annotations.exchange.codebook import CATEGORY_KINDS, exchange_questions
from annotator.annotations.exchange.export import export_layers_for
from annotator.annotations.exchange.formats import FORMATS, READABLE_FORMATS
from annotator.annotations.exchange.importing import IMPORT_LAYERS, annotations_import, read_user_map
from annotator.annotations.exchange.offsets import OffsetUnit
from annotator.common.errors import ApplicationError
from annotator.projects.models import Question
from annotator.projects.permissions import role_can
from annotator.projects.selectors import membership_list, project_get_for_user
from annotator.projects.visibility import viewer_for

UPLOAD_MAX_BYTES = 50 * 1024 * 1024
ERRORS_SHOWN = 200


@login_required
def exchange_page(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = project_get_for_user(slug=slug, user=request.user)
    viewer = viewer_for(project=project, user=request.user, role=role)
    may_import = role_can(role, "manage_articles")
    context = {
        "project": project,
        "role": role,
        "formats": [(name, cls.description) for name, cls in FORMATS.items() if name != "doccano-classification"],
        "category_questions": [
            q.name
            for q in exchange_questions(project=project).values()
            if q.scope == Question.Scope.ARTICLE and q.kind in CATEGORY_KINDS
        ],
        "layers": export_layers_for(viewer=viewer),
        "own_only": not viewer.sees_others and viewer.has_own_layer,
        "may_import": may_import,
        "import_formats": [*READABLE_FORMATS, "babe"],
        "import_layers": IMPORT_LAYERS,
        "offset_units": list(OffsetUnit),
        "members": membership_list(project=project) if may_import else [],
        "report": None,
        "babe": None,
        "error": None,
        "form": {},
    }
    status = 200
    if request.method == "POST":
        if not may_import:
            context["error"] = "Only the project's owners and curators may import annotations."
            return render(request, "ui/exchange.html", context, status=403)
        status = _import(request, project, context)
    return render(request, "ui/exchange.html", context, status=status)


def _import(request: HttpRequest, project, context: dict) -> int:
    form = {key: request.POST.get(key, "") for key in ("format", "layer", "annotator", "offset_unit", "question")}
    form["dry_run"] = bool(request.POST.get("dry_run"))
    form["create_articles"] = bool(request.POST.get("create_articles"))
    context["form"] = form
    upload = request.FILES.get("file")
    if upload is None:
        context["error"] = "Choose a file to import."
        return 400
    if upload.size > UPLOAD_MAX_BYTES:
        context["error"] = (
            f"The file is larger than {UPLOAD_MAX_BYTES // 2**20} MB; use the import_annotations command."
        )
        return 400
    try:
        if form["format"] == "babe":
            context["babe"] = _babe(
                project, upload, by=request.user, dry_run=form["dry_run"], annotator=form["annotator"]
            )
            return 200
        user_map = {}
        if request.FILES.get("user_map") is not None:
            map_upload = request.FILES["user_map"]
            user_map = read_user_map(
                io.TextIOWrapper(map_upload.file, encoding="utf-8-sig", newline=""), source=map_upload.name
            )
        zipped = zipfile.is_zipfile(upload.file)  # doccano's export of a project that is not collaborative
        upload.file.seek(0)
        given = (
            {"archive": upload.file}
            if zipped
            else {"stream": io.TextIOWrapper(upload.file, encoding="utf-8-sig", newline="")}
        )
        report = annotations_import(
            project=project, fmt=form["format"], source=upload.name, by=request.user,
            annotator=form["annotator"], layer=form["layer"], dry_run=form["dry_run"],
            create_articles=form["create_articles"], offset_unit=form["offset_unit"], user_map=user_map,
            question=form["question"], **given,
        )  # fmt: skip
    except ApplicationError as exc:
        context["error"] = exc.message
        return exc.status_code
    except UnicodeDecodeError as exc:
        context["error"] = f"{upload.name} is not UTF-8 text ({exc.reason} at byte {exc.start})."
        return 400
    context["report"] = report
    context["errors_shown"] = report.errors[:ERRORS_SHOWN]
    return 200 if not report.n_errors else 400


def _babe(project, upload, *, by, dry_run: bool, annotator: str = ""):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(upload.name).name
        with path.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        return babe_import(project=project, path=path, by=by, dry_run=dry_run, annotator=annotator)
