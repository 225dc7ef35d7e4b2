"""Hand the memory a request or a task freed back to the system, so a long-lived process stays near its resting size.

glibc keeps the blocks a process frees for its own reuse instead of returning them. After a request that built large
temporary structures (the rows of 10,000 articles, a chunk of texts, a bootstrap) a web worker would keep that
high-water mark for the rest of its life: +40–70 MiB after the heaviest pages of the demo (docs/benchmarks.md,
Lean processes). ``malloc_trim(0)`` returns the free pages (a few milliseconds); it runs only after the process grew by
``GROWTH_PAGES`` since the last time, so ordinary requests pay a read of /proc/self/statm. Where the C library has
no ``malloc_trim`` (musl, macOS) this does nothing.

glibc also raises its mmap threshold each time a large block it had mapped is freed (up to 32 MiB), so after the first
big array the next ones come from the heap, and a process keeps a heap the size of its largest step: the worker
after training and scoring, +9–12 MiB idle. :func:`fix_mmap_threshold` pins the threshold at glibc's default
(128 KiB), so a block that large is mapped and returned to the system when freed (docs/benchmarks.md, Lean
processes).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

GROWTH_PAGES = (2 * 2**20) // os.sysconf("SC_PAGE_SIZE")  # 2 MiB
M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
MMAP_THRESHOLD = 128 * 1024


def _libc_function(name: str):
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), name)
    except (OSError, AttributeError):
        return None


_trim = _libc_function("malloc_trim")
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


def fix_mmap_threshold() -> bool:
    """Pin glibc's mmap threshold (which also turns off its growth); False where there is no ``mallopt``."""
    mallopt = _libc_function("mallopt")
    return bool(mallopt and mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
