// Span text over an article, shared by the annotator page (annotator.js) and the curator page
// (curation.js): code-point <-> UTF-16 offsets, snapping, token steps, drawing spans, and reading the
// browser selection / keyboard caret as offsets. Vanilla ES module, no dependencies.
//
// Offsets: the server stores code-point offsets (Python string indices); the DOM counts UTF-16 code
// units. Conversion happens only here, at the edge. Article text and notes are untrusted: they only
// ever reach the DOM as text nodes / textContent, never as HTML.

// ---- offsets ------------------------------------------------------------------------------------

const isHigh = (c) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c) => c >= 0xdc00 && c <= 0xdfff;

/** Index tables for one text: code point -> UTF-16 unit and back. Built once, O(n). */
export class OffsetMap {
  constructor(text) {
    this.text = text;
    const n = text.length;
    this.u16ToCpTable = new Uint32Array(n + 1);
    const cpToU16 = [];
    let cp = 0;
    for (let u = 0; u < n; ) {
      const width = isHigh(text.charCodeAt(u)) && u + 1 < n && isLow(text.charCodeAt(u + 1)) ? 2 : 1;
      cpToU16.push(u);
      this.u16ToCpTable[u] = cp;
      if (width === 2) this.u16ToCpTable[u + 1] = cp + 1; // inside a pair: rounds up to the next code point
      u += width;
      cp += 1;
    }
    cpToU16.push(n);
    this.u16ToCpTable[n] = cp;
    this.cpToU16Table = Uint32Array.from(cpToU16);
    this.length = cp;
  }
  toUtf16(cp) {
    if (!Number.isInteger(cp) || cp < 0 || cp > this.length) throw new RangeError(`code point offset ${cp} outside 0..${this.length}`);
    return this.cpToU16Table[cp];
  }
  toCodePoints(u) {
    if (!Number.isInteger(u) || u < 0 || u > this.text.length) throw new RangeError(`UTF-16 offset ${u} outside 0..${this.text.length}`);
    return this.u16ToCpTable[u];
  }
}

let cachedMap = null;
function mapFor(text) {
  if (!cachedMap || cachedMap.text !== text) cachedMap = new OffsetMap(text);
  return cachedMap;
}
/** Code-point offset (Python index) -> UTF-16 offset (JS index) in `text`. */
export const cpToUtf16 = (text, cp) => mapFor(text).toUtf16(cp);
/** UTF-16 offset (JS index) -> code-point offset (Python index) in `text`. */
export const utf16ToCp = (text, u) => mapFor(text).toCodePoints(u);

// ---- snapping -----------------------------------------------------------------------------------

