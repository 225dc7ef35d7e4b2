"""Outlet-blind annotation: what an annotator of an outlet-blind project is shown instead of the outlet.

Who is blinded is the visibility rule's (annotator/projects/visibility.py: ``Viewer.sees_outlets``: members whose
role is `annotator` in an outlet-blind project); this module only says how. For those members (docs/annotating.md,
"Outlet-blind projects"):

* the outlet, byline and URL are not sent at all;
* in the title, every case-insensitive occurrence of an outlet term becomes "[outlet]" (titles carry no offsets);
* in the text, offsets must stay valid, so nothing is removed: every code point of an outlet term is replaced
  by MASK (one code point for one code point), and a short line (at most BOILERPLATE_MAX_CHARS) among the first
  or last BOILERPLATE_LINES non-empty lines that contains an outlet term (a dateline, "© The Daily Planet 2024",
  "Read more at dailyplanet.com") is masked whole. Span texts shown to the annotator are masked the same way;
* when such an annotator saves a span over masked characters, `span_create` accepts MASK at those positions
  and stores the real text.

Outlet terms: the outlet's name, its slug with hyphens read as spaces, and the host names of its homepage and of
the article's URL (without "www."). Terms shorter than MIN_TERM characters are ignored (they would mask ordinary
words).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MASK = "\u2588"  # FULL BLOCK: one code point, one UTF-16 unit
TITLE_MASK = "[outlet]"
BOILERPLATE_LINES = 2
BOILERPLATE_MAX_CHARS = 120
MIN_TERM = 3


def _host(url: str) -> str:
    try:
        host = urlsplit(url or "").hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def outlet_terms(*, outlet, article_url: str = "") -> list[str]:
    """The strings that identify the outlet, longest first."""
    slug_words = (outlet.slug or "").replace("-", " ").strip()
    slug_words = re.sub(r"\s+\d+$", "", slug_words)  # "daily-planet-3" -> "daily planet"
    candidates = {outlet.name.strip(), slug_words, outlet.slug or "", _host(outlet.homepage), _host(article_url)}
    return sorted((t for t in candidates if len(t) >= MIN_TERM), key=len, reverse=True)


def _pattern(terms: list[str]) -> re.Pattern | None:
    if not terms:
        return None
    return re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)


def mask_title(title: str, terms: list[str]) -> str:
    pattern = _pattern(terms)
    return pattern.sub(TITLE_MASK, title) if pattern else title


def _mask_run(chunk: str) -> str:
    # Keep line breaks and spaces so the layout of the text stays recognisable.
    return "".join(c if c in "\r\n" else MASK for c in chunk)


def mask_text(text: str, terms: list[str]) -> str:
    """The text with outlet terms and outlet boilerplate lines masked; same length in code points."""
    pattern = _pattern(terms)
    if pattern is None:
        return text
    chars = list(text)
    for match in pattern.finditer(text):
        chars[match.start() : match.end()] = _mask_run(match.group())
    lines = [m for m in re.finditer(r"[^\r\n]+", text)]
    edge = lines[:BOILERPLATE_LINES] + lines[-BOILERPLATE_LINES:]
    for line in edge:
        if len(line.group()) <= BOILERPLATE_MAX_CHARS and pattern.search(line.group()):
            chars[line.start() : line.end()] = _mask_run(line.group())
    return "".join(chars)


def matches_with_mask(*, shown: str, actual: str) -> bool:
    """True when `shown` is `actual` with some characters replaced by MASK (what a blinded annotator sends)."""
    return len(shown) == len(actual) and all(s == a or s == MASK for s, a in zip(shown, actual, strict=True))


class OutletBlinder:
    """Masks one article's title, text and span texts for a blinded annotator (built once per article)."""

    def __init__(self, article) -> None:
        self.terms = outlet_terms(outlet=article.outlet, article_url=article.url)
        self.title = mask_title(article.title, self.terms)
        self.text = mask_text(article.text, self.terms)

    def span_text(self, start_char: int, end_char: int) -> str:
        return self.text[start_char:end_char]


def blind_titles(*, article_ids: list[int]) -> dict[int, str]:
    """Masked titles for many articles (one query), for queues shown to blinded annotators."""
    from annotator.corpus.models import Article

    rows = Article.objects.filter(pk__any_of=article_ids).values_list(
        "pk", "title", "url", "outlet__name", "outlet__slug", "outlet__homepage"
    )
    out = {}
    for pk, title, url, name, slug, homepage in rows:
        outlet = _OutletLike(name=name, slug=slug, homepage=homepage)
        out[pk] = mask_title(title, outlet_terms(outlet=outlet, article_url=url))
    return out


class _OutletLike:
    def __init__(self, *, name: str, slug: str, homepage: str) -> None:
        self.name, self.slug, self.homepage = name, slug, homepage
