// The codebook page: the project's questions and span attributes, added, edited, reordered and deleted through the
// questions API (owners and curators). The rules are the server's (annotator/projects/questions.py: fixed once
// answered, options in use, hotkey clashes, option values and scale numbers): the page sends what was typed and shows
// the errors the API returns beside the fields they name, with the form kept as it was. Every change makes a codebook
// version, which the page lists. Everything is a native control: Tab, Enter, Space and Esc do it all.
// Prompts, names and option texts are untrusted: textContent only.

import { api, errorText } from "./http.js";
import { el } from "./questions.js";

const $ = (id) => document.getElementById(id);
const lines = (text) => text.split("\n").map((l) => l.trim()).filter(Boolean);
/** A key from a prompt, as a person would type it: "Tone toward the government?" -> "tone_toward_the_government". */
const keyFrom = (text) => text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
  .replace(/[^\w-]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 100);
const OPTION_FIELDS = ["value", "text", "numeric", "hotkey", "description"];
const FIELD_NAMES = {
  name: "Name", prompt: "Prompt", scope: "Asked of", label: "Label", kind: "Kind", hotkey: "Hotkey",
  required: "Required", description: "Definition", positive_examples: "Positive examples",
  negative_examples: "Negative examples", options: "Options", changelog: "Changelog line",
};

class CodebookEditor {
  constructor(cfg) {
    this.cfg = cfg;
    this.urls = cfg.urls;
    this.questions = cfg.questions;
    this.usage = cfg.usage; // question id -> {answers, options: {value: n}}
    this.labels = cfg.labels;
    this.editing = null; // the question being edited, or {scope, label_id} for a new one
    this.form = $("qe-form");
    this.dialog = $("question-editor");
    this.fillChoices();
    this.bind();
    this.render();
    document.body.dataset.codebookReady = "1";
  }

  // -- the lists
  /** Article and sentence questions in codebook order; attributes grouped by label. */
  groups() {
    const questions = this.questions.filter((q) => q.scope !== "span");
    const byLabel = this.labels.map((label) => ({ label, items: this.questions.filter((q) => q.scope === "span" && q.label_id === label.id) }));
    return { questions, byLabel };
  }
  render() {
    const { questions, byLabel } = this.groups();
    $("question-list").replaceChildren(...(questions.length ? questions.map((q, i) => this.item(q, i, questions.length))
      : [el("li", { class: "muted empty" }, "No questions yet.")]));
    $("attribute-groups").replaceChildren(...(byLabel.length ? byLabel.map(({ label, items }) => {
      const h = el("h3", { id: `attr-h-${label.id}` }, el("span", { class: "swatch", style: `--c: ${label.colour}` }), ` ${label.name}`);
      const add = el("button", { type: "button", class: "small", dataset: { action: "add", label: String(label.id), testid: `attribute-add-${label.name}` },
        "aria-label": `Add an attribute to ${label.name}` }, "Add an attribute");
      const list = el("ol", { class: "codebook-list", "aria-labelledby": `attr-h-${label.id}`, dataset: { testid: `attribute-list-${label.name}` } },
        ...(items.length ? items.map((q, i) => this.item(q, i, items.length)) : [el("li", { class: "muted empty" }, "No attributes.")]));
      return el("section", { class: "attr-group", dataset: { label: label.name } }, el("div", { class: "panel-head" }, h, add), list);
    }) : [el("p", { class: "muted" }, "The codebook has no labels yet: add labels on the settings page first.")]));
  }
  item(q, index, count) {
    const used = this.usage[q.id]?.answers || 0;
    const scope = this.cfg.scopes.find(([v]) => v === q.scope)?.[1] || q.scope;
    const kind = this.cfg.kinds.find(([v]) => v === q.kind)?.[1] || q.kind;
    const facts = [q.scope === "span" ? null : scope, kind, q.required ? "required" : "optional",
      q.options.length ? `${q.options.length} options` : null, `${used} answer${used === 1 ? "" : "s"}`].filter(Boolean).join(" · ");
    const button = (action, text, label, extra = {}) => el("button", { type: "button", class: `small${action === "delete" ? " danger" : ""}`,
      dataset: { action, qid: String(q.id) }, "aria-label": label, ...extra }, text);
    const up = button("up", "↑ Up", `Move up: ${q.prompt}`);
    const down = button("down", "↓ Down", `Move down: ${q.prompt}`);
    up.disabled = index === 0;
    down.disabled = index === count - 1;
    return el("li", { class: "codebook-item", id: `question-${q.id}`, dataset: { testid: "question-item", question: q.name } },
      el("div", { class: "codebook-item-main" },
        el("strong", {}, q.prompt), " ", el("code", {}, q.name), q.hotkey ? el("kbd", { title: "Hotkey" }, q.hotkey) : null,
        el("div", { class: "muted" }, facts),
        q.options.length ? el("div", { class: "muted option-summary" }, q.options.map((o) => (q.kind === "scale" ? `${o.numeric}: ${o.text}` : o.text)).join(" / ")) : null),
      el("div", { class: "codebook-item-actions" }, button("edit", "Edit", `Edit: ${q.prompt}`), up, down, button("delete", "Delete", `Delete: ${q.prompt}`)));
  }

