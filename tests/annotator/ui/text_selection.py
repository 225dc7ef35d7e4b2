"""Selecting article text in a real browser the way a mouse drag does, by UTF-16 offsets (what the DOM counts)."""

SELECT_RANGE_JS = """([testid, s, e]) => {
    const el = document.querySelector(`[data-testid=${testid}]`);
    const locate = (u) => {
        const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        let seen = 0;
        for (let n = w.nextNode(); n; n = w.nextNode()) {
            if (seen + n.length >= u) return [n, u - seen];
            seen += n.length;
        }
    };
    const r = document.createRange();
    r.setStart(...locate(s)); r.setEnd(...locate(e));
    const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r);
}"""


def u16(text: str, cp: int) -> int:
    """The UTF-16 offset of code point ``cp`` in ``text``."""
    return len(text[:cp].encode("utf-16-le")) // 2


def select_text(page, start_u16: int, end_u16: int, *, testid: str = "article-text") -> None:
    """Select [start, end) (UTF-16 offsets) of the element ``[data-testid=testid]``'s text."""
    page.evaluate(SELECT_RANGE_JS, [testid, start_u16, end_u16])
