"""First run: from a fresh clone, `make run` until it prints the URL, then the first page.

    .venv/bin/python -m bench.first_run_bench [--port 8109] [--repo .] [--rev HEAD] [--no-pip-cache] [--keep]

Clones the repository (the committed ``--rev``, as a newcomer gets it) into a temp dir, runs ``make run`` there with
``FRAMESCOPE_ADDR`` on the given port and the embedded defaults (no DATABASE_URL or CELERY_BROKER_URL: SQLite and the
filesystem broker in the clone's var/), timestamps each line it prints, and stops the clock at "Framescope is at".
Then times the first GET of ``/`` from the moment the URL was printed (followed to the login page; a refused connection
is retried and the wait counts) and a second one, and how long until the demo's model v1 is active (read from the
clone's database). ``cpu_s_before_run_all`` is the CPU time of the steps before run_all (make's finished children),
``cpu_s_until_url`` that plus run_all and its worker until the URL: near what an idle 2-core machine takes, as the
steps run one process at a time (only run_all's server and worker start side by side). Stops `make run` (the server and its worker) and removes the clone unless ``--keep``. Prints one JSON line.

The phases are read from make's echo of each command: venv, pip, migrate, load_demo, run_all. ``--no-pip-cache``
sets PIP_NO_CACHE_DIR, as on a machine that never installed these packages (wheels still come from the configured
index or find-links).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench._processes import ROOT, load_average

PHASES = (  # (name, a fragment of the line that starts the phase)
    ("venv", "-m venv"),
    ("pip", "pip install"),
    ("migrate", "manage.py migrate"),
    ("load_demo", "manage.py load_demo"),
    ("run_all", "manage.py run_all"),
)
URL_LINE = "Framescope is at"
DEADLINE = 900


def _env(*, port: int, no_pip_cache: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")}
    env.pop("FRAMESCOPE_DATA_DIR", None)
    env["FRAMESCOPE_ADDR"] = f"127.0.0.1:{port}"
    env.pop("VIRTUAL_ENV", None)
    if no_pip_cache:
        env["PIP_NO_CACHE_DIR"] = "1"
    return env


def _get(port: int, path: str) -> tuple[float, int]:
    """Seconds for GET path (following redirects on this host), and the final status. A refused connection (a server
    that printed its URL before it listened) is retried, and the wait counts."""
    start = time.perf_counter()
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            break
        except ConnectionRefusedError:
            if time.perf_counter() - start > 120:
                raise
            time.sleep(0.05)
    for _ in range(5):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status in (301, 302) and response.getheader("Location"):
            path = response.getheader("Location")
            continue
        break
    return time.perf_counter() - start, response.status


def _session_cpu(sid: int) -> float:
    """CPU seconds of every process of session ``sid`` still running (make, run_all, the worker), themselves only."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # session id (field 6 of proc(5))
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def _children_cpu(pid: int) -> float:
    """CPU seconds (user + system) of the finished children of ``pid``: for make, every recipe that has ended (venv,
    pip, migrate, load_demo), whatever else the machine was doing meanwhile."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cutime, cstime = int(fields[13]), int(fields[14])  # fields 16 and 17 of proc(5), counted after the ")"
    return (cutime + cstime) / os.sysconf("SC_CLK_TCK")


def _model_active_at(database: Path, deadline: float) -> float | None:
    """Monotonic time at which the clone's demo model v1 became active (polling its SQLite database), or None."""
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as db:
                row = db.execute("select is_active from training_modelversion where number = 1").fetchone()
            if row and row[0]:
                return time.monotonic()
        except sqlite3.Error:
            pass
        time.sleep(0.5)
    return None


def run(*, port: int, repo: Path, rev: str, no_pip_cache: bool, keep: bool) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="framescope-first-run-"))
    clone = workdir / "framescope"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(repo), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", rev], check=True)
    commit = subprocess.run(["git", "-C", str(clone), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    lines: list[tuple[float, str]] = []
    url_seen = threading.Event()
    start = time.monotonic()
    proc = subprocess.Popen(
        ["make", "run"], cwd=clone, env=_env(port=port, no_pip_cache=no_pip_cache), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip

    def read() -> None:
        for line in proc.stdout:
            lines.append((time.monotonic() - start, line.rstrip()))
            if URL_LINE in line:
                url_seen.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not url_seen.wait(DEADLINE):
            raise SystemExit("make run printed no URL in time:\n" + "\n".join(text for _, text in lines[-30:]))
        url_at = next(t for t, text in lines if URL_LINE in text)
        cpu_before_run_all = _children_cpu(proc.pid)
        cpu_until_url = cpu_before_run_all + _session_cpu(proc.pid)
        first, first_status = _get(port, "/")
        second, _ = _get(port, "/")
        active = _model_active_at(clone / "var" / "framescope.sqlite3", time.monotonic() + 300)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        if not keep:
            subprocess.run(["rm", "-rf", str(workdir)], check=False)
    starts = {name: next((t for t, text in lines if fragment in text), None) for name, fragment in PHASES}
    order = [name for name, _ in PHASES] + ["url"]
    starts["url"] = url_at
    phases = {}
    for name, following in zip(order, order[1:], strict=False):
        if starts[name] is not None and starts[following] is not None:
            phases[name] = round(starts[following] - starts[name], 1)
    return {
        "bench": "first_run",
        "commit": commit.stdout.strip(),
        "url_printed_s": round(url_at, 1),
        "phases_s": phases,
        "cpu_s_before_run_all": round(cpu_before_run_all, 1),
        "cpu_s_until_url": round(cpu_until_url, 1),
        "first_page_s": round(first, 3),
        "first_page_status": first_status,
        "second_page_s": round(second, 3),
        "model_v1_active_s": round(active - start, 1) if active else None,
        "pip_cache": not no_pip_cache,
        "load_before": load_average(),
        "clone": str(clone) if keep else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8109)
    parser.add_argument("--repo", type=Path, default=ROOT)
    parser.add_argument("--rev", default="HEAD")
    parser.add_argument("--no-pip-cache", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(port=args.port, repo=args.repo, rev=args.rev, no_pip_cache=args.no_pip_cache, keep=args.keep)))


if __name__ == "__main__":
    main()
