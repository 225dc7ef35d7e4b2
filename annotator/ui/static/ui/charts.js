// Vega-Lite charts under the site's Content Security Policy (annotator/common/security.py): chart expressions go
// through the vendored vega-interpreter instead of `new Function` (so no 'unsafe-eval'), and vega-embed injects no
// <style> element (app.css styles the tooltip). The page loads vega, vega-lite, vega-interpreter and vega-embed first.
export function embedChart(el, spec) {
  return window.vegaEmbed(el, spec, {
    actions: false,
    renderer: "svg",
    ast: true,
    expr: window.vega.expressionInterpreter,
    defaultStyle: false,
    tooltip: { disableDefaultStyle: true },
  });
}
