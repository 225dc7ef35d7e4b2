// The snapshots page: follow each queued or running freeze job (GET jobs/<id>/) and show its progress; reload the
// page when one finishes, so the new snapshot (or the error) is listed.
(function () {
  const config = JSON.parse(document.getElementById("page-config").textContent);
  const POLL_MS = 1000;
  const rows = document.querySelectorAll('tr[data-job][data-status="queued"], tr[data-job][data-status="running"]');
  rows.forEach((row) => {
    const follow = async () => {
      let job;
      try {
        const response = await fetch(`${config.api}/jobs/${row.dataset.job}/`, { credentials: "same-origin" });
        job = await response.json();
      } catch (error) {
        row.querySelector(".message").textContent = `cannot reach the server (${error}); retrying`;
        setTimeout(follow, POLL_MS * 5);
        return;
      }
      row.dataset.status = job.status;
      row.querySelector(".status").textContent = job.status;
      row.querySelector("progress").value = job.progress;
      row.querySelector(".message").textContent = job.status === "failed" ? job.error : job.message;
      if (job.status === "succeeded" || job.status === "failed") {
        window.location.reload();
      } else {
        setTimeout(follow, POLL_MS);
      }
    };
    follow();
  });
})();
