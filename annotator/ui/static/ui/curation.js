// The curator page's gold row: draw a gold span over a selection, and relabel, move, annotate or delete a
// gold span, through the curation API (curators and owners only; the server checks). The page is not
// reloaded: each answer from the server replaces the span in the model and the row is redrawn.
//
// Offsets, drawing, selection and token steps are text_spans.js (shared with the annotator page), so
// emoji, CRLF and combining characters count exactly as there. User text only reaches the DOM as text.

import { api, errorText } from "./http.js";
import {
  OffsetMap, drawCaret, moveCaretByKey, placeCaret, renderSpans, selectionOffsets, snapRange, stepBoundary, textBlocks,
  tokenRanges,
} from "./text_spans.js";

const $ = (id) => document.getElementById(id);
const STEP_KEYS = { "[": ["start", -1], "]": ["start", 1], "{": ["end", -1], "}": ["end", 1] };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Where a gold span came from, in words, from its provenance. */
function origin(provenance) {
  const p = provenance || {};
  const n = (p.annotators || []).length;
  const base = (p.from_spans || []).length ? `from ${n} annotator${n === 1 ? "" : "s"}` : "drawn by curator";
  return p.action === "edit" ? `${base}, edited` : base;
}

class GoldRow {
  constructor(cfg) {
    this.cfg = cfg;
    this.text = cfg.text;
    this.map = new OffsetMap(this.text);
    this.labels = cfg.labels;
    this.labelsById = new Map(this.labels.map((l) => [l.id, l]));
    this.labelsByKey = new Map(this.labels.filter((l) => l.hotkey).map((l) => [l.hotkey.toLowerCase(), l]));
    this.blocks = textBlocks(this.text);
    this.blockEls = [];
    this.gold = new Map(); // key (the gold span id as a string) -> span
    this.selectedKey = null;
    this.queue = Promise.resolve(); // one request at a time, each from the state the previous one left
    this.tokens = null;
    this.el = $("gold-text");
    this.snap = $("snap");
    for (const row of cfg.gold) this.put(row);
    this.render();
    this.bind();
    document.body.dataset.curationReady = "1";
  }

  // -- model
  put(row) {
    const us = this.map.toUtf16(row.start_char), ue = this.map.toUtf16(row.end_char);
    const span = { key: String(row.id), id: row.id, start: row.start_char, end: row.end_char, us, ue,
      label_id: row.label_id, note: row.note || "", provenance: row.provenance || {}, text: this.text.slice(us, ue),
      state: "saved" };
    this.gold.set(span.key, span);
    return span;
  }
  selected() {
    return this.selectedKey ? this.gold.get(this.selectedKey) : null;
  }
  labelName(id) {
    return this.labelsById.get(id)?.name || "?";
  }

