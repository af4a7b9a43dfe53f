"""Hand-built measurements with known values, for tests that need no video."""

from __future__ import annotations

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
    )
