// Models, lexicon and scores pages: everything goes through the JSON API (/api/v1/projects/<slug>/...).
// Charts: the vendored Vega-Lite + vega-embed (charts.js), drawn as SVG; no CDN at run time.

import { embedChart } from "./charts.js";

const config = JSON.parse(document.getElementById("page-config")?.textContent || "{}");
const page = document.querySelector("[data-page]")?.dataset.page;
const POLL_MS = 1500;

// --- helpers -------------------------------------------------------------------------------------

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export class ApiError extends Error {
  constructor(status, body) {
    const fields = Object.entries(body?.errors || {})
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(" ") : JSON.stringify(v)}`)
      .join("; ");
    super([body?.detail || `HTTP ${status}`, fields].filter(Boolean).join(" — "));
    this.status = status;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["X-CSRFToken"] = csrfToken();
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(config.api + path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  return q.toString();
}

export const fmt = (x, digits = 2) => (x === null || x === undefined || Number.isNaN(x) ? "–" : Number(x).toFixed(digits));
export const fmtP = (p) => (p === null || p === undefined ? "–" : p < 0.001 ? "<0.001" : Number(p).toFixed(3));

function setMessage(el, text, isError = false) {
  if (!el) return;
  el.textContent = text;
  el.classList.toggle("error", isError);
}

// --- examples in context (lexicon and dashboard) -------------------------------------------------

function renderExamples(target, title, rows) {
  if (!rows.length) {
    target.innerHTML = `<h3>${esc(title)}</h3><p class="muted">No examples found.</p>`;
    return;
  }
  const items = rows
    .map(
      (r) =>
        `<li><span class="ctx">${esc(r.left)}<mark>${esc(r.match)}</mark>${esc(r.right)}</span>` +
        `<span class="meta"><a href="${esc(r.url)}">${esc(r.title || "(untitled)")}</a>` +
        `${r.outlet ? " · " + esc(r.outlet) : ""}${r.published_at ? " · " + esc(r.published_at.slice(0, 10)) : ""}</span></li>`,
    )
    .join("");
  target.innerHTML = `<h3>${esc(title)}</h3><ol data-testid="example-list">${items}</ol>`;
}

async function showExamples(target, title, params) {
  target.innerHTML = `<h3>${esc(title)}</h3><p class="muted">Loading…</p>`;
  try {
    renderExamples(target, title, await api(`/examples/?${query({ limit: 15, ...params })}`));
  } catch (err) {
    target.innerHTML = `<h3>${esc(title)}</h3><p class="error">${esc(err.message)}</p>`;
  }
}

async function showTermsExamples(target, title, terms, outlet) {
  target.innerHTML = `<h3>${esc(title)}</h3><p class="muted">Loading…</p>`;
  try {
    const lists = await Promise.all(terms.map((term) => api(`/examples/?${query({ term, outlet, limit: 10 })}`)));
    const rows = lists.flat().sort((a, b) => a.article_id - b.article_id || a.start_char - b.start_char);
    renderExamples(target, title, rows.slice(0, 20));
  } catch (err) {
    target.innerHTML = `<h3>${esc(title)}</h3><p class="error">${esc(err.message)}</p>`;
  }
}

// --- models page ---------------------------------------------------------------------------------

function versionRow(v) {
  const f1 = v.metrics?.grouped_kfold?.word?.micro?.f1;
  const activate =
    config.can_activate && v.status === "succeeded" && !v.is_active
      ? `<button type="button" class="activate" data-number="${v.number}">Activate</button>`
      : "";
  const error = v.error ? `<div class="error failure">${esc(v.error).replace(/\n/g, "<br>")}</div>` : "";
  return (
    `<tr data-number="${v.number}" data-status="${esc(v.status)}" class="status-${esc(v.status)}">` +
    `<td><a href="../models/${v.number}/">v${v.number}</a>${v.is_active ? ' <span class="pill active">active</span>' : ""}</td>` +
    `<td><span class="pill ${esc(v.status)}">${esc(v.status)}</span></td>` +
    `<td><progress max="1" value="${v.progress}"></progress> <span class="muted">${esc(v.progress_message)}</span>${error}</td>` +
    `<td>${esc(v.training_source)}</td><td>${v.n_articles}</td><td>${v.n_spans}</td>` +
    `<td>${f1 === undefined ? "–" : fmt(f1, 3)}</td><td>${esc((v.created_at || "").slice(0, 16).replace("T", " "))}</td>` +
    `<td>${activate}</td></tr>`
  );
}

function initModels() {
  const body = document.getElementById("versions-body");
  const message = document.getElementById("train-message");
  let timer = null;

  const busy = () => [...body.querySelectorAll("tr[data-status]")].some((tr) => ["queued", "running"].includes(tr.dataset.status));

  async function refresh() {
    try {
      const versions = await api("/models/");
      if (versions.length) body.innerHTML = versions.map(versionRow).join("");
    } catch (err) {
      setMessage(message, err.message, true);
    }
    timer = busy() ? setTimeout(refresh, POLL_MS) : null;
  }
  const poll = () => {
    if (!timer) timer = setTimeout(refresh, POLL_MS);
  };

  document.getElementById("train-form")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const source = document.getElementById("train-source").value;
    setMessage(message, "Queuing…");
    try {
      const v = await api("/models/train/", { method: "POST", body: source ? { source } : {} });
      setMessage(message, `Version ${v.number} queued.`);
      body.querySelector("tr.empty")?.remove();
      body.insertAdjacentHTML("afterbegin", versionRow(v));
      poll();
    } catch (err) {
      setMessage(message, err.message, true);
    }
  });
  body.addEventListener("click", (event) => activateFrom(event, message));
  if (busy()) poll();
}

async function activateFrom(event, message) {
  const button = event.target.closest("button.activate");
  if (!button) return;
  button.disabled = true;
  try {
    await api(`/models/${button.dataset.number}/activate/`, { method: "POST" });
    window.location.reload();
  } catch (err) {
    button.disabled = false;
    setMessage(message, err.message, true);
  }
}

function initModelDetail() {
  const message = document.getElementById("activate-message");
  document.querySelector("[data-page]").addEventListener("click", (event) => activateFrom(event, message));
}

// --- lexicon page --------------------------------------------------------------------------------

function initLexicon() {
  const kwic = document.getElementById("kwic");
  const rulesList = document.getElementById("rules");
  const message = document.getElementById("rule-message");
  const root = document.querySelector("[data-page]");

  async function reloadRules() {
    const rules = await api("/term-rules/");
    rulesList.innerHTML = rules.length
      ? rules
          .map(
            (r) =>
              `<li data-rule-id="${r.id}"><span class="pill ${esc(r.action)}">${esc(r.action)}</span> <strong>${esc(r.term)}</strong> ` +
              `<span class="muted">(${esc(r.label)})</span>` +
              (config.can_edit_rules ? ` <button type="button" class="rule-delete linkish" data-rule-id="${r.id}">remove</button>` : "") +
              "</li>",
          )
          .join("")
      : '<li class="muted">No rules yet.</li>';
  }

  root.addEventListener("click", async (event) => {
    const term = event.target.closest("button.kwic");
    if (term) {
      if (!config.examplesAllowed) {
        kwic.innerHTML = '<p class="muted">Examples name outlets, which this outlet-blind project hides from annotators.</p>';
        return;
      }
      showExamples(kwic, `“${term.dataset.term}”`, { term: term.dataset.term });
      return;
    }
    const rule = event.target.closest("button.rule");
    if (rule) {
      const row = rule.closest("tr");
      try {
        await api("/term-rules/create/", {
          method: "POST",
          body: { term: row.dataset.term, label: Number(row.dataset.labelId), action: rule.dataset.action },
        });
        setMessage(message, `${rule.dataset.action === "pin" ? "Pinned" : "Banned"} “${row.dataset.term}” from the next training.`);
        await reloadRules();
      } catch (err) {
        setMessage(message, err.message, true);
      }
      return;
    }
    const del = event.target.closest("button.rule-delete");
    if (del) {
      try {
        await api(`/term-rules/${del.dataset.ruleId}/delete/`, { method: "DELETE" });
        setMessage(message, "Rule removed.");
        await reloadRules();
      } catch (err) {
        setMessage(message, err.message, true);
      }
    }
  });
}

// --- scores dashboard ----------------------------------------------------------------------------

const dash = { views: {}, csv: {}, data: {} };
const ESTIMATE_COLOURS = { domain: ["uncorrected", "corrected"], range: ["#4c78a8", "#f58518"] };

// Rows the API flags too_small (fewer articles than any interval needs to keep 90 % coverage) are drawn hollow: a
// faint fill with an outline in the series' colour, and a note above the chart saying why (Vega-Lite draws no legend
// for fillOpacity). The tooltip's "interval" line says it too.
export const TOO_SMALL = "hollow: too few articles, interval unreliable";
const ENOUGH = "enough articles";

export function reliability(row) {
  return row.too_small ? TOO_SMALL : ENOUGH;
}

export function smallGroupEncoding(data, colourField, colourScale) {
  if (!data.some((d) => d.reliability === TOO_SMALL)) return {};
  return {
    fillOpacity: { condition: { test: `datum.reliability === '${TOO_SMALL}'`, value: 0.12 }, value: 1 },
    stroke: { field: colourField, type: "nominal", ...(colourScale ? { scale: colourScale } : {}), legend: null },
    strokeWidth: { value: 1.5 },
  };
}

export function smallGroupNote(data) {
  if (!data.some((d) => d.reliability === TOO_SMALL)) return {};
  const text = "Hollow marks: fewer than 5 articles (or mentioning articles); no interval keeps its coverage there.";
  return { title: { text, anchor: "start", fontSize: 11, fontWeight: "normal", color: "#555" } };
}

function estimateScale(data) {
  // Only the estimates present get a legend entry (human sources have no corrected rate).
  const present = ESTIMATE_COLOURS.domain.filter((e) => data.some((d) => d.estimate === e));
  return { domain: present, range: ESTIMATE_COLOURS.range.slice(0, present.length) };
}

function state() {
  return {
    label: document.getElementById("ctl-label").value,
    source: document.getElementById("ctl-source").value,
    syndication: document.getElementById("ctl-syndication").value,
    period: document.getElementById("ctl-period").value,
    concept: document.getElementById("ctl-concept")?.value || "",
    outlet: document.getElementById("ctl-outlet")?.value || "",
  };
}

export function setCsv(chart, path) {
  const link = document.querySelector(`[data-chart="${chart}"] a[data-csv]`);
  if (!link) return;
  link.href = `${config.api}${path}${path.includes("?") ? "&" : "?"}format=csv`;
  link.setAttribute("download", `${config.project}-${chart}.csv`);
}

export function showError(err) {
  const box = document.getElementById("dash-error");
  box.hidden = !err;
  box.textContent = err ? err.message : "";
}

export async function draw(chart, elementId, spec, onClick) {
  const el = document.getElementById(elementId);
  dash.views[chart]?.finalize();
  delete dash.views[chart];
  if (!spec) return;
  const result = await embedChart(el, spec);
  dash.views[chart] = result.view;
  if (onClick) {
    result.view.addEventListener("click", (_event, item) => {
      if (item && item.datum) onClick(item.datum);
    });
  }
}

export function emptyChart(elementId, text) {
  document.getElementById(elementId).innerHTML = `<p class="empty">${esc(text)}</p>`;
}

export const outletName = (slug) => (config.outlets || []).find((o) => o.slug === slug)?.name || slug;

async function loadOutlets(s) {
  const path = `/framing-scores/?${query({ label: s.label, source: s.source, syndication: s.syndication })}`;
  setCsv("outlets", path);
  const rows = await api(path);
  const data = [];
  for (const r of rows) {
    const base = { outlet: outletName(r.outlet), slug: r.outlet, n_articles: r.n_articles, n_spans: r.n_spans, n_tokens: r.n_tokens, reliability: reliability(r) };
    data.push({ ...base, estimate: "uncorrected", rate: r.rate_per_1k, lo: r.rate_ci_low, hi: r.rate_ci_high, share: r.share_articles });
    if (r.corrected_rate_per_1k !== null && r.corrected_rate_per_1k !== undefined) {
      data.push({ ...base, estimate: "corrected", rate: r.corrected_rate_per_1k, lo: r.corrected_rate_ci_low, hi: r.corrected_rate_ci_high, share: r.share_articles });
    }
  }
  dash.data.outlets = data;
  if (!data.length) {
    const known = (config.modelLabels || []).join(", ");
    const why = s.source === "model" ? ` The model scores only the labels it was trained on${known ? `: ${known}` : ""}.` : "";
    return emptyChart("chart-outlets", `No scores for this label and source yet.${why}`);
  }
  const tooltip = [
    { field: "outlet" }, { field: "estimate" }, { field: "rate", title: "per 1,000 tokens", format: ".2f" },
    { field: "lo", title: "95% CI low", format: ".2f" }, { field: "hi", title: "95% CI high", format: ".2f" },
    { field: "share", title: "share of articles", format: ".0%" }, { field: "n_articles", title: "articles" }, { field: "n_spans", title: "spans" },
    { field: "reliability", title: "interval" },
  ];
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: "container",
    height: 260,
    ...smallGroupNote(data),
    data: { values: data },
    encoding: {
      x: { field: "outlet", type: "nominal", title: null, axis: { labelAngle: 0 }, sort: { field: "rate", op: "max", order: "descending" } },
      xOffset: { field: "estimate", sort: ESTIMATE_COLOURS.domain },
      color: { field: "estimate", title: null, scale: estimateScale(data), legend: { orient: "top" } },
      tooltip,
    },
    layer: [
      { mark: { type: "bar", cursor: "pointer" }, encoding: { y: { field: "rate", type: "quantitative", title: `${s.label} per 1,000 tokens` }, ...smallGroupEncoding(data, "estimate", estimateScale(data)) } },
      { mark: { type: "rule", color: "#222" }, encoding: { y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color: { value: "#222" } } },
    ],
  };
  await draw("outlets", "chart-outlets", spec, (d) =>
    showExamples(document.getElementById("examples"), `${s.label} in ${d.outlet}`, { label: s.label, source: s.source, outlet: d.slug }),
  );
}

async function loadTime(s) {
  const path = `/framing-scores/?${query({ label: s.label, source: s.source, syndication: s.syndication, period: s.period })}`;
  setCsv("time", path);
  const rows = (await api(path)).filter((r) => r.period_start);
  if (!rows.length) return emptyChart("chart-time", "No dated articles to plot.");
  const data = rows.map((r) => ({
    outlet: outletName(r.outlet), slug: r.outlet, period: r.period_start, rate: r.rate_per_1k, lo: r.rate_ci_low, hi: r.rate_ci_high, n_articles: r.n_articles,
    reliability: reliability(r),
  }));
  // period_start is a calendar date of the study's time zone: read and drawn as UTC, so the browser's own zone never
  // moves it to the previous day or month.
  const unit = {
    year: ["utcyear", "%Y"], month: ["utcyearmonth", "%b %Y"], week: ["utcyearmonthdate", "%d %b %Y"], day: ["utcyearmonthdate", "%d %b %Y"],
  }[s.period];
  const enc = {
    x: {
      field: "period", type: "temporal", timeUnit: unit[0], title: `periods in ${config.timeZone || "UTC"}`,
      axis: { format: unit[1], formatType: "utc", labelAngle: 0, labelOverlap: true },
    },
    color: { field: "outlet", title: null, legend: { orient: "top" } },
  };
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: "container",
    height: 240,
    ...smallGroupNote(data),
    data: { values: data },
    encoding: enc,
    layer: [
      { mark: { type: "errorband", opacity: 0.15 }, encoding: { y: { field: "lo", type: "quantitative", title: "per 1,000 tokens" }, y2: { field: "hi" } } },
      { mark: { type: "line" }, encoding: { y: { field: "rate", type: "quantitative" } } },
      { mark: { type: "point", filled: true, size: 45, cursor: "pointer" }, encoding: {
        y: { field: "rate", type: "quantitative" },
        ...smallGroupEncoding(data, "outlet"),
        tooltip: [{ field: "outlet" }, { field: "period", type: "temporal", format: "%Y-%m-%d", formatType: "utc" }, { field: "rate", format: ".2f" }, { field: "lo", format: ".2f" }, { field: "hi", format: ".2f" }, { field: "n_articles" }, { field: "reliability", title: "interval" }],
      } },
    ],
  };
  await draw("time", "chart-time", spec, (d) =>
    showExamples(document.getElementById("examples"), `${s.label} in ${d.outlet}`, { label: s.label, source: s.source, outlet: d.slug }),
  );
}

async function loadCompare(s) {
  const path = `/framing-scores/compare/?${query({ label: s.label, source: s.source, syndication: s.syndication })}`;
  setCsv("compare", path);
  const target = document.getElementById("compare-table");
  const rows = await api(path);
  if (!rows.length) {
    target.innerHTML = '<p class="muted">Needs scores for at least two outlets.</p>';
    return;
  }
  const corrected = rows.some((r) => r.corrected_difference !== null);
  const head =
    "<tr><th>Outlet A</th><th>Outlet B</th><th class=num>Rate A</th><th class=num>Rate B</th><th class=num>A − B</th><th class=num>95% CI</th>" +
    (corrected ? "<th class=num>Corrected A − B</th>" : "") +
    "<th class=num>p</th><th class=num>p (Holm)</th><th class=num>p (BH)</th><th class=num>Articles</th></tr>";
  const body = rows
    .map((r) => {
      const sig = r.p_holm !== null && r.p_holm < 0.05;
      return (
        `<tr class="${sig ? "significant" : ""}"><td>${esc(outletName(r.group_a))}</td><td>${esc(outletName(r.group_b))}</td>` +
        `<td class=num>${fmt(r.rate_a)}</td><td class=num>${fmt(r.rate_b)}</td><td class="num${sig ? " sig" : ""}">${fmt(r.difference)}</td>` +
        `<td class="num ci">[${fmt(r.ci_low)}, ${fmt(r.ci_high)}]</td>` +
        (corrected ? `<td class=num>${fmt(r.corrected_difference)}<br><small class=muted>[${fmt(r.corrected_ci_low)}, ${fmt(r.corrected_ci_high)}]</small></td>` : "") +
        `<td class=num>${fmtP(r.p_value)}</td><td class="num${sig ? " sig" : ""}">${fmtP(r.p_holm)}</td><td class=num>${fmtP(r.p_bh)}</td>` +
        `<td class=num>${r.n_articles_a} / ${r.n_articles_b}</td></tr>`
      );
    })
    .join("");
  target.innerHTML = `<table class="data compare-table"><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

async function loadTerms(s) {
  if (!s.concept) return;
  const path = `/term-choice/?${query({ concept: s.concept })}`;
  setCsv("terms", path);
  const rows = await api(path);
  if (!rows.length) return emptyChart("chart-terms", "No mentions of this concept.");
  const concept = (config.concepts || []).find((c) => c.slug === s.concept);
  const data = rows.map((r) => ({ ...r, outlet_name: outletName(r.outlet), slug: r.outlet, reliability: reliability(r) }));
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: "container",
    height: 240,
    ...smallGroupNote(data),
    data: { values: data },
    encoding: {
      x: { field: "outlet_name", type: "nominal", title: null, axis: { labelAngle: 0 } },
      xOffset: { field: "variant" },
      color: { field: "variant", title: null, legend: { orient: "top" } },
      tooltip: [{ field: "outlet_name", title: "outlet" }, { field: "variant" }, { field: "share", format: ".0%" }, { field: "ci_low", format: ".0%" }, { field: "ci_high", format: ".0%" }, { field: "count" }, { field: "n_mentions" }, { field: "n_articles_mentioning", title: "articles mentioning" }, { field: "reliability", title: "interval" }],
    },
    layer: [
      { mark: { type: "bar", cursor: "pointer" }, encoding: { y: { field: "share", type: "quantitative", title: "share of mentions", axis: { format: "%" }, scale: { domain: [0, 1] } }, ...smallGroupEncoding(data, "variant") } },
      { mark: { type: "rule" }, encoding: { y: { field: "ci_low", type: "quantitative" }, y2: { field: "ci_high" }, color: { value: "#222" } } },
    ],
  };
  await draw("terms", "chart-terms", spec, (d) => {
    const variant = concept?.variants.find((v) => v.name === d.variant);
    const terms = variant?.terms?.length ? variant.terms : [d.variant];
    showTermsExamples(document.getElementById("examples"), `“${d.variant}” in ${d.outlet_name}`, terms, d.slug);
  });
}

