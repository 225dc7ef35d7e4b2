"""The corpus upload forms (admin page and API): validate the file's size, name, format and CSV layout options;
write nothing. The preview form takes the same options and only the head of the file."""

import zipfile
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.utils.text import get_valid_filename

from annotator.corpus.importing.csv_layout import parse_column_map, parse_delimiter
from annotator.corpus.importing.errors import ImportFileError
from annotator.corpus.importing.preview import PREVIEW_HEAD_BYTES
from annotator.corpus.importing.readers import archive_txt_files, detect_format
from annotator.corpus.models import ImportBatch

UPLOAD_TOO_LARGE = "The file is {size:,} bytes; the upload limit is {limit:,} bytes (settings.IMPORT_UPLOAD_MAX_BYTES)."
UPLOAD_FORMATS = [("", "From the file name"), ("jsonl", "JSONL"), ("csv", "CSV"), ("txt", "Text files (.zip)")]
UPLOAD_DELIMITERS = [("", "Detect"), (",", "Comma (,)"), (";", "Semicolon (;)"), ("tab", "Tab")]


def safe_upload_name(name: str) -> str:
    """The last path component, reduced to safe characters: no directories, no traversal, no hidden files."""
    base = Path(name.replace("\\", "/")).name
    cleaned = get_valid_filename(base).lstrip(".") if base not in {"", ".", ".."} else ""
    return cleaned or "upload.jsonl"


class CorpusOptionsForm(forms.Form):
    """The options an import reads a file with; the upload and its preview share them."""

    format = forms.ChoiceField(choices=UPLOAD_FORMATS, required=False)
    outlet = forms.SlugField(
        required=False,
        help_text="Outlet slug for rows without an 'outlet' field (in a .zip: for .txt files not in a sub-folder).",
    )
    delimiter = forms.ChoiceField(
        choices=UPLOAD_DELIMITERS, required=False, help_text="CSV: the column delimiter (default: detected)."
    )
    column_map = forms.CharField(
        required=False,
        max_length=500,
        label="Column map",
        help_text="CSV: FIELD=COLUMN pairs, e.g. text=body,outlet=source (default: columns by their common names: "
        "text/body/content, title/headline, outlet/source/media/publisher, published_at/date/published, "
        "url/link/news_link).",
    )

    def clean_delimiter(self) -> str:
        try:
            return parse_delimiter(self.cleaned_data.get("delimiter") or "")
        except ImportFileError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_column_map(self) -> dict[str, str]:
        try:
            return parse_column_map(self.cleaned_data.get("column_map") or "")
        except ImportFileError as exc:
            raise forms.ValidationError(exc.message) from None

    def _format_from_name(self, cleaned: dict[str, Any], upload: Any) -> None:
        if upload is not None and not cleaned.get("format"):
            try:
                cleaned["format"] = detect_format(Path(upload.name))
            except ImportFileError as exc:
                self.add_error("format", exc.message)
        layout_given = cleaned.get("delimiter") or cleaned.get("column_map")
        if layout_given and cleaned.get("format") and cleaned["format"] != ImportBatch.Format.CSV:
            self.add_error("delimiter", "A delimiter and a column map apply to CSV files only.")


class CorpusPreviewForm(CorpusOptionsForm):
    """The preview: the head of the file (the browser sends a slice), and the whole file's size."""

    file = forms.FileField(help_text=f"The file, or its first {PREVIEW_HEAD_BYTES:,} bytes.")
    size = forms.IntegerField(required=False, min_value=0, help_text="The whole file's size in bytes.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self._format_from_name(cleaned, cleaned.get("file"))
        return cleaned


class CorpusUploadForm(CorpusOptionsForm):
    file = forms.FileField(
        help_text="A .jsonl or .csv file, optionally gzipped (.jsonl.gz, .csv.gz), or a .zip of a folder of .txt "
        "files (one sub-folder per outlet, or all for the outlet below)."
    )
    strict = forms.BooleanField(required=False, help_text="Import nothing if any row is bad.")
    dry_run = forms.BooleanField(required=False, help_text="Validate and count only; write no articles.")
    field_order = ["file", "format", "outlet", "delimiter", "column_map", "strict", "dry_run"]

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
        self._format_from_name(cleaned, upload)
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
