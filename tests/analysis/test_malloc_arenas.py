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
