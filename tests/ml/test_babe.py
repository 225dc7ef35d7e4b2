"""The BABE reader: a generated file in BABE's format, the matching rule, clear errors; counts on the real file."""

import pytest

from ml.babe import BabeFormatError, find_word_spans, parse_biased_words, read_babe
from ml.tokenise import iter_tokens
from tests.babe_sample import ROWS, write_babe_sample


@pytest.mark.parametrize("bom", [False, True])
def test_reads_every_row_of_a_babe_format_file(tmp_path, bom):
    dataset = read_babe(write_babe_sample(tmp_path / "sample.csv", bom=bom))
    assert len(dataset.rows) == len(ROWS)
    for row, expected in zip(dataset.rows, ROWS, strict=True):
        assert row.text == expected.text  # quoted cells with ';' and '"' come back whole
        assert (row.outlet, row.type, row.label_bias, row.news_link) == (
            expected.outlet, expected.type, expected.label_bias, expected.news_link,
        )  # fmt: skip
        assert row.biased_words == expected.biased_words
        assert [row.text[s.start : s.end] for s in row.spans] == list(expected.found)
        assert row.unmatched == expected.not_found
    assert dataset.rows[0].line == 2 and len(set(dataset.groups)) == len({r.news_link for r in ROWS})
    assert {r.label_bias for r in dataset.rows} == {"Biased", "Non-biased", "No agreement"}
    assert [u["message"] for u in dataset.unmatched] == [
        "marked word 'demonize' not found in text", "marked word 'catastrophe' not found in text",
    ]  # fmt: skip
    assert [u["line"] for u in dataset.unmatched] == [4, 8]


def test_real_babe_file_rows_spans_and_unmatched_words(babe_file):
    babe = read_babe(babe_file)
    # every span covers whole tokens equal (case-insensitively, quotes ignored) to a marked word of its row
    for row in babe.rows:
        words = {" ".join(t.lower() for _, _, t in iter_tokens(w)) for w in row.biased_words}
        token_starts = {s for s, _, _ in iter_tokens(row.text)}
        for span in row.spans:
            assert span.start in token_starts
            assert row.text[span.start : span.end].lower() in words
    assert {r.label_bias for r in babe.rows} == {"Biased", "Non-biased", "No agreement"}
    if babe_file.name != "final_labels_SG2.train.csv":
        return
    # the figures of the training subset in ../shared (docs/model.md quotes them)
    assert len(babe.rows) == 2887 and len(set(babe.groups)) == 1676
    row = babe.rows[1]
    assert row.outlet == "MSNBC" and row.type == "left" and row.label_bias == "Biased"
    assert row.biased_words == ("criminals", "fringe", "extreme")
    assert [row.text[s.start : s.end] for s in row.spans] == ["criminals", "fringe", "extreme"]
    assert sum(len(r.biased_words) for r in babe.rows) == 3063
    assert babe.n_spans == 3203  # more spans than marked words: every occurrence is a span
    assert len(babe.unmatched) == 33
    assert babe.unmatched[0]["line"] == 236 and "demoize" in babe.unmatched[0]["message"]


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
