"""How `analyze` runs: the order of the stages and the threads they run on.

Order of work, chosen for wall time on a small (2-core) machine:
1. `probe` validates the file in its sandboxed child (started by `analyze` before this
   module is even imported; skipped when the caller hands in a `ProbedVideo`) while the
   speech models load in a thread (they read no untrusted bytes);
2. then, at once: the video decode (its own thread) feeding every visual measurement (this
   thread: shots, shot visuals, the on-screen text presence test), the reading of captions
   (a thread; ONNX releases the GIL), the audio decode followed by voice activity, language
   identification and speech recognition (a thread; CTranslate2 releases the GIL), and the
   SHA-256 of the file (a thread; hashlib releases the GIL). Once speech recognition is done
   the decoder and the visual measures have both cores to themselves;
3. audio facts and hook facts, which need the transcript, take a few milliseconds at the end.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.audio import DecodedAudio, audio_facts, decode_audio
from reels_scripter.analysis.hook import hook_facts
from reels_scripter.analysis.malloc_arenas import release_free_memory
from reels_scripter.analysis.models import (
    AnalysisOptions,
    AudioFacts,
    CameraFacts,
    Measurements,
    Notice,
    OnscreenText,
    ProbeInfo,
    SceneColour,
    SceneFacts,
    Transcript,
)
from reels_scripter.analysis.onscreen_text import (
    OcrCollector,
    OnscreenTextConsumer,
    PpOcrReader,
    texts_in,
)
from reels_scripter.analysis.progress import Progress, ProgressCallback
from reels_scripter.analysis.shot_visuals import ShotVisuals, ShotVisualsConsumer
from reels_scripter.analysis.speech_stage import SpeechModels, SpeechOutcome, listen
from reels_scripter.analysis.video import measure_video

# Whisper gets one core and the video decode (slice-threaded, so in practice one thread for
# phone H.264) the other: on two cores that split beat frame-threaded decoding, and a tiny
# model gains little from a second thread.
DEFAULT_WHISPER_THREADS = 1
ONSCREEN_TEXT_UNREAD = "onscreen_text_unread"
# After the hook window, on-screen text is sampled this often; a caption is read once two
# samples agree (see `OcrCollector.confirm_sightings`), so one shown for 1 s is still read.
ONSCREEN_TEXT_INTERVAL = 0.5


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, name: str, started: float) -> None:
        self.set(name, time.perf_counter() - started)

    def set(self, name: str, seconds: float) -> None:
        with self._lock:
            self.timings[name] = round(seconds, 3)


def _speech_job(
    path: Path,
    info: ProbeInfo,
    options: AnalysisOptions,
    models: Future[SpeechModels] | None,
    report: Progress,
    timer: _Timer,
    cancelled: threading.Event,
) -> tuple[DecodedAudio | None, SpeechOutcome | None, AudioFacts]:
    """The sound track: decode, speech, then the audio facts (loudness, rhythm), which need
    only the track and the voice spans: done here, beside the video decode, not after it
    (0.04-0.05 CPU-s on the 30 s bench reel)."""
    report("speech", 0.0)  # named from the start (a first job loads its models here)
    started, cpu = time.perf_counter(), time.thread_time()
    audio = decode_audio(path, info, options.max_pixels)
    timer.add("audio_decode", started)
    timer.set("cpu_audio_decode", time.thread_time() - cpu)
    outcome = None
    if audio is None or models is None:
        report("speech", 1.0)
    else:
        started = time.perf_counter()
        outcome = listen(
            audio.samples, info.duration, models.result(), report.stage("speech"), cancelled
        )
        timer.add("speech", started)
        for name, seconds in outcome.cpu.items():
            timer.set(f"cpu_{name}", seconds)
    started, cpu = time.perf_counter(), time.thread_time()
    voice_spans = list(outcome.presence.spans) if outcome is not None else []
    untranscribed = 0.0
    if outcome is not None and outcome.coverage is not None:
        untranscribed = outcome.coverage.speech_seconds - outcome.coverage.transcribed_seconds
    facts = audio_facts(audio, info.duration, voice_spans, untranscribed)
    timer.add("audio", started)
    timer.set("cpu_audio_facts", time.thread_time() - cpu)
    return audio, outcome, facts


VISUAL_CHANGE_STEP = 0.5


def visual_change(
    times: npt.NDArray[np.float64], motion: npt.NDArray[np.float64], duration: float
) -> list[float]:
    """The strongest frame-to-frame change in each VISUAL_CHANGE_STEP of the reel."""
    bins = max(1, math.ceil(duration / VISUAL_CHANGE_STEP))
    out = np.zeros(bins)
    if len(times):
        index = np.clip((times / VISUAL_CHANGE_STEP).astype(int), 0, bins - 1)
        np.maximum.at(out, index, motion)
    return [round(float(v), 4) for v in out]


def _with_visuals(
    scene: SceneFacts, visuals: ShotVisuals | None, onscreen: list[OnscreenText]
) -> SceneFacts:
    update: dict[str, object] = {"onscreen_text": texts_in(onscreen, scene.start, scene.end)}
    if visuals is not None:
        update["camera"] = CameraFacts.model_validate(visuals.camera, from_attributes=True)
        update["colours"] = [
            SceneColour.model_validate(x, from_attributes=True) for x in visuals.colours
        ]
        update["contrast"] = visuals.contrast
    return scene.model_copy(update=update)


def run(
    path: Path,
    options: AnalysisOptions,
    progress: ProgressCallback | None,
    probing: Future[tuple[ProbeInfo, float]],
    started: float,
    known_sha256: str | None = None,
    models: Future[SpeechModels] | None = None,
) -> Measurements:
    """See `reels_scripter.analysis.analyze`; `probing` gives the probe's facts (already
    running in its child, or already known), `models` the speech models if their loading
    has already started (`analysis.begin`)."""
    report = Progress(progress, weights=None)
    timer = _Timer()
    threads = options.whisper_threads or DEFAULT_WHISPER_THREADS
    # Set when the video stage fails, so the speech thread stops instead of finishing work
    # nobody will read while the pool waits for it.
    cancelled = threading.Event()

    with (
        ThreadPoolExecutor(max_workers=4, thread_name_prefix="analyze") as pool,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocr") as ocr_pool,
    ):
        if models is None and options.transcribe:
            models = pool.submit(
                SpeechModels,
                options.whisper_model,
                options.model_cache_dir,
                threads,
                pool,
                timer.add,
            )

        info, probe_seconds = probing.result()
        timer.timings["probe"] = round(probe_seconds, 3)
        report("probe", 1.0)

        hash_future = None if known_sha256 else pool.submit(_sha256, path)
        speech_future = None
        if info.has_audio:
            speech_future = pool.submit(
                _speech_job, path, info, options, models, report, timer, cancelled
            )
        else:
            report("speech", 1.0)
            if models is not None:
                models.result()  # a broken model setup fails the same way with or without audio

        visuals = ShotVisualsConsumer()
        ocr = None
        if options.read_onscreen_text:
            ocr = OnscreenTextConsumer(
                OcrCollector(
                    reader=PpOcrReader.shared(),
                    executor=ocr_pool,
                    hook_window=options.hook_window,
                    interval_after=ONSCREEN_TEXT_INTERVAL,
                    confirm_sightings=2,
                )
            )
        t0, cpu0 = time.perf_counter(), time.thread_time()
        report("video", 0.0)
        try:
            video = measure_video(
                path,
                info,
                options,
                report.stage("video"),
                consumers=[visuals] if ocr is None else [visuals, ocr],
            )
        except BaseException:
            cancelled.set()
            raise
        timer.add("video", t0)
        timer.set("cpu_video_measures", time.thread_time() - cpu0)
        timer.set("cpu_video_decoder", video.decoder_cpu)
        if ocr is not None:
            ocr.clip_to_shots(video.cuts)
            timer.set("cpu_onscreen_text_read", ocr.collector.stats.ocr_cpu_seconds)
            timer.set("cpu_onscreen_text_presence", ocr.collector.stats.presence_cpu_seconds)

        if speech_future is not None:
            if not speech_future.done():
                report.resume("speech")  # the frames are done: name what is still running
            audio, outcome, facts = speech_future.result()
        else:
            audio, outcome, facts = None, None, audio_facts(None, info.duration)
        sha256 = hash_future.result() if hash_future else str(known_sha256)

    t0 = time.perf_counter()
    report("audio", 0.0)
    transcript = outcome.transcript if outcome is not None else Transcript()
    voice_spans = list(outcome.presence.spans) if outcome is not None else []
    onscreen = ocr.spans if ocr is not None else []
    hook = hook_facts(
        options.hook_window,
        transcript,
        video.cuts,
        video.frame_times,
        video.frame_motion,
        audio.samples if audio is not None else None,
        voice_spans,
        onscreen,
    )
    scenes = [_with_visuals(s, visuals.visuals.get(s.index), onscreen) for s in video.scenes]
    timer.add("hook", t0)
    report("audio", 1.0)

    notices = list(video.notices)
    if audio is not None and audio.notice is not None:
        notices.append(audio.notice)
    if outcome is not None:
        notices.extend(outcome.notices)
    if ocr is not None and ocr.collector.stats.unread_captions:
        unread = ocr.collector.stats.unread_captions
        notices.append(
            Notice.of(
                ONSCREEN_TEXT_UNREAD,
                f"{unread} on-screen caption(s) found but not read (the bundled OCR models "
                "read Latin scripts, Chinese and Japanese; not Cyrillic).",
                count=unread,
            )
        )
    timer.add("total", started)
    release_free_memory()  # a worker starts its next job from what is still in use
    return Measurements(
        probe=info,
        scenes=scenes,
        transcript=transcript,
        audio=facts,
        hook=hook,
        sha256=sha256,
        timings=timer.timings,
        notices=notices,
        onscreen_text=onscreen,
        voice_spans=voice_spans,
        speech_model_reason=outcome.reason if outcome is not None else None,
        visual_change=visual_change(video.frame_times, video.frame_motion, info.duration),
        visual_change_step=VISUAL_CHANGE_STEP,
    )
