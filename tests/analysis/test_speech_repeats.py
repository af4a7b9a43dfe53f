"""A line said three times stays three times, on every run; a decoding loop does not.

The reel speaks "this one trick saves you an hour every day" three times (espeak-ng), the case
where temperature-sampled re-decoding used to give a different transcript on each run and now
and then none at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from faster_whisper.feature_extractor import FeatureExtractor

from reels_scripter.analysis import AnalysisOptions, analyze
from reels_scripter.analysis.models import SpeechSegment, Transcript, Word
from reels_scripter.analysis.speech_repeats import Run, remove_loops, repeated_runs
from reels_scripter.analysis.voice_activity import Span, detect_speech
from reels_scripter.analysis.whisper_base import package_files
from support.reelgen import espeak, make_spoken_reel, wer, words
from support.speech_samples import LINE, RATE, repeated_line

needs_models = pytest.mark.skipif(
    package_files() is None, reason="offline-models extra not installed"
)
LINE_WORDS = words(LINE)


@needs_models
@pytest.mark.slow
def test_five_runs_of_analyze_give_the_same_transcript_with_the_line_three_times(
    tmp_path: Path,
) -> None:
    path = make_spoken_reel(
        tmp_path / "r.mp4",
        "en-us",
        " ".join([LINE] * 3),
        duration=10.0,
        cuts=(5.0,),
        speech_offset=0.5,
    )
    options = AnalysisOptions(model_cache_dir=tmp_path / "models", read_onscreen_text=False)
    transcripts = {analyze(path, options).transcript.model_dump_json() for _ in range(5)}
    assert len(transcripts) == 1, transcripts
    text = Transcript.model_validate_json(transcripts.pop()).text
    # the line, three times, each time the same words, each within a word of the truth
    # (espeak's "an hour" is heard as "a hour")
    heard = words(text)
    assert repeated_runs(heard) == [Run(start=0, unit=len(LINE_WORDS), count=3)], text
    assert wer(LINE, " ".join(heard[: len(LINE_WORDS)])) <= 1 / len(LINE_WORDS), text
    # and from fresh processes, as `reels-scripter analyze` runs: the same words and times
    cli = Path(sys.executable).parent / "reels-scripter"
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "AI_PROVIDER": "local"}
    runs = []
    for k in range(2):
        out = tmp_path / f"cli{k}.json"
        subprocess.run([cli, "analyze", "-q", "-o", out, path], env=env, check=True)
        result = json.loads(out.read_text())
        runs.append(json.dumps([result["original"], result["timeline"]["speech"]]))
        assert result["original"]["transcription"] == text
    assert runs[0] == runs[1]


def test_repeated_runs_find_the_longest_repetition_of_six_words_or_more() -> None:
    line = ["this", "one", "trick", "saves", "you", "time"]
    tokens = ["so", *line, *line, *line, "follow", "very", "very", "good"]
    assert repeated_runs(tokens) == [Run(start=1, unit=6, count=3)]
    assert repeated_runs(["very", "very", "good"]) == []  # ordinary speech is left alone
    assert repeated_runs(["la"] * 8) == [Run(start=0, unit=1, count=8)]


def _segments(spans: list[tuple[float, float]], text: list[str]) -> list[SpeechSegment]:
    """One segment per occurrence of `text`, its words spread evenly over the span."""
    out = []
    for start, end in spans:
        step = (end - start) / len(text)
        ws = [
            Word(start=start + i * step, end=start + (i + 1) * step, text=t)
            for i, t in enumerate(text)
        ]
        out.append(SpeechSegment(start=start, end=end, text=" ".join(text), words=ws))
    return out


def _occurrences(samples: np.ndarray, count: int) -> list[tuple[float, float]]:
    """The voice-activity spans of `samples`, one per spoken line."""
    spans = list(detect_speech(samples).spans)
    assert len(spans) == count, spans
    return spans


def _line_once_then_silence(
    seconds: int,
) -> tuple[np.ndarray, tuple[Span, ...], Span]:
    """LINE said once after 0.5 s of silence, then `seconds` of silence (room for a decoder to
    invent repetitions): the samples, their voice-activity spans and where the speech is."""
    once = espeak(LINE, "en-us", RATE)
    samples = np.concatenate(
        [np.zeros(RATE // 2, np.float32), once, np.zeros(seconds * RATE, np.float32)]
    )
    speech = detect_speech(samples).spans
    return samples, speech, (speech[0][0], speech[-1][1])


def test_a_line_really_said_three_times_is_kept() -> None:
    samples = repeated_line(3)
    spans = _occurrences(samples, 3)
    segments = _segments(spans, LINE.split())
    kept = remove_loops(segments, samples, detect_speech(samples).spans, FeatureExtractor())
    assert kept == segments


def test_repetitions_over_silence_are_a_loop_and_go() -> None:
    samples, speech, (start, end) = _line_once_then_silence(8)
    length = end - start
    # the decoder wrote the line twice more, over the silence after it
    spans = [
        (start, end),
        (end + 0.5, end + 0.5 + length),
        (end + 1.0 + length, end + 1.0 + 2 * length),
    ]
    kept = remove_loops(_segments(spans, LINE.split()), samples, speech, FeatureExtractor())
    assert [s.text for s in kept] == [" ".join(LINE.split())]


def test_repetitions_over_other_words_are_a_loop_and_go() -> None:
    """Speech under each span, of the right length, but not the same sound: another line in
    another voice. Only the first occurrence is kept."""
    first = espeak(LINE, "en-us", RATE)
    other = espeak("Follow for more tips and see you all tomorrow.", "en-us+f3", RATE)
    gap = np.zeros(int(0.4 * RATE), np.float32)
    samples = np.concatenate([gap, first, gap, other, gap])
    spans = _occurrences(samples, 2)
    segments = _segments(spans, LINE.split())
    kept = remove_loops(segments, samples, detect_speech(samples).spans, FeatureExtractor())
    assert kept == segments[:1]


def test_a_loop_inside_one_segment_keeps_the_words_around_it() -> None:
    samples, speech, (start, end) = _line_once_then_silence(6)
    line = LINE.split()
    step = (end - start) / len(line)
    ws = [
        Word(start=start + i * step, end=start + (i + 1) * step, text=t) for i, t in enumerate(line)
    ]
    # the same words again, squeezed into the silence, then a last word
    later = end + 1.0
    ws += [
        Word(start=later + i * 0.05, end=later + (i + 1) * 0.05, text=t) for i, t in enumerate(line)
    ]
    ws.append(Word(start=later + 2.0, end=later + 2.3, text="Bye."))
    segment = SpeechSegment(start=start, end=later + 2.3, text="…", words=ws)
    [kept] = remove_loops([segment], samples, speech, FeatureExtractor())
    assert kept.text == " ".join(line) + " Bye."
    assert kept.end == pytest.approx(later + 2.3) and kept.start == pytest.approx(start)
