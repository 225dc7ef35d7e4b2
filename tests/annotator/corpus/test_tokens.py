"""count_tokens_fast must equal ml.tokenise.count_tokens on every input."""

import random

import pytest

from annotator.corpus.importing.tokens import count_tokens_fast
from ml.tokenise import count_tokens


@pytest.mark.parametrize(
    "text",
    ["", "-", "a-b-c-d", "it's", "it’s “quoted”", "a--b", "x - y", "naïve café", "emoji 😀 here", "\r\n", "_9_",
     "well-known co-operate U.S.", "l'état", "a'-b", "— … —", "tab\tsep\u00a0nbsp"],
)  # fmt: skip
def test_matches_regex_on_examples(text):
    assert count_tokens_fast(text) == count_tokens(text)


def test_matches_regex_on_random_strings():
    rng = random.Random(12)
    alphabet = "ab9_-' ’‘“”—–…\u00a0\r\n.,é😀ß日\u0301²Ⅻ٣€"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        assert count_tokens_fast(text) == count_tokens(text), repr(text)


def test_matches_regex_across_unicode_blocks():
    rng = random.Random(5)
    chars = [chr(c) for c in range(0x80, 0x3000)] + [chr(c) for c in range(0x1F300, 0x1F400)] + list("ab-' ’_9")
    for _ in range(20_000):
        text = "".join(rng.choice(chars) for _ in range(rng.randint(0, 12)))
        assert count_tokens_fast(text) == count_tokens(text), repr(text)


def test_matches_regex_on_long_texts_with_and_without_many_joiners():
    # Long texts take the byte-count paths that short ones do not: many joiners (> _JOINER_LOOP_MAX), the
    # UTF-8 bytes passed in by the caller, letters of other scripts mixed with the common punctuation.
    rng = random.Random(3)
    words = [
        "it's",
        "well-known",
        "a--b",
        "x-",
        "-y",
        "l’état",
        "naïve",
        "日本",
        "—",
        "“q”",
        "…",
        "ok",
        "9_9",
        "'",
        "-",
    ]
    for _ in range(2_000):
        text = " ".join(rng.choices(words, k=rng.randint(0, 120)))
        expected = count_tokens(text)
        assert count_tokens_fast(text) == expected, repr(text)
        assert count_tokens_fast(text, text.encode("utf-8")) == expected, repr(text)


def test_unpaired_surrogate_falls_back_to_the_regex():
    text = "bad \ud800 surrogate it's"
    assert count_tokens_fast(text) == count_tokens(text) == 3