  // -- server calls, one at a time
  run(what, call) {
    this.queue = this.queue.then(async () => {
      this.setStatus("saving", `${what}…`);
      try {
        const message = await call();
        this.setStatus("saved", "Saved");
        if (message) this.toast(message);
      } catch (err) {
        const text = `Could not ${what.toLowerCase()}: ${errorText(err)}`;
        this.setStatus("error", text);
        this.toast(text, "error");
      }
    });
    return this.queue;
  }
  create(labelId) {
    const range = selectionOffsets(this.el, this.blocks, this.text.length);
    if (!range) return this.toast("Select some text in the gold row first (mouse, or Shift+arrows from the caret).");
    const snapped = snapRange(this.text, range[0], range[1], this.snap.checked);
    if (!snapped) return this.toast("The selection has no words in it.");
    const [us, ue] = snapped;
    const body = { label: labelId, start_char: this.map.toCodePoints(us), end_char: this.map.toCodePoints(ue),
      text: this.text.slice(us, ue) };
    return this.run("Draw a gold span", async () => {
      const span = this.put(await api("POST", this.cfg.urls.create, body));
      this.selectedKey = span.key;
      this.render();
      this.placeCaretAt(ue);
      return `Drew gold span “${span.text.slice(0, 40)}” (${this.labelName(span.label_id)}).`;
    });
  }
  update(data, what) {
    const key = this.selectedKey;
    if (!key) return null;
    return this.run(what, async () => {
      const span = this.gold.get(key);
      const fields = span && (typeof data === "function" ? data(span) : data);
      if (!fields) return null;
      this.put(await api("PATCH", `${this.cfg.urls.gold}${key}/`, fields));
      this.render();
      return null;
    });
  }
  remove() {
    const span = this.selected();
    if (!span) return null;
    return this.run("Delete the gold span", async () => {
      await api("DELETE", `${this.cfg.urls.gold}${span.key}/`);
      this.gold.delete(span.key);
      if (this.selectedKey === span.key) this.selectedKey = null;
      this.sourcesUndecided(span);
      this.render();
      this.el.focus();
      return `Deleted gold span “${span.text.slice(0, 40)}”.`;
    });
  }
  sourcesUndecided(span) {
    // The server puts a deleted gold span's annotator sources back to undecided: show that in their rows.
    for (const id of span.provenance.from_spans || []) {
      const li = document.querySelector(`[data-testid=annotator-span][data-span-id="${Number(id)}"]`);
      if (!li) continue;
      li.classList.remove("curation-accepted");
      li.querySelector(".curation-pill")?.remove();
    }
  }
  relabel(labelId) {
    const span = this.selected();
    if (!span || span.label_id === labelId) return null;
    return this.update({ label: labelId }, "Change the label");
  }
  step(which, dir) {
    if (!this.selected()) return this.toast("Click a gold span first.");
    this.tokens ??= tokenRanges(this.text);
    return this.update((span) => {
      const moved = stepBoundary(this.tokens, span.us, span.ue, which, dir);
      if (!moved) {
        this.toast(`The ${which} cannot move further ${dir < 0 ? "left" : "right"}.`);
        return null;
      }
      return { start_char: this.map.toCodePoints(moved[0]), end_char: this.map.toCodePoints(moved[1]) };
    }, "Move the boundary");
  }
  applySelection() {
    if (!this.selected()) return this.toast("Click a gold span first, then select its new extent.");
    const range = selectionOffsets(this.el, this.blocks, this.text.length);
    if (!range) return this.toast("Select the new extent in the gold row first.");
    const snapped = snapRange(this.text, range[0], range[1], this.snap.checked);
    if (!snapped) return this.toast("The selection has no words in it.");
    const data = { start_char: this.map.toCodePoints(snapped[0]), end_char: this.map.toCodePoints(snapped[1]) };
    return this.update(data, "Move the boundaries");
  }

  // -- drawing
  render() {
    const spans = [...this.gold.values()];
    this.blockEls = this.blocks.map(([from, to], i) => {
      const blk = el("span", "blk");
      blk.dataset.i = String(i);
      renderSpans(blk, this.text, spans, this.labelsById, this.selectedKey, from, to);
      return blk;
    });
    this.el.replaceChildren(...this.blockEls);
    this.renderList(spans);
    this.renderEditor();
  }
  renderList(spans) {
    spans.sort((a, b) => a.us - b.us || b.ue - a.ue || a.id - b.id);
    const items = spans.map((span) => {
      const li = el("li");
      li.dataset.testid = "gold-span";
      li.dataset.spanId = String(span.id);
      const button = el("button", "span-item" + (span.key === this.selectedKey ? " selected" : ""));
      button.type = "button";
      button.dataset.spanKey = span.key;
      button.style.setProperty("--c", this.labelsById.get(span.label_id)?.colour || "#999");
      button.append(el("span", "swatch"), el("span", "span-label", this.labelName(span.label_id)),
        el("span", "span-text", `“${span.text}”`), el("span", "span-origin muted", `${span.start}–${span.end} · ${origin(span.provenance)}`));
      if (span.note) button.append(el("span", "span-note", span.note));
      li.append(button);
      return li;
    });
    if (!items.length) items.push(el("li", "muted", "No gold spans yet."));
    $("gold-list").replaceChildren(...items);
  }
  renderEditor() {
    const box = $("gold-editor");
    const span = this.selected();
    box.hidden = !span;
    if (!span) return;
    box.dataset.spanId = String(span.id);
    $("gold-editor-text").textContent = span.text;
    $("gold-editor-meta").textContent = `${this.labelName(span.label_id)} · ${span.start}–${span.end} · ${origin(span.provenance)}`;
    $("gold-editor-labels").replaceChildren(...this.labels.map((l) => {
      const b = el("button", "label-btn small" + (l.id === span.label_id ? " current" : ""));
      b.type = "button";
      b.dataset.labelId = String(l.id);
      b.style.setProperty("--c", l.colour);
      b.append(el("span", "swatch"), el("span", "label-name", l.name));
      if (l.hotkey) b.append(el("kbd", "", l.hotkey));
      return b;
    }));
    if (document.activeElement !== $("gold-note")) $("gold-note").value = span.note;
  }
  select(key) {
    this.selectedKey = this.gold.has(key) ? key : null;
    this.render();
  }
  deselect() {
    const key = this.selectedKey;
    this.selectedKey = null;
    this.render();
    const item = key && document.querySelector(`#gold-list [data-span-key="${CSS.escape(key)}"]`);
    (item || this.el).focus();
  }
  setStatus(state, message) {
    const status = $("gold-status");
    status.dataset.state = state;
    status.textContent = message;
    status.title = message;
  }
  toast(message, kind = "info") {
    const t = el("div", `toast ${kind}`, message);
    $("toasts").append(t);
    setTimeout(() => t.remove(), kind === "error" ? 9000 : 3500);
  }

