"""A fast, exactly equivalent ``ml.tokenise.count_tokens`` for the import hot path.

``count_tokens`` counts matches of ``\\w+(?:[-'’]\\w+)*``: maximal runs of word characters joined by single
hyphens/apostrophes. The regex costs ~90 µs for a 400-word article. Here the text's UTF-8 bytes (which the
import has already made for the SHA-256) are mapped with one ``bytes.translate`` to a class string: every
byte becomes ``a`` (word), ``-`` (joiner) or space. A token starts at every word byte that is not preceded by
a word byte, except where a single joiner between two word bytes folds two runs into one, so

    tokens = count(" a") + count(" -a") + count("--a")      in  b" " + classes

(the three patterns cannot overlap themselves, so ``bytes.count`` is exact). Joiners are rare, so the last
two terms are found by looking at the neighbours of each joiner, unless there are many. The common non-ASCII
punctuation of news copy (curly quotes, dashes, ellipsis, no-break space) is mapped to an ASCII byte of the
same class. Letters and digits of other scripts are word characters
(``str.isalnum()`` is exactly what ``\\w`` adds beyond ``_``): when every other non-ASCII character is one, all
bytes >= 0x80 are word bytes (a multi-byte letter is a longer run, the same count); otherwise (emoji,
symbols, combining marks) the regex is used. The equivalence is fuzz-tested against ``ml.tokenise.count_tokens``
in tests/annotator/corpus/test_tokens.py.
"""

from ml.tokenise import WORD_RE

_TABLE = bytearray(b" " * 256)
for _byte in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_":
    _TABLE[_byte] = ord("a")
_TABLE[ord("-")] = ord("-")
_TABLE[ord("'")] = ord("-")
_ASCII_CLASSES = bytes(_TABLE)
_TABLE[0x80:] = b"a" * 128
_NON_ASCII_WORD_CLASSES = bytes(_TABLE)

# Non-ASCII characters common in news copy, each with an ASCII byte of the same token class: the right single
# quote is a joiner like "'", the others are neither word characters nor joiners.
_EQUIVALENTS = {"\u2019": b"'", "\u2018": b" ", "\u201c": b" ", "\u201d": b" ", "\u2014": b" ",
                "\u2013": b" ", "\u2026": b" ", "\u00a0": b" "}  # fmt: skip
_KNOWN = frozenset(_EQUIVALENTS)
# When they are the only non-ASCII characters, one translate does it: their UTF-8 is E2 80 xx or C2 A0, so
# deleting E2, 80 and C2 leaves one byte per character, which the table maps to its class.
_KNOWN_ONLY_DELETE = b"\xe2\x80\xc2"
_TABLE[0x80:] = b"?" * 128  # (no other byte >= 0x80 can be left)
for _char, _replacement in _EQUIVALENTS.items():
    _TABLE[_char.encode()[-1]] = _ASCII_CLASSES[_replacement[0]]
_KNOWN_ONLY_CLASSES = bytes(_TABLE)
_ASCII_BYTES = bytes(range(128))
_WORD = ord("a")
_JOINER_LOOP_MAX = 32  # above this many joiners two more bytes.count passes are cheaper than a loop


def count_tokens_fast(text: str, data: bytes | None = None) -> int:
    """Return exactly ``ml.tokenise.count_tokens(text)``; ``data`` is ``text.encode("utf-8")`` if known."""
    if data is None:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # unpaired surrogates
            return len(WORD_RE.findall(text))
    if data.isascii():
        classes = b" " + data.translate(_ASCII_CLASSES) + b" "
    else:
        # The non-ASCII characters alone (deleting the ASCII bytes keeps whole UTF-8 sequences): a few bytes.
        non_ascii = set(data.translate(None, _ASCII_BYTES).decode("utf-8"))
        others = non_ascii - _KNOWN
        if not others:
            classes = b" " + data.translate(_KNOWN_ONLY_CLASSES, _KNOWN_ONLY_DELETE) + b" "
        elif all(char.isalnum() for char in others):
            for char in non_ascii & _KNOWN:
                data = data.replace(char.encode(), _EQUIVALENTS[char])
            classes = b" " + data.translate(_NON_ASCII_WORD_CLASSES) + b" "
        else:
            return len(WORD_RE.findall(text))
    tokens = classes.count(b" a")  # runs that start after a separator
    joiners = classes.count(b"-")
    if joiners > _JOINER_LOOP_MAX:
        return tokens + classes.count(b" -a") + classes.count(b"--a")
    # Runs that start after a joiner are new tokens unless the joiner follows a word byte (then it joins).
    at = 0
    for _ in range(joiners):
        at = classes.index(b"-", at + 1)
        if classes[at + 1] == _WORD and classes[at - 1] != _WORD:
            tokens += 1
    return tokens