const WORD_CHAR = /[\p{L}\p{N}\p{M}_]/u;
const JOINER = /^['’\-]$/u;
const SPACE = /\s/u;

function cpAt(text, u) {
  const c = text.codePointAt(u);
  return c === undefined ? "" : String.fromCodePoint(c);
}
function cpBefore(text, u) {
  if (u <= 0) return "";
  const lo = text.charCodeAt(u - 1);
  if (isLow(lo) && u >= 2 && isHigh(text.charCodeAt(u - 2))) return text.slice(u - 2, u);
  return text[u - 1];
}
const isWord = (ch) => ch !== "" && WORD_CHAR.test(ch);

/** Clean a selection [s, e) (UTF-16): never split a surrogate pair, trim whitespace, and with
 * `toWords` trim punctuation and grow to whole words. Returns [s, e] or null if nothing is left. */
export function snapRange(text, s, e, toWords) {
  if (s > e) [s, e] = [e, s];
  if (s > 0 && isLow(text.charCodeAt(s)) && isHigh(text.charCodeAt(s - 1))) s -= 1;
  if (e < text.length && isLow(text.charCodeAt(e)) && isHigh(text.charCodeAt(e - 1))) e += 1;
  const keep = toWords ? isWord : (ch) => !SPACE.test(ch);
  while (s < e && !keep(cpAt(text, s))) s += cpAt(text, s).length;
  while (e > s && !keep(cpBefore(text, e))) e -= cpBefore(text, e).length;
  if (s >= e) return null;
  if (toWords) {
    for (;;) {
      const before = cpBefore(text, s);
      if (isWord(before)) s -= before.length;
      else if (JOINER.test(before) && isWord(cpBefore(text, s - before.length))) s -= before.length;
      else break;
    }
    for (;;) {
      const after = cpAt(text, e);
      if (isWord(after)) e += after.length;
      else if (JOINER.test(after) && isWord(cpAt(text, e + after.length))) e += after.length;
      else break;
    }
  }
  return [s, e];
}

// ---- rendering ----------------------------------------------------------------------------------

/** Draw text with spans as nested <span class="ann"> elements. Overlapping spans are split where they
 * cross, so every piece is properly nested; each piece carries its span's data-span-* attributes. */
export function renderSpans(container, text, spans, labelsById, selectedKey, from0 = 0, to0 = text.length) {
  // Only [from0, to0) of the text is drawn into `container`; spans are clipped to it.
  const sorted = spans.filter((s) => s.us < to0 && s.ue > from0)
    .sort((a, b) => a.us - b.us || b.ue - a.ue || (a.key < b.key ? -1 : 1));
  const cuts = new Set([from0, to0]);
  for (const s of sorted) { cuts.add(Math.max(s.us, from0)); cuts.add(Math.min(s.ue, to0)); }
  const bounds = [...cuts].sort((a, b) => a - b);
  const frag = document.createDocumentFragment();
  const stack = []; // {span, el, inner}
  let active = [];
  let next = 0;
  const close = (entry) => {
    const height = entry.inner + 1;
    entry.el.style.setProperty("--depth", String(height - 1));
    if (stack.length) stack[stack.length - 1].inner = Math.max(stack[stack.length - 1].inner, height);
  };
  for (let i = 0; i + 1 < bounds.length; i++) {
    const from = bounds[i], to = bounds[i + 1];
    active = active.filter((s) => s.ue > from);
    while (next < sorted.length && Math.max(sorted[next].us, from0) <= from) active.push(sorted[next++]);
    const covering = active.filter((s) => Math.max(s.us, from0) <= from && Math.min(s.ue, to0) >= to);
    covering.sort((a, b) => a.us - b.us || b.ue - a.ue || (a.key < b.key ? -1 : 1));
    let k = 0;
    while (k < stack.length && k < covering.length && stack[k].span === covering[k]) k++;
    while (stack.length > k) close(stack.pop());
    for (let j = k; j < covering.length; j++) {
      const span = covering[j];
      const label = labelsById.get(span.label_id);
      const el = document.createElement("span");
      if (span.kind === "suggestion") {
        // A model suggestion: dashed outline, no span data attributes (it is not one of the user's spans).
        el.className = "sugg" + (span.key === selectedKey ? " focused" : "");
        el.dataset.suggId = String(span.id);
        el.dataset.suggLabel = label ? label.name : "?";
        el.title = `Suggestion: ${label ? label.name : "?"}${span.score != null ? ` (${span.score.toFixed(2)})` : ""} — click, then press a to accept`;
      } else if (span.kind === "other") {
        el.className = "other";
        el.dataset.otherAnnotator = span.annotator;
        el.title = `${span.annotator}: ${label ? label.name : "?"} (read-only)`;
      } else if (span.kind === "row") {
        // An annotator's span in the curator's read-only rows: agreed by all who finished, or a disagreement.
        el.className = "seg mark " + (span.agreed ? "agreed" : "disagree");
        el.dataset.spanId = String(span.id);
        el.title = `${label ? label.name : "?"} #${span.id}${span.agreed ? "" : " (disagreement)"}`;
      } else {
        el.className = "ann" + (span.state !== "saved" ? " pending" : "") + (span.key === selectedKey ? " selected" : "");
        el.dataset.spanKey = span.key;
        el.dataset.spanStart = String(span.start);
        el.dataset.spanEnd = String(span.end);
        el.dataset.spanLabel = label ? label.name : "?";
        el.title = label ? label.name : "";
        // A screen reader meets "span, loaded term: liberate" where a sighted reader sees the colour.
        el.setAttribute("role", "group");
        el.setAttribute("aria-roledescription", "span");
        el.setAttribute("aria-label", `${label ? label.name : "?"}${span.state !== "saved" ? " (not saved yet)" : ""}: ${text.slice(span.us, span.ue).slice(0, 80)}`);
      }
      el.style.setProperty("--c", label ? label.colour : "#999");
      if (label?.line) el.style.setProperty("--c-line", label.line);
      (stack.length ? stack[stack.length - 1].el : frag).appendChild(el);
      stack.push({ span, el, inner: 0 });
    }
    (stack.length ? stack[stack.length - 1].el : frag).appendChild(document.createTextNode(text.slice(from, to)));
  }
  while (stack.length) close(stack.pop());
  container.replaceChildren(frag);
}

/** The spans (with UTF-16 `us`/`ue`) touching each block of `blocks`: one list per block, so each block is drawn
 * from its own few spans instead of filtering all of them. */
export function spansByBlock(blocks, spans) {
  const starts = blocks.map((b) => b[0]);
  const blockOf = (u) => {
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= u) lo = mid; else hi = mid - 1;
    }
    return lo;
  };
  const out = blocks.map(() => []);
  for (const span of spans) {
    const last = blockOf(Math.max(span.us, span.ue - 1));
    for (let i = blockOf(span.us); i <= last; i++) out[i].push(span);
  }
  return out;
}