async function loadDistinctive(s) {
  if (!s.outlet) return;
  const path = `/distinctive-terms/?${query({ outlet: s.outlet, limit: 15 })}`;
  setCsv("distinctive", path);
  const target = document.getElementById("distinctive");
  const rows = await api(path);
  const over = rows.filter((r) => r.z > 0).sort((a, b) => b.z - a.z).slice(0, 15);
  const under = rows.filter((r) => r.z < 0).sort((a, b) => a.z - b.z).slice(0, 15);
  const list = (items) =>
    items.length
      ? `<ol>${items.map((r) => `<li><button type="button" class="linkish word" data-term="${esc(r.term)}">${esc(r.term)}</button> <span class="z">z ${fmt(r.z, 1)} · ${r.count_group} vs ${r.count_rest}</span></li>`).join("")}</ol>`
      : '<p class="muted">None.</p>';
  target.innerHTML = `<div><h3>Uses more</h3>${list(over)}</div><div><h3>Uses less</h3>${list(under)}</div>`;
}

function downloadChart(chart, type) {
  const view = dash.views[chart];
  if (!view) return;
  view.toImageURL(type, type === "png" ? 2 : 1).then((url) => {
    const a = document.createElement("a");
    a.href = url;
    a.download = `${config.project}-${chart}.${type}`;
    document.body.appendChild(a);
    a.click();
    a.remove();
  });
}

