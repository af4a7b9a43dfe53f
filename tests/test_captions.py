"""On-screen captions in the script: each row gets the caption read in its shots, never one
read in the shot before (a reader's end time spills past the cut by up to a sampling step)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reels_scripter.analysis.models import OnscreenText, shown_in
from reels_scripter.captions import caption_language, row_caption
from reels_scripter.config import Settings
from reels_scripter.pipeline import analyze_reel
from support.reelgen import make_reel


def test_a_caption_in_another_script_needs_translating() -> None:
    assert caption_language("3 TRICKS", "ru", "en") == "en"
    assert caption_language("3 TRICKS", "ru", None) == "und"  # no speech to guess from
    assert caption_language("3 TRICKS", "ru", "ru") == "und"  # Latin, but spoken Russian
    assert caption_language("3 ТРЮКА", "ru", "en") is None
    assert caption_language("100%", "ru", "en") is None  # nothing to translate


def test_row_caption_joins_the_captions_of_a_row_and_keeps_their_span() -> None:
    captions = [
        OnscreenText(start=0.0, end=1.5, text="STOP  SCROLLING"),
        OnscreenText(start=1.5, end=3.0, text="3 TRICKS"),
        OnscreenText(start=3.2, end=3.6, text="3 TRICKS"),
    ]
    offline = row_caption(captions, None, target_language="ru", spoken_language="en")
    assert offline is not None
    assert (offline.text, offline.original, offline.language) == (
        "STOP SCROLLING / 3 TRICKS",
        "STOP SCROLLING / 3 TRICKS",
        "en",
    )
    assert (offline.start, offline.end) == (0.0, 3.6)
    adapted = row_caption(
        captions, "ХВАТИТ ЛИСТАТЬ / 3 ТРЮКА", target_language="ru", spoken_language="en"
    )
    assert adapted is not None and adapted.language is None
    assert adapted.text == "ХВАТИТ ЛИСТАТЬ / 3 ТРЮКА" and adapted.original == offline.original
    assert row_caption([], "ТЕКСТ", target_language="ru", spoken_language="en") is None


def test_shown_in_clips_each_caption_to_the_interval() -> None:
    spans = [OnscreenText(start=15.0, end=20.3, text="3 TRICKS")]
    assert shown_in(spans, 10.0, 20.0) == [OnscreenText(start=15.0, end=20.0, text="3 TRICKS")]
    # 0.3 s shared is enough for a caption to belong to the next row...
    assert shown_in(spans, 20.0, 25.0) == [OnscreenText(start=20.0, end=20.3, text="3 TRICKS")]
    # ...which is why the reader's spans must end at the cut (test below)
    assert shown_in(spans, 20.1, 25.0) == []


def test_a_caption_is_claimed_only_in_the_shot_where_it_was_read(
    tmp_path: Path, settings_factory: Callable[..., Settings]
) -> None:
    # Sampled every 0.5 s after the hook: seen at 8.0, gone at 8.5, so the reader's span ran to
    # 8.5 — 0.4 s into the next shot, enough to claim the caption there too.
    path = make_reel(
        tmp_path / "c.mp4",
        duration=12.0,
        cuts=(4.0, 8.1),
        width=540,
        height=960,
        camera="static",
        captions=[(4.0, 8.1, "3 TRICKS")],
    )
    result = analyze_reel(path, settings_factory())
    spans = result.timeline.onscreen_text
    assert [s.text for s in spans] == ["3 TRICKS"], spans
    scenes = result.timeline.scenes
    assert len(scenes) == 3 and abs(scenes[2].start - 8.1) < 0.1, scenes
    # the span ends at the measured cut, not at the next sample without the caption
    assert 4.0 <= spans[0].start <= 4.55 and spans[0].end == scenes[2].start, spans
    assert [s.onscreen_text for s in scenes] == [[], ["3 TRICKS"], []], scenes
    rows = result.script
    assert len(rows) == 3
    assert rows[0].onscreen is None and rows[2].onscreen is None
    caption = rows[1].onscreen
    assert caption is not None
    assert caption.text == caption.original == "3 TRICKS"
    assert caption.language == "und"  # no speech to tell the language: still to translate
    assert rows[1].start <= caption.start and caption.end <= rows[1].end