/** Split the text into paragraph blocks [from, to), each ending after a newline. Each block is drawn
 * as its own display:block element, so the browser re-lays out only the paragraph that changed. */
export function textBlocks(text) {
  const blocks = [];
  let from = 0;
  while (from < text.length) {
    let to = text.indexOf("\n", from);
    to = to === -1 ? text.length : to + 1;
    blocks.push([from, to]);
    from = to;
  }
  return blocks.length ? blocks : [[0, 0]];
}


// ---- token steps (moving a span boundary by one token) ------------------------------------------

const wordSegmenter = typeof Intl !== "undefined" && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "word" }) : null;

/** The tokens of `text` as UTF-16 [start, end) pairs: words and single punctuation marks or emoji
 * (never split inside a grapheme, so an emoji with a skin tone or a letter with a combining accent
 * stays whole); whitespace is not a token. */
export function tokenRanges(text) {
  const out = [];
  if (wordSegmenter) {
    for (const seg of wordSegmenter.segment(text)) {
      if (!/^\s+$/u.test(seg.segment)) out.push([seg.index, seg.index + seg.segment.length]);
    }
    return out;
  }
  for (const m of text.matchAll(/[\p{L}\p{N}\p{M}_]+|\S/gu)) out.push([m.index, m.index + m[0].length]);
  return out;
}

/** Move one boundary of the span [s, e) (UTF-16) by one token: `which` is "start" or "end", `dir` is
 * -1 (left) or +1 (right). Returns the new [s, e], or null if the span would be empty or run off the text. */
export function stepBoundary(tokens, s, e, which, dir) {
  if (which === "start") {
    if (dir < 0) {
      const t = tokens.findLast((r) => r[0] < s);
      return t ? [t[0], e] : null;
    }
    const t = tokens.find((r) => r[0] > s);
    return t && t[0] < e ? [t[0], e] : null;
  }
  if (dir > 0) {
    const t = tokens.find((r) => r[1] > e);
    return t ? [s, t[1]] : null;
  }
  const t = tokens.findLast((r) => r[1] < e);
  return t && t[1] > s ? [s, t[1]] : null;
}

// ---- selection and keyboard caret inside a drawn text -------------------------------------------

/** The browser selection inside `root` as UTF-16 [start, end) offsets into the text, or null if it is
 * empty or outside. `root` holds the text as `.blk` paragraph blocks (see textBlocks). */