  // -- the editor
  fillChoices() {
    $("qe-scope").replaceChildren(...this.cfg.scopes.map(([v, text]) => el("option", { value: v }, text)));
    $("qe-kind").replaceChildren(...this.cfg.kinds.map(([v, text]) => el("option", { value: v }, text)));
    $("qe-label").replaceChildren(...this.labels.map((l) => el("option", { value: String(l.id) }, l.name)));
  }
  open(question, { scope = "article", labelId = null, opener = null } = {}) {
    this.editing = question;
    this.opener = opener;
    this.nameTouched = Boolean(question);
    const q = question || { name: "", prompt: "", description: "", positive_examples: [], negative_examples: [], scope,
      kind: "single", required: false, hotkey: "", label_id: labelId, options: [{ value: "", text: "" }, { value: "", text: "" }] };
    $("qe-title").textContent = question ? `Edit “${question.prompt}”` : scope === "span" ? "Add an attribute" : "Add a question";
    $("qe-prompt").value = q.prompt;
    $("qe-name").value = q.name;
    $("qe-scope").value = q.scope;
    $("qe-label").value = q.label_id ? String(q.label_id) : (this.labels[0] ? String(this.labels[0].id) : "");
    $("qe-kind").value = q.kind;
    $("qe-required").checked = q.required;
    $("qe-hotkey").value = q.hotkey || "";
    $("qe-description").value = q.description || "";
    $("qe-positive").value = (q.positive_examples || []).join("\n");
    $("qe-negative").value = (q.negative_examples || []).join("\n");
    $("qe-changelog").value = "";
    this.options = q.options.map((o) => ({ ...o }));
    this.renderOptions();
    this.showErrors(null);
    this.syncFields();
    this.dialog.showModal();
    $("qe-prompt").focus();
  }
  close() {
    this.dialog.close();
  }
  /** Show what the chosen scope and kind use: the label for attributes, the hotkey for the others, the options
   * table for choices and scales (with the numbers for scales). */
  syncFields() {
    const span = $("qe-scope").value === "span";
    const kind = $("qe-kind").value;
    this.form.querySelector('[data-field="label"]').hidden = !span;
    this.form.querySelector('[data-field="hotkey"]').hidden = span;
    $("qe-options").hidden = kind === "text";
    $("qe-options").classList.toggle("scale", kind === "scale");
    $("qe-options-help").textContent = kind === "scale"
      ? "Each point of the scale has a number (e.g. −2 to 2); the points are kept in the order of their numbers."
      : "The value is the key answers keep; the text is what annotators see. Hotkeys (1–9 when left empty) pick an option while the question has focus.";
  }
  renderOptions() {
    const used = (this.editing && this.usage[this.editing.id]?.options) || {};
    const n = this.options.length;
    $("qe-option-rows").replaceChildren(...this.options.map((o, i) => {
      const input = (field, props) => {
        const value = o[field] === null || o[field] === undefined ? "" : String(o[field]);
        const node = el("input", { class: `o-${field}`, value, dataset: { field, index: String(i) }, "aria-label": `${field === "numeric" ? "Number" : field[0].toUpperCase() + field.slice(1)} of option ${i + 1}`, ...props });
        node.addEventListener("input", () => { o[field] = node.value; });
        return node;
      };
      const button = (action, text, label, disabled) => {
        const b = el("button", { type: "button", class: `small${action === "remove" ? " danger" : ""}`, dataset: { optionAction: action, index: String(i) }, "aria-label": label }, text);
        b.disabled = disabled;
        return b;
      };
      const count = used[o.value] || 0;
      return el("tr", { dataset: { testid: "option-row", index: String(i) } },
        el("td", {}, input("value", { maxlength: "100", autocomplete: "off", spellcheck: "false" })),
        el("td", {}, input("text", { maxlength: "200" })),
        el("td", { class: "o-numeric-col" }, input("numeric", { type: "number", step: "any", inputmode: "decimal" })),
        el("td", {}, input("hotkey", { maxlength: "1", size: "2", autocomplete: "off" })),
        el("td", {}, input("description", {})),
        el("td", { class: "o-used", title: "Answers that use this option" }, String(count)),
        el("td", { class: "o-actions" }, button("up", "↑", `Move option ${i + 1} up`, i === 0),
          button("down", "↓", `Move option ${i + 1} down`, i === n - 1), button("remove", "Remove", `Remove option ${i + 1}`, false)));
    }));
  }
  onOptionAction(b) {
    const i = Number(b.dataset.index);
    const action = b.dataset.optionAction;
    let focusAt = i;
    if (action === "remove") {
      this.options.splice(i, 1);
      focusAt = Math.min(i, this.options.length - 1);
    } else {
      const j = action === "up" ? i - 1 : i + 1;
      [this.options[i], this.options[j]] = [this.options[j], this.options[i]];
      focusAt = j;
    }
    this.renderOptions();
    const rows = $("qe-option-rows");
    const again = rows.querySelector(`button[data-option-action="${action}"][data-index="${focusAt}"]:not(:disabled)`)
      || rows.querySelector(`tr[data-index="${focusAt}"] button:not(:disabled)`) || $("qe-add-option");
    again.focus();
    this.announce(action === "remove" ? `Option ${i + 1} removed (saved when you save the question).` : `Option moved to position ${focusAt + 1}.`);
  }
  /** The question as the API takes it (every field; the server decides what changed). */
  body() {
    const scope = $("qe-scope").value;
    const kind = $("qe-kind").value;
    const data = {
      name: $("qe-name").value.trim(), prompt: $("qe-prompt").value.trim(), scope, kind,
      required: $("qe-required").checked, hotkey: scope === "span" ? "" : $("qe-hotkey").value,
      label: scope === "span" ? Number($("qe-label").value) || null : null,
      description: $("qe-description").value, positive_examples: lines($("qe-positive").value),
      negative_examples: lines($("qe-negative").value), changelog: $("qe-changelog").value.trim(),
      options: kind === "text" ? [] : this.options.map((o) => {
        const numeric = String(o.numeric ?? "").trim();
        return { value: String(o.value ?? "").trim(), text: String(o.text ?? "").trim(), description: o.description || "",
          hotkey: o.hotkey || "", numeric: kind === "scale" && numeric !== "" ? Number(numeric) : null };
      }),
    };
    if (this.editing && !data.changelog) delete data.changelog;
    return data;
  }
  async save() {
    const data = this.body();
    const editing = this.editing;
    try {
      const saved = editing ? await api("PATCH", `${this.urls.questions}${editing.id}/`, data)
        : await api("POST", this.urls.questions, data);
      this.opener = null; // the focus goes to the saved question, below
      this.close();
      await this.reload(`${editing ? "Saved" : "Added"} “${saved.prompt}”.`);
      this.focusItem(saved.id, "edit");
    } catch (err) {
      this.showErrors(err);
    }
  }

