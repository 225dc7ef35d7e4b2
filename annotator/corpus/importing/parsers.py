"""Validate one raw row into an ``ArticleRow`` (or a reason it is rejected). No database access.

The text is kept exactly as given: no strip, no Unicode normalisation, line endings untouched.
``content_hash`` is the SHA-256 of the text's UTF-8 bytes, as lowercase hex.
"""

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from hashlib import sha256
from typing import Any

from django.utils.text import slugify

from annotator.corpus.importing.readers import RawRow
from annotator.corpus.importing.tokens import count_tokens_fast

KNOWN_FIELDS = ("outlet", "title", "text", "url", "published_at", "external_id", "byline", "language")
MAX_LENGTHS = {"outlet": 200, "title": 1000, "url": 2000, "external_id": 255, "byline": 500, "language": 20}
SLUG_MAX_LENGTH = 100


@dataclass(slots=True)
class ArticleRow:
    source: str
    line: int
    outlet_name: str
    outlet_slug: str
    text: str | bytes  # bytes (UTF-8) as the parser process sends it, see parse_row
    content_hash: str
    n_tokens: int
    title: str = ""
    url: str = ""
    published_at: datetime | None = None
    external_id: str = ""
    byline: str = ""
    language: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def dedup_key(self) -> tuple[str, str]:
        """De-dup rule: by external id when there is one, else by the text's hash (both within one outlet)."""
        return ("id", self.external_id) if self.external_id else ("hash", self.content_hash)


class RowRejected(ValueError):
    """Why one row cannot be imported."""


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=4096)
def outlet_slug(name: str) -> str:
    return slugify(name)[:SLUG_MAX_LENGTH].strip("-")


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 date or date-time; a date means midnight UTC, a naive date-time is taken as UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RowRejected(f"unknown date format {value!r} in published_at (expected an ISO 8601 string)")
    candidate = value.strip()
    try:
        if len(candidate) == 10:
            day = date.fromisoformat(candidate)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        raise RowRejected(
            f"unknown date format {value!r} in published_at (expected ISO 8601, e.g. 2024-05-01 or "
            "2024-05-01T12:00:00Z)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _text_field(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if type(value) is str and len(value) <= 200 and "\x00" not in value:  # the common case, checked cheaply
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RowRejected(f"{name} must be a string, got {type(value).__name__}")
    value = str(value)
    limit = MAX_LENGTHS.get(name)
    if limit is not None and len(value) > limit:
        raise RowRejected(f"{name} too long: {len(value)} characters (maximum {limit})")
    if "\x00" in value:
        raise RowRejected(f"{name} contains a NUL character")
    return value


def _check_text(fields: dict[str, Any]) -> tuple[str, bytes]:
    """The text and its UTF-8 bytes (made once: the hash and the token count both use them)."""
    text = fields.get("text")
    if type(text) is not str:
        if text is None:
            raise RowRejected("missing text")
        raise RowRejected(f"text must be a string, got {type(text).__name__}")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RowRejected(f"text contains an unpaired surrogate at character {exc.start} (not valid Unicode)") from None
    if b"\x00" in data:
        raise RowRejected("text contains a NUL character")
    if not text.strip():
        raise RowRejected("missing text")
    return text, data


def _check_url(url: str) -> str:
    if url and not url.lower().startswith(("http://", "https://")):
        raise RowRejected(f"url must start with http:// or https://, got {url[:80]!r}")
    return url


def parse_row(raw: RawRow, *, default_outlet: str = "", utf8: bool = False) -> ArticleRow:
    """Turn a raw row into an ArticleRow; raise RowRejected with the reason if it cannot be imported.

    The row's ``outlet`` field names its outlet; ``default_outlet`` (``--outlet``) is used when it has none.
    Fields other than the known ones are kept in ``metadata``. ``utf8``: the row's ``text`` is its UTF-8 bytes (made
    for the hash and the token count anyway), for the parser process to send: pickling bytes is a copy, pickling a
    str encodes it again and unpickling decodes it, and PostgreSQL's COPY takes the bytes as they are.
    """
    if raw.fields is None:
        raise RowRejected(raw.error or "unreadable row")
    fields = raw.fields
    text, data = _check_text(fields)
    name = _text_field(fields, "outlet") or default_outlet
    if not name.strip():
        raise RowRejected("missing outlet (no 'outlet' field and no --outlet given)")
    slug = outlet_slug(name)
    if not slug:
        raise RowRejected(f"outlet {name!r} has no letters or digits to make a slug from")
    return ArticleRow(
        source=raw.source,
        line=raw.line,
        outlet_name=name,
        outlet_slug=slug,
        text=data if utf8 else text,
        content_hash=sha256(data).hexdigest(),
        n_tokens=count_tokens_fast(text, data),
        title=_text_field(fields, "title"),
        url=_check_url(_text_field(fields, "url")),
        published_at=parse_datetime(fields.get("published_at")),
        external_id=_text_field(fields, "external_id"),
        byline=_text_field(fields, "byline"),
        language=_text_field(fields, "language"),
        metadata={key: value for key, value in fields.items() if key not in KNOWN_FIELDS},
    )
