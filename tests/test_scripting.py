from __future__ import annotations

import itertools

import pytest

from reels_scripter.analysis.models import Measurements, SpeechSegment, Word, join_words
from reels_scripter.compose import compose_result, format_interval
from reels_scripter.config import Settings
from reels_scripter.providers.base import Creative, ProviderError, WriteRequest
from reels_scripter.providers.local import LocalProvider
from reels_scripter.rows import MAX_ROW_SEC, plan_rows
from support.factories import measurements, segment


def _boundaries(m: Measurements) -> set[float]:
    """Every measured boundary: cuts, plus starts of words after pauses."""
    cuts = {round(s.start, 2) for s in m.scenes}
    words = {round(w.start, 2) for s in m.transcript.segments for w in (s.words or [])}
    return cuts | words


def test_rows_follow_cuts_and_merge_short_shots() -> None:
    m = measurements(cuts=[3.0, 3.4, 6.0, 9.0], duration=12.0)
    rows = plan_rows(m)
    assert [(r.start, r.end) for r in rows] == [(0.0, 3.4), (3.4, 6.0), (6.0, 9.0), (9.0, 12.0)]
    # the 0.4 s shot is folded into the row before it; the next row starts on the cut at 3.4
    assert rows[0].scenes == [0, 1]
    assert rows[1].scene == 2


def test_short_tail_merges_back() -> None:
    m = measurements(cuts=[4.0, 8.0], duration=8.5)
    rows = plan_rows(m)
    assert [(r.start, r.end) for r in rows] == [(0.0, 4.0), (4.0, 8.5)]


def test_long_scene_splits_at_widest_speech_pause() -> None:
    first = segment("one two three four five six seven eight nine ten", 0.2)  # ends ~3.1
    second = segment("eleven twelve thirteen fourteen fifteen", 5.0)  # after a 1.9 s pause
    third = segment("sixteen seventeen eighteen", 8.0)  # after a 0.7 s pause
    m = measurements(cuts=[], duration=12.0, segments=[first, second, third])
    rows = plan_rows(m)
    assert rows[0].start == 0.0
    assert [r.start for r in rows][1] == 5.0  # the start of the word after the widest pause
    assert all(r.end - r.start <= 8.0 for r in rows)
    bounds = _boundaries(m)
    assert all(r.start in bounds for r in rows)
    # every word lands in exactly one row
    spoken = " ".join(r.speech for r in rows).split()
    assert spoken == (first.text + " " + second.text + " " + third.text).split()


def test_long_silent_still_shot_is_split_evenly_within_the_limit() -> None:
    m = measurements(cuts=[], duration=20.0)
    rows = plan_rows(m)
    assert [(r.start, r.end) for r in rows] == [(0.0, 6.67), (6.67, 13.33), (13.33, 20.0)]


def test_long_silent_shot_is_split_at_its_strongest_visual_change() -> None:
    m = measurements(cuts=[], duration=12.0)
    change = [0.01] * 24
    change[13] = 0.2  # something happens at 6.5 s
    m = m.model_copy(update={"visual_change": change, "visual_change_step": 0.5})
    rows = plan_rows(m)
    assert [(r.start, r.end) for r in rows] == [(0.0, 6.5), (6.5, 12.0)]


def test_a_24_second_clip_without_speech_gets_no_row_over_the_limit() -> None:
    m = measurements(cuts=[6.0], duration=24.0)  # one 18 s shot after a 6 s one
    rows = plan_rows(m)
    assert all(r.end - r.start <= MAX_ROW_SEC for r in rows), rows
    assert rows[0].start == 0.0 and rows[-1].end == 24.0


def test_continuous_speech_without_pauses_is_still_split_between_words() -> None:
    text = " ".join(f"w{i}" for i in range(40))  # 12 s of words 0.3 s apart, no pause
    m = measurements(cuts=[], duration=13.0, segments=[segment(text, 0.5)])
    rows = plan_rows(m)
    assert all(r.end - r.start <= MAX_ROW_SEC for r in rows)
    assert " ".join(r.speech for r in rows).split() == text.split()
    starts = {w.start for w in m.transcript.segments[0].words or []}
    assert all(r.start in starts for r in rows[1:])  # cut between words, never inside one


def test_a_sentence_crossing_a_cut_by_under_a_second_stays_in_one_row() -> None:
    first = segment("Here are three tricks for you.", 0.3)  # 0.3 .. ~2.0
    second = segment("First, shoot near a window.", 2.4)  # ~2.4 .. 3.8, cut at 3.2
    third = segment("Second, hold the phone still and steady please.", 5.0)
    m = measurements(cuts=[3.2], duration=8.0, segments=[first, second, third])
    rows = plan_rows(m)
    assert [(r.start, r.end) for r in rows] == [(0.0, 3.2), (3.2, 8.0)]
    assert rows[0].speech == "Here are three tricks for you. First, shoot near a window."
    assert rows[1].speech == "Second, hold the phone still and steady please."


