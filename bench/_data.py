"""Where the benchmarks find the real BABE data set (never in this repository: BABE is AGPL-3.0)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BABE_NAMES = ("final_labels_SG2.train.csv", "final_labels_SG2.csv")


def babe_csv() -> Path:
    """The BABE sentence file: in FRAMESCOPE_BABE_DIR, else ../shared/data/babe, else var/data/babe (`make data`).

    The training subset (``.train.csv``) is preferred where it exists. A path that does not exist is returned as
    the first candidate, so the benchmark's own reader says which file is missing.
    """
    configured = os.environ.get("FRAMESCOPE_BABE_DIR")
    folders = (
        [Path(configured)] if configured else [ROOT.parent / "shared" / "data" / "babe", ROOT / "var" / "data" / "babe"]
    )
    for folder in folders:
        for name in BABE_NAMES:
            if (folder / name).is_file():
                return folder / name
    return folders[0] / BABE_NAMES[0]