async function refreshDashboard(parts = ["outlets", "time", "compare", "terms", "distinctive"]) {
  const s = state();
  const loaders = { outlets: loadOutlets, time: loadTime, compare: loadCompare, terms: loadTerms, distinctive: loadDistinctive };
  const results = await Promise.allSettled(parts.map((p) => loaders[p](s)));
  const failed = results.find((r) => r.status === "rejected");
  showError(failed ? failed.reason : null);
  document.body.dataset.dashboardReady = String(Date.now());
}

async function followJob(jobId) {
  const box = document.getElementById("score-progress");
  const button = document.getElementById("score-button");
  if (!box) return;
  box.hidden = false;
  if (button) button.disabled = true;
  const bar = box.querySelector("progress");
  const text = box.querySelector(".text");
  for (;;) {
    let job;
    try {
      job = await api(`/jobs/${jobId}/`);
    } catch (err) {
      text.textContent = err.message;
      break;
    }
    bar.value = job.progress;
    text.textContent = `${job.progress_done} / ${job.progress_total} articles · ${job.status}${job.error ? ": " + job.error : ""}`;
    box.dataset.status = job.status;
    if (job.status === "succeeded" || job.status === "failed") {
      if (job.status === "succeeded") refreshDashboard();
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  if (button) button.disabled = !config.hasActiveModel;
}

function initDashboard() {
  const fill = (id, options, selected) => {
    const el = document.getElementById(id);
    el.innerHTML = options.map((o) => `<option value="${esc(o.value)}"${o.value === selected ? " selected" : ""}>${esc(o.name)}</option>`).join("");
  };
  document.getElementById("controls").addEventListener("submit", (event) => event.preventDefault());
  fill("ctl-source", config.sources, config.sources[0]?.value);
  fill("ctl-syndication", config.syndicationRules.map((r) => ({ value: r, name: r.replace("_", " ") })), config.syndication);

  const onChange = (ids, parts) => ids.forEach((id) => document.getElementById(id)?.addEventListener("change", () => refreshDashboard(parts)));
  onChange(["ctl-label", "ctl-source", "ctl-syndication"], ["outlets", "time", "compare"]);
  onChange(["ctl-period"], ["time"]);
  onChange(["ctl-concept"], ["terms"]);
  onChange(["ctl-outlet"], ["distinctive"]);

  document.querySelector("[data-page]").addEventListener("click", (event) => {
    const dl = event.target.closest("button[data-download]");
    if (dl) downloadChart(dl.closest("[data-chart]").dataset.chart, dl.dataset.download);
    const word = event.target.closest("button.word");
    if (word) showExamples(document.getElementById("examples"), `“${word.dataset.term}” in ${outletName(state().outlet)}`, { term: word.dataset.term, outlet: state().outlet });
  });

  document.getElementById("score-button")?.addEventListener("click", async () => {
    try {
      const job = await api("/score/", { method: "POST" });
      followJob(job.id);
    } catch (err) {
      showError(err);
    }
  });
  if (config.lastJob && ["queued", "running"].includes(config.lastJob.status)) followJob(config.lastJob.id);
  refreshDashboard();
}

const INIT = { models: initModels, "model-detail": initModelDetail, lexicon: initLexicon, dashboard: initDashboard };
INIT[page]?.();
