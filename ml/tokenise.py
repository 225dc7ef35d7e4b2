"""Words as BABE counts them: `\\w+(?:[-'’]\\w+)*`, with code-point offsets into the original text."""

import re
from collections.abc import Iterator

WORD_RE = re.compile(r"\w+(?:[-'’]\w+)*")


def iter_tokens(text: str) -> Iterator[tuple[int, int, str]]:
    """Yield (start, end, word) for every word; offsets are Python string indices."""
    for match in WORD_RE.finditer(text):
        yield match.start(), match.end(), match.group()


def token_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in WORD_RE.finditer(text)]


def count_tokens(text: str) -> int:
    return sum(1 for _ in WORD_RE.finditer(text))
