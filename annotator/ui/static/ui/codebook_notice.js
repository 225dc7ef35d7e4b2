// "The codebook changed since you last annotated": shown until dismissed; the dismissal is remembered per
// user and project (localStorage) up to the newest version it listed, so a later change shows it again.
const el = document.getElementById("codebook-notice");
if (el) {
  const key = el.dataset.key;
  const version = Number(el.dataset.version);
  let seen = 0;
  try { seen = Number(localStorage.getItem(key) || 0); } catch { seen = 0; }
  if (seen < version) {
    el.hidden = false;
    el.querySelector("[data-dismiss]").addEventListener("click", () => {
      try { localStorage.setItem(key, String(version)); } catch { /* private mode: dismiss for this page only */ }
      el.hidden = true;
    });
  }
}