  // -- errors: the server's, beside the fields they name, and in a summary that takes the focus
  showErrors(err) {
    for (const node of this.form.querySelectorAll(".field-error")) node.remove();
    for (const node of this.form.querySelectorAll("[aria-invalid]")) { node.removeAttribute("aria-invalid"); node.removeAttribute("aria-describedby"); }
    const summary = $("qe-errors");
    if (!err) { summary.hidden = true; summary.replaceChildren(); return; }
    const errors = (err.body && err.body.errors) || {};
    const items = [];
    for (const [field, raw] of Object.entries(errors)) {
      const messages = this.messages(field, raw);
      if (!messages.length) continue;
      const box = this.form.querySelector(`[data-field="${field}"]`);
      const name = FIELD_NAMES[field] || field;
      if (box && !box.hidden) {
        const id = `qe-${field}-error`;
        box.append(el("small", { class: "field-error error", id }, ...messages.map((m) => el("span", {}, m))));
        const control = box.matches("fieldset") ? null : box.querySelector("input, select, textarea");
        if (control) { control.setAttribute("aria-invalid", "true"); control.setAttribute("aria-describedby", id); }
        const target = control ? control.id : "qe-options";
        items.push(el("li", {}, el("a", { href: `#${target}`, dataset: { focus: target } }, name), `: ${messages.join(" ")}`));
      } else {
        items.push(el("li", {}, field === "question" || field === "non_field_errors" ? "" : `${name}: `, messages.join(" ")));
      }
    }
    const heading = err.status === 403 ? "You may not change this codebook." : err.status === 0 ? errorText(err) : err.message;
    summary.replaceChildren(el("strong", {}, `Not saved. ${heading}`), items.length ? el("ul", {}, ...items) : "");
    summary.hidden = false;
    summary.focus();
  }
  /** Messages of one field: strings, or (options, from the input check) per-option errors, as a list or keyed by
   * the option's index: "Option 2: hotkey: …". */
  messages(field, raw) {
    const entries = Array.isArray(raw) ? raw.map((m, i) => [i, m])
      : raw && typeof raw === "object" ? Object.entries(raw).map(([k, m]) => [Number(k), m]) : [[0, raw]];
    const out = [];
    entries.forEach(([i, m]) => {
      if (typeof m === "string") out.push(m);
      else if (m && typeof m === "object") {
        for (const [sub, texts] of Object.entries(m)) {
          out.push(`${field === "options" ? `Option ${i + 1}` : FIELD_NAMES[field] || field}: ${sub}: ${[].concat(texts).join(" ")}`);
          const input = $("qe-option-rows").querySelector(`input[data-index="${i}"][data-field="${sub}"]`);
          if (input) input.setAttribute("aria-invalid", "true");
        }
      }
    });
    return out;
  }

