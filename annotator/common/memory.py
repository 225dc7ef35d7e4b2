"""Hand the memory a request or a task freed back to the system, so a long-lived process stays near its resting size.

glibc keeps the blocks a process frees for its own reuse instead of returning them. After a request that built large
temporary structures (the rows of 10,000 articles, a chunk of texts, a bootstrap) a web worker would keep that
high-water mark for the rest of its life: +40–70 MiB after the heaviest pages of the demo (docs/benchmarks.md,
Lean processes). ``malloc_trim(0)`` returns the free pages (a few milliseconds); it runs only after the process grew by
``GROWTH_PAGES`` since the last time, so ordinary requests pay a read of /proc/self/statm. Where the C library has
no ``malloc_trim`` (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

GROWTH_PAGES = (2 * 2**20) // os.sysconf("SC_PAGE_SIZE")  # 8 MiB


def _malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_trim = _malloc_trim()
_resting = 0  # resident pages after the last trim


def resident_pages() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def release_freed_memory(**_signal_kwargs) -> None:
    """Return freed heap pages to the system if the process grew by GROWTH_PAGES since the last call that did."""
    global _resting
    if _trim is None:
        return
    now = resident_pages()
    if now and now - _resting >= GROWTH_PAGES:
        _trim(0)
        _resting = resident_pages()
