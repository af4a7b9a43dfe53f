"""The arena cap holds: threads that allocate at once share two glibc arenas, not one each."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROGRAM = """
import ctypes, re, sys, tempfile, threading
from reels_scripter.analysis.malloc_arenas import cap_arenas
if sys.argv[1] == "cap":
    assert cap_arenas() and cap_arenas()
barrier = threading.Barrier(8)
keep = []
def work():
    barrier.wait()
    keep.append([bytearray(50_000) for _ in range(200)])
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
with tempfile.NamedTemporaryFile() as f:
    fp = libc.fopen(f.name.encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    print(len(re.findall(r"<heap nr=", open(f.name).read())))
"""


def _arenas(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_capped_threads_share_two_arenas() -> None:
    assert _arenas("cap") <= 2
    assert _arenas("free") > 2  # without the cap the same threads take more


RELEASE = """
import sys
from reels_scripter.analysis.malloc_arenas import release_free_memory
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")
# 100 MB in blocks below glibc's mmap threshold, each followed by a small block that stays:
# freed, they cannot merge into the top of the heap, so glibc keeps them (no automatic trim)
blocks, keepers = [], []
for _ in range(1600):
    blocks.append(bytearray(64_000))
    keepers.append(bytearray(1000))  # over 512 bytes: from malloc, not pymalloc
held = rss_mb()
blocks.clear()
freed = rss_mb()
released = release_free_memory() if sys.argv[1] == "release" else False
print(held, freed, rss_mb(), released)
"""


def _release(mode: str) -> tuple[float, float, float, bool]:
    out = subprocess.run(
        [sys.executable, "-c", RELEASE, mode], capture_output=True, text=True, check=True
    )
    held, freed, after, released = out.stdout.split()
    return float(held), float(freed), float(after), released == "True"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_freed_memory_goes_back_to_the_system() -> None:
    held, freed, after, released = _release("release")
    assert freed > held - 20  # freeing alone keeps the pages
    assert released and after < freed - 60  # of the ~100 MB freed
    _, kept_freed, kept_after, _ = _release("keep")
    assert kept_after > kept_freed - 20  # without the call they stay