def test_a_sentence_that_mostly_follows_the_cut_moves_after_it() -> None:
    first = segment("Watch this.", 0.3)
    second = segment("The whole trick is in the light from the window.", 2.6)  # 2.6 .. 5.3
    m = measurements(cuts=[3.2], duration=8.0, segments=[first, second])
    rows = plan_rows(m)
    assert rows[0].speech == "Watch this."
    assert rows[1].speech == "The whole trick is in the light from the window."


def test_voice_over_rebuilds_word_pieces_as_spoken() -> None:
    words = [
        Word(start=0.5, end=0.7, text="An"),
        Word(start=0.7, end=0.9, text="ill"),
        Word(start=0.9, end=1.2, text="-disposed,", joined=True),
        Word(start=1.2, end=1.4, text="cold"),
        Word(start=1.4, end=1.7, text="-hearted", joined=True),
        Word(start=1.7, end=1.9, text="man", joined=False),
        Word(start=1.9, end=2.0, text="."),
    ]
    seg = SpeechSegment(start=0.5, end=2.0, text="An ill-disposed, cold-hearted man.", words=words)
    m = measurements(cuts=[], duration=4.0, segments=[seg])
    [row] = plan_rows(m)
    assert row.speech == "An ill-disposed, cold-hearted man."
    assert join_words(words) == seg.text


def test_rows_are_monotonic_and_cover_the_video() -> None:
    m = measurements(
        cuts=[1.0, 2.2, 2.9, 7.5, 14.0, 14.3, 20.0],
        duration=24.0,
        segments=[segment("a b c d e f g h", 0.5), segment("i j k l m n", 15.0, 0.5)],
    )
    rows = plan_rows(m)
    assert rows[0].start == 0.0 and rows[-1].end == 24.0
    for a, b in itertools.pairwise(rows):
        assert a.end == b.start and a.start < a.end
    assert [r.id for r in rows] == list(range(len(rows)))


@pytest.mark.parametrize(
    ("start", "end", "text"), [(0, 3, "0-3 сек"), (3.0, 7.46, "3-7.5 сек"), (0.4, 1.0, "0.4-1 сек")]
)
def test_interval_format(start: float, end: float, text: str) -> None:
    assert format_interval(start, end) == text


def test_compose_takes_times_from_rows_not_from_the_provider() -> None:
    m = measurements(cuts=[3.0, 6.0], duration=9.0, segments=[segment("hello there friends", 0.4)])
    rows = plan_rows(m)
    creative = LocalProvider.from_settings(Settings()).write(
        WriteRequest(measurements=m, rows=rows, video_path="x.mp4")
    )
    result = compose_result(m, rows, creative, provider="local", target_language="ru")
    assert [(s.start, s.end, s.time) for s in result.script] == [
        (0.0, 3.0, "0-3 сек"),
        (3.0, 6.0, "3-6 сек"),
        (6.0, 9.0, "6-9 сек"),
    ]
    assert result.original.transcription == "hello there friends"
    assert result.timeline.scenes[1].start == 3.0


def test_compose_refuses_an_answer_missing_rows() -> None:
    m = measurements(cuts=[3.0], duration=6.0)
    rows = plan_rows(m)
    creative = Creative(translation="", keys=[], rows=[], recommendations=[])
    with pytest.raises(ProviderError, match="no text for script rows"):
        compose_result(m, rows, creative, provider="x", target_language="ru")


def test_short_first_shot_merges_into_the_next_row() -> None:
    m = measurements(cuts=[0.6, 5.0], duration=10.0)
    rows = plan_rows(m)
    assert [(r.start, r.end) for r in rows] == [(0.0, 5.0), (5.0, 10.0)]
    assert rows[0].scenes == [0, 1] and rows[0].scene == 0


def test_a_long_sentence_over_three_rows_keeps_its_last_second_with_the_row_before() -> None:
    # 19 words 0.3 s apart from 1.0 s: the sentence runs to ~6.6 s, past the cut at 6.0 s by
    # under a second, so its last words stay in the middle row: no row opens on its tail.
    sentence = " ".join(f"w{i}" for i in range(18)) + " end."
    m = measurements(cuts=[3.0, 6.0], duration=10.0, segments=[segment(sentence, 1.0)])
    rows = plan_rows(m)
    assert [(r.start, r.end) for r in rows] == [(0.0, 3.0), (3.0, 6.0), (6.0, 10.0)]
    assert rows[1].speech.endswith("end.")
    assert rows[2].speech == ""


def test_a_stretched_last_word_does_not_count_as_speech_past_the_cut() -> None:
    # «window.» starts on the cut at 3.2 s and was said by ~3.4 s, but the recogniser stretched
    # it over the silence to 5.0 s: the sentence crosses the cut by a word, not by 1.8 s.
    second = segment("First, shoot near a window.", 2.0)
    words = second.words or []
    words[-1] = words[-1].model_copy(update={"end": 5.0})
    second = second.model_copy(update={"words": words, "end": 5.0})
    first = segment("Here are three tricks.", 0.3)
    m = measurements(cuts=[3.2], duration=8.0, segments=[first, second])
    rows = plan_rows(m)
    assert [(r.start, r.end) for r in rows] == [(0.0, 3.2), (3.2, 8.0)]
    assert rows[0].speech == "Here are three tricks. First, shoot near a window."
    assert rows[1].speech == ""
