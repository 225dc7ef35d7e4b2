"""common.memory: a large block is mapped, and handed back when freed, even after a larger one was freed before."""

import subprocess
import sys

import pytest

from annotator.common import memory

# In a fresh interpreter: free a 4 MiB block (glibc then raises its mmap threshold to 4 MiB unless it is pinned),
# allocate 1 MiB, and print how many bytes are mapped (mallinfo2's hblkhd) while it is held.
PROBE = """
import ctypes, sys
from annotator.common.memory import fix_mmap_threshold

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "pinned":
    assert fix_mmap_threshold()
libc.free(libc.malloc(4 * 2**20))
before = libc.mallinfo2().hblkhd
block = libc.malloc(2**20)
print(libc.mallinfo2().hblkhd - before)
libc.free(block)
"""


def mapped_bytes(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return int(done.stdout)


@pytest.mark.skipif(memory._libc_function("mallinfo2") is None, reason="glibc >= 2.33 only")
def test_a_large_block_stays_mapped_once_the_threshold_is_pinned():
    assert mapped_bytes("glibc-default") == 0  # the freed 4 MiB block raised the threshold: 1 MiB came from the heap
    assert mapped_bytes("pinned") >= 2**20


def test_the_threshold_is_pinned_in_this_process():
    assert memory.fix_mmap_threshold() is (memory._libc_function("mallopt") is not None)
