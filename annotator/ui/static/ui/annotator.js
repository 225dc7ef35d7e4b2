// Framescope annotator page. Vanilla ES module, no build step, no dependencies.
//
// Offsets, snapping, drawing and selection live in text_spans.js (shared with the curator page);
// JSON calls in http.js. Article text and notes are untrusted: they only ever reach the DOM as text
// nodes / textContent, never as HTML.

import { api, errorText } from "./http.js";
import { Outbox } from "./outbox.js";
import { QuestionsPanel } from "./questions.js";
import {
  OffsetMap, confineSelection, cpToUtf16, drawCaret, moveCaretByKey, placeCaret, renderSpans, selectionOffsets, snapRange, textBlocks,
  utf16ToCp,
} from "./text_spans.js";

// ---- the page -----------------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** "you (in another tab or window)", a username, or "someone", for a message about a stale span. */
function who(state) {
  if (!state) return "someone";
  if (state.changed_by_you) return "you (in another tab or window)";
  return state.changed_by || "someone";
}
const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

class Annotator {
  constructor(config) {
    this.cfg = config;
    this.text = config.text;
    this.map = new OffsetMap(this.text);
    this.labels = config.labels;
    this.labelsById = new Map(this.labels.map((l) => [l.id, l]));
    this.labelsByKey = new Map(this.labels.filter((l) => l.hotkey).map((l) => [l.hotkey.toLowerCase(), l]));
    this.spans = new Map(); // key -> span
    // The text is drawn as paragraph blocks; each block knows the spans that touch it, so a change
    // redraws one block from a handful of spans instead of filtering all of them.
    this.blocks = textBlocks(this.text);
    this.blockStarts = Uint32Array.from(this.blocks.map((b) => b[0]));
    this.blockSpans = this.blocks.map(() => new Set());
    this.blockEls = [];
    this.sortedKeys = []; // span keys in list order (start asc, end desc), for the side list
    this.listItems = null; // key -> <li>, once the side list is built
    this.listDirty = new Set();
    this.overlays = { suggestion: new Map(), other: new Map() }; // kind -> key -> item (never user spans)
    this.focusedSuggestion = null;
    this.undoStack = [];
    this.redoStack = [];
    this.selectedKey = null;
    this.el = $("article-text");
    this.snap = $("snap");
    this.hiddenSuggestions = new Map(); // suggestion id -> overlay item, while a span of ours accepts it
    this.outbox = new Outbox({ userId: config.userId, project: config.project, on: (type, msg) => this.onOutbox(type, msg) });
    for (const s of config.spans) this.addToModel(this.serverSpan(s));
    this.replayOutbox();
    this.questions = new QuestionsPanel(this, config);
    this.render();
    this.bind();
    this.questions.bind();
    this.outbox.pump();
    this.initOverlayToggles();
    document.body.dataset.annotatorReady = "1";
    performance.mark("annotator-ready");
  }

