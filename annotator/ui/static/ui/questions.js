// The annotator page's codebook questions: the article's questions, the sentence questions of the current sentence,
// and the attributes of a span (drawn into the span popover). Answers are saved through the page's outbox (shared by
// the tabs, retried offline) and undone with the page's undo, as spans are.
//
// An answer is keyed by its unit: "article", "sentence:<start>-<end>" (code points, as the server split the text)
// or "span:<span key>" (the page's key of the span, so an attribute can be answered before the span is saved).
// Every control is a native radio, checkbox or text input inside a fieldset whose legend is the question: Tab and the
// arrow keys reach and change them; a question's hotkey focuses it, an option's hotkey picks it while the question
// has focus; [ and ] move between sentences. Prompts, options and sentence texts are untrusted: textContent only.
//
// Pre-fill: "Pre-fill from the model" asks the server for the active model's answers (computed on demand, never
// stored) and shows each in its unanswered question, marked "predicted", until the annotator confirms it (the
// Confirm button, or Enter in the question) or changes it; either saves it as their own answer. A predicted answer
// is not an answer: Done still names the question.

/** An element with attributes/properties and children (strings become text nodes, never HTML). */
export const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k in node && typeof v !== "string") node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};

const sentenceUnit = (s) => `sentence:${s[0]}-${s[1]}`;
const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export class QuestionsPanel {
  /** `page` is the Annotator: its outbox, undo (`exec`), toasts, spans, text offsets and drawing. */
  constructor(page, config) {
    this.page = page;
    this.questions = config.questions || [];
    this.byId = new Map(this.questions.map((q) => [q.id, q]));
    this.sentences = config.sentences || []; // [[start, end], ...] code points
    this.current = 0; // index of the current sentence
    this.answers = new Map(); // `${question id}|${unit}` -> value
    this.predicted = new Map(); // `${question id}|${unit}` -> {value, score}: shown, not saved, until confirmed
    this.predictedUrl = config.predictedUrl || null;
    this.root = document.getElementById("questions-panel");
    const spanKeyById = new Map([...page.spans.values()].filter((s) => s.id).map((s) => [s.id, s.key]));
    for (const row of config.answers || []) {
      const unit = row.span_id ? `span:${spanKeyById.get(row.span_id) || `server-${row.span_id}`}`
        : row.start_char !== null && row.start_char !== undefined ? sentenceUnit([row.start_char, row.end_char]) : "article";
      this.answers.set(`${row.question_id}|${unit}`, row.value);
    }
    for (const item of page.outbox.pending(page.cfg.articleId)) if (item.op === "answer") this.answers.set(item.key, item.value);
    this.scoped = (scope) => this.questions.filter((q) => q.scope === scope);
    this.byHotkey = new Map(this.questions.filter((q) => q.hotkey).map((q) => [q.hotkey.toLowerCase(), q]));
    if (this.root) this.render();
  }

  // -- the model
  value(qid, unit) {
    return this.answers.get(`${qid}|${unit}`);
  }
  /** The undoable command: set (or, with null, clear) one answer; returns its inverse. */
  apply(cmd) {
    const key = `${cmd.qid}|${cmd.unit}`;
    const before = this.answers.has(key) ? this.answers.get(key) : null;
    if (same(before, cmd.value)) return null;
    this.store(key, cmd.value);
    this.queue(cmd.qid, cmd.unit, cmd.value);
    this.page.outbox.post({ type: "change", article: this.page.cfg.articleId, op: "answer", key, value: cmd.value });
    this.refresh(cmd.qid, cmd.unit);
    return { op: "answer", qid: cmd.qid, unit: cmd.unit, value: before };
  }
  store(key, value) {
    if (value === null || value === undefined) this.answers.delete(key);
    else this.answers.set(key, value);
  }
  queue(qid, unit, value) {
    const data = { question: qid, value };
    const item = { article: this.page.cfg.articleId, op: "answer", key: `${qid}|${unit}`, value, data };
    if (unit.startsWith("sentence:")) {
      const [start, end] = unit.slice(9).split("-").map(Number);
      Object.assign(data, { start_char: start, end_char: end });
    } else if (unit.startsWith("span:")) {
      const span = this.page.spans.get(unit.slice(5));
      if (!span) return; // the span is gone: its attributes went with it on the server
      item.span_cid = span.cid;
      item.span_id = span.id;
    }
    this.page.outbox.push(item);
  }
  /** Another tab changed an answer (or it is still queued from before a reload). */
  applyRemote(msg) {
    this.store(msg.key, msg.value);
    const [qid, unit] = [Number(msg.key.split("|")[0]), msg.key.split("|").slice(1).join("|")];
    this.refresh(qid, unit);
  }
  /** The server refused an answer: say why, then show the server's answers. */
  async onRefused(msg) {
    const q = this.byId.get(msg.data?.question);
    this.page.toast(`Could not save the answer to “${q ? q.prompt : "a question"}”: ${msg.detail} ${
      Object.values(msg.errors || {}).flat().filter((e) => typeof e === "string").join(" ")}`.trim(), "error");
    try {
      const rows = await this.page.fetchAnswers();
      this.answers.clear();
      const keyOf = (id) => [...this.page.spans.values()].find((s) => s.id === id)?.key || `server-${id}`;
      for (const row of rows) {
        const unit = row.span_id ? `span:${keyOf(row.span_id)}` : row.start_char !== null ? sentenceUnit([row.start_char, row.end_char]) : "article";
        this.answers.set(`${row.question_id}|${unit}`, row.value);
      }
      for (const item of this.page.outbox.pending(this.page.cfg.articleId)) if (item.op === "answer") this.store(item.key, item.value);
      this.render();
    } catch { /* the toast above says what failed */ }
  }
  /** A span was (re-)created or relabelled: its attributes for its label go to the server again (the server
   * dropped them with the span or the old label). */
  spanChanged(span) {
    for (const q of this.attributesOf(span.label_id)) {
      const value = this.value(q.id, `span:${span.key}`);
      if (value !== undefined) this.queue(q.id, `span:${span.key}`, value);
    }
  }
  attributesOf(labelId) {
    return this.questions.filter((q) => q.scope === "span" && q.label_id === labelId);
  }

  // -- what Done needs
  /** Required questions without an answer, as "“prompt”" or "“prompt” for 3 sentences". */
  missing() {
    const out = [];
    for (const q of this.questions.filter((x) => x.required)) {
      let units;
      if (q.scope === "article") units = ["article"];
      else if (q.scope === "sentence") units = this.sentences.map(sentenceUnit);
      else units = [...this.page.spans.values()].filter((s) => s.label_id === q.label_id).map((s) => `span:${s.key}`);
      const n = units.filter((u) => this.value(q.id, u) === undefined).length;
      if (!n) continue;
      const what = q.scope === "sentence" ? "sentence" : "span";
      out.push({ q, text: q.scope === "article" ? `“${q.prompt}”` : `“${q.prompt}” for ${n} ${what}${n > 1 ? "s" : ""}` });
    }
    return out;
  }
  /** Focus the first required question that is still unanswered (its first unanswered sentence). */
  focusMissing(q) {
    if (q.scope === "sentence") {
      const at = this.sentences.findIndex((s) => this.value(q.id, sentenceUnit(s)) === undefined);
      if (at >= 0) this.goSentence(at);
    }
    if (q.scope === "span") {
      const span = [...this.page.spans.values()].find((s) => s.label_id === q.label_id && this.value(q.id, `span:${s.key}`) === undefined);
      if (span) return this.page.openPopover(span.key, null);
    }
    this.focusQuestion(q);
  }

  // -- drawing
  render() {
    const article = this.scoped("article");
    const sentence = this.scoped("sentence");
    this.root.hidden = !article.length && !sentence.length;
    const body = [];
    if (article.length) body.push(el("div", { class: "q-group", dataset: { unit: "article" } }, ...article.map((q) => this.fieldset(q, "article"))));
    if (sentence.length && this.sentences.length) body.push(this.sentenceBlock(sentence));
    if (this.predictedUrl) {
      const button = el("button", { type: "button", class: "small q-prefill", dataset: { testid: "prefill" } }, "Pre-fill from the model");
      button.addEventListener("click", () => this.prefill(button));
      body.unshift(button);
    }
    this.root.querySelector(".q-body").replaceChildren(...body);
    this.highlight();
  }
  sentenceBlock(questions) {
    const s = this.sentences[this.current];
    const unit = sentenceUnit(s);
    const answered = this.sentences.filter((x) => questions.every((q) => this.value(q.id, sentenceUnit(x)) !== undefined)).length;
    const text = this.page.sliceCp(s[0], s[1]);
    const nav = el("div", { class: "q-nav" },
      el("button", { type: "button", class: "small", dataset: { sentence: "prev" }, "aria-label": "Previous sentence" }, "‹ ", el("kbd", {}, "[")),
      el("span", { class: "q-where", dataset: { testid: "sentence-position" } }, `Sentence ${this.current + 1} of ${this.sentences.length}`),
      el("button", { type: "button", class: "small", dataset: { sentence: "next" }, "aria-label": "Next sentence" }, el("kbd", {}, "]"), " ›"),
      el("button", { type: "button", class: "small link", dataset: { sentence: "open" } }, "next unanswered"),
    );
    return el("div", { class: "q-group q-sentence", dataset: { unit } },
      el("h3", { id: "q-sentence-h" }, `Sentences (${answered} of ${this.sentences.length} answered)`),
      nav,
      el("blockquote", { class: "q-quote", dataset: { testid: "sentence-text" } }, text.length > 280 ? `${text.slice(0, 280)}…` : text),
      ...questions.map((q) => this.fieldset(q, unit)));
  }
  /** One question as a fieldset of native controls for one unit. */
  fieldset(q, unit) {
    const predicted = this.prediction(q.id, unit);
    const value = this.value(q.id, unit) ?? predicted?.value;
    const id = `q${q.id}-${unit.replace(/[^a-z0-9]/gi, "_")}`;
    const legend = el("legend", {}, q.prompt, q.required ? el("span", { class: "q-req", title: "Required" }, " *") : null,
      q.hotkey ? el("kbd", {}, q.hotkey) : null);
    const fs = el("fieldset", { class: "question", id, dataset: { qid: String(q.id), unit, testid: `question-${q.name}` } }, legend);
    if (q.description) fs.append(el("p", { class: "q-def" }, q.description));
    if (q.kind === "text") {
      const input = el("input", { type: "text", maxlength: "2000", value: value || "", "aria-label": q.prompt });
      input.addEventListener("change", () => this.set(q, unit, input.value.trim() || null));
      input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); input.blur(); } });
      fs.append(input);
    } else {
      const type = q.kind === "multiple" ? "checkbox" : "radio";
      const chosen = new Set(q.kind === "multiple" ? value || [] : value !== undefined ? [value] : []);
      const list = el("div", { class: `q-options q-${q.kind}` });
      for (const o of q.options) {
        const input = el("input", { type, name: id, value: o.value, checked: chosen.has(o.value) });
        input.addEventListener("change", () => this.fromControls(q, unit, fs));
        const label = el("label", { class: "q-option", title: o.description || "" }, input, ` ${o.text}`,
          o.hotkey ? el("kbd", {}, o.hotkey) : null);
        list.append(label);
      }
      fs.append(list);
    }
    if (predicted) {
      fs.classList.add("q-predicted");
      const share = predicted.score !== null && predicted.score !== undefined ? ` (${Math.floor(100 * predicted.score)}%)` : ""; // never "100%"
      const none = Array.isArray(predicted.value) && !predicted.value.length ? " chose none of the options" : "";
      const confirm = el("button", { type: "button", class: "small q-confirm", "aria-label": `Confirm the model's answer to ${q.prompt}` }, "Confirm");
      confirm.addEventListener("click", () => { this.confirm(q, unit); this.focusQuestion(q, unit); });
      fs.append(el("p", { class: "q-predicted-note", dataset: { testid: "predicted" } },
        `Predicted by the model${none}${share}, not saved until you confirm or change it `, el("kbd", {}, "Enter"), " ", confirm));
    } else if (value !== undefined) {
      const clear = el("button", { type: "button", class: "small link q-clear", "aria-label": `Clear the answer to ${q.prompt}` }, "clear");
      clear.addEventListener("click", () => { this.set(q, unit, null); this.focusQuestion(q, unit); });
      fs.append(clear);
    }
    fs.addEventListener("keydown", (e) => this.onQuestionKey(e, q, unit, fs));
    return fs;
  }
  fromControls(q, unit, fs) {
    const checked = [...fs.querySelectorAll("input:checked")].map((i) => i.value);
    this.set(q, unit, q.kind === "multiple" ? (checked.length ? checked : null) : checked[0] ?? null);
  }
  set(q, unit, value) {
    if (value === null) this.predicted.delete(`${q.id}|${unit}`); // cleared on purpose: no prediction comes back
    this.page.exec({ op: "answer", qid: q.id, unit, value });
  }
  /** The model's answer shown in an unanswered question (undefined when there is none or it is answered). */
  prediction(qid, unit) {
    return this.value(qid, unit) === undefined ? this.predicted.get(`${qid}|${unit}`) : undefined;
  }
  confirm(q, unit) {
    const p = this.prediction(q.id, unit);
    if (p) this.set(q, unit, p.value);
  }
  /** Ask the server for the active model's answers on this article and show them in the unanswered questions. */
  async prefill(button) {
    if (!this.predictedUrl) return;
    if (button) button.disabled = true;
    try {
      const response = await fetch(this.predictedUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      const body = await response.json().catch(() => null);
      if (!response.ok) throw new Error(body?.detail || `HTTP ${response.status}`);
      this.predicted.clear();
      for (const row of body.answers) {
        const unit = row.start_char === null ? "article" : sentenceUnit([row.start_char, row.end_char]);
        this.predicted.set(`${row.question_id}|${unit}`, { value: row.value, score: row.score, scores: row.scores });
      }
      const shown = [...this.predicted.keys()].filter((key) => !this.answers.has(key)).length;
      this.render();
      this.page.toast(shown
        ? `Model v${body.model_version}: ${shown} predicted answer${shown > 1 ? "s" : ""} shown. Confirm or change each; nothing is saved until you do.`
        : "The model has no answer to add: every question it predicts is answered.");
    } catch (err) {
      this.page.toast(`Could not get the model's answers: ${err.message}`, "error");
    } finally {
      if (button) button.disabled = false;
    }
  }
  /** Redraw what shows one answer: the panel's fieldset, or the popover's for an attribute. */
  refresh(qid, unit) {
    const q = this.byId.get(qid);
    if (!q) return;
    if (unit.startsWith("span:")) return this.page.refreshPopoverAttributes(unit.slice(5));
    if (!this.root) return;
    const focused = document.activeElement;
    const old = this.root.querySelector(`fieldset[data-qid="${qid}"][data-unit="${CSS.escape(unit)}"]`);
    const hadFocus = old && old.contains(focused);
    const focusValue = hadFocus && focused.value;
    if (unit.startsWith("sentence:")) {
      this.render();
    } else if (old) {
      old.replaceWith(this.fieldset(q, unit));
    }
    if (hadFocus) {
      const again = this.root.querySelector(`fieldset[data-qid="${qid}"][data-unit="${CSS.escape(unit)}"]`);
      const target = again && ([...again.querySelectorAll("input")].find((i) => i.value === focusValue) || again.querySelector("input, button"));
      if (target) target.focus();
    }
  }
  /** The span popover's attributes section for a span (empty when its label has none). */
  attributeFieldsets(span) {
    return this.attributesOf(span.label_id).map((q) => this.fieldset(q, `span:${span.key}`));
  }

  // -- sentences
  goSentence(index) {
    if (!this.sentences.length) return;
    this.current = Math.max(0, Math.min(this.sentences.length - 1, index));
    this.render();
    const s = this.sentences[this.current];
    this.page.scrollToCp(s[0]);
  }
  nextOpen() {
    const questions = this.scoped("sentence");
    const n = this.sentences.length;
    for (let step = 1; step <= n; step++) {
      const i = (this.current + step) % n;
      if (questions.some((q) => this.value(q.id, sentenceUnit(this.sentences[i])) === undefined)) return this.goSentence(i);
    }
    this.page.toast("Every sentence is answered.");
  }
  highlight() {
    // The current sentence, drawn with the CSS Custom Highlight API: no change to the text's DOM.
    if (!window.CSS || !CSS.highlights || !this.sentences.length || !this.scoped("sentence").length) return;
    const s = this.sentences[this.current];
    const range = this.page.domRange(s[0], s[1]);
    if (range) CSS.highlights.set("fs-sentence", new Highlight(range)); else CSS.highlights.delete("fs-sentence");
  }

  // -- keys
  focusQuestion(q, unit = null) {
    if (q.scope === "span") return;
    const where = unit || (q.scope === "article" ? "article" : sentenceUnit(this.sentences[this.current] || [0, 0]));
    const fs = this.root?.querySelector(`fieldset[data-qid="${q.id}"][data-unit="${CSS.escape(where)}"]`);
    if (!fs) return;
    fs.scrollIntoView({ block: "nearest" });
    (fs.querySelector("input:checked") || fs.querySelector("input")).focus();
  }
  /** Page-wide keys (not typing, no popover): a question's hotkey, [ and ] for sentences. True when handled. */
  onPageKey(e, key) {
    if (key === "[" || key === "]") {
      if (!this.scoped("sentence").length) return false;
      e.preventDefault();
      // From a sentence question, stay on that question in the next (previous) sentence.
      const qid = document.activeElement?.closest?.(".q-sentence fieldset")?.dataset.qid;
      this.goSentence(this.current + (key === "]" ? 1 : -1));
      if (qid) this.focusQuestion(this.byId.get(Number(qid)));
      return true;
    }
    const q = this.byHotkey.get(key);
    if (!q) return false;
    e.preventDefault();
    this.focusQuestion(q);
    return true;
  }
  /** Keys inside a question: an option's hotkey picks (or, multiple choice, toggles) it; Delete clears. */
  onQuestionKey(e, q, unit, fs) {
    if (e.ctrlKey || e.metaKey || e.altKey || q.kind === "text") return;
    if (e.key === "Enter" && this.prediction(q.id, unit)) {
      e.preventDefault(); e.stopPropagation();
      this.confirm(q, unit);
      this.focusQuestion(q, unit);
      return;
    }
    if (e.key === "Delete" || e.key === "Backspace") {
      e.preventDefault(); e.stopPropagation();
      this.set(q, unit, null);
      return;
    }
    const option = q.options.find((o) => o.hotkey && o.hotkey.toLowerCase() === e.key.toLowerCase());
    if (!option) return;
    e.preventDefault();
    e.stopPropagation(); // an option's key is not also a label's or a question's
    const input = [...fs.querySelectorAll("input")].find((i) => i.value === option.value);
    if (q.kind === "multiple") input.checked = !input.checked; else input.checked = true;
    input.focus();
    this.fromControls(q, unit, fs);
  }
  bind() {
    if (!this.root) return;
    this.root.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-sentence]");
      if (!b) return;
      const which = b.dataset.sentence;
      if (which === "open") this.nextOpen(); else this.goSentence(this.current + (which === "next" ? 1 : -1));
      const again = this.root.querySelector(`button[data-sentence="${which}"]`);
      if (again) again.focus();
    });
  }
}
