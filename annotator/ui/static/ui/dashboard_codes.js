// Scores dashboard, codebook questions: each outlet's share of articles (or sentences) with each answer, corrected
// for the model's errors; the share of one answer over time; pairwise comparisons; span rates by attribute value.
// Reads code-scores/, code-scores/compare/ and attribute-rates/; charts and downloads as the framing charts.

import { api, draw, emptyChart, esc, fmt, fmtP, outletName, query, reliability, setCsv, smallGroupEncoding, smallGroupNote } from "./dashboard.js";

const config = JSON.parse(document.getElementById("page-config")?.textContent || "{}");
const VEGA = "https://vega.github.io/schema/vega-lite/v5.json";

function codesState() {
  return {
    question: document.getElementById("ctl-question")?.value || "",
    answer: document.getElementById("ctl-answer")?.value || "",
    attribute: document.getElementById("ctl-attribute")?.value || "",
    source: document.getElementById("ctl-source").value,
    period: document.getElementById("ctl-period").value,
  };
}

const questionOf = (name) => (config.questions || []).find((q) => q.name === name);

function showCodesError(err) {
  const box = document.getElementById("codes-error");
  if (!box) return;
  box.hidden = !err;
  box.textContent = err ? err.message : "";
}

// The main estimate of a row: the corrected share when the model's errors corrected it, else the share.
function estimate(r) {
  const corrected = r.corrected_share !== null && r.corrected_share !== undefined;
  return corrected
    ? { value: r.corrected_share, lo: r.corrected_ci_low, hi: r.corrected_ci_high, corrected }
    : { value: r.share, lo: r.share_ci_low, hi: r.share_ci_high, corrected };
}

async function loadCodeOutlets(s) {
  const question = questionOf(s.question);
  const path = `/code-scores/?${query({ question: s.question, source: s.source })}`;
  setCsv("codes", path);
  const rows = await api(path);
  if (!rows.length) return emptyChart("chart-codes", "No answers to this question from this source yet.");
  const data = rows.map((r) => {
    const e = estimate(r);
    return {
      outlet: outletName(r.outlet), slug: r.outlet, answer: r.answer, share: e.value, lo: e.lo, hi: e.hi,
      predicted: r.share, corrected: e.corrected, n_units: r.n_units, n_with_answer: r.n_with_answer, reliability: reliability(r),
    };
  });
  const corrected = data.some((d) => d.corrected);
  const unit = question?.scope === "sentence" ? "sentences" : "articles";
  const layers = [
    { mark: { type: "bar" }, encoding: { y: { field: "share", type: "quantitative", title: `share of ${unit}${corrected ? " (corrected)" : ""}`, axis: { format: "%" }, scale: { domain: [0, 1] } }, ...smallGroupEncoding(data, "answer") } },
    { mark: { type: "rule" }, encoding: { y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color: { value: "#222" } } },
  ];
  if (corrected) {
    layers.push({ mark: { type: "tick", color: "#222", thickness: 2 }, encoding: { y: { field: "predicted", type: "quantitative" }, color: { value: "#222" } } });
  }
  const spec = {
    $schema: VEGA,
    width: "container",
    height: 260,
    ...smallGroupNote(data),
    data: { values: data },
    encoding: {
      x: { field: "outlet", type: "nominal", title: null, axis: { labelAngle: 0 } },
      xOffset: { field: "answer", sort: question?.answers },
      color: { field: "answer", title: null, sort: question?.answers, legend: { orient: "top" } },
      tooltip: [
        { field: "outlet" }, { field: "answer" }, { field: "share", title: corrected ? "corrected share" : "share", format: ".1%" },
        { field: "lo", title: "95% CI low", format: ".1%" }, { field: "hi", title: "95% CI high", format: ".1%" },
        ...(corrected ? [{ field: "predicted", title: "predicted share", format: ".1%" }] : []),
        { field: "n_with_answer", title: `${unit} with it` }, { field: "n_units", title: unit }, { field: "reliability", title: "interval" },
      ],
    },
    layer: layers,
  };
  await draw("codes", "chart-codes", spec);
  const means = document.getElementById("codes-means");
  const scale = rows.filter((r) => r.mean !== null && r.mean !== undefined);
  if (!scale.length) {
    means.innerHTML = "";
    return;
  }
  const seen = new Set();
  const lines = scale
    .filter((r) => !seen.has(r.outlet) && seen.add(r.outlet))
    .map((r) => {
      const c = r.corrected_mean !== null && r.corrected_mean !== undefined;
      const [m, lo, hi] = c ? [r.corrected_mean, r.corrected_mean_ci_low, r.corrected_mean_ci_high] : [r.mean, r.mean_ci_low, r.mean_ci_high];
      return `<tr><td>${esc(outletName(r.outlet))}</td><td class=num>${fmt(m)}</td><td class="num ci">[${fmt(lo)}, ${fmt(hi)}]</td><td class=num>${r.n_units}</td></tr>`;
    })
    .join("");
  means.innerHTML = `<table class="data" data-testid="codes-means"><caption>Mean of the scale${scale.some((r) => r.corrected_mean !== null) ? " (corrected)" : ""}</caption><thead><tr><th>Outlet</th><th class=num>Mean</th><th class=num>95% CI</th><th class=num>Units</th></tr></thead><tbody>${lines}</tbody></table>`;
}