  // -- reorder and delete
  async move(q, step) {
    const { questions, byLabel } = this.groups();
    const group = q.scope === "span" ? byLabel.find((g) => g.label.id === q.label_id).items : questions;
    const at = group.indexOf(q);
    const other = group[at + step];
    if (!other) return;
    const order = this.questions.map((x) => x.id);
    const [i, j] = [order.indexOf(q.id), order.indexOf(other.id)];
    [order[i], order[j]] = [order[j], order[i]];
    try {
      await api("POST", this.urls.reorder, { order });
      await this.reload(`Moved “${q.prompt}” ${step < 0 ? "up" : "down"}.`);
    } catch (err) {
      this.announce(`Not moved: ${errorText(err)}`, true);
    }
    this.focusItem(q.id, step < 0 ? "up" : "down");
  }
  askDelete(q, opener) {
    this.deleting = q;
    this.opener = opener;
    const used = this.usage[q.id]?.answers || 0;
    $("qd-title").textContent = `Delete “${q.prompt}”?`;
    $("qd-text").textContent = `The ${q.scope === "span" ? "attribute" : "question"} “${q.prompt}” (${q.name}) leaves the codebook; `
      + `this makes a new codebook version. ${used ? `It has ${used} answer(s).` : "It has no answers."}`;
    $("qd-errors").hidden = true;
    $("question-delete").showModal();
    $("qd-cancel").focus();
  }
  async confirmDelete() {
    const q = this.deleting;
    const { questions, byLabel } = this.groups();
    const group = q.scope === "span" ? byLabel.find((g) => g.label.id === q.label_id).items : questions;
    const next = group[group.indexOf(q) + 1] || group[group.indexOf(q) - 1];
    try {
      await api("DELETE", `${this.urls.questions}${q.id}/`);
    } catch (err) {
      const box = $("qd-errors");
      box.replaceChildren(el("strong", {}, "Not deleted. "), errorText(err));
      box.hidden = false;
      box.focus();
      return;
    }
    this.opener = null;
    $("question-delete").close();
    await this.reload(`Deleted “${q.prompt}”.`);
    if (next) this.focusItem(next.id, "edit");
    else (q.scope === "span" ? document.querySelector(`button[data-action="add"][data-label="${q.label_id}"]`) : document.querySelector('[data-testid="question-add"]'))?.focus();
  }