export function selectionOffsets(root, blocks, textLength) {
  const sel = window.getSelection();
  if (!sel || !sel.rangeCount) return null;
  const r = sel.getRangeAt(0);
  // Both ends must be in this text: a selection that only reaches into it belongs to another (see confineSelection).
  if (r.collapsed || !root.contains(r.startContainer) || !root.contains(r.endContainer)) return null;
  const offset = (node, off) => {
    // Count from the start of the node's block, not of the article: a 20k-word prefix is slow to serialise.
    if (node === root) return off < blocks.length ? blocks[off][0] : textLength;
    const blk = (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement).closest(".blk");
    const i = blk && blk.parentElement === root ? Number(blk.dataset.i) : -1;
    const pre = document.createRange();
    pre.setStart(i >= 0 ? blk : root, 0);
    pre.setEnd(node, off);
    return (i >= 0 ? blocks[i][0] : 0) + pre.toString().length;
  };
  return [offset(r.startContainer, r.startOffset), offset(r.endContainer, r.endOffset)];
}

/** Keep the selection inside the one of `roots` where it started: a drag that runs on into the next element ends
 * at the edge of its own. Call on selectionchange. */
export function confineSelection(roots) {
  const sel = window.getSelection();
  if (!sel || !sel.rangeCount || sel.isCollapsed || !sel.anchorNode) return;
  const root = roots.find((r) => r.contains(sel.anchorNode));
  if (!root || root.contains(sel.focusNode)) return;
  const after = root.compareDocumentPosition(sel.focusNode) & Node.DOCUMENT_POSITION_FOLLOWING;
  sel.extend(root, after ? root.childNodes.length : 0);
}

/** Put the collapsed selection at UTF-16 offset u of the text drawn in `blockEl` (which starts at
 * offset `blockStart`). Returns whether it found the place. */
export function placeCaret(blockEl, blockStart, u) {
  const walker = document.createTreeWalker(blockEl, NodeFilter.SHOW_TEXT);
  let seen = blockStart;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (seen + node.length >= u) {
      window.getSelection().collapse(node, u - seen);
      return true;
    }
    seen += node.length;
  }
  return false;
}

const CARET_MOVES = {
  ArrowLeft: ["backward", "character"], ArrowRight: ["forward", "character"], ArrowUp: ["backward", "line"],
  ArrowDown: ["forward", "line"], Home: ["backward", "lineboundary"], End: ["forward", "lineboundary"],
};

/** Caret browsing inside a read-only text: arrows move, Shift extends, Ctrl by word. Returns true if
 * the key was handled (the caller then redraws its caret). `start()` puts the caret at the text start. */
export function moveCaretByKey(e, root, start) {
  const move = CARET_MOVES[e.key];
  if (!move || e.altKey) return false;
  const sel = window.getSelection();
  if (!sel.rangeCount || !root.contains(sel.focusNode)) start();
  const granularity = e.ctrlKey && move[1] === "character" ? "word" : move[1];
  sel.modify(e.shiftKey ? "extend" : "move", move[0], granularity);
  e.preventDefault();
  return true;
}

/** Draw the fake caret element `caret` (absolutely placed in root's parent) at the collapsed selection. */
export function drawCaret(root, caret) {
  const sel = window.getSelection();
  if (document.activeElement !== root || !sel.rangeCount || !sel.isCollapsed || !root.contains(sel.focusNode)) {
    caret.hidden = true;
    return;
  }
  const r = document.createRange();
  r.setStart(sel.focusNode, sel.focusOffset);
  const rects = r.getClientRects();
  const rect = rects.length ? rects[0] : r.getBoundingClientRect();
  const host = root.parentElement.getBoundingClientRect();
  caret.style.left = `${rect.left - host.left}px`;
  caret.style.top = `${rect.top - host.top}px`;
  caret.style.height = `${rect.height || 20}px`;
  caret.hidden = false;
}
