"""Stream 1,000,000 span-like rows through jsonl_streaming_response over real HTTP and watch memory stay flat.

    .venv/bin/python -m bench.jsonl_export_bench [--rows 1000000] [--baseline-rows 200000] [--format jsonl|csv]

A Django WSGI server runs in a thread of this process and serves one streaming export built from a generator
of synthetic span dicts (no database: the cost measured is ours, not the DB's). The client reads the response
over a socket in 64 KiB pieces and counts lines. Reported: rows/s, MB/s, and the process's resident memory
(RSS) sampled along the way, against a baseline that renders a smaller list in one piece as a normal DRF
response would.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import os
import resource
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler  # noqa: E402
from django.http import HttpRequest, StreamingHttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

from annotator.api.renderers import JSONLinesRenderer, streaming_export_response  # noqa: E402

LABELS = [{"id": i, "name": name} for i, name in enumerate(["Loaded language", "Euphemism", "Labelling"], 1)]
WORDS = ["rioters", "regime", "freedom fighters", "so-called", "crackdown", "terrorists", "liberate"]
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
ROWS = {"n": 0}


def span_rows(n: int) -> Iterator[dict]:
    """Synthetic span-like dicts, shaped like the span export (nested label, text, offsets, timestamps)."""
    for i in range(n):
        word = WORDS[i % len(WORDS)]
        start = (i * 37) % 5000
        yield {
            "id": i + 1,
            "article_id": i // 8 + 1,
            "project": "study",
            "layer": "annotator",
            "annotator": f"annotator{i % 5}",
            "label": LABELS[i % 3],
            "start_char": start,
            "end_char": start + len(word),
            "text": word,
            "note": "" if i % 10 else "=checked with guidelines §3",
            "created_at": (BASE_TIME + timedelta(seconds=i)).isoformat(),
        }


def export_view(request: HttpRequest) -> StreamingHttpResponse:
    return streaming_export_response(span_rows(ROWS["n"]), fmt=request.GET.get("format", "jsonl"), filename_stem="s")


urlpatterns = [path("export/", export_view)]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stream_once(port: int, n_rows: int, fmt: str) -> dict:
    ROWS["n"] = n_rows
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    gc.collect()
    rss_before = rss_mb()
    samples: list[float] = []
    started = time.perf_counter()
    conn.request("GET", f"/export/?format={fmt}")
    response = conn.getresponse()
    assert response.status == 200, response.status
    lines = n_bytes = 0
    next_sample = 0
    while chunk := response.read(64 * 1024):
        n_bytes += len(chunk)
        lines += chunk.count(b"\n")
        if n_bytes >= next_sample:
            samples.append(rss_mb())
            next_sample += 16 * 1024 * 1024
    elapsed = time.perf_counter() - started
    conn.close()
    expected = n_rows + (1 if fmt == "csv" else 0)
    # CSV cells never contain newlines here, so lines == rows (+ header).
    assert lines == expected, f"got {lines} lines, expected {expected}"
    return {
        "rows": n_rows,
        "seconds": elapsed,
        "rows_per_s": n_rows / elapsed,
        "mb": n_bytes / 1e6,
        "mb_per_s": n_bytes / 1e6 / elapsed,
        "rss_before": rss_before,
        "rss_max_sampled": max(samples),
        "rss_growth": max(samples) - rss_before,
        "samples": samples,
    }


def baseline_in_memory(n_rows: int) -> dict:
    """What a plain (non-streaming) response costs: the whole list and the whole body in memory at once."""
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    rows = list(span_rows(n_rows))
    body = JSONLinesRenderer().render(rows)
    peak = rss_mb()
    elapsed = time.perf_counter() - started
    size = len(body)
    del rows, body
    gc.collect()
    return {"rows": n_rows, "seconds": elapsed, "mb": size / 1e6, "rss_growth": peak - before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=200_000)
    parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    args = parser.parse_args()
    if args.rows < 1:
        parser.error("--rows must be at least 1")

    settings.ROOT_URLCONF = __name__
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=True)
    server.set_app(WSGIHandler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    stream_once(port, 10_000, args.format)  # warm-up: imports, first request
    result = stream_once(port, args.rows, args.format)
    server.shutdown()
    print(
        f"streamed {result['rows']:,} rows as {args.format} ({result['mb']:.0f} MB) in {result['seconds']:.1f} s: "
        f"{result['rows_per_s']:,.0f} rows/s, {result['mb_per_s']:.1f} MB/s"
    )
    samples = result["samples"]
    print(
        f"RSS before {result['rss_before']:.1f} MB; sampled every 16 MB of output ({len(samples)} samples): "
        f"first {samples[0]:.1f}, middle {samples[len(samples) // 2]:.1f}, last {samples[-1]:.1f}, "
        f"max {result['rss_max_sampled']:.1f} MB -> growth {result['rss_growth']:.1f} MB"
    )
    if args.baseline_rows:
        base = baseline_in_memory(args.baseline_rows)
        print(
            f"baseline, rendered in memory: {base['rows']:,} rows ({base['mb']:.0f} MB) in {base['seconds']:.1f} s, "
            f"RSS growth {base['rss_growth']:.1f} MB"
        )
    print(f"process peak RSS {peak_rss_mb():.1f} MB")


if __name__ == "__main__":
    main()