  // -- caret (keyboard selection inside the read-only text)
  placeCaretAt(u) {
    const i = Math.max(0, this.blocks.findIndex(([from, to]) => u >= from && u <= to));
    if (placeCaret(this.blockEls[i], this.blocks[i][0], u)) this.scheduleCaret();
  }
  scheduleCaret() {
    if (this.caretPending) return;
    this.caretPending = true;
    requestAnimationFrame(() => { this.caretPending = false; drawCaret(this.el, $("caret")); });
  }

  // -- events
  bind() {
    const keepSelection = (b) => b.addEventListener("mousedown", (e) => e.preventDefault());
    for (const b of document.querySelectorAll("#gold-labels .label-btn")) {
      keepSelection(b);
      b.addEventListener("click", () => this.create(Number(b.dataset.labelId)));
    }
    keepSelection($("gold-apply-selection"));
    $("gold-apply-selection").addEventListener("click", () => this.applySelection());
    $("gold-editor-labels").addEventListener("click", (e) => {
      const b = e.target.closest("[data-label-id]");
      if (b) this.relabel(Number(b.dataset.labelId));
    });
    for (const b of document.querySelectorAll("#gold-editor [data-step]")) {
      const [which, dir] = b.dataset.step.split(",");
      b.addEventListener("click", () => this.step(which, Number(dir)));
    }
    $("gold-save-note").addEventListener("click", () => {
      const span = this.selected();
      const note = $("gold-note").value;
      if (span && note !== span.note) this.update({ note }, "Save the note");
    });
    $("gold-delete").addEventListener("click", () => this.remove());
    $("gold-editor-close").addEventListener("click", () => this.deselect());
    // A click (not the end of a drag that selects text) on a gold span chooses it. Clicking inside an
    // existing selection leaves it uncollapsed until after the click, so compare pointer positions instead.
    this.el.addEventListener("mousedown", (e) => { this.downAt = [e.clientX, e.clientY]; });
    this.el.addEventListener("click", (e) => {
      const [x, y] = this.downAt || [e.clientX, e.clientY];
      if (Math.abs(e.clientX - x) + Math.abs(e.clientY - y) > 4) return;
      const hit = e.target.closest(".ann");
      if (hit) this.select(hit.dataset.spanKey);
    });
    $("gold-list").addEventListener("click", (e) => {
      const b = e.target.closest("[data-span-key]");
      if (b) this.select(b.dataset.spanKey);
    });
    this.el.addEventListener("focus", () => {
      const sel = window.getSelection();
      if (!sel.rangeCount || !this.el.contains(sel.focusNode)) this.placeCaretAt(0);
      this.scheduleCaret();
    });
    this.el.addEventListener("blur", () => { $("caret").hidden = true; });
    document.addEventListener("selectionchange", () => this.scheduleCaret());
    this.el.addEventListener("keydown", (e) => {
      if (moveCaretByKey(e, this.el, () => this.placeCaretAt(0))) this.scheduleCaret();
    });
    document.addEventListener("keydown", (e) => this.onKey(e));
  }
  onKey(e) {
    const t = e.target;
    if (e.key === "Escape" && this.selectedKey) { e.preventDefault(); return this.deselect(); }
    if (t instanceof HTMLElement && (t.closest("input, textarea, select") || t.isContentEditable)) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const label = this.labelsByKey.get(e.key.toLowerCase());
    if (label) {
      // With text selected in the gold row a label key draws; otherwise it relabels the chosen gold span.
      e.preventDefault();
      const inGold = selectionOffsets(this.el, this.blocks, this.text.length);
      if (!inGold && !window.getSelection().isCollapsed) {
        return this.toast("Select the text in the gold row: the annotators' rows are read-only.");
      }
      return inGold || !this.selectedKey ? this.create(label.id) : this.relabel(label.id);
    }
    if (!this.selectedKey) return;
    if (STEP_KEYS[e.key]) { e.preventDefault(); return this.step(...STEP_KEYS[e.key]); }
    if (e.key === "b") { e.preventDefault(); return this.applySelection(); }
    if (e.key === "Delete" || e.key === "Backspace") { e.preventDefault(); return this.remove(); }
  }
}

const configEl = document.getElementById("gold-config");
if (configEl) window.framescopeGold = new GoldRow(JSON.parse(configEl.textContent));