  // -- model
  addToModel(span) {
    span.us = this.map.toUtf16(span.start);
    span.ue = this.map.toUtf16(span.end);
    span.text = this.text.slice(span.us, span.ue);
    if (this.spans.has(span.key)) this.removeFromModel(span.key);
    this.spans.set(span.key, span);
    const [first, last] = this.blockRange(span.us, span.ue);
    for (let i = first; i <= last; i++) this.blockSpans[i].add(span);
    this.sortedKeys.splice(this.sortedIndex(span), 0, span.key);
    this.listChanged(span.key);
  }
  removeFromModel(key) {
    const span = this.spans.get(key);
    if (!span) return;
    this.spans.delete(key);
    const [first, last] = this.blockRange(span.us, span.ue);
    for (let i = first; i <= last; i++) this.blockSpans[i].delete(span);
    const at = this.sortedIndex(span);
    if (this.sortedKeys[at] === key) this.sortedKeys.splice(at, 1);
    else this.sortedKeys = this.sortedKeys.filter((k) => k !== key);
    this.listChanged(key);
  }
  spanOrder(a, b) {
    return a.us - b.us || b.ue - a.ue || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  }
  sortedIndex(span) {
    // First position whose span sorts at or after `span` (binary search; the list stays sorted).
    let lo = 0, hi = this.sortedKeys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const other = this.spans.get(this.sortedKeys[mid]) || span;
      if (this.spanOrder(other, span) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
  blockIndex(u) {
    // The block holding UTF-16 offset u (binary search over block starts).
    let lo = 0, hi = this.blockStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.blockStarts[mid] <= u) lo = mid; else hi = mid - 1;
    }
    return lo;
  }
  blockRange(us, ue) {
    return [this.blockIndex(us), this.blockIndex(Math.max(us, ue - 1))];
  }
  /** A span row from the server as the page models it: key (stable in this tab), cid (the client_id of the create
   * that made the server row, if any), id (the server's). */
  serverSpan(row, key = null) {
    return { key: key || row.client_id || `server-${row.id}`, cid: row.client_id || null, id: row.id,
      start: row.start_char, end: row.end_char, label_id: row.label_id, note: row.note || "",
      provenance: row.provenance || null, state: "saved" };
  }
  /** The key of the span a change names: by key, else by the client id or server id it carries. */
  findKey({ key, cid, id }) {
    if (key && this.spans.has(key)) return key;
    for (const span of this.spans.values()) {
      if ((cid && span.cid === cid) || (id && span.id === id)) return span.key;
    }
    return null;
  }
  twinOf(start, end, labelId, key = null) {
    for (const span of this.spans.values()) {
      if (span.key !== key && span.start === start && span.end === end && span.label_id === labelId) return span;
    }
    return null;
  }
  snapshot(span) {
    return { key: span.key, cid: span.cid, id: span.id, start: span.start, end: span.end, label_id: span.label_id,
      note: span.note || "", provenance: span.provenance || null };
  }
  replayOutbox() {
    // Changes still queued (by any tab, on this computer) are drawn as the page will be once they are saved.
    for (const item of this.outbox.pending(this.cfg.articleId)) this.applyRemote(item.op, item.span || {
      key: item.key, cid: item.cid, id: item.id, start: item.data.start_char, end: item.data.end_char,
      label_id: item.data.label, note: item.data.note, provenance: item.data.provenance }, item.data);
  }
  /** A change made by another tab (or still queued from before a reload): into the model, not into the outbox. */
  applyRemote(op, snap, data = {}) {
    const key = this.findKey(snap);
    const before = key && this.rangeOf(key);
    if (op === "create") {
      const existing = key && this.spans.get(key);
      const span = { ...(existing || {}), ...snap, key: key || snap.key, state: "pending" };
      if (existing) this.removeFromModel(key);
      this.addToModel(span);
      if (span.provenance?.accepted_suggestion) this.hideSuggestion(span.provenance.accepted_suggestion);
    } else if (!key) {
      return;
    } else if (op === "update") {
      const span = this.spans.get(key);
      if (data.label !== undefined) span.label_id = data.label;
      if (data.note !== undefined) span.note = data.note;
      span.state = "pending";
      this.listChanged(key);
    } else if (op === "delete") {
      const span = this.spans.get(key);
      this.removeFromModel(key);
      if (this.selectedKey === key) this.closePopover();
      if (span.provenance?.accepted_suggestion) this.showSuggestion(span.provenance.accepted_suggestion);
    }
    this.redraw(before, this.rangeOf(key || snap.key));
  }
  redraw(...ranges) {
    const known = ranges.filter(Boolean);
    if (known.length) this.render([Math.min(...known.map((r) => r[0])), Math.max(...known.map((r) => r[1]))]);
  }
  markSaved(key, seq) {
    // Saved unless a later change of the span still waits. `seq` is the saved change's: another tab's storage may
    // not have seen its removal yet when the message arrives.
    const span = this.spans.get(key);
    if (!span || span.state === "saved") return;
    const later = (i) => i.seq > seq && (i.key === key || (span.cid && i.cid === span.cid) || (span.id && i.id === span.id));
    if (this.outbox.pending(this.cfg.articleId).some(later)) return;
    span.state = "saved";
    this.render(this.rangeOf(key)); // its dashed underline and "(not saved yet)" in its name go
    this.listChanged(key);
  }

  // -- what the outbox (of this tab or another) reports
  onOutbox(type, msg) {
    if (type === "status") return this.setStatus(msg.state, msg.message);
    if (msg.article !== undefined && msg.article !== this.cfg.articleId) return;
    if (msg.op === "answer") {
      if (type === "change") return this.questions.applyRemote(msg);
      if (type === "refused") return this.questions.onRefused(msg);
      return;
    }
    if (type === "change") return this.applyRemote(msg.op, msg.span, msg.data);
    if (type === "saved") {
      const key = this.findKey(msg);
      if (!key) return;
      const span = this.spans.get(key);
      if (msg.op === "create" && span.cid === msg.cid) span.id = msg.id;
      return this.markSaved(key, msg.seq);
    }
    if (type === "refused") return this.onRefused(msg);
  }
  /** The server refused a change: say what happened to the span and who did it, then show the server's spans. */
  async onRefused(msg) {
    const key = this.findKey(msg);
    const span = key && this.spans.get(key);
    const text = span ? `“${span.text.slice(0, 40)}”` : msg.state?.span ? `“${msg.state.span.text.slice(0, 40)}”` : "a span";
    const state = msg.state;
    let message;
    if (msg.op === "delete" && msg.status === 404) {
      message = null; // already gone, as wanted; the reload below shows whether it came back in another form
    } else if (msg.status === 409 && msg.errors.duplicate_of) {
      message = `${msg.detail} The page shows the saved one.`;
    } else if (state?.state === "deleted") {
      message = `Could not change ${text}: it was deleted by ${who(state)} at ${clock(state.changed_at)}.`;
    } else if (state?.state === "present") {
      const label = this.labelsById.get(state.span.label_id)?.name || state.span.label;
      message = `Could not change ${text}: ${errorText({ message: msg.detail, body: { errors: msg.errors } })} ` +
        `It was last changed by ${who(state)} at ${clock(state.changed_at)} and is ${label}.`;
    } else {
      message = `Could not save ${text}: ${errorText({ message: msg.detail, body: { errors: msg.errors } })}`;
    }
    if (message) this.toast(message, "error");
    const snap = msg.data?.snap;
    await this.resync();
    if (msg.op === "delete" && snap && this.twinOf(snap.start, snap.end, snap.label_id)) {
      this.toast(`${text} was saved again elsewhere after it was deleted here: it is still there.`, "error");
    }
  }
  /** Redraw from the server's spans of this article, with the changes still queued on top. Keys stay. */
  async resync() {
    let rows;
    try {
      rows = await api("GET", `${this.cfg.api}/articles/${this.cfg.articleId}/spans/`);
    } catch (err) {
      return this.toast(`Could not reload your spans: ${errorText(err)}`, "error");
    }
    const old = [...this.spans.values()];
    const keyOf = (row) => old.find((s) => s.id === row.id || (row.client_id && s.cid === row.client_id))?.key;
    this.spans = new Map();
    this.sortedKeys = [];
    this.blockSpans = this.blocks.map(() => new Set());
    for (const items of Object.values(this.overlays)) for (const item of items.values()) this.bucket(item);
    for (const row of rows) this.addToModel(this.serverSpan(row, keyOf(row)));
    this.replayOutbox();
    if (this.selectedKey && !this.spans.has(this.selectedKey)) this.closePopover();
    this.render();
    document.body.dataset.resyncs = String(Number(document.body.dataset.resyncs || 0) + 1);
  }

