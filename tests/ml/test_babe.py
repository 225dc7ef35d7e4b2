"""The BABE reader: row and span counts on the shared file, the matching rule, and clear errors."""

from pathlib import Path

import pytest

from ml.babe import BabeFormatError, find_word_spans, parse_biased_words, read_babe
from ml.tokenise import iter_tokens

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
BABE = SHARED / "data" / "babe" / "final_labels_SG2.train.csv"


@pytest.fixture(scope="module")
def babe():
    assert BABE.is_file(), f"the shared BABE file is missing: {BABE}"
    return read_babe(BABE)


def test_reads_every_row_with_metadata(babe):
    assert len(babe.rows) == 2887
    row = babe.rows[1]
    assert row.outlet == "MSNBC" and row.type == "left" and row.label_bias == "Biased"
    assert row.biased_words == ("criminals", "fringe", "extreme")
    assert [row.text[s.start : s.end] for s in row.spans] == ["criminals", "fringe", "extreme"]
    assert len(set(babe.groups)) == 1676


def test_span_and_unmatched_counts(babe):
    marked = sum(len(r.biased_words) for r in babe.rows)
    assert marked == 3063
    assert babe.n_spans == 3203  # more spans than marked words: every occurrence is a span
    assert len(babe.unmatched) == 33
    first = babe.unmatched[0]
    assert first["line"] == 236 and "demoize" in first["message"]
    # every span covers whole tokens equal (case-insensitively, quotes ignored) to a marked word of its row
    for row in babe.rows:
        words = {" ".join(t.lower() for _, _, t in iter_tokens(w)) for w in row.biased_words}
        token_starts = {s for s, _, _ in iter_tokens(row.text)}
        for span in row.spans:
            assert span.start in token_starts
            assert row.text[span.start : span.end].lower() in words


def test_matching_rule_is_case_insensitive_whole_token_all_occurrences():
    text = "Claims, claims and more CLAIMS; disclaimers aside, left-wing claims."
    spans, missing = find_word_spans(text, ["claims", "left", "nowhere"])
    assert [text[s.start : s.end] for s in spans] == ["Claims", "claims", "CLAIMS", "claims"]
    assert missing == ["left", "nowhere"]  # "left" is only part of the token "left-wing"


def test_bad_input_is_reported_with_file_and_line(tmp_path):
    with pytest.raises(BabeFormatError, match="no such file"):
        read_babe(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("text,outlet\nhello,x\n")
    with pytest.raises(BabeFormatError, match="missing column"):
        read_babe(bad)
    with pytest.raises(BabeFormatError, match="f.csv:3: biased_words is not a list literal"):
        parse_biased_words("['open", line=3, source="f.csv")
