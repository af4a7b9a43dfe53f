"""Offline shooting directions: what to film, from the measurements, never the colours alone."""

from __future__ import annotations

from pathlib import Path

from reels_scripter.analysis.models import (
    CameraFacts,
    OnscreenText,
    SceneColour,
    SceneFacts,
    SpeechSegment,
)
from reels_scripter.providers.base import RowPlan, WriteRequest
from reels_scripter.providers.directions import row_direction
from reels_scripter.providers.local import LocalProvider
from reels_scripter.rows import plan_rows
from support.factories import measurements
from support.settings import make_settings


def _scene(index: int, start: float, end: float, **kw: object) -> SceneFacts:
    base: dict[str, object] = {"brightness": 0.5, "motion": 0.03}
    return SceneFacts(index=index, start=start, end=end, **{**base, **kw})


def _row(i: int, start: float, end: float, scenes: list[int], **kw: object) -> RowPlan:
    return RowPlan(id=i, start=start, end=end, scene=scenes[0], scenes=scenes, **kw)


GREEN = SceneColour(name="green", name_ru="", share=0.4, rgb="#00ff00")
BLUE_BACKDROP = SceneColour(name="blue", name_ru="", share=0.75, rgb="#0000ff")


def test_a_talking_close_up_with_a_caption_and_a_cut_to_a_wide_shot() -> None:
    scenes = [
        _scene(
            0,
            0.0,
            4.0,
            shot_scale="close-up",
            faces=1,
            colours=[GREEN],
            camera=CameraFacts(move="static"),
        ),
        _scene(1, 4.0, 8.0, shot_scale="wide", faces=1),
    ]
    caption = OnscreenText(start=0.0, end=4.0, text="3 TRICKS")
    row = _row(0, 0.0, 4.0, [0], speech="Stop scrolling.", captions=[caption])
    text = row_direction(row, scenes, _row(1, 4.0, 8.0, [1]))
    assert text == (
        "Крупный план: человек говорит в камеру. "
        "Камера неподвижна — со штатива или с опоры. "
        "Надпись на экране: «3 TRICKS». "
        "На склейке — общий план."
    )
    assert "зелён" not in text  # a colour among others is not the point


def test_a_single_colour_backdrop_is_named_and_a_moving_camera_described() -> None:
    scenes = [
        _scene(
            0,
            0.0,
            3.0,
            faces=0,
            motion=0.12,
            colours=[BLUE_BACKDROP],
            camera=CameraFacts(move="pan", direction="left"),
        ),
    ]
    text = row_direction(_row(0, 0.0, 3.0, [0]), scenes, None)
    assert text == (
        "Предмет или действие без людей в кадре. "
        "В кадре много движения: действие идёт непрерывно. "
        "Камера плавно панорамирует влево. "
        "Однотонный синий фон. "
        "Финальный кадр: задержите его на секунду после последней реплики."
    )


def test_several_shots_in_a_row_and_a_row_that_continues_the_same_shot() -> None:
    scenes = [
        _scene(0, 0.0, 1.0, shot_scale="medium", faces=2),
        _scene(1, 1.0, 2.0, shot_scale="medium", faces=2),
        _scene(2, 2.0, 12.0, shot_scale="medium", faces=2),
    ]
    first = _row(0, 0.0, 3.0, [0, 1, 2])
    second = _row(1, 3.0, 12.0, [2])
    text = row_direction(first, scenes, second)
    assert text.startswith("Средний план: в кадре 2\u00a0человека.")
    assert "В блоке 3\u00a0плана примерно по 1\u00a0с: меняйте ракурс на каждой склейке." in text
    assert "склейке —" not in text  # the next row goes on in the same shot: no cut


def test_the_offline_script_says_what_to_film_not_which_colours(tmp_path: Path) -> None:
    m = measurements(
        cuts=[3.0, 6.0],
        duration=9.0,
        segments=[SpeechSegment(start=0.5, end=2.5, text="Stop scrolling.")],
    )
    for scene in m.scenes:
        scene.colours = [GREEN]
    rows = plan_rows(m)
    request = WriteRequest(measurements=m, rows=rows, video_path=tmp_path / "x.mp4")
    creative = LocalProvider.from_settings(make_settings(tmp_path)).write(request)
    visuals = [r.visual for r in creative.rows]
    assert visuals[0].startswith("Крупный план: человек говорит в камеру.")
    assert visuals[1].startswith("Предмет или действие без людей в кадре.")
    assert all("преоблада" not in v and "зелён" not in v for v in visuals)
    assert "На склейке — общий план." in visuals[0]
    assert visuals[-1].endswith("после последней реплики.")