  // -- commands (each returns its inverse for undo/redo, or null when it is refused: then nothing changed)
  exec(cmd) {
    const inverse = this.applyAndDraw(cmd);
    if (inverse) { this.undoStack.push(inverse); this.redoStack = []; }
    return inverse;
  }
  applyAndDraw(cmd) {
    const key = cmd.span?.key || cmd.key;
    const before = this.rangeOf(key);
    const inverse = this.apply(cmd);
    this.redraw(before, this.rangeOf(key));
    return inverse;
  }
  refuse(message) {
    this.toast(message, "error");
    return null;
  }
  queue(op, span, data) {
    // Other tabs on this article draw the change at once; the outbox (whichever tab sends) saves it.
    const snap = this.snapshot(span);
    const item = { article: this.cfg.articleId, op, key: span.key, cid: span.cid, id: span.id, data, span: snap };
    this.outbox.post({ type: "change", article: this.cfg.articleId, op, span: snap, data });
    this.outbox.push(item);
  }
  apply(cmd) {
    if (cmd.op === "answer") return this.questions.apply(cmd);
    if (cmd.op === "create") {
      const s = cmd.span;
      const twin = this.twinOf(s.start, s.end, s.label_id, s.key);
      if (twin) return this.refuse(`You already marked “${twin.text.slice(0, 40)}” with ${this.labelsById.get(twin.label_id)?.name || "this label"} here.`);
      // Every create has its own client_id, so a re-create (undo of a delete, redo of a create) is a new span on the
      // server even when the old one was not made in this browser, and a retry of it is still stored once.
      const span = { ...s, cid: uuid4(), id: null, state: "pending" };
      this.addToModel(span);
      const data = { label: span.label_id, start_char: span.start, end_char: span.end, text: span.text, note: span.note || "" };
      if (span.provenance?.accepted_suggestion) {
        data.provenance = { accepted_suggestion: span.provenance.accepted_suggestion };
        this.hideSuggestion(span.provenance.accepted_suggestion);
      }
      this.queue("create", span, data);
      this.questions?.spanChanged(span); // a re-created span gets its attributes back
      return { op: "delete", key: span.key };
    }
    const span = this.spans.get(cmd.key);
    if (!span) return this.refuse("That span is no longer on this page (it was deleted elsewhere): nothing to change.");
    if (cmd.op === "delete") {
      this.removeFromModel(cmd.key);
      if (this.selectedKey === cmd.key) this.closePopover();
      if (span.provenance?.accepted_suggestion) this.showSuggestion(span.provenance.accepted_suggestion);
      this.queue("delete", span, { snap: { start: span.start, end: span.end, label_id: span.label_id } });
      const { key, start, end, label_id, note, provenance } = span;
      return { op: "create", span: { key, start, end, label_id, note, provenance } };
    }
    if (cmd.op === "update") {
      if (cmd.data.label !== undefined) {
        const twin = this.twinOf(span.start, span.end, cmd.data.label, span.key);
        if (twin) return this.refuse(`You already marked “${twin.text.slice(0, 40)}” with ${this.labelsById.get(twin.label_id)?.name || "that label"} here.`);
      }
      const before = {};
      for (const f of Object.keys(cmd.data)) before[f] = f === "label" ? span.label_id : span[f];
      if (cmd.data.label !== undefined) span.label_id = cmd.data.label;
      if (cmd.data.note !== undefined) span.note = cmd.data.note;
      span.state = "pending";
      this.listChanged(cmd.key);
      this.queue("update", span, cmd.data);
      if (cmd.data.label !== undefined) this.questions.spanChanged(span); // the new label's attributes, if answered before
      return { op: "update", key: cmd.key, data: before };
    }
    return null;
  }
  undo() {
    const cmd = this.undoStack.pop();
    if (!cmd) return this.toast("Nothing to undo.");
    const inverse = this.applyAndDraw(cmd);
    if (inverse) this.redoStack.push(inverse);
  }
  redo() {
    const cmd = this.redoStack.pop();
    if (!cmd) return this.toast("Nothing to redo.");
    const inverse = this.applyAndDraw(cmd);
    if (inverse) this.undoStack.push(inverse);
  }

