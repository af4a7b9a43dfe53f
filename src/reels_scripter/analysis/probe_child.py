"""The probe's child process: one JSON request in, one JSON line out.

Started by `probe.run_child` with `python -P -c BOOTSTRAP`; it limits its own address space,
CPU time and file writes before touching the file, so a hostile or broken upload can at worst
kill this process. It imports only the stdlib, `errors`, `sniff`, `container`, `inspection` and
PyAV, without running the package `__init__` files (see BOOTSTRAP).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from reels_scripter.analysis.errors import CorruptVideoError, InputError
from reels_scripter.analysis.inspection import inspect_container

_MIB = 1024 * 1024
_MIN_PARSE_HEADROOM = 64 * _MIB

# Run by `python -c` in the child. It registers the two packages as bare namespaces so that
# importing this module does not execute `reels_scripter/__init__.py` or
# `reels_scripter/analysis/__init__.py` (see the module docstring for why).
BOOTSTRAP = """\
import sys, types
for _name, _dir in (("reels_scripter", sys.argv[1]), ("reels_scripter.analysis", sys.argv[2])):
    _m = types.ModuleType(_name)
    _m.__path__ = [_dir]
    sys.modules[_name] = _m
from reels_scripter.analysis.probe_child import child_main
sys.exit(child_main(sys.argv[3]))
"""


def child_main(request_json: str) -> int:
    """Entry point of the probe child: one JSON request in, one JSON line out."""
    request = json.loads(request_json)
    try:
        # Imported before the memory limit: trusted code with a fixed cost.
        import av  # noqa: F401
    except Exception as e:
        # The server, not the upload, is at fault; say so rather than call the file corrupt.
        sys.stdout.write(json.dumps({"unavailable": f"{type(e).__name__}: {e}"}) + "\n")
        return 0
    try:
        _limit_resources(int(request["memory_mb"]), float(request["timeout"]))
        reply: dict[str, Any] = {
            "facts": inspect_container(
                request["path"],
                request["family"],
                int(request["max_pixels"]),
                float(request["max_duration"]),
            )
        }
    except InputError as e:
        reply = {"code": e.code, "message": e.message, "params": e.params}
    except MemoryError:
        reply = {
            "code": CorruptVideoError.code,
            "message": "The video file could not be read: it needs more memory than allowed.",
        }
    except Exception:
        reply = {
            "code": CorruptVideoError.code,
            "message": "The video file is damaged and could not be read.",
        }
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
    return 0


def _limit_resources(memory_mb: int, timeout: float) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: the wall-clock timeout still applies
        return
    # The interpreter and FFmpeg's libraries already map ~120 MB before any parsing; a limit
    # below that would fail every file and blame the upload, so keep room for parsing on top.
    address_space = max(memory_mb * _MIB, _current_address_space() + _MIN_PARSE_HEADROOM)
    limits = [
        (resource.RLIMIT_AS, address_space),
        # the parent kills us on wall-clock time; this catches a spin the parent cannot see
        (resource.RLIMIT_CPU, math.ceil(timeout) + 1),
        # a probe writes nothing, and a crash should not leave a core dump of user data
        (resource.RLIMIT_FSIZE, 0),
        (resource.RLIMIT_CORE, 0),
    ]
    for which, value in limits:
        try:
            _soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def _current_address_space() -> int:
    try:
        with Path("/proc/self/status").open(encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0
