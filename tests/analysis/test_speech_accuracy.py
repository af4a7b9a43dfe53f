"""The offline policy's model and decoding meet issue 18's targets on speech with a known text:
English <= 0.10 WER including a line said three times, Spanish <= 0.25 (pooled over the
samples of support/speech_samples.py, the ones `make bench` prints its WER table for)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reels_scripter.analysis.speech import load_model, resolve_model, transcribe
from reels_scripter.analysis.speech_policy import LanguageGuess, plan_speech
from reels_scripter.analysis.whisper_base import bundled_base, package_files
from support.reelgen import word_edits, words
from support.speech_samples import samples


@pytest.mark.skipif(package_files() is None, reason="offline-models extra not installed")
@pytest.mark.slow
@pytest.mark.parametrize(("language", "target"), [("en", 0.10), ("es", 0.25)])
def test_the_chosen_model_meets_the_word_error_target(
    tmp_path: Path, language: str, target: float
) -> None:
    base = bundled_base(tmp_path)
    assert base is not None
    plan = plan_speech(
        LanguageGuess(language, 0.95, ()),
        configured=None,
        english=resolve_model(None),
        multilingual=base,
    )
    assert plan is not None and plan.model == base
    model = load_model(plan.model, 1)
    errors = total = 0
    heard = []
    for sample in (s for s in samples() if s.language == language):
        text = transcribe(
            sample.samples, model, plan.model.label, language=plan.language, beam_size=plan.beam
        ).text
        errors += word_edits(sample.text, text)
        total += len(words(sample.text))
        heard.append(text)
    assert errors / total <= target, heard
