"""The admin's corpus upload form: validates the file's size, name and format; writes nothing."""

import zipfile
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.utils.text import get_valid_filename

from annotator.corpus.importing.errors import ImportFileError
from annotator.corpus.importing.readers import archive_txt_files, detect_format
from annotator.corpus.models import ImportBatch

UPLOAD_TOO_LARGE = "The file is {size:,} bytes; the upload limit is {limit:,} bytes (settings.IMPORT_UPLOAD_MAX_BYTES)."
UPLOAD_FORMATS = [("", "From the file name"), ("jsonl", "JSONL"), ("csv", "CSV"), ("txt", "Text files (.zip)")]


def safe_upload_name(name: str) -> str:
    """The last path component, reduced to safe characters: no directories, no traversal, no hidden files."""
    base = Path(name.replace("\\", "/")).name
    cleaned = get_valid_filename(base).lstrip(".") if base not in {"", ".", ".."} else ""
    return cleaned or "upload.jsonl"


class CorpusUploadForm(forms.Form):
    file = forms.FileField(
        help_text="A .jsonl or .csv file, optionally gzipped (.jsonl.gz, .csv.gz), or a .zip of a folder of .txt "
        "files (one sub-folder per outlet, or all for the outlet below)."
    )
    format = forms.ChoiceField(choices=UPLOAD_FORMATS, required=False)
    outlet = forms.SlugField(
        required=False,
        help_text="Outlet slug for rows without an 'outlet' field (in a .zip: for .txt files not in a sub-folder).",
    )
    strict = forms.BooleanField(required=False, help_text="Import nothing if any row is bad.")
    dry_run = forms.BooleanField(required=False, help_text="Validate and count only; write no articles.")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(UPLOAD_TOO_LARGE.format(size=upload.size, limit=limit))
        upload.name = safe_upload_name(upload.name)
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is not None and not cleaned.get("format"):
            try:
                cleaned["format"] = detect_format(Path(upload.name))
            except ImportFileError as exc:
                self.add_error("format", exc.message)
        if cleaned.get("format") == ImportBatch.Format.TXT and upload is not None:
            self._check_archive(upload, cleaned.get("outlet") or "")
        return cleaned

    def _check_archive(self, upload: Any, outlet: str) -> None:
        """The import's own checks of a .zip of .txt files, so that the form says what the import would."""
        if not zipfile.is_zipfile(upload):
            self.add_error("file", "Text files are uploaded as one .zip archive of a folder of .txt files.")
            return
        try:
            files = archive_txt_files(upload, source=upload.name, max_bytes=settings.IMPORT_MAX_DECOMPRESSED_BYTES)
        except ImportFileError as exc:
            self.add_error("file", exc.message)
            return
        finally:
            upload.seek(0)
        if not outlet and any(not f.outlet for f in files):
            self.add_error(
                "outlet",
                "Some .txt files lie directly in the archive's folder and carry no outlet: give one here, or put "
                "the files in one sub-folder per outlet.",
            )
