// The curator page's gold row: draw a gold span over a selection, and relabel, move, annotate or delete a
// gold span, through the curation API (curators and owners only; the server checks). The page is not
// reloaded: each answer from the server replaces the span in the model and the row is redrawn.
// Every change is a command whose inverse goes on an undo stack (Ctrl+Z, Ctrl+Shift+Z or Ctrl+Y to redo), as
// on the annotator page; undoing a delete restores the span with its annotator sources (a new id, mapped).
//
// Offsets, drawing, selection and token steps are text_spans.js (shared with the annotator page), so
// emoji, CRLF and combining characters count exactly as there. User text only reaches the DOM as text.

import { api, errorText, HttpError } from "./http.js";
import {
  OffsetMap, confineSelection, drawCaret, moveCaretByKey, placeCaret, renderSpans, selectionOffsets, snapRange,
  spansByBlock, stepBoundary, textBlocks, tokenRanges,
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
  if (p.action === "edit") return `${base}, edited`;
  return p.restored_by ? `${base}, restored` : base;
}

class GoldRow {
  constructor(cfg) {
    performance.mark("curation-start");
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
    this.undoStack = []; // inverse commands of what was done, newest last
    this.redoStack = [];
    this.renamed = new Map(); // key of a deleted span -> key of the span its undo restored (a new id)
    this.tokens = null;
    this.el = $("gold-text");
    this.snap = $("snap");
    for (const row of cfg.gold) this.put(row);
    this.renderRows();
    this.render();
    this.bind();
    this.historyChanged();
    document.body.dataset.curationReady = "1";
    performance.mark("curation-ready");
  }

