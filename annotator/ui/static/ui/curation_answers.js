// The curator page's answers to codebook questions: every annotator's answer beside the gold answer, unit by unit.
// Take an annotator's answer, give another (a select, checkboxes or a text field), clear, undo, and accept in bulk
// where every annotator who finished agrees. Everything goes through the curation API; a gold answer changed by
// another curator since this page loaded it is refused (409) and the section shows the server's state again.
// Prompts, values and texts are untrusted: textContent only.

import { api, errorText } from "./http.js";
import { el } from "./questions.js";

class AnswerCuration {
  constructor(root) {
    this.root = root;
    this.urls = JSON.parse(root.dataset.urls);
    this.undoStack = []; // {unit, before: gold or null} in the order the curator changed them
    root.addEventListener("click", (e) => this.onClick(e));
    this.load();
  }
  async load() {
    try {
      this.view = await api("GET", this.urls.view);
    } catch (err) {
      return this.toast(`Could not load the answers: ${errorText(err)}`, "error");
    }
    this.questions = new Map(this.view.questions.map((q) => [q.id, q]));
    this.render();
  }
  show(q, value) {
    if (value === null || value === undefined) return "—";
    const text = (v) => q.options.find((o) => o.value === v)?.text || v;
    return Array.isArray(value) ? value.map(text).join(", ") : text(value);
  }
  render() {
    const units = this.view.units;
    this.root.hidden = !units.length;
    const bulk = el("button", { type: "button", dataset: { action: "bulk", testid: "answers-bulk-accept" } },
      `Accept all agreed answers (${this.view.agreed_open})`);
    bulk.disabled = !this.view.agreed_open;
    const undo = el("button", { type: "button", dataset: { action: "undo", testid: "answers-undo" } }, "Undo answer change");
    undo.disabled = !this.undoStack.length;
    const rows = units.map((u, i) => this.row(u, i));
    this.root.querySelector(".answers-actions").replaceChildren(bulk, undo);
    this.root.querySelector("tbody").replaceChildren(...rows);
  }
  row(u, index) {
    const q = this.questions.get(u.question_id);
    const where = u.scope === "article" ? "article" : `“${(u.text || "").slice(0, 80)}”`;
    const answers = el("td", {}, ...u.answers.map((a) => el("div", { class: "ans" },
      el("span", {}, `${a.annotator}${a.finished ? "" : " (not done)"}: `), el("strong", {}, this.show(q, a.value)), " ",
      el("button", { type: "button", class: "small", dataset: { action: "take", unit: String(index), answer: String(a.id) },
        "aria-label": `Take ${a.annotator}'s answer ${this.show(q, a.value)} to ${q.prompt} (${where})` }, "Take"))));
    const gold = u.gold;
    const prov = gold ? (gold.provenance.action === "take" ? "taken" : "given") : "";
    const goldCell = el("td", { dataset: { testid: "gold-answer" } },
      el("strong", {}, gold ? this.show(q, gold.value) : "no gold answer"), gold ? el("span", { class: "muted" }, ` (${prov} by ${gold.updated_by || "?"})`) : null,
      this.giveControl(q, u, index, where));
    return el("tr", { dataset: { question: q.name, unit: u.unit_key, agreed: String(u.agreed) } },
      el("td", {}, q.prompt, u.agreed ? el("span", { class: "pill done", title: "Every annotator who finished agrees" }, " agreed") : null),
      el("td", {}, where), answers, goldCell);
  }
  giveControl(q, u, index, where) {
    const label = `Give the gold answer to ${q.prompt} (${where})`;
    if (u.scope === "span" && !u.gold_span_id) return el("div", { class: "muted" }, "Accept the span into gold first.");
    if (q.kind === "text") {
      const input = el("input", { type: "text", maxlength: "2000", "aria-label": label, value: u.gold?.value || "" });
      const set = el("button", { type: "button", class: "small", dataset: { action: "give-text", unit: String(index) } }, "Set");
      return el("div", { class: "give" }, input, set);
    }
    if (q.kind === "multiple") {
      const chosen = new Set(u.gold?.value || []);
      const boxes = q.options.map((o) => el("label", {}, el("input", { type: "checkbox", value: o.value, checked: chosen.has(o.value) }), ` ${o.text}`));
      const set = el("button", { type: "button", class: "small", dataset: { action: "give-multiple", unit: String(index) } }, "Set");
      return el("fieldset", { class: "give" }, el("legend", {}, label), ...boxes, set);
    }
    const select = el("select", { "aria-label": label, dataset: { unit: String(index) } },
      el("option", { value: "" }, "— give another —"), ...q.options.map((o) => el("option", { value: o.value }, o.text)));
    select.addEventListener("change", () => {
      if (select.value) this.setGold(u, { value: select.value }, `[data-unit="${index}"]`);
    });
    return el("div", { class: "give" }, select);
  }
  unitFields(u) {
    if (u.scope === "sentence") return { start_char: u.start_char, end_char: u.end_char };
    if (u.scope === "span") return { span: u.gold_span_id };
    return {};
  }
  async setGold(u, change, refocus = null, record = true) {
    const body = { question: u.question_id, ...this.unitFields(u), ...change, seen_updated_at: u.gold?.updated_at || null };
    try {
      const result = await api("POST", this.urls.set, body);
      if (record) this.undoStack.push({ question_id: u.question_id, unit_key: u.unit_key, before: u.gold });
      u.gold = result.gold;
      this.toast(result.gold ? `Gold answer: ${this.show(this.questions.get(u.question_id), result.gold.value)}.` : "Gold answer cleared.");
    } catch (err) {
      this.toast(`Could not set the gold answer: ${errorText(err)}`, "error");
      if (err.status === 409) return this.load(); // another curator changed it: show what the server has now
    }
    this.render();
    const again = refocus && this.root.querySelector(refocus);
    if (again) again.focus();
  }
  async onClick(e) {
    const b = e.target.closest("button[data-action]");
    if (!b) return;
    const u = b.dataset.unit !== undefined ? this.view.units[Number(b.dataset.unit)] : null;
    const action = b.dataset.action;
    if (action === "take") return this.setGold(u, { from_answers: [Number(b.dataset.answer)] }, `button[data-answer="${b.dataset.answer}"]`);
    if (action === "give-text") {
      const value = b.parentElement.querySelector("input").value.trim();
      return this.setGold(u, { value: value || null });
    }
    if (action === "give-multiple") {
      const value = [...b.closest("fieldset").querySelectorAll("input:checked")].map((i) => i.value);
      return this.setGold(u, { value: value.length ? value : null });
    }
    if (action === "undo") return this.undo();
    if (action === "bulk") return this.bulk();
  }
  async undo() {
    const last = this.undoStack.pop();
    if (!last) return this.toast("Nothing to undo.");
    const u = this.view.units.find((x) => x.question_id === last.question_id && x.unit_key === last.unit_key);
    const before = last.before;
    const change = !before ? { value: null }
      : before.provenance.action === "take" ? { from_answers: before.provenance.from_answers } : { value: before.value };
    await this.setGold(u, change, '[data-testid="answers-undo"]', false);
  }
  async bulk() {
    try {
      const result = await api("POST", this.urls.bulk, { article: this.urls.article });
      this.toast(`Accepted ${result.gold_answers_created} agreed answer(s).`);
    } catch (err) {
      this.toast(`Could not accept the agreed answers: ${errorText(err)}`, "error");
    }
    this.undoStack = []; // a bulk accept is not undone answer by answer
    await this.load();
    this.root.querySelector('[data-testid="answers-undo"]')?.focus();
  }
  toast(message, kind = "info") {
    const t = el("div", { class: `toast ${kind}` }, message);
    document.getElementById("toasts").append(t);
    setTimeout(() => t.remove(), kind === "error" ? 9000 : 3500);
  }
}

const root = document.getElementById("answers-curation");
if (root) window.framescopeAnswers = new AnswerCuration(root);
