"""Upload preview of a big CSV: from choosing the file on the admin's upload page to its first rows on screen.

    .venv/bin/python -m bench.upload_preview_bench [--size-mib 1024] [--runs 5] [--database-url postgres://…]

Writes a semicolon-separated CSV with a UTF-8 BOM (BABE's layout, ~3 KB articles) of the given size into a temp dir,
serves Framescope with gunicorn, and in headless Chromium sets the file on the upload page's input and waits for
the 10th preview row (the page sends only the file's first 256 KiB). Also times ``import_preview`` alone on a head
read from the file, and the same preview on a head of the whole file's size for comparison of what reading all of
it would cost. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench._django import ROOT, django_setup, ensure_database
from bench._processes import load_average, start_gunicorn

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/fs_bench_upload_preview"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
USER, PASSWORD = "bench-preview", "bench-preview-pw-1"


def write_csv(path: Path, size: int) -> int:
    """A ``;``-separated CSV with a BOM, ``size`` bytes or a little more; returns its size."""
    rng = random.Random(5)
    words = ["".join(rng.choice("abcdefghijklmnoprstuvwy") for _ in range(rng.randint(2, 9))) for _ in range(5000)]
    rows = []
    for i in range(300):
        text = " ".join(rng.choices(words, k=450)).replace(" a ", ", a ")
        rows.append(f"{text};https://news.example/{i};Outlet {i % 7};topic{i % 5};Biased\n")
    block = "".join(rows).encode("utf-8")
    with path.open("wb") as handle:
        handle.write("\ufefftext;news_link;outlet;topic;label_bias\n".encode())
        while handle.tell() < size:
            handle.write(block)
        return handle.tell()


def browser_times(*, port: int, path: Path, runs: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        base = f"http://127.0.0.1:{port}"
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=username]", USER)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        for _ in range(runs):
            page.goto(f"{base}/admin/corpus/importbatch/upload/")
            started = time.perf_counter()
            page.set_input_files("input[name=file]", str(path))
            page.locator("#preview-rows tbody tr").nth(9).wait_for(timeout=60_000)
            times.append(time.perf_counter() - started)
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=DEFAULT_DB)
    args = parser.parse_args()
    ensure_database(args.database_url)
    data_dir = ROOT / "var" / "bench-upload-preview"
    django_setup(args.database_url, data_dir)
    from django.contrib.auth import get_user_model

    from annotator.corpus.importing.preview import PREVIEW_HEAD_BYTES, import_preview

    if not get_user_model().objects.filter(username=USER).exists():
        get_user_model().objects.create_superuser(USER, f"{USER}@example.org", PASSWORD)
    load_before = load_average()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "corpus.csv"
        size = write_csv(path, args.size_mib * 1024 * 1024)
        in_process = []
        for _ in range(args.runs):
            started = time.perf_counter()
            with path.open("rb") as handle:
                head = handle.read(PREVIEW_HEAD_BYTES)
            preview = import_preview(head=head, name=path.name)
            in_process.append(time.perf_counter() - started)
        assert preview.delimiter == ";" and len(preview.rows) == 10, preview
        env = {**os.environ, "DATABASE_URL": args.database_url, "FRAMESCOPE_DATA_DIR": str(data_dir), "DEBUG": "0"}
        server, port = start_gunicorn(env=env, workers=2)
        try:
            browser = browser_times(port=port, path=path, runs=args.runs)
        finally:
            server.terminate()
            server.wait()
    print(
        json.dumps(
            {
                "bench": "upload_preview",
                "file_bytes": size,
                "head_bytes": PREVIEW_HEAD_BYTES,
                "runs": args.runs,
                "browser_s": {"median": round(statistics.median(browser), 3), "max": round(max(browser), 3)},
                "preview_function_s": {"median": round(statistics.median(in_process), 4)},
                "load_before": load_before,
                "load_after": load_average(),
            }
        )
    )


if __name__ == "__main__":
    main()
