"""The bundled multilingual Whisper base: joined once, verified against pinned hashes, int8."""

from __future__ import annotations

import hashlib
import io
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from reels_scripter.analysis import whisper_base
from reels_scripter.analysis.ct2_int8 import Ct2FormatError, quantize_model_bin
from reels_scripter.analysis.errors import SpeechModelError

pytestmark = pytest.mark.skipif(
    whisper_base.package_files() is None, reason="offline-models extra not installed"
)


@pytest.fixture(autouse=True)
def _forget_verified() -> None:
    whisper_base._verified.clear()


def test_prepare_joins_verifies_and_converts_once(tmp_path: Path) -> None:
    model_dir = whisper_base.prepare_base(tmp_path)
    assert model_dir == tmp_path / whisper_base.INT8_DIR
    model = model_dir / "model.bin"
    assert hashlib.sha256(model.read_bytes()).hexdigest() == whisper_base.INT8_SHA256
    assert model.stat().st_size < whisper_base.JOINED_SIZE * 0.6  # int8: about half of fp16
    assert sorted(p.name for p in model_dir.iterdir()) == sorted(
        ["model.bin", *whisper_base.SIDE_FILES]
    )
    # nothing half-written is left next to it
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".whisper-base.lock",
        "whisper-base-ct2-int8",
    ]
    inode = model.stat().st_ino
    whisper_base._verified.clear()
    assert whisper_base.prepare_base(tmp_path) == model_dir
    assert model.stat().st_ino == inode  # verified and reused, not rebuilt

    from faster_whisper import WhisperModel

    loaded = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=1)
    assert loaded.model.is_multilingual
    choice = whisper_base.bundled_base(tmp_path)
    assert choice is not None and choice.source == str(model_dir) and choice.label == "base"


def test_float16_join_matches_the_pinned_hash(tmp_path: Path) -> None:
    model_dir = whisper_base.prepare_base(tmp_path, int8=False)
    model = model_dir / "model.bin"
    assert model.stat().st_size == whisper_base.JOINED_SIZE
    assert hashlib.sha256(model.read_bytes()).hexdigest() == whisper_base.JOINED_SHA256


def test_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    model = whisper_base.prepare_base(tmp_path) / "model.bin"
    with model.open("r+b") as f:
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    whisper_base._verified.clear()
    assert not whisper_base.verify_model_dir(model.parent, whisper_base.INT8_SHA256)
    whisper_base.prepare_base(tmp_path)
    assert hashlib.sha256(model.read_bytes()).hexdigest() == whisper_base.INT8_SHA256


def test_parts_that_do_not_match_the_pin_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = whisper_base.package_files()
    assert real is not None
    fake = tmp_path / "fake"
    fake.mkdir()
    parts = [fake / "model.bin.part1", fake / "model.bin.part2"]
    parts[0].write_bytes(b"\0" * 1000)
    parts[1].write_bytes(b"\1" * 1000)
    monkeypatch.setattr(whisper_base, "package_files", lambda: (parts, real[1]))
    cache = tmp_path / "cache"
    with pytest.raises(SpeechModelError, match="pinned SHA-256"):
        whisper_base.prepare_base(cache)
    assert [p.name for p in cache.iterdir()] == [".whisper-base.lock"]  # no model, no temp


def test_missing_wheels_say_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(whisper_base, "package_files", lambda: None)
    assert whisper_base.bundled_base(tmp_path) is None
    with pytest.raises(SpeechModelError, match="offline-models"):
        whisper_base.prepare_base(tmp_path)


def test_concurrent_workers_build_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[bool] = []
    real_build = whisper_base._build

    def counting(cache_root: Path, int8: bool) -> Path:
        builds.append(int8)
        return real_build(cache_root, int8)

    monkeypatch.setattr(whisper_base, "_build", counting)
    results: list[Path] = []
    start = threading.Barrier(3)

    def worker() -> None:
        start.wait()
        results.append(whisper_base.prepare_base(tmp_path))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [tmp_path / whisper_base.INT8_DIR] * 3
    assert builds == [True]


# --- the int8 re-quantizer on a small hand-made model.bin ----------------------------------


def _string(value: str) -> bytes:
    raw = value.encode() + b"\0"
    return struct.pack("<H", len(raw)) + raw