  // -- after a change: the server's codebook and its new version
  async reload(message) {
    const before = this.version;
    try {
      const project = await api("GET", this.urls.project);
      this.questions = project.questions;
      this.version = project.codebook_version;
      let line = message;
      if (project.codebook_version && project.codebook_version !== before) {
        const version = await api("GET", `${this.urls.version}${project.codebook_version}/`);
        line += ` Codebook version ${version.number}: ${version.changelog}`;
        this.addVersion(version);
      }
      this.render();
      this.announce(line);
    } catch (err) {
      this.announce(`${message} The page could not read the codebook again: ${errorText(err)} Reload the page.`, true);
    }
  }
  addVersion(version) {
    const list = $("codebook-versions");
    if (!list) return;
    // As the server lists the older ones: "7 Dec 2026 05:41", in the server's time zone (the time as the API gives it).
    const [, y, m, d, hm] = version.created_at.match(/^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2})/) || [];
    const month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][Number(m) - 1];
    const when = y ? `${Number(d)} ${month} ${y} ${hm}` : version.created_at;
    list.prepend(el("li", { value: String(version.number) }, `v${version.number} · ${when} — ${version.changelog}`));
  }
  focusItem(id, action) {
    const item = $(`question-${id}`);
    if (!item) return;
    // A question moved to the top (bottom) keeps the focus on the move that is still possible.
    const opposite = { up: "down", down: "up" }[action];
    const target = item.querySelector(`button[data-action="${action}"]:not(:disabled)`)
      || (opposite && item.querySelector(`button[data-action="${opposite}"]:not(:disabled)`)) || item.querySelector("button:not(:disabled)");
    if (target) target.focus();
  }
  announce(message, error = false) {
    const status = $("codebook-status");
    status.textContent = message;
    status.classList.toggle("error", error);
  }

  bind() {
    this.version = null;
    api("GET", this.urls.project).then((p) => { this.version = p.codebook_version; }).catch(() => {});
    document.querySelector(".codebook-page").addEventListener("click", (e) => {
      const b = e.target.closest("button[data-action]");
      if (!b || this.dialog.contains(b)) return;
      const q = this.questions.find((x) => String(x.id) === b.dataset.qid);
      const action = b.dataset.action;
      if (action === "add") {
        const labelId = b.dataset.label ? Number(b.dataset.label) : null;
        return this.open(null, { scope: labelId ? "span" : "article", labelId, opener: b });
      }
      if (!q) return;
      if (action === "edit") return this.open(q, { opener: b });
      if (action === "up" || action === "down") return this.move(q, action === "up" ? -1 : 1);
      if (action === "delete") return this.askDelete(q, b);
    });
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.save(); });
    $("qe-cancel").addEventListener("click", () => this.close());
    this.dialog.addEventListener("close", () => { if (this.opener && document.contains(this.opener)) this.opener.focus(); });
    $("qe-scope").addEventListener("change", () => this.syncFields());
    $("qe-kind").addEventListener("change", () => { this.syncFields(); });
    $("qe-prompt").addEventListener("input", () => { if (!this.nameTouched) $("qe-name").value = keyFrom($("qe-prompt").value); });
    $("qe-name").addEventListener("input", () => { this.nameTouched = true; });
    $("qe-add-option").addEventListener("click", () => {
      this.options.push({ value: "", text: "" });
      this.renderOptions();
      $("qe-option-rows").querySelector(`tr[data-index="${this.options.length - 1}"] input`).focus();
    });
    $("qe-option-rows").addEventListener("click", (e) => {
      const b = e.target.closest("button[data-option-action]");
      if (b) this.onOptionAction(b);
    });
    $("qe-errors").addEventListener("click", (e) => {
      const a = e.target.closest("a[data-focus]");
      if (!a) return;
      e.preventDefault();
      const rows = $("qe-option-rows");
      const target = a.dataset.focus === "qe-options"
        ? rows.querySelector("input[aria-invalid]") || rows.querySelector("input") || $("qe-add-option") : $(a.dataset.focus);
      target?.focus();
    });
    $("qd-confirm").addEventListener("click", () => this.confirmDelete());
    $("qd-cancel").addEventListener("click", () => $("question-delete").close());
    $("question-delete").addEventListener("close", () => { if (this.opener && document.contains(this.opener)) this.opener.focus(); });
  }
}

window.framescopeCodebook = new CodebookEditor(JSON.parse($("codebook-config").textContent));
