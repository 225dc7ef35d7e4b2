"""The processes a benchmark measures: start gunicorn on loopback, and sample CPU, memory and run-queue wait of a
process and its direct children (a gunicorn master and its workers, a Celery worker and its pool process) from /proc.
Linux only; no Django import."""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile q (0 to 100) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(
    *,
    env: dict[str, str],
    workers: int,
    threads: int = 1,
    timeout: int = 120,
    port: int | None = None,
    code_dir: Path = ROOT,
) -> tuple[subprocess.Popen, int]:
    """gunicorn serving annotator.wsgi on 127.0.0.1 (gthread workers when threads > 1); returns once /healthz is 200.

    ``code_dir``: the checkout whose code it serves (another commit's worktree for an A/B run; same venv)."""
    port = port or free_port()
    env = {**env, "PYTHONPATH": str(code_dir)}
    cmd = [
        str(Path(sys.executable).parent / "gunicorn"), "annotator.wsgi:application", "-b", f"127.0.0.1:{port}",
        "--workers", str(workers), "--timeout", str(timeout), "--log-level", "warning",
    ]  # fmt: skip
    if threads > 1:
        cmd += ["--worker-class", "gthread", "--threads", str(threads)]
    proc = subprocess.Popen(cmd, cwd=code_dir, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"gunicorn did not start on port {port}")


def _stat(entry: Path) -> tuple[str, list[str]] | None:
    """(command name, the fields after it) of /proc/<pid>/stat; None once the process is gone."""
    try:
        stat = (entry / "stat").read_text()
    except OSError:
        return None
    name, rest = stat.split("(", 1)[1].rsplit(")", 1)
    return name, rest.split()


def _processes() -> Iterator[tuple[Path, str, list[str]]]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(entry)) is not None:
            yield entry, *stat


def _tree(pid: int) -> Iterator[tuple[Path, list[str]]]:
    """The process and its direct children (field 1 after the name is the parent pid)."""
    for entry, _, fields in _processes():
        if int(entry.name) == pid or int(fields[1]) == pid:
            yield entry, fields


def _cpu(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its direct children."""
    return sum(_cpu(fields) for _, fields in _tree(pid))


def rss_mib(pid: int) -> float:
    """Resident memory of a process plus its direct children, in MiB."""
    total_kib = 0
    for entry, _ in _tree(pid):
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        rss = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), "0")
        total_kib += int(rss)
    return total_kib / 1024


def runqueue_wait_seconds(pid: int) -> float:
    """Seconds a process and its direct children spent runnable but waiting for a CPU (/proc/<pid>/schedstat)."""
    total = 0.0
    for entry, _ in _tree(pid):
        try:
            total += int((entry / "schedstat").read_text().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            continue
    return total


def postgres_cpu_seconds() -> float:
    """CPU seconds of every postgres process (the server shares the machine's cores with what is measured)."""
    return sum(_cpu(fields) for _, name, fields in _processes() if name.startswith("postgres"))


def ab_sides(*, compare_with: str | None, rounds: int) -> list[tuple[str, Path]]:
    """The (name, code dir) runs of a benchmark: this checkout alone, or alternating with ``compare_with`` (another
    commit's worktree) for ``rounds`` rounds, so a load that changes during the run falls on both sides alike."""
    if not compare_with:
        return [("this", ROOT)]
    other = Path(compare_with).resolve()
    if not (other / "annotator" / "wsgi.py").is_file():
        raise SystemExit(f"--compare-with {other}: not a Framescope checkout (no annotator/wsgi.py)")
    return [side for _ in range(rounds) for side in (("before", other), ("after", ROOT))]


def ab_latency_summary(per_side: dict[str, list[float]], cpu: dict[str, list[float]]) -> dict:
    """p50/p95/p99/max of each side's request times (ms) and its server CPU per request; with two sides (an A/B run
    of :func:`ab_sides`), their keys are prefixed ``before_``/``after_`` and ``p95_after_over_before`` compares them
    (``p95_ms`` is then the after side's)."""
    result: dict = {}
    for name, timings in per_side.items():
        prefix = "" if len(per_side) == 1 else f"{name}_"
        result.update({
            f"{prefix}requests": len(timings),
            f"{prefix}p50_ms": round(statistics.median(timings), 2),
            f"{prefix}p95_ms": round(percentile(timings, 95), 2),
            f"{prefix}p99_ms": round(percentile(timings, 99), 2),
            f"{prefix}max_ms": round(max(timings), 2),
            f"{prefix}server_cpu_ms_per_request": round(statistics.mean(cpu[name]), 2),
        })  # fmt: skip
    if len(per_side) == 2:
        result["p95_after_over_before"] = round(result["after_p95_ms"] / result["before_p95_ms"], 3)
        result["p95_ms"] = result["after_p95_ms"]
    return result