  // -- overlays: model suggestions and (in non-blind projects) other annotators' spans, both read-only
  initOverlayToggles() {
    const sugg = $("suggestions-toggle");
    const key = `framescope:suggestions:${this.cfg.userId}`;
    if (sugg) {
      let on = false;
      try { on = localStorage.getItem(key) === "1"; } catch { on = false; }
      sugg.checked = on;
      sugg.addEventListener("change", () => {
        try { localStorage.setItem(key, sugg.checked ? "1" : "0"); } catch { /* not remembered */ }
        this.loadOverlay("suggestion", sugg.checked);
      });
      if (on) this.loadOverlay("suggestion", true);
    }
    const others = $("others-toggle");
    if (others) others.addEventListener("change", () => this.loadOverlay("other", others.checked));
  }
  async loadOverlay(kind, on) {
    const items = this.overlays[kind];
    const touched = [...items.values()].map((i) => [i.us, i.ue]);
    for (const item of items.values()) this.unbucket(item);
    items.clear();
    if (kind === "suggestion") this.focusedSuggestion = null;
    if (on) {
      const url = kind === "suggestion" ? this.cfg.suggestionsUrl : this.cfg.othersUrl;
      try {
        const rows = await api("GET", url);
        for (const row of rows) {
          const item = { ...row, kind, key: `${kind === "suggestion" ? "sugg" : "other"}-${row.id}`,
            start: row.start_char, end: row.end_char, us: this.map.toUtf16(row.start_char), ue: this.map.toUtf16(row.end_char) };
          items.set(item.key, item);
          const [first, last] = this.blockRange(item.us, item.ue);
          for (let i = first; i <= last; i++) this.blockSpans[i].add(item);
          touched.push([item.us, item.ue]);
        }
        const what = kind === "suggestion" ? "model suggestion" : "span by other annotators";
        $(kind === "suggestion" ? "suggestions-count" : "others-count").textContent = `${rows.length}`;
        if (!rows.length) this.toast(`No ${what}s on this article.`);
      } catch (err) {
        this.toast(`Could not load ${kind === "suggestion" ? "suggestions" : "other annotators' spans"}: ${err.message}`, "error");
      }
    }
    for (const range of touched) this.render(range);
    document.body.dataset[kind === "suggestion" ? "suggestions" : "others"] = on ? "shown" : "hidden";
    if (kind === "suggestion") this.renderSuggestionList();
  }
  renderSuggestionList() {
    // The suggestions as a list of buttons beside the text: the keyboard way to reach, accept and dismiss them.
    const list = $("suggestion-list");
    const items = [...this.overlays.suggestion.values()].sort((a, b) => a.us - b.us || b.ue - a.ue);
    list.hidden = !items.length;
    list.replaceChildren(...items.map((item) => {
      const label = this.labelsById.get(item.label_id)?.name || "?";
      const text = this.text.slice(item.us, item.ue);
      const li = document.createElement("li");
      li.dataset.suggId = String(item.id);
      const name = document.createElement("span");
      name.className = "sugg-name";
      name.textContent = `${label}: “${text.slice(0, 40)}”`;
      const button = (action, verb) => {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "small";
        b.dataset.action = action;
        b.textContent = verb;
        b.setAttribute("aria-label", `${verb} suggestion ${label}: “${text.slice(0, 60)}”`);
        return b;
      };
      li.append(name, button("accept", "Accept"), button("dismiss", "Dismiss"));
      return li;
    }));
  }
  dismissSuggestion(key) {
    // Not for this article (on this page): it stays the model's suggestion, and comes back with the toggle.
    const item = this.overlays.suggestion.get(key);
    if (!item) return;
    this.unbucket(item);
    this.overlays.suggestion.delete(key);
    if (this.focusedSuggestion === key) this.focusedSuggestion = null;
    this.suggestionsChanged([item.us, item.ue]);
  }
  bucket(item) {
    const [first, last] = this.blockRange(item.us, item.ue);
    for (let i = first; i <= last; i++) this.blockSpans[i].add(item);
  }
  unbucket(item) {
    const [first, last] = this.blockRange(item.us, item.ue);
    for (let i = first; i <= last; i++) this.blockSpans[i].delete(item);
  }
  hideSuggestion(id) {
    // A span of ours accepts this suggestion: it is drawn as our span, not twice.
    const item = this.overlays.suggestion.get(`sugg-${id}`);
    if (!item) return;
    this.unbucket(item);
    this.overlays.suggestion.delete(item.key);
    this.hiddenSuggestions.set(id, item);
    if (this.focusedSuggestion === item.key) this.focusedSuggestion = null;
    this.suggestionsChanged([item.us, item.ue]);
  }
  showSuggestion(id) {
    // The span that accepted it is gone (deleted, or its accept undone): the suggestion is there again.
    const item = this.hiddenSuggestions.get(id);
    this.hiddenSuggestions.delete(id);
    if (!item || document.body.dataset.suggestions !== "shown") return;
    this.overlays.suggestion.set(item.key, item);
    this.bucket(item);
    this.suggestionsChanged([item.us, item.ue]);
  }
  suggestionsChanged(range) {
    $("suggestions-count").textContent = String(this.overlays.suggestion.size);
    if (range) this.render(range);
    this.renderSuggestionList();
  }
  focusSuggestion(key, { quiet = false } = {}) {
    const item = this.overlays.suggestion.get(key);
    if (!item) return;
    this.focusedSuggestion = key;
    for (const el of this.el.querySelectorAll(".sugg.focused")) el.classList.remove("focused");
    for (const el of this.el.querySelectorAll(`.sugg[data-sugg-id="${item.id}"]`)) el.classList.add("focused");
    if (quiet) return;
    const label = this.labelsById.get(item.label_id);
    this.toast(`Suggestion “${this.text.slice(item.us, item.ue).slice(0, 40)}” (${label ? label.name : "?"}): press a to accept.`);
  }
  acceptSuggestion(key) {
    const item = this.overlays.suggestion.get(key);
    if (!item) return;
    if (!this.cfg.canAnnotate) return this.toast("You cannot annotate in this project.", "error");
    this.exec({ op: "create", span: { key: uuid4(), start: item.start, end: item.end, label_id: item.label_id, note: "",
      provenance: { accepted_suggestion: item.id } } });
  }

