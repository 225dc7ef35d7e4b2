"""`make data`: download BABE (Spinde et al. 2021) from its public repository into var/data/babe/.

The tests do not need it: tests marked ``data`` use it where it is (``FRAMESCOPE_BABE_DIR`` or var/data/babe/)
and are skipped elsewhere. BABE is licensed AGPL-3.0 and is never copied into this repository (MIT).

Nothing is half-written: the files go to a temporary folder beside the target, are checked (BABE's header,
at least one row), and only then replace the target folder in one rename.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = "https://github.com/Media-Bias-Group/Neural-Media-Bias-Detection-Using-Distant-Supervision-With-BABE"
COMMIT = "fb79f646dcabf1746f5ebedc06ed8dd61ba78188"
BASE_URL = (
    "https://raw.githubusercontent.com/Media-Bias-Group/"
    f"Neural-Media-Bias-Detection-Using-Distant-Supervision-With-BABE/{COMMIT}"
)
FILES = {"final_labels_SG2.csv": "data/final_labels_SG2.csv", "LICENSE": "LICENSE", "README.md": "README.md"}
HEADER = ["text", "news_link", "outlet", "topic", "type", "label_bias", "label_opinion", "biased_words"]
TIMEOUT = 30


class FetchError(RuntimeError):
    """The data could not be fetched or is not what was expected; the message says which and why."""


def download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310 (fixed https URL or a test's)
            return response.read()
    except urllib.error.HTTPError as exc:
        raise FetchError(f"could not download {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(
            f"could not download {url}: {reason}. `make data` needs internet access to GitHub; "
            "the tests do not need the data (data tests are skipped without it)."
        ) from exc


def check_sentences(data: bytes) -> int:
    """The number of sentences in BABE's file; FetchError if it is not BABE's format."""
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header = next(reader, [])
    if header != HEADER:
        raise FetchError(f"the downloaded file is not BABE's final_labels_SG2.csv (header {header[:8]})")
    rows = sum(1 for row in reader if row)
    if not rows:
        raise FetchError("the downloaded final_labels_SG2.csv has no rows")
    return rows


def fetch(target: Path, base_url: str = BASE_URL) -> int:
    """Download BABE into ``target`` (replaced whole, or left as it was); the number of sentences."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".babe-", dir=target.parent))
    try:
        for name, remote in FILES.items():
            (staging / name).write_bytes(download(f"{base_url}/{remote}"))
        rows = check_sentences((staging / "final_labels_SG2.csv").read_bytes())
        (staging / "SOURCE.txt").write_text(f"{REPOSITORY}\ncommit {COMMIT}\nfiles: {', '.join(FILES.values())}\n")
        if target.exists():
            old = target.with_name(f".{target.name}-old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
        return rows
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--into", type=Path, default=ROOT / "var" / "data" / "babe")
    parser.add_argument("--base-url", default=os.environ.get("FRAMESCOPE_BABE_URL", BASE_URL))
    args = parser.parse_args(argv)
    try:
        rows = fetch(args.into, args.base_url)
    except FetchError as exc:
        print(f"make data: {exc}", file=sys.stderr)
        return 2
    print(f"BABE: {rows} sentences in {args.into}/final_labels_SG2.csv")
    print(f"Licence: GNU AGPL-3.0 ({args.into}/LICENSE), from {REPOSITORY} at {COMMIT}.")
    print("Cite Spinde et al., Findings of EMNLP 2021. Do not copy the data into this repository (MIT).")
    print(f"Data tests use it from there; or point FRAMESCOPE_BABE_DIR={args.into} at it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
