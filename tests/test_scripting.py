from __future__ import annotations

import itertools

import pytest

from reels_scripter.compose import compose_result, format_interval
from reels_scripter.config import Settings
from reels_scripter.providers.base import Creative, ProviderError, WriteRequest
from reels_scripter.providers.local import LocalProvider
from reels_scripter.rows import plan_rows
from support.factories import measurements, segment


def _boundaries(m):  # every measured boundary: cuts, plus starts of words after pauses
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


def test_long_silent_scene_is_not_split_at_invented_times() -> None:
    m = measurements(cuts=[], duration=20.0)
    rows = plan_rows(m)
    assert [(r.start, r.end) for r in rows] == [(0.0, 20.0)]


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
    creative = LocalProvider(Settings()).write(
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