  // -- selection
  selectionRange() {
    return selectionOffsets(this.el, this.blocks, this.text.length);
  }
  labelSelection(labelId) {
    if (!this.cfg.canAnnotate) return this.toast("You cannot annotate in this project.", "error");
    const range = this.selectionRange();
    if (!range) return this.toast("Select some text first (mouse, or Shift+arrows from the caret).");
    const snapped = snapRange(this.text, range[0], range[1], this.snap.checked);
    if (!snapped) return this.toast("The selection has no words in it.");
    const [us, ue] = snapped;
    const span = { key: uuid4(), start: this.map.toCodePoints(us), end: this.map.toCodePoints(ue), label_id: labelId, note: "" };
    this.exec({ op: "create", span });
    this.placeCaretAt(ue);
  }
  placeCaretAt(u) {
    // Put the (collapsed) selection at UTF-16 offset u inside the article text (walking one block only).
    const i = this.blockIndex(Math.min(u, Math.max(0, this.text.length - 1)));
    const root = this.blockEls[i] || this.el;
    if (placeCaret(root, root === this.el ? 0 : this.blocks[i][0], u)) this.scheduleCaret();
  }
  scheduleCaret() {
    // Reading the caret's position forces a layout: do it once per frame, at the frame, not per event.
    if (this.caretPending) return;
    this.caretPending = true;
    requestAnimationFrame(() => { this.caretPending = false; this.updateCaret(); });
  }
  updateCaret() {
    drawCaret(this.el, $("caret"));
  }

  // -- drawing
  render(range = null) {
    // Each paragraph block is its own display:block element (content-visibility: auto): a change redraws
    // and re-lays-out only the blocks it touches, from the spans bucketed on those blocks.
    const draw = (i) => {
      const [from, to] = this.blocks[i];
      renderSpans(this.blockEls[i], this.text, [...this.blockSpans[i]], this.labelsById, this.selectedKey, from, to);
    };
    if (!range || this.blockEls.length !== this.blocks.length) {
      this.blockEls = this.blocks.map((_, i) => {
        const blk = document.createElement("span");
        blk.className = "blk";
        blk.dataset.i = String(i);
        return blk;
      });
      this.blocks.forEach((_, i) => draw(i));
      this.el.replaceChildren(...this.blockEls);
      this.listItems = null;
      this.scheduleList();
      this.questions?.highlight();
      return;
    }
    const [first, last] = this.blockRange(range[0], Math.max(range[0] + 1, range[1]));
    for (let i = first; i <= last; i++) draw(i);
    this.questions?.highlight(); // the redrawn blocks have new text nodes
  }
  rangeOf(key) {
    const span = this.spans.get(key);
    return span ? [span.us, span.ue] : null;
  }
  listChanged(key) {
    if (!this.listItems) return; // not built yet: the first build includes it
    this.listDirty.add(key);
    this.scheduleList();
  }
  scheduleList() {
    // The side list is built and patched after the next paint, so drawing a span is never held up by it.
    // A patch (a few <li>) runs right after the next frame; the first full build waits for an idle moment.
    if (this.listPending) return;
    this.listPending = true;
    const run = () => { this.listPending = false; this.listItems ? this.patchList() : this.renderList(); };
    if (this.listItems) requestAnimationFrame(() => setTimeout(run, 0));
    else if (window.requestIdleCallback) requestIdleCallback(run, { timeout: 300 });
    else setTimeout(run, 50);
  }
  listItem(span) {
    const label = this.labelsById.get(span.label_id);
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "span-item" + (span.state !== "saved" ? " pending" : "");
    button.dataset.spanKey = span.key;
    button.style.setProperty("--c", label ? label.colour : "#999");
    const sw = document.createElement("span"); sw.className = "swatch";
    const name = document.createElement("span"); name.className = "span-label"; name.textContent = label ? label.name : "?";
    const txt = document.createElement("span"); txt.className = "span-text"; txt.textContent = span.text;
    button.append(sw, name, txt);
    if (span.note) {
      const note = document.createElement("span"); note.className = "span-note"; note.textContent = span.note;
      button.append(note);
    }
    li.append(button);
    return li;
  }
  renderList() {
    const list = $("span-list");
    this.listItems = new Map();
    this.listDirty.clear();
    const items = this.sortedKeys.map((key) => {
      const li = this.listItem(this.spans.get(key));
      this.listItems.set(key, li);
      return li;
    });
    list.replaceChildren(...items);
    this.listEmptyState();
  }
  patchList() {
    // Only the spans that changed: insert, replace or remove their <li>; the other 1,000 stay untouched.
    const list = $("span-list");
    for (const key of this.listDirty) {
      const old = this.listItems.get(key);
      const span = this.spans.get(key);
      const hadFocus = old && old.contains(document.activeElement);
      if (!span) {
        if (old) {
          // Focus moves to the next span in the list (or the one before, or the text), never to the page.
          const near = old.nextElementSibling || old.previousElementSibling;
          old.remove();
          this.listItems.delete(key);
          if (hadFocus) (near?.querySelector("button") || this.el).focus();
        }
        continue;
      }
      const li = this.listItem(span);
      if (old) {
        old.replaceWith(li);
        if (hadFocus) li.querySelector("button").focus();
      }
      else {
        const at = this.sortedKeys.indexOf(key);
        let next = null;
        for (let j = at + 1; j < this.sortedKeys.length && !next; j++) next = this.listItems.get(this.sortedKeys[j]) || null;
        list.insertBefore(li, next);
      }
      this.listItems.set(key, li);
    }
    this.listDirty.clear();
    this.listEmptyState();
  }
  listEmptyState() {
    const list = $("span-list");
    $("span-count").textContent = String(this.spans.size);
    const empty = list.querySelector("li.muted");
    if (!this.spans.size && !empty) {
      const li = document.createElement("li"); li.className = "muted"; li.textContent = "No spans yet.";
      list.append(li);
    } else if (this.spans.size && empty) empty.remove();
  }
  setStatus(state, message) {
    const el = $("save-status");
    el.dataset.state = state;
    el.textContent = message;
    el.title = message;
  }
  toast(message, kind = "info") {
    const t = document.createElement("div");
    t.className = `toast ${kind}`;
    t.textContent = message;
    $("toasts").append(t);
    setTimeout(() => t.remove(), kind === "error" ? 9000 : 3500);
  }

