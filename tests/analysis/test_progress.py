"""The progress rule: figures never go back, repeats are dropped, and `resume` names the stage
the work now waits on, through a chain of `Progress` (engine -> pipeline), as the page shows it."""

from __future__ import annotations

from reels_scripter.analysis.progress import STAGE_WEIGHTS, Progress


def test_resume_names_the_stage_waited_on_without_moving_the_bar() -> None:
    seen: list[tuple[str, float]] = []
    overall = Progress(lambda stage, value: seen.append((stage, round(value, 3))))
    engine = Progress(overall, weights=None)  # the engine reports each stage's own fraction
    engine("speech", 0.0)
    engine("video", 0.5)
    engine("video", 0.5)  # a repeat: nothing new
    engine("video", 1.0)
    assert [s for s, _ in seen] == ["speech", "video", "video"]
    bar = seen[-1][1]
    assert bar == STAGE_WEIGHTS["video"]

    engine.resume("speech")  # the frames are done; speech runs on alone
    assert seen[-1] == ("speech", bar)  # named, the bar where it was
    engine.resume("speech")  # already the named one: not repeated
    assert len(seen) == 4
    engine("speech", 0.5)
    assert seen[-1] == ("speech", round(bar + STAGE_WEIGHTS["speech"] * 0.5, 3))


def test_a_repeat_of_another_stage_never_moves_the_bar_back() -> None:
    seen: list[tuple[str, float]] = []
    overall = Progress(lambda stage, value: seen.append((stage, value)))
    overall("video", 0.8)
    overall("speech", 0.0)
    overall("video", 0.8)
    values = [v for _, v in seen]
    assert values == sorted(values)
