"""What to film in a script row, offline: a direction built from the measurements alone.

A creator reads «Визуал» to know what to put in front of the camera, so each row says, one
sentence a fact: who or what is in the shot and at what size (faces and shot scale), whether
they talk to the camera, how much moves (motion), how the camera moves, what is on screen (the
row's caption; a background colour only when one colour fills the picture: then it is the point),
how many shots the row holds, and what the cut out of the row changes. Without an AI nothing
here is guessed: the angle and the action are not measured, so they are not named.
"""

from __future__ import annotations

from collections.abc import Sequence

from reels_scripter.analysis.models import SceneFacts
from reels_scripter.providers.base import RowPlan
from reels_scripter.texts import DIRECTIONS, PLAN_FORMS, colour_label, num, plural

# One colour covering this share of the picture is a backdrop worth naming.
BACKGROUND_SHARE = 0.6
# Motion (mean frame difference per 1/30 s) above which the picture is busy, below which still.
BUSY_MOTION = 0.08
STILL_MOTION = 0.01
_QUOTE_LIMIT = 60


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return f"«{text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 1].rstrip() + '…'}»"


def _subject(scene: SceneFacts, talks: bool) -> str:
    if scene.faces == 0:
        return DIRECTIONS.NO_PERSON
    if scene.faces == 1:
        return (DIRECTIONS.PERSON_TALKS if talks else DIRECTIONS.PERSON)[scene.shot_scale]
    # Several people: who of them talks is not measured.
    return DIRECTIONS.PEOPLE.format(
        DIRECTIONS.SCALE_NAME[scene.shot_scale],
        scene.faces,
        plural(scene.faces, DIRECTIONS.PEOPLE_FORMS),
    )


def _motion(scene: SceneFacts) -> str | None:
    if scene.motion >= BUSY_MOTION:
        return DIRECTIONS.BUSY
    # A still picture says something only where the camera's own sentence does not.
    if scene.motion <= STILL_MOTION and scene.camera is None:
        return DIRECTIONS.STILL
    return None


def _camera(scene: SceneFacts) -> str | None:
    camera = scene.camera
    if camera is None:
        return None
    return DIRECTIONS.CAMERA.get(
        (camera.move, camera.direction), DIRECTIONS.CAMERA.get((camera.move, None))
    )


def _background(scene: SceneFacts) -> str | None:
    if scene.colours and scene.colours[0].share >= BACKGROUND_SHARE:
        return DIRECTIONS.BACKGROUND.format(colour_label(scene.colours[0].name))
    return None


def _caption(row: RowPlan) -> str | None:
    texts = list(dict.fromkeys(" ".join(c.text.split()) for c in row.captions))
    if not texts:
        return None
    return DIRECTIONS.CAPTION.format(", ".join(_quote(t) for t in texts[:2]))


def _shots(row: RowPlan) -> str | None:
    shots = len(row.scenes)
    if shots < 2:
        return None
    each = (row.end - row.start) / shots
    return DIRECTIONS.SHOTS.format(shots, plural(shots, PLAN_FORMS), num(each))


def _cut(scene: SceneFacts, following: SceneFacts | None) -> str:
    if following is None:
        return DIRECTIONS.LAST
    if following.shot_scale == scene.shot_scale:
        return DIRECTIONS.CUT_SAME
    return DIRECTIONS.CUT_TO.format(DIRECTIONS.CUT_SCALE[following.shot_scale])


def row_direction(row: RowPlan, scenes: Sequence[SceneFacts], following: RowPlan | None) -> str:
    """What to film in `row`: its first measured shot, its caption, and the cut out of it."""
    by_index = {s.index: s for s in scenes}
    scene = by_index.get(row.scene)
    if scene is None:
        return DIRECTIONS.NO_SCENE + "."
    last = by_index.get(row.scenes[-1], scene) if row.scenes else scene
    next_scene = by_index.get(following.scene) if following is not None else None
    # The next row may go on in the same shot (a row split at a pause): no cut between them.
    same_shot = next_scene is not None and next_scene.index == last.index
    cut = None if same_shot else _cut(last, next_scene)
    parts = [
        _subject(scene, talks=bool(row.speech)),
        _motion(scene),
        _camera(scene),
        _background(scene),
        _caption(row),
        _shots(row),
        cut,
    ]
    return ". ".join(p for p in parts if p) + "."