  // -- popover
  openPopover(key, anchor, also = []) {
    const span = this.spans.get(key);
    if (!span) return;
    const previous = this.selectedKey && this.rangeOf(this.selectedKey);
    this.selectedKey = key;
    if (previous) this.render(previous);
    this.render(this.rangeOf(key));
    const pop = $("span-popover");
    $("pop-text").textContent = span.text;
    const labels = this.labels.map((l) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "label-btn small" + (l.id === span.label_id ? " current" : "");
      b.setAttribute("aria-pressed", String(l.id === span.label_id));
      b.style.setProperty("--c", l.colour);
      const sw = document.createElement("span"); sw.className = "swatch";
      const n = document.createElement("span"); n.className = "label-name"; n.textContent = l.name;
      b.append(sw, n);
      if (l.hotkey) { const k = document.createElement("kbd"); k.textContent = l.hotkey; b.append(k); }
      b.addEventListener("click", () => {
        if (l.id !== span.label_id) this.exec({ op: "update", key, data: { label: l.id } });
        this.closePopover();
      });
      return b;
    });
    $("pop-labels").replaceChildren(...labels);
    $("pop-note").value = span.note || "";
    $("pop-attrs").replaceChildren(...this.questions.attributeFieldsets(span));
    const alsoEl = $("pop-also");
    alsoEl.replaceChildren();
    const others = also.filter((k) => k !== key && this.spans.has(k));
    if (others.length) {
      alsoEl.append(document.createTextNode("Also here: "));
      for (const k of others) {
        const o = this.spans.get(k);
        const b = document.createElement("button");
        b.type = "button"; b.className = "link";
        b.textContent = `${this.labelsById.get(o.label_id)?.name || "?"}: ${o.text.slice(0, 30)}`;
        b.addEventListener("click", () => this.openPopover(k, anchor, also));
        alsoEl.append(b);
      }
    }
    pop.hidden = false;
    const r = (anchor && anchor.isConnected ? anchor : this.el.querySelector(`[data-span-key="${CSS.escape(key)}"]`) || this.el).getBoundingClientRect();
    const top = window.scrollY + r.bottom + 8;
    const left = Math.min(window.scrollX + r.left, window.scrollX + document.documentElement.clientWidth - pop.offsetWidth - 12);
    pop.style.top = `${top}px`;
    pop.style.left = `${Math.max(8, left)}px`;
    (pop.querySelector(".label-btn.current") || pop.querySelector("button")).focus();
  }
  refreshPopoverAttributes(spanKey) {
    // An attribute of the span in the popover changed (here, by undo, or in another tab): redraw it, keeping focus.
    if ($("span-popover").hidden || this.selectedKey !== spanKey) return;
    const span = this.spans.get(spanKey);
    const box = $("pop-attrs");
    const focused = box.contains(document.activeElement) ? document.activeElement : null;
    const where = focused && [focused.closest("fieldset")?.dataset.qid, focused.value];
    box.replaceChildren(...(span ? this.questions.attributeFieldsets(span) : []));
    if (where) {
      const fs = box.querySelector(`fieldset[data-qid="${where[0]}"]`);
      const target = fs && ([...fs.querySelectorAll("input")].find((i) => i.value === where[1]) || fs.querySelector("input"));
      if (target) target.focus();
    }
  }
  /** The text between two code-point offsets, as the page shows it. */
  sliceCp(start, end) {
    return this.text.slice(this.map.toUtf16(start), this.map.toUtf16(end));
  }
  /** A DOM Range over the drawn text between two code-point offsets (for highlights), or null. */
  domRange(start, end) {
    const [us, ue] = [this.map.toUtf16(start), this.map.toUtf16(end)];
    const point = (u) => {
      const i = this.blockIndex(Math.min(u, Math.max(0, this.text.length - 1)));
      const root = this.blockEls[i];
      if (!root) return null;
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      let seen = this.blocks[i][0];
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (seen + node.length >= u) return [node, u - seen];
        seen += node.length;
      }
      return null;
    };
    const a = point(us), b = point(ue);
    if (!a || !b) return null;
    const range = document.createRange();
    range.setStart(...a);
    range.setEnd(...b);
    return range;
  }
  scrollToCp(cp) {
    const blk = this.blockEls[this.blockIndex(this.map.toUtf16(cp))];
    if (blk) blk.scrollIntoView({ block: "center" });
  }
  fetchAnswers() {
    return api("GET", `${this.cfg.api}/articles/${this.cfg.articleId}/answers/`);
  }
  toggleLabelHelp(labelId, anchor) {
    // The label's definition and its positive / negative examples, next to the label button.
    const pop = $("label-help");
    if (!pop.hidden && pop.dataset.labelId === String(labelId)) return this.closeLabelHelp();
    const label = this.labelsById.get(labelId);
    if (!label) return;
    pop.dataset.labelId = String(labelId);
    $("label-help-name").textContent = label.name;
    $("label-help-def").textContent = label.description || "No definition yet.";
    const fill = (id, title, examples) => {
      const box = $(id);
      box.replaceChildren();
      if (!examples || !examples.length) return;
      const h = document.createElement("strong"); h.textContent = title;
      const ul = document.createElement("ul");
      for (const e of examples) { const li = document.createElement("li"); li.textContent = e; ul.append(li); }
      box.append(h, ul);
    };
    fill("label-help-pos", "Examples", label.positive_examples);
    fill("label-help-neg", "Not this label", label.negative_examples);
    pop.hidden = false;
    const r = anchor.getBoundingClientRect();
    pop.style.top = `${window.scrollY + r.top}px`;
    pop.style.left = `${Math.max(8, window.scrollX + r.left - pop.offsetWidth - 10)}px`;
    $("label-help-close").focus();
  }
  closeLabelHelp() {
    const pop = $("label-help");
    if (pop.hidden) return;
    pop.hidden = true;
    const b = document.querySelector(`[data-help-for="${pop.dataset.labelId}"]`);
    if (b) b.focus();
  }
  closePopover() {
    const pop = $("span-popover");
    if (pop.hidden) return;
    pop.hidden = true;
    const key = this.selectedKey;
    this.selectedKey = null;
    for (const el of this.el.querySelectorAll(".ann.selected")) el.classList.remove("selected");
    const item = key && document.querySelector(`#span-list [data-span-key="${CSS.escape(key)}"]`);
    if (item) item.focus(); else this.el.focus();
  }

  // -- navigation
  async finish(status) {
    const missing = status === "done" ? this.questions.missing() : [];
    if (missing.length) {
      // The server refuses too (it names them the same way); saying so here saves the round trip.
      this.toast(`Answer the required questions first: ${missing.map((m) => m.text).join("; ")}.`, "error");
      return this.questions.focusMissing(missing[0].q);
    }
    const ok = await this.outbox.flush(4000);
    if (!ok) this.toast("Some changes are still waiting to be saved; they stay queued on this computer and will be retried.", "error");
    try {
      const body = await api("POST", `${this.cfg.api}/articles/${this.cfg.articleId}/status/`, { status });
      window.location.href = body.next_article_id ? `${this.cfg.urls.annotateBase}${body.next_article_id}/` : this.cfg.urls.project;
    } catch (err) {
      this.toast(`Could not mark the article ${status}: ${errorText(err)}`, "error");
    }
  }
  go(which) {
    const url = this.cfg.urls[which];
    if (url) window.location.href = url;
  }

  // -- events
  bind() {
    for (const b of document.querySelectorAll("#labels .label-btn")) {
      // mousedown would clear the selection before click: keep it.
      b.addEventListener("mousedown", (e) => e.preventDefault());
      b.addEventListener("click", () => this.labelSelection(Number(b.dataset.labelId)));
    }
    this.el.addEventListener("click", (e) => {
      const sel = window.getSelection();
      if (sel && !sel.isCollapsed) return;
      const hit = e.target.closest(".ann, .sugg");
      if (hit && hit.classList.contains("sugg")) return this.focusSuggestion(`sugg-${hit.dataset.suggId}`);
      const target = e.target.closest(".ann");
      if (!target) return;
      const keys = [];
      for (let n = target; n && n !== this.el; n = n.parentElement) if (n.dataset.spanKey) keys.push(n.dataset.spanKey);
      this.openPopover(target.dataset.spanKey, target, keys);
    });
    $("span-list").addEventListener("click", (e) => {
      const b = e.target.closest("[data-span-key]");
      if (!b) return;
      const anchor = this.el.querySelector(`[data-span-key="${CSS.escape(b.dataset.spanKey)}"]`);
      if (anchor) anchor.scrollIntoView({ block: "center" });
      this.openPopover(b.dataset.spanKey, anchor);
    });
    $("suggestion-list").addEventListener("click", (e) => {
      const b = e.target.closest("button[data-action]");
      const key = b && `sugg-${b.closest("li").dataset.suggId}`;
      if (!key) return;
      const next = b.closest("li").nextElementSibling || b.closest("li").previousElementSibling;
      if (b.dataset.action === "accept") this.acceptSuggestion(key); else this.dismissSuggestion(key);
      // The list is drawn again without it: keep the keyboard in the list.
      const again = next && $("suggestion-list").querySelector(`li[data-sugg-id="${next.dataset.suggId}"] button`);
      (again || $("suggestions-toggle")).focus();
    });
    $("suggestion-list").addEventListener("focusin", (e) => {
      const li = e.target.closest("li[data-sugg-id]");
      if (li) this.focusSuggestion(`sugg-${li.dataset.suggId}`, { quiet: true });
    });
    $("pop-close").addEventListener("click", () => this.closePopover());
    for (const b of document.querySelectorAll("[data-help-for]")) {
      b.addEventListener("mousedown", (e) => e.preventDefault()); // keep the text selection
      b.addEventListener("click", () => this.toggleLabelHelp(Number(b.dataset.helpFor), b));
    }
    $("label-help-close").addEventListener("click", () => this.closeLabelHelp());
    $("pop-delete").addEventListener("click", () => {
      const key = this.selectedKey;
      this.closePopover();
      if (key) this.exec({ op: "delete", key });
    });
    $("pop-save-note").addEventListener("click", () => {
      const key = this.selectedKey;
      const span = key && this.spans.get(key);
      const note = $("pop-note").value;
      if (span && note !== span.note) this.exec({ op: "update", key, data: { note } });
      this.closePopover();
    });
    document.addEventListener("mousedown", (e) => {
      const pop = $("span-popover");
      if (!pop.hidden && !pop.contains(e.target) && !e.target.closest(".ann, #span-list")) this.closePopover();
      const help = $("label-help");
      if (!help.hidden && !help.contains(e.target) && !e.target.closest("[data-help-for]")) this.closeLabelHelp();
    });
    $("btn-undo").addEventListener("click", () => this.undo());
    $("btn-redo").addEventListener("click", () => this.redo());
    $("btn-done").addEventListener("click", () => this.finish("done"));
    $("btn-skip").addEventListener("click", () => this.finish("skipped"));
    $("btn-prev").addEventListener("click", () => this.go("previous"));
    $("btn-next").addEventListener("click", () => this.go("next"));
    $("btn-guidelines").addEventListener("click", () => $("guidelines").showModal());
    this.el.addEventListener("focus", () => {
      const sel = window.getSelection();
      if (!sel.rangeCount || !this.el.contains(sel.focusNode)) this.placeCaretAt(0);
      this.updateCaret();
    });
    this.el.addEventListener("blur", () => { $("caret").hidden = true; });
    document.addEventListener("selectionchange", () => { confineSelection([this.el]); this.scheduleCaret(); });
    this.el.addEventListener("keydown", (e) => this.onTextKey(e));
    document.addEventListener("keydown", (e) => this.onKey(e));
    window.addEventListener("beforeunload", (e) => {
      if (this.outbox.items().length) { e.preventDefault(); e.returnValue = ""; }
    });
    window.addEventListener("online", () => this.outbox.pump());
  }
  onTextKey(e) {
    // Caret browsing inside the read-only text: arrows move, Shift extends, Ctrl/Alt by word.
    if (moveCaretByKey(e, this.el, () => this.placeCaretAt(0))) this.scheduleCaret();
  }
  onKey(e) {
    const t = e.target;
    // Radios and checkboxes (the questions) are not typing: the page's keys still work from them.
    const typing = t instanceof HTMLElement &&
      (t.closest("textarea, select, input:not([type=radio]):not([type=checkbox])") || t.isContentEditable);
    const pop = $("span-popover");
    if (e.key === "Escape") {
      if (!$("label-help").hidden) { this.closeLabelHelp(); e.preventDefault(); }
      else if (!pop.hidden) { this.closePopover(); e.preventDefault(); }
      else if (t instanceof HTMLElement && t.closest("#questions-panel")) { this.el.focus(); e.preventDefault(); }
      else window.getSelection().collapseToEnd?.();
      return;
    }
    if (typing) return;
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.toLowerCase();
    if (mod && key === "z") { e.preventDefault(); return e.shiftKey ? this.redo() : this.undo(); }
    if (mod && key === "y") { e.preventDefault(); return this.redo(); }
    if (mod) return;
    if (e.altKey && e.key === "ArrowLeft") { e.preventDefault(); return this.go("previous"); }
    if (e.altKey && e.key === "ArrowRight") { e.preventDefault(); return this.go("next"); }
    if (e.altKey) return;
    if (!pop.hidden) {
      if (e.key === "Delete" || e.key === "Backspace") { e.preventDefault(); $("pop-delete").click(); return; }
      const label = this.labelsByKey.get(key);
      if (label && this.selectedKey) {
        e.preventDefault();
        const span = this.spans.get(this.selectedKey);
        if (span && span.label_id !== label.id) this.exec({ op: "update", key: this.selectedKey, data: { label: label.id } });
        this.closePopover();
      }
      return;
    }
    if ($("guidelines").open) return;
    if (this.questions.onPageKey(e, key)) return;
    const label = this.labelsByKey.get(key);
    if (label) { e.preventDefault(); return this.labelSelection(label.id); }
    if (key === "a" && this.focusedSuggestion) { e.preventDefault(); return this.acceptSuggestion(this.focusedSuggestion); }
    if (e.key === "?") { e.preventDefault(); return $("guidelines").showModal(); }
    if (key === "w") { this.snap.checked = !this.snap.checked; return this.toast(`Snap to words ${this.snap.checked ? "on" : "off"}.`); }
    if (key === "d") { e.preventDefault(); return this.finish("done"); }
  }
}

const configEl = document.getElementById("annotator-config");
if (configEl) {
  const annotator = new Annotator(JSON.parse(configEl.textContent));
  window.framescope = { annotator, cpToUtf16, utf16ToCp, snapRange, OffsetMap };
}
