from ml.tokenise import count_tokens, iter_tokens, token_spans


def test_words_keep_hyphens_and_apostrophes_and_offsets_are_code_points():
    text = "The foreign-sponsored rebels’ “victory” 🎉 isn't over."
    words = [w for _, _, w in iter_tokens(text)]
    assert words == ["The", "foreign-sponsored", "rebels", "victory", "isn't", "over"]
    for start, end, word in iter_tokens(text):
        assert text[start:end] == word
    assert count_tokens(text) == 6
    assert token_spans("a b") == [(0, 1), (2, 3)]