  // -- model
  put(row) {
    const us = this.map.toUtf16(row.start_char), ue = this.map.toUtf16(row.end_char);
    const span = { key: String(row.id), id: row.id, start: row.start_char, end: row.end_char, us, ue,
      label_id: row.label_id, note: row.note || "", provenance: row.provenance || {}, text: this.text.slice(us, ue),
      updated_at: row.updated_at, state: "saved" };
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
        if (err instanceof HttpError && (err.status === 404 || err.status === 409) && err.spanId) await this.showServerState(err.spanId);
      }
    });
    return this.queue;
  }
  /** Another curator changed or deleted a gold span this page still showed: say who, and draw the gold row anew
   * from the server (the undo history no longer fits it, so it is cleared). */
  async showServerState(spanId) {
    try {
      const state = await api("GET", `${this.cfg.urls.span}${spanId}/`);
      const by = state.changed_by_you ? "you (in another tab or window)" : state.changed_by || "someone";
      const at = new Date(state.changed_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      const what = state.state === "deleted" ? "deleted" : `changed (now ${this.labelName(state.span.label_id)}, ${state.span.start_char}–${state.span.end_char})`;
      this.toast(`That gold span was ${what} by ${by} at ${at}. The gold row now shows the server's spans.`, "error");
    } catch { /* the gold list below still shows the truth */ }
    this.replaceGold(await api("GET", this.cfg.urls.create));
  }
  /** When the page comes back into view: if another curator changed the gold row meanwhile, show it as it is now. */
  refreshIfChanged() {
    this.queue = this.queue.then(async () => {
      let rows;
      try {
        rows = await api("GET", this.cfg.urls.create);
      } catch { return; } // offline: the next edit will tell
      // updated_at comes as "…Z" from an edit's answer and as "…+00:00" from the list: compare the instants
      const version = (s) => `${s.id}@${Date.parse(s.updated_at)}`;
      const mine = new Set([...this.gold.values()].map(version));
      const changed = rows.length !== mine.size || rows.some((r) => !mine.has(version(r)));
      if (!changed) return;
      const by = [...new Set(rows.filter((r) => !mine.has(version(r))).map((r) => r.updated_by).filter(Boolean))];
      this.toast(`The gold row was changed elsewhere${by.length ? ` (by ${by.join(", ")})` : ""} since this page showed it: it now shows the server's spans.`, "error");
      this.replaceGold(rows);
    });
  }
  replaceGold(rows) {
    this.gold = new Map();
    for (const row of rows) this.put(row);
    if (this.selectedKey && !this.gold.has(this.selectedKey)) this.selectedKey = null;
    this.undoStack = [];
    this.redoStack = [];
    this.renamed = new Map();
    this.historyChanged();
    this.render();
    document.body.dataset.goldReloads = String(Number(document.body.dataset.goldReloads || 0) + 1);
  }
  create(labelId) {
    const range = selectionOffsets(this.el, this.blocks, this.text.length);
    if (!range) return this.toast("Select some text in the gold row first (mouse, or Shift+arrows from the caret).");
    const snapped = snapRange(this.text, range[0], range[1], this.snap.checked);
    if (!snapped) return this.toast("The selection has no words in it.");
    const [us, ue] = snapped;
    const span = { label_id: labelId, start: this.map.toCodePoints(us), end: this.map.toCodePoints(ue), note: "",
      from_spans: [] };
    return this.run("Draw a gold span", async () => {
      const drawn = await this.exec({ op: "create", span });
      this.placeCaretAt(ue);
      return `Drew gold span “${drawn.text.slice(0, 40)}” (${this.labelName(drawn.label_id)}).`;
    });
  }
  update(data, what) {
    const key = this.selectedKey;
    if (!key) return null;
    return this.run(what, async () => {
      const span = this.gold.get(key);
      const fields = span && (typeof data === "function" ? data(span) : data);
      if (!fields) return null;
      await this.exec({ op: "update", key, data: fields });
      return null;
    });
  }
  remove() {
    const span = this.selected();
    if (!span) return null;
    return this.run("Delete the gold span", async () => {
      await this.exec({ op: "delete", key: span.key });
      this.el.focus();
      return `Deleted gold span “${span.text.slice(0, 40)}”.`;
    });
  }

  // -- commands: each is sent to the server and returns its inverse, for undo and redo
  async exec(cmd) {
    const [inverse, span] = await this.apply(cmd);
    this.undoStack.push(inverse);
    this.redoStack = [];
    this.historyChanged();
    return span;
  }
  historyChanged() {
    $("gold-undo").disabled = !this.undoStack.length;
    $("gold-redo").disabled = !this.redoStack.length;
  }
  async apply(cmd) {
    if (cmd.op === "create") {
      const s = cmd.span;
      const us = this.map.toUtf16(s.start), ue = this.map.toUtf16(s.end);
      const body = { label: s.label_id, start_char: s.start, end_char: s.end, text: this.text.slice(us, ue), note: s.note };
      if (s.from_spans.length) body.from_spans = s.from_spans;
      const span = this.put(await api("POST", this.cfg.urls.create, body));
      if (cmd.replaces) this.renamed.set(cmd.replaces, span.key);
      this.markSources(span, "accepted");
      this.selectedKey = span.key;
      this.render();
      return [{ op: "delete", key: span.key }, span];
    }
    const key = this.current(cmd.key);
    const span = this.gold.get(key);
    if (!span) throw new Error("that gold span is no longer on this page; reload it");
    if (cmd.op === "update") {
      const before = {};
      if ("label" in cmd.data) before.label = span.label_id;
      if ("start_char" in cmd.data || "end_char" in cmd.data) Object.assign(before, { start_char: span.start, end_char: span.end });
      if ("note" in cmd.data) before.note = span.note;
      const updated = this.put(await this.call("PATCH", `${this.cfg.urls.gold}${key}/`, span, { ...cmd.data, updated_at: span.updated_at }));
      this.render();
      return [{ op: "update", key, data: before }, updated];
    }
    await this.call("DELETE", `${this.cfg.urls.gold}${key}/?updated_at=${encodeURIComponent(span.updated_at)}`, span);
    this.gold.delete(key);
    if (this.selectedKey === key) this.selectedKey = null;
    this.markSources(span, null);
    this.render();
    const restore = { label_id: span.label_id, start: span.start, end: span.end, note: span.note,
      from_spans: span.provenance.from_spans || [] };
    return [{ op: "create", span: restore, replaces: key }, span];
  }
  /** A request about one gold span; a failure carries the span's id, so the page can show what became of it. */
  async call(method, url, span, body) {
    try {
      return await api(method, url, body);
    } catch (err) {
      err.spanId = span.id;
      throw err;
    }
  }
  current(key) {
    while (this.renamed.has(key)) key = this.renamed.get(key);
    return key;
  }
  undo() {
    return this.replay(this.undoStack, this.redoStack, "Undo", "Nothing to undo.");
  }
  redo() {
    return this.replay(this.redoStack, this.undoStack, "Redo", "Nothing to redo.");
  }
  replay(from, to, what, empty) {
    return this.run(what, async () => {
      const cmd = from.pop();
      if (!cmd) return empty;
      try {
        const [inverse] = await this.apply(cmd);
        to.push(inverse);
      } finally {
        this.historyChanged();
      }
      return `${what}: ${{ create: "restored", update: "changed back", delete: "removed" }[cmd.op]} a gold span.`;
    });
  }
  markSources(span, status) {
    // The server marks a gold span's annotator sources "accepted" (a restore) or undecided (null, a delete): show
    // it in their rows as the server renders them.
    for (const id of span.provenance.from_spans || []) {
      const li = document.querySelector(`[data-testid=annotator-span][data-span-id="${Number(id)}"]`);
      if (!li || (status && li.classList.contains(`curation-${status}`))) continue;
      li.classList.remove("curation-accepted", "curation-rejected");
      li.querySelector(".curation-pill")?.remove();
      if (!status) continue;
      li.classList.add(`curation-${status}`);
      li.querySelector(".verdict")?.before(el("span", "pill curation-pill", status), " ");
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
  renderRows() {
    // The annotators' rows, read-only: the text once per row as paragraph blocks (laid out only when scrolled
    // to), their spans drawn by the same code as the gold row. Agreed spans solid, disagreements dashed red.
    document.querySelectorAll(".row-text[data-row]").forEach((root, n) => {
      const row = this.cfg.rows[n];
      const spans = row.spans.map(([id, labelId, start, end, agreed, verdict]) => ({
        kind: "row", key: `row-${id}`, id, label_id: labelId, agreed: Boolean(agreed), verdict, start, end,
        us: this.map.toUtf16(start), ue: this.map.toUtf16(end) }));
      const buckets = spansByBlock(this.blocks, spans);
      root.replaceChildren(...this.blocks.map(([from, to], i) => {
        const blk = el("span", "blk");
        renderSpans(blk, this.text, buckets[i], this.labelsById, null, from, to);
        return blk;
      }));
      if (spans.length) document.querySelector(`ul.spans[data-row="${n}"]`).replaceChildren(...spans.map((s) => this.rowItem(row.username, s)));
    });
  }
  rowItem(username, span) {
    // One of the row's spans with its verdict buttons: they submit the row's form (accept=<id> or reject=<id>), and
    // their names say which span of whom they decide on.
    const label = this.labelName(span.label_id);
    const text = this.text.slice(span.us, span.ue);
    const li = el("li", span.verdict ? `curation-${span.verdict}` : "");
    Object.assign(li.dataset, { testid: "annotator-span", spanId: String(span.id), agreed: span.agreed ? "1" : "0" });
    const swatch = el("span", "swatch");
    swatch.style.setProperty("--c", this.labelsById.get(span.label_id)?.colour || "#999");
    li.append(swatch, ` ${label}: “${text}” `, el("span", "muted", `${span.start}–${span.end}`), " ");
    if (span.verdict) li.append(el("span", "pill curation-pill", span.verdict), " ");
    const verdict = el("span", "verdict");
    const named = `${username}'s ${label} “${text.length > 60 ? `${text.slice(0, 59)}…` : text}” (${span.start}–${span.end})`;
    for (const [action, word] of [["accept", "Accept"], ["reject", "Reject"]]) {
      const b = el("button", "", word);
      Object.assign(b, { type: "submit", name: action, value: String(span.id) });
      b.dataset.testid = action;
      b.setAttribute("aria-label", `${word} ${named}`);
      verdict.append(b, " ");
    }
    li.append(verdict);
    return li;
  }
  agreedChanged() {
    // "Accept all agreed (n)": the agreed groups that have no gold span with their offsets and label yet.
    const gold = new Set([...this.gold.values()].map((s) => `${s.start},${s.end},${s.label_id}`));
    const open = this.cfg.agreed.filter(([start, end, label]) => !gold.has(`${start},${end},${label}`)).length;
    $("agreed-open").textContent = String(open);
  }
  render() {
    const spans = [...this.gold.values()];
    const buckets = spansByBlock(this.blocks, spans);
    this.blockEls = this.blocks.map(([from, to], i) => {
      const blk = el("span", "blk");
      blk.dataset.i = String(i);
      renderSpans(blk, this.text, buckets[i], this.labelsById, this.selectedKey, from, to);
      return blk;
    });
    this.el.replaceChildren(...this.blockEls);
    this.renderList(spans);
    this.renderEditor();
    this.agreedChanged();
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
      b.setAttribute("aria-pressed", String(l.id === span.label_id));
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
    $("gold-undo").addEventListener("click", () => this.undo());
    $("gold-redo").addEventListener("click", () => this.redo());
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
    // A selection stays in the row it started in (dragging from an annotator's row into the gold row would
    // otherwise select from the start of the article).
    const rows = [...document.querySelectorAll(".row-text"), this.el];
    document.addEventListener("selectionchange", () => { confineSelection(rows); this.scheduleCaret(); });
    this.el.addEventListener("keydown", (e) => {
      if (moveCaretByKey(e, this.el, () => this.placeCaretAt(0))) this.scheduleCaret();
    });
    document.addEventListener("keydown", (e) => this.onKey(e));
    document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") this.refreshIfChanged(); });
  }
  onKey(e) {
    const t = e.target;
    if (e.key === "Escape" && this.selectedKey) { e.preventDefault(); return this.deselect(); }
    if (t instanceof HTMLElement && (t.closest("input, textarea, select") || t.isContentEditable)) return;
    const key = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && !e.altKey && (key === "z" || key === "y")) {
      e.preventDefault();
      return key === "y" || e.shiftKey ? this.redo() : this.undo();
    }
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
