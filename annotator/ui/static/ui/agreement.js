// The agreement page's per-label bar chart (vendored Vega-Lite; data from the json_script tag).
import { embedChart } from "./charts.js";

const rows = JSON.parse(document.getElementById("agreement-chart-data").textContent);
const spec = {
  $schema: "https://vega.github.io/schema/vega-lite/v5.json",
  data: { values: rows },
  mark: "bar",
  encoding: {
    y: { field: "label", type: "nominal", title: null },
    yOffset: { field: "measure" },
    x: { field: "value", type: "quantitative", scale: { domain: [-0.2, 1] }, title: "agreement" },
    color: { field: "measure", type: "nominal" },
    tooltip: [{ field: "measure" }, { field: "label" }, { field: "value", format: ".3f" }],
  },
  width: 600,
};
const chart = document.getElementById("agreement-chart");
embedChart(chart, spec).then(() => {
  chart.dataset.rendered = "1";
});
