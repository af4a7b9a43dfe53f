"""CPU seconds of each new measurement stage on a 30 s 1080x1920 reel (one Whisper thread).

Each stage alone, one after another (`make bench` reports them as the engine runs them,
overlapped); run it by hand:
    PYTHONPATH=tests .venv/bin/python bench/bench_measure_stages.py [--voice es|en-us]
The reel: a camera pan with cuts every 8 s, a caption in the hook and one later, and espeak
speech in the chosen language. Prints CPU seconds (process time; stages run one after another)
per stage and the WER.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import av
import numpy as np

from reels_scripter.analysis.audio import decode_audio
from reels_scripter.analysis.loudness import measure_loudness
from reels_scripter.analysis.models import Transcript
from reels_scripter.analysis.onscreen_text import OcrCollector, PpOcrReader
from reels_scripter.analysis.pixels import plane_view
from reels_scripter.analysis.probe import probe
from reels_scripter.analysis.shot_visuals import ShotVisualsCollector
from reels_scripter.analysis.speech import load_model, resolve_model, transcribe
from reels_scripter.analysis.speech_policy import detect_language, plan_speech
from reels_scripter.analysis.speech_window import first_window, reusing
from reels_scripter.analysis.voice_activity import detect_speech
from reels_scripter.analysis.whisper_base import bundled_base
from support.reelgen import SPEECH_TEXTS, make_reel, wer

T = TypeVar("T")
CUTS = (8.0, 16.0, 24.0)


def cpu(label: str, fn: Callable[[], T]) -> T:
    # process time: CTranslate2 and the decoder work in threads of their own
    started, wall = time.process_time(), time.perf_counter()
    out = fn()
    used, took = time.process_time() - started, time.perf_counter() - wall
    print(f"{label:38s} {used:6.3f} CPU-s {took:6.3f} s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--voice", default="es")
    args = parser.parse_args()
    key = args.voice.split("-")[0]
    tmp = Path(tempfile.mkdtemp())
    reel = make_reel(
        tmp / "reel.mp4",
        duration=30.0,
        cuts=CUTS,
        width=1080,
        height=1920,
        camera="pan",
        audio="espeak",
        speech_voice=args.voice,
        speech_text=SPEECH_TEXTS[key],
        speech_offset=0.5,
        audio_channels=2,
        captions=[(0.0, 3.0, "3 TRICKS"), (10.0, 14.0, "WAIT FOR IT")],
        extra_options={"preset": "veryfast", "crf": "23"},
    )
    base_choice = cpu("whisper base: join+verify+int8 (once)", lambda: bundled_base(tmp / "m"))
    assert base_choice is not None
    from reels_scripter.analysis import whisper_base

    whisper_base._verified.clear()
    cpu("whisper base: verify cached copy", lambda: bundled_base(tmp / "m"))
    base = cpu("whisper base int8: load", lambda: load_model(base_choice, 1))
    tiny_choice = resolve_model(None)
    tiny = cpu("tiny.en: load", lambda: load_model(tiny_choice, 1))
    reader = PpOcrReader()
    cpu("ocr: sessions + first call", reader.warm_up)

    audio = cpu("audio decode (16 kHz mono)", lambda: decode_audio(reel, probe(reel), 4096 * 2304))
    assert audio is not None
    samples = audio.samples
    loud = cpu("loudness (own decode + ebur128)", lambda: measure_loudness(reel))
    print("   ", loud)
    presence = cpu("voice activity (Silero)", lambda: detect_speech(samples, 30.0))
    print(f"    speech share {presence.share}")
    window = cpu("first speech window (VAD cut, mel)", lambda: first_window(base, samples))
    guess, encoded = cpu("language detection (base)", lambda: detect_language(base, window))
    print("   ", guess)
    plan = plan_speech(guess, configured=None, english=tiny_choice, multilingual=base_choice)
    assert plan is not None
    model = base if plan.model == base_choice else tiny

    def listen() -> Transcript:
        with reusing(model, window, encoded):  # the detection's encoding, reused
            return transcribe(samples, model, plan.model.label, language=plan.language)

    transcript = cpu(f"transcribe ({plan.model.label})", listen)
    print(f"    WER {wer(SPEECH_TEXTS[key], transcript.text):.3f}: {transcript.text[:80]}...")

    def video() -> tuple[OcrCollector, list[ShotVisualsCollector], int]:
        ocr = OcrCollector(reader=reader)
        shots = [ShotVisualsCollector()]
        frames = 0
        with av.open(str(reel)) as container:
            for frame in container.decode(video=0):
                frames += 1
                t = float(frame.time)
                if len(shots) <= len(CUTS) and t >= CUTS[len(shots) - 1]:
                    shots.append(ShotVisualsCollector())
                if ocr.wants(t):
                    small = frame.reformat(width=360, height=640, format="bgr24").to_ndarray()
                    ocr.offer(t, np.asarray(small, dtype=np.uint8))  # bgr24 is bytes
                shot = shots[-1]
                if shot.wants_colour(t):
                    small = frame.reformat(width=180, height=320, format="bgr24").to_ndarray()
                    shot.offer(t, np.asarray(small, dtype=np.uint8))
                elif shot.wants(t):  # gray from the decoder's Y plane, every 6th sample
                    shot.offer(
                        t, np.ascontiguousarray(plane_view(frame.planes[0], np.uint8)[::6, ::6])
                    )
        return ocr, shots, frames

    def decode_only() -> int:
        with av.open(str(reel)) as container:
            return sum(1 for _ in container.decode(video=0))

    cpu("video decode alone (1 thread)", decode_only)
    ocr, shots, _ = cpu("video decode + OCR + shot visuals", video)
    print(f"    {ocr.stats}")
    for span in ocr.finish(30.0):
        print(f"    on screen {span.start:5.2f}-{span.end:5.2f} {span.text!r}")
    results = [s.finish() for s in shots]
    for r in results:
        names = ", ".join(f"{c.name} {c.share:.0%}" for c in r.colours)
        print(f"    shot: {r.camera.move} {r.camera.direction} {r.camera.speed:.3f}/s; {names}")


if __name__ == "__main__":
    main()
