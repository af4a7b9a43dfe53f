"""Factories: hand-built measurements with known values (for tests that need no video), and
submitted jobs (for tests of the job layer)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from reels_scripter.analysis.models import (
    AudioFacts,
    HookFacts,
    Measurements,
    ProbeInfo,
    SceneFacts,
    SpeechSegment,
    Transcript,
    Word,
)
from reels_scripter.config import Settings
from reels_scripter.jobs import Job, JobService
from reels_scripter.jobs.service import NewJob
from reels_scripter.storage import Storage, get_storage


def words_of(text: str, start: float, step: float = 0.3) -> list[Word]:
    out = []
    t = start
    for token in text.split():
        out.append(Word(start=round(t, 2), end=round(t + step * 0.8, 2), text=token))
        t += step
    return out


def segment(text: str, start: float, step: float = 0.3) -> SpeechSegment:
    words = words_of(text, start, step)
    return SpeechSegment(start=words[0].start, end=words[-1].end, text=text, words=words)


def measurements(
    cuts: list[float],
    duration: float,
    segments: list[SpeechSegment] | None = None,
    language: str | None = "en",
    music: bool = True,
) -> Measurements:
    bounds = [0.0, *cuts, duration]
    scenes = [
        SceneFacts(
            index=i,
            start=bounds[i],
            end=bounds[i + 1],
            brightness=0.6,
            motion=0.05,
            shot_scale="close-up" if i % 2 == 0 else "wide",
            faces=1 if i % 2 == 0 else 0,
        )
        for i in range(len(bounds) - 1)
    ]
    segments = segments or []
    words = [w for s in segments for w in (s.words or [])]
    speech_time = sum(s.end - s.start for s in segments)
    return Measurements(
        probe=ProbeInfo(
            container="mp4",
            duration=duration,
            size_bytes=1000,
            width=1080,
            height=1920,
            coded_width=1080,
            coded_height=1920,
            video_codec="h264",
            fps=30.0,
            has_audio=True,
            audio_codec="aac",
        ),
        scenes=scenes,
        transcript=Transcript(language=language if segments else None, segments=segments),
        audio=AudioFacts(
            has_audio=True,
            loudness_lufs=-16.0,
            speech_share=speech_time / duration,
            speech_seconds=speech_time,
            music=music,
            music_confidence=0.8 if music else 0.1,
            tempo_bpm=120.0 if music else None,
        ),
        hook=HookFacts(
            first_word_at=words[0].start if words else None,
            first_words=" ".join(w.text for w in words[:5]),
            cuts=sum(1 for c in cuts if c < 3.0),
            motion=0.05,
            loudness_db=-18.0,
            words_per_minute=len(words) / duration * 60 if words else None,
        ),
        sha256="ab" * 32,
        voice_spans=[(s.start, s.end) for s in segments],
    )


def submit_job(
    session: Session,
    settings: Settings,
    video: Path | bytes = b"video",
    *,
    storage: Storage | None = None,
    enqueue: Callable[[str], None] | None = None,
    owner: str | None = None,
    sha256: str | None = None,
    display_name: str | None = None,
    probe_facts: bool = True,
    callback_url: str | None = None,
) -> Job:
    """A job as the upload use case leaves it: the video in storage, the row written, the id
    queued (through `enqueue`, if given). A real reel gets its probe facts stored (set
    `probe_facts=False` for bytes that are no video); `sha256` defaults to a fresh unique one."""
    from reels_scripter.analysis.probe import probe
    from reels_scripter.pipeline import analysis_options

    storage = storage or get_storage(settings)
    if isinstance(video, bytes):
        fd, name = tempfile.mkstemp(prefix="factory-")
        os.close(fd)
        src = Path(name)
        src.write_bytes(video)
        info = None
    else:
        src = video
        info = probe(src, analysis_options(settings)) if probe_facts else None
    name = storage.new_object_name()
    storage.upload_file(src, name, info.mime_type if info else None)
    if isinstance(video, bytes):
        src.unlink()
    return JobService(session, storage, settings, enqueue).submit(
        NewJob(
            object_name=name,
            sha256=sha256 or uuid.uuid4().hex * 2,
            size_bytes=len(video) if isinstance(video, bytes) else video.stat().st_size,
            info=info,
            display_name=display_name,
            owner=owner,
            callback_url=callback_url,
            public_base_url="http://reels.test",
        )
    )
