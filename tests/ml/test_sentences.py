"""ml.sentences: code-point offsets, line breaks end sentences, no whitespace in or around a unit."""

from __future__ import annotations

import pytest

from ml.sentences import Sentence, split_sentences


def texts(text: str, **kw) -> list[str]:
    return [text[s.start_char : s.end_char] for s in split_sentences(text, **kw)]


def test_abbreviations_stay_inside_and_whitespace_is_trimmed():
    text = "  Dr. Smith met the U.S. envoy.  Talks resume today!   Why?\n"
    assert texts(text) == ["Dr. Smith met the U.S. envoy.", "Talks resume today!", "Why?"]


def test_a_line_break_ends_a_sentence_and_blank_lines_are_no_sentence():
    text = "Headline without stop\n\nBERLIN (Wire) – First sentence. Second one\r\nThird"
    assert texts(text) == ["Headline without stop", "BERLIN (Wire) – First sentence.", "Second one", "Third"]


def test_offsets_are_code_points_even_after_astral_characters():
    text = "🙂🙂 Emoji first. “Quoted” second.  é third."
    out = split_sentences(text)
    assert [text[s.start_char : s.end_char] for s in out] == ["🙂🙂 Emoji first.", "“Quoted” second.", "é third."]
    assert out[1] == Sentence(16, 32)  # 2 emoji = 2 code points (4 UTF-16 units)


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_no_text_no_sentences(text):
    assert split_sentences(text) == []


def test_deterministic_increasing_non_overlapping_and_language_codes():
    text = ("Ein Satz. Noch einer, z. B. mit Abkürzung. " * 50).strip()
    first = split_sentences(text, language="de-DE")
    assert first == split_sentences(text, language="de")
    assert all(a.end_char <= b.start_char for a, b in zip(first, first[1:], strict=False))
    assert all(s.start_char < s.end_char for s in first)
    assert not any(text[s.start_char].isspace() or text[s.end_char - 1].isspace() for s in first)