// A scale's mean per outlet and period with its 95% interval (corrected for the model), below the time chart.
function drawTimeMeans(all) {
  const target = document.getElementById("codes-time-means");
  if (!target) return;
  const seen = new Set();
  const scale = all.filter((r) => {
    const key = `${r.outlet}|${r.period_start}`;
    if (!r.period_start || r.mean === null || r.mean === undefined || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (!scale.length) {
    target.innerHTML = "";
    return;
  }
  scale.sort((a, b) => a.period_start.localeCompare(b.period_start) || outletName(a.outlet).localeCompare(outletName(b.outlet)));
  const corrected = scale.some((r) => r.corrected_mean !== null && r.corrected_mean !== undefined);
  const lines = scale
    .map((r) => {
      const [m, lo, hi] = corrected ? [r.corrected_mean, r.corrected_mean_ci_low, r.corrected_mean_ci_high] : [r.mean, r.mean_ci_low, r.mean_ci_high];
      return `<tr><td>${esc(r.period_start)}</td><td>${esc(outletName(r.outlet))}</td><td class=num>${fmt(m)}</td><td class="num ci">[${fmt(lo)}, ${fmt(hi)}]</td><td class=num>${r.n_units}</td></tr>`;
    })
    .join("");
  target.innerHTML = `<table class="data" data-testid="codes-time-means"><caption>Mean of the scale by period${corrected ? " (corrected)" : ""}</caption><thead><tr><th>Period</th><th>Outlet</th><th class=num>Mean</th><th class=num>95% CI</th><th class=num>Units</th></tr></thead><tbody>${lines}</tbody></table>`;
}

async function loadCodeTime(s) {
  const path = `/code-scores/?${query({ question: s.question, source: s.source, period: s.period })}`;
  setCsv("codes-time", path);
  const all = await api(path);
  drawTimeMeans(all);
  const rows = all.filter((r) => r.period_start && r.answer === s.answer);
  if (!rows.length) return emptyChart("chart-codes-time", "No dated answers to plot.");
  const data = rows.map((r) => ({ outlet: outletName(r.outlet), period: r.period_start, ...estimate(r), n_units: r.n_units, reliability: reliability(r) }));
  const unit = { year: ["year", "%Y"], month: ["yearmonth", "%b %Y"], week: ["yearmonthdate", "%d %b %Y"] }[s.period];
  const spec = {
    $schema: VEGA,
    width: "container",
    height: 240,
    ...smallGroupNote(data),
    data: { values: data },
    encoding: {
      x: { field: "period", type: "temporal", timeUnit: unit[0], title: null, axis: { format: unit[1], labelAngle: 0, labelOverlap: true } },
      color: { field: "outlet", title: null, legend: { orient: "top" } },
    },
    layer: [
      { mark: { type: "errorband", opacity: 0.15 }, encoding: { y: { field: "lo", type: "quantitative", title: `share “${s.answer}”`, axis: { format: "%" } }, y2: { field: "hi" } } },
      { mark: { type: "line" }, encoding: { y: { field: "value", type: "quantitative" } } },
      { mark: { type: "point", filled: true, size: 45 }, encoding: {
        y: { field: "value", type: "quantitative" },
        ...smallGroupEncoding(data, "outlet"),
        tooltip: [{ field: "outlet" }, { field: "period", type: "temporal", format: "%Y-%m-%d" }, { field: "value", title: "share", format: ".1%" }, { field: "lo", format: ".1%" }, { field: "hi", format: ".1%" }, { field: "n_units" }, { field: "reliability", title: "interval" }],
      } },
    ],
  };
  await draw("codes-time", "chart-codes-time", spec);
}

async function loadCodeCompare(s) {
  const path = `/code-scores/compare/?${query({ question: s.question, source: s.source, answer: s.answer })}`;
  setCsv("codes-compare", path);
  const target = document.getElementById("codes-compare-table");
  let rows;
  try {
    rows = await api(path);
  } catch (err) {
    target.innerHTML = `<p class="muted">${esc(err.message)}</p>`;
    return;
  }
  const corrected = rows.some((r) => r.corrected_difference !== null);
  const head =
    "<tr><th>Outlet A</th><th>Outlet B</th><th class=num>Share A</th><th class=num>Share B</th><th class=num>A − B</th><th class=num>95% CI</th>" +
    (corrected ? "<th class=num>Corrected A − B</th>" : "") +
    "<th class=num>p</th><th class=num>p (Holm)</th><th class=num>p (BH)</th><th class=num>Articles</th></tr>";
  const pct = (x) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)}%`);
  const body = rows
    .map((r) => {
      const sig = r.p_holm !== null && r.p_holm < 0.05;
      return (
        `<tr class="${sig ? "significant" : ""}"><td>${esc(outletName(r.group_a))}</td><td>${esc(outletName(r.group_b))}</td>` +
        `<td class=num>${pct(r.share_a)}</td><td class=num>${pct(r.share_b)}</td><td class="num${sig ? " sig" : ""}">${pct(r.difference)}</td>` +
        `<td class="num ci">[${pct(r.ci_low)}, ${pct(r.ci_high)}]</td>` +
        (corrected ? `<td class=num>${pct(r.corrected_difference)}<br><small class=muted>[${pct(r.corrected_ci_low)}, ${pct(r.corrected_ci_high)}]</small></td>` : "") +
        `<td class=num>${fmtP(r.p_value)}</td><td class="num${sig ? " sig" : ""}">${fmtP(r.p_holm)}</td><td class=num>${fmtP(r.p_bh)}</td>` +
        `<td class=num>${r.n_articles_a} / ${r.n_articles_b}</td></tr>`
      );
    })
    .join("");
  target.innerHTML = rows.length
    ? `<table class="data compare-table" data-testid="codes-compare"><thead>${head}</thead><tbody>${body}</tbody></table>`
    : '<p class="muted">Needs answers from at least two outlets.</p>';
}

async function loadAttributes(s) {
  if (!s.attribute) return;
  if (s.source === "model") {
    return emptyChart("chart-attributes", "The model's suggestions carry no attributes: choose the gold layer or an annotator.");
  }
  const path = `/attribute-rates/?${query({ attribute: s.attribute, source: s.source })}`;
  setCsv("attributes", path);
  const rows = await api(path);
  if (!rows.length) return emptyChart("chart-attributes", "No spans of this label in this source yet.");
  const attribute = (config.attributes || []).find((a) => a.name === s.attribute);
  const data = rows.map((r) => ({ ...r, outlet_name: outletName(r.outlet) }));
  const spec = {
    $schema: VEGA,
    width: "container",
    height: 240,
    data: { values: data },
    encoding: {
      x: { field: "outlet_name", type: "nominal", title: null, axis: { labelAngle: 0 } },
      xOffset: { field: "value", sort: attribute?.values },
      color: { field: "value", title: null, sort: attribute?.values, legend: { orient: "top" } },
      tooltip: [{ field: "outlet_name", title: "outlet" }, { field: "value" }, { field: "rate_per_1k", title: "per 1,000 tokens", format: ".2f" }, { field: "rate_ci_low", format: ".2f" }, { field: "rate_ci_high", format: ".2f" }, { field: "n_spans", title: "spans" }, { field: "n_tokens", title: "tokens" }],
    },
    layer: [
      { mark: { type: "bar" }, encoding: { y: { field: "rate_per_1k", type: "quantitative", title: `${attribute?.label || "spans"} per 1,000 tokens` } } },
      { mark: { type: "rule" }, encoding: { y: { field: "rate_ci_low", type: "quantitative" }, y2: { field: "rate_ci_high" }, color: { value: "#222" } } },
    ],
  };
  await draw("attributes", "chart-attributes", spec);
}

function fillAnswers() {
  const question = questionOf(codesState().question);
  const select = document.getElementById("ctl-answer");
  if (!select) return;
  select.innerHTML = (question?.answers || []).map((a) => `<option value="${esc(a)}">${esc(a)}</option>`).join("");
}

async function refreshCodes(parts = ["codes", "codes-time", "codes-compare", "attributes"]) {
  const s = codesState();
  const loaders = { codes: loadCodeOutlets, "codes-time": loadCodeTime, "codes-compare": loadCodeCompare, attributes: loadAttributes };
  const wanted = parts.filter((p) => (p === "attributes" ? s.attribute : s.question));
  const results = await Promise.allSettled(wanted.map((p) => loaders[p](s)));
  const failed = results.find((r) => r.status === "rejected");
  showCodesError(failed ? failed.reason : null);
  document.body.dataset.codesReady = String(Date.now());
}

function initCodes() {
  if (!document.getElementById("codes-section")) return;
  fillAnswers();
  const on = (id, handler) => document.getElementById(id)?.addEventListener("change", handler);
  on("ctl-question", () => {
    fillAnswers();
    refreshCodes(["codes", "codes-time", "codes-compare"]);
  });
  on("ctl-answer", () => refreshCodes(["codes-time", "codes-compare"]));
  on("ctl-attribute", () => refreshCodes(["attributes"]));
  on("ctl-source", () => refreshCodes());
  on("ctl-period", () => refreshCodes(["codes-time"]));
  refreshCodes();
}

if (document.querySelector('[data-page="dashboard"]')) initCodes();
