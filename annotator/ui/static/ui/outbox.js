// The annotator page's outbox: span changes waiting for the server, ONE per user and project, shared by every tab.
//
// Each change is its own localStorage entry (`<prefix>:item:<seq>`, seq sortable by time), so a tab adds and
// removes entries and never rewrites another tab's; the server ids learnt for client ids are entries too
// (`<prefix>:id:<client id>`). One tab at a time sends, in order, under a Web Lock (navigator.locks) named after
// the outbox; the others leave their entries for it and hear what happened on a BroadcastChannel of the same
// name. Without Web Locks (an insecure origin) every tab sends; creates stay idempotent through their client id.
//
// What one tab tells the others (and itself, through `on`): "saved" (a change reached the server), "refused" (the
// server said no, with why), "status" (the badge), and whatever the page posts with `post` (its model changes).
// Changes are span creates, updates and deletes, and answers to codebook questions (op "answer", questions.js).

import { api, HttpError } from "./http.js";

const LEGACY_KEY = (userId) => `framescope:outbox:${userId}`; // one key per user, written whole by every tab
const ID_TTL_MS = 24 * 3600 * 1000; // an id entry no change refers to is dropped after a day
// A request that hangs would hold the lock, and with it every tab's changes: give up after this and retry.
const SEND_TIMEOUT_MS = 20000;
const tabId = Math.random().toString(36).slice(2, 10);
let counter = 0;

function storageKeys(prefix) {
  const out = [];
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    if (k && k.startsWith(prefix)) out.push(k);
  }
  return out;
}

function readJson(key) {
  try {
    return JSON.parse(localStorage.getItem(key));
  } catch {
    return null;
  }
}

export class Outbox {
  /** `on(type, message)` is called for every event, from this tab or another. */
  constructor({ userId, project, on }) {
    this.userId = userId;
    this.project = project;
    this.prefix = `framescope:outbox:${userId}:${project}`;
    this.on = on;
    this.delay = 0;
    this.timer = null;
    this.lockQueued = false;
    this.channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel(this.prefix) : null;
    if (this.channel) this.channel.onmessage = (e) => this.on(e.data.type, e.data);
    // A tab of an older page left its queue in the one-key format: move its changes here, once.
    this.adoptLegacy();
  }

  // -- storage
  items() {
    const keys = storageKeys(`${this.prefix}:item:`).sort();
    const out = [];
    for (const k of keys) {
      const item = readJson(k);
      if (item) out.push({ ...item, storageKey: k });
    }
    return out;
  }
  pending(article) {
    return this.items().filter((i) => i.article === article);
  }
  idFor(cid) {
    const entry = cid && readJson(`${this.prefix}:id:${cid}`);
    return entry || null; // {id} or {failed: true}
  }
  rememberId(cid, entry) {
    if (!cid) return;
    try {
      localStorage.setItem(`${this.prefix}:id:${cid}`, JSON.stringify({ ...entry, at: Date.now() }));
    } catch { /* storage full: the tab that made the span still knows its id */ }
  }
  pruneIds() {
    const referenced = new Set(this.items().map((i) => i.cid).filter(Boolean));
    for (const k of storageKeys(`${this.prefix}:id:`)) {
      const cid = k.slice(`${this.prefix}:id:`.length);
      const entry = readJson(k);
      if (!referenced.has(cid) && (!entry || Date.now() - (entry.at || 0) > ID_TTL_MS)) localStorage.removeItem(k);
    }
  }
  adoptLegacy() {
    const old = readJson(LEGACY_KEY(this.userId));
    if (!old || !Array.isArray(old.items)) return;
    const ids = old.ids || {};
    const rest = [];
    for (const item of old.items) {
      if (item.project !== this.project) { rest.push(item); continue; }
      const known = item.key.startsWith("server-") ? Number(item.key.slice(7)) : ids[item.key];
      this.store({ ...item, cid: item.key.startsWith("server-") ? null : item.key, id: known || null });
    }
    if (rest.length) localStorage.setItem(LEGACY_KEY(this.userId), JSON.stringify({ items: rest, ids }));
    else localStorage.removeItem(LEGACY_KEY(this.userId));
  }
  store(item) {
    const seq = `${Date.now().toString(36).padStart(9, "0")}.${String(counter++).padStart(6, "0")}.${tabId}`;
    localStorage.setItem(`${this.prefix}:item:${seq}`, JSON.stringify({ ...item, seq }));
  }