def _model_bin(variables: list[tuple[str, np.ndarray]], version: int = 6) -> bytes:
    dtype_ids = {"float32": 0, "int8": 1, "float16": 4}
    out = (
        struct.pack("<I", version) + _string("WhisperSpec") + struct.pack("<II", 3, len(variables))
    )
    for name, value in variables:
        out += _string(name) + struct.pack("<B", value.ndim)
        out += struct.pack("<" + "I" * value.ndim, *value.shape)
        out += struct.pack("<BI", dtype_ids[str(value.dtype)], value.nbytes) + value.tobytes()
    return (
        out
        + struct.pack("<I", 1)
        + _string("decoder/embeddings/weight")
        + _string("decoder/projection/weight")
    )


def _parse(data: bytes) -> dict[str, np.ndarray]:
    dtypes = {0: np.float32, 1: np.int8, 4: np.float16}
    f = io.BytesIO(data)

    def string() -> str:
        (n,) = struct.unpack("<H", f.read(2))
        return f.read(n)[:-1].decode()

    f.read(4)
    string()
    _, count = struct.unpack("<II", f.read(8))
    out = {}
    for _ in range(count):
        name = string()
        (rank,) = struct.unpack("<B", f.read(1))
        shape = struct.unpack("<" + "I" * rank, f.read(4 * rank))
        dtype, nbytes = struct.unpack("<BI", f.read(5))
        out[name] = np.frombuffer(f.read(nbytes), dtypes[dtype]).reshape(shape)
    (aliases,) = struct.unpack("<I", f.read(4))
    assert aliases == 1 and string() == "decoder/embeddings/weight"
    return out


def test_quantizer_writes_per_row_int8_and_keeps_the_rest() -> None:
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(8, 16)).astype(np.float16)
    weight[3] = 0  # an all-zero row must not divide by zero
    conv = rng.normal(size=(4, 3, 5)).astype(np.float16)
    norm = rng.normal(size=(16,)).astype(np.float16)
    src = _model_bin(
        [("decoder/projection/weight", weight), ("encoder/conv1/weight", conv), ("ln/gamma", norm)]
    )
    dst = io.BytesIO()
    assert quantize_model_bin(io.BytesIO(src), dst) == 2
    out = _parse(dst.getvalue())
    assert out["ln/gamma"].dtype == np.float16 and np.array_equal(out["ln/gamma"], norm)
    for name, original in (("decoder/projection/weight", weight), ("encoder/conv1/weight", conv)):
        q, scale = out[name], out[name + "_scale"]
        assert q.dtype == np.int8 and q.shape == original.shape and scale.shape == (len(original),)
        rows = original.reshape(len(original), -1).astype(np.float32)
        restored = q.reshape(len(q), -1) / scale[:, None]
        step = np.abs(rows).max(axis=1, keepdims=True) / 127
        assert np.all(np.abs(restored - rows) <= step / 2 + 1e-6)
        assert np.all(
            np.abs(q.reshape(len(q), -1)).max(axis=1)[np.abs(rows).max(axis=1) > 0] == 127
        )


@pytest.mark.parametrize(
    "damage",
    ["version", "truncated", "quantized", "trailing"],
)
def test_quantizer_refuses_what_it_does_not_understand(damage: str) -> None:
    weight = np.ones((2, 2), np.float32)
    variables: list[tuple[str, np.ndarray]] = [("a/weight", weight)]
    if damage == "quantized":
        variables.append(("a/weight_scale", np.ones(2, np.float32)))
    data = _model_bin(variables, version=99 if damage == "version" else 6)
    if damage == "truncated":
        data = data[:-20]
    if damage == "trailing":
        data += b"x"
    with pytest.raises(Ct2FormatError):
        quantize_model_bin(io.BytesIO(data), io.BytesIO())


def test_a_stamp_skips_the_hash_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = whisper_base.prepare_base(tmp_path)
    whisper_base._verified.clear()
    assert whisper_base.verify_model_dir(model_dir, whisper_base.INT8_SHA256)  # hashes, stamps
    hashed: list[Path] = []
    real = whisper_base.sha256_of

    def counted_sha256_of(path: Path) -> str:
        hashed.append(path)
        return real(path)

    monkeypatch.setattr(whisper_base, "sha256_of", counted_sha256_of)
    whisper_base._verified.clear()  # a new process: only the stamp on disk is known
    assert whisper_base.verify_model_dir(model_dir, whisper_base.INT8_SHA256)
    assert hashed == []
    model = model_dir / "model.bin"
    with model.open("r+b") as f:  # damaged after the stamp was written
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    whisper_base._verified.clear()
    assert not whisper_base.verify_model_dir(model_dir, whisper_base.INT8_SHA256)
    assert hashed == [model]