  // -- sending
  /** Queue a change: {article, op: "create"|"update"|"delete", key, cid?, id?, data}. */
  push(item) {
    try {
      this.store({ ...item, project: this.project });
    } catch (err) {
      this.emit("status", { state: "error", message: `Could not keep the change on this computer: ${err.message}` });
      return false;
    }
    this.delay = 0;
    const n = this.items().length;
    this.emit("status", { state: "saving", message: `Saving… (${n})`, pending: n });
    this.pump();
    return true;
  }
  /** Tell this tab and the others. */
  emit(type, message) {
    const data = { ...message, type };
    this.on(type, data);
    this.post(data);
  }
  post(data) {
    if (this.channel) this.channel.postMessage(data);
  }
  pump() {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (!navigator.locks) return this.drain();
    if (this.lockQueued) return;
    this.lockQueued = true;
    navigator.locks.request(this.prefix, async () => {
      this.lockQueued = false;
      await this.drain();
    });
  }
  async drain() {
    if (this.draining) return;
    this.draining = true;
    let refused = 0;
    try {
      if (!this.pruned) { this.pruned = true; this.pruneIds(); }
      for (let items = this.items(); items.length; items = this.items()) {
        const item = items[0];
        this.emit("status", { state: "saving", message: `Saving… (${items.length})`, pending: items.length });
        let saved = null;
        try {
          saved = await this.send(item);
          this.delay = 0;
        } catch (err) {
          if (err instanceof HttpError && err.retryable) {
            this.delay = Math.min(this.delay ? this.delay * 2 : 1000, 30000);
            const n = this.items().length;
            this.emit("status", { state: "error", pending: n,
              message: `${err.message} ${n} change${n > 1 ? "s" : ""} kept on this computer; retrying in ${Math.round(this.delay / 1000)} s.` });
            this.timer = setTimeout(() => this.pump(), this.delay);
            return;
          }
          refused += 1;
          await this.refuse(item, err);
        }
        localStorage.removeItem(item.storageKey);
        if (saved) this.emit("saved", saved); // after the removal: a tab then sees nothing left to save for the span
      }
      this.emit("status", refused
        ? { state: "refused", message: "Not saved: the server refused a change (see the message).", pending: 0 }
        : { state: "saved", message: "Saved", pending: 0 });
    } finally {
      this.draining = false;
    }
  }
  /** Send one change; returns what to tell the tabs once it is out of the queue. */
  async send(item) {
    const base = `/api/v1/projects/${item.project}`;
    if (item.op === "answer") return this.sendAnswer(base, item);
    if (item.op === "create") {
      const span = await api("POST", `${base}/articles/${item.article}/spans/create/`, { ...item.data, client_id: item.cid },
        { timeoutMs: SEND_TIMEOUT_MS });
      this.rememberId(item.cid, { id: span.id });
      return { article: item.article, op: item.op, key: item.key, cid: item.cid, id: span.id, seq: item.seq };
    }
    const known = item.id ? { id: item.id } : this.idFor(item.cid);
    if (!known || known.failed) return null; // its create was refused, and said so: nothing to change on the server
    if (item.op === "update") {
      await api("PATCH", `${base}/spans/${known.id}/update/`, item.data, { timeoutMs: SEND_TIMEOUT_MS });
    } else {
      await api("DELETE", `${base}/spans/${known.id}/delete/`, undefined, { timeoutMs: SEND_TIMEOUT_MS });
    }
    return { article: item.article, op: item.op, key: item.key, cid: item.cid, id: known.id, seq: item.seq };
  }
  /** An answer to a codebook question (questions.js): set or cleared by its unit, so a retry stores it once. An
   * attribute names its span by the span's client id until the span's create has told us the server's id. */
  async sendAnswer(base, item) {
    const data = { ...item.data };
    if (item.span_cid || item.span_id) {
      const known = item.span_id ? { id: item.span_id } : this.idFor(item.span_cid);
      if (!known || known.failed) return null; // the span was never saved (and that was said): nothing to answer
      data.span = known.id;
    }
    await api("POST", `${base}/articles/${item.article}/answers/set/`, data);
    return { article: item.article, op: item.op, key: item.key, seq: item.seq };
  }
  /** The server said no: remember what that means for later changes of the span, find out why, tell every tab. */
  async refuse(item, err) {
    const duplicateOf = err.body?.errors?.duplicate_of?.[0];
    if (item.op === "create") this.rememberId(item.cid, duplicateOf ? { id: duplicateOf } : { failed: true });
    const id = item.op === "create" ? duplicateOf : item.id || this.idFor(item.cid)?.id;
    let state = null;
    if (id && (err.status === 404 || err.status === 409)) {
      try {
        state = await api("GET", `/api/v1/projects/${item.project}/spans/${id}/`);
      } catch { /* the span is not there to see: the message says what the server said */ }
    }
    this.emit("refused", { article: item.article, op: item.op, key: item.key, cid: item.cid, id, status: err.status,
      detail: err.message, errors: err.body?.errors || {}, state, data: item.data });
  }
  /** Send what is queued, and wait until nothing of this project is left (or the time is up). */
  async flush(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    this.pump();
    while (this.items().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this.items().length === 0;
  }
}
