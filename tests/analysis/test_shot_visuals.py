"""Camera motion, subject motion, colours and brightness of a shot, against reels whose
camera, colours and content are known (tests/support/reelgen.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

from reels_scripter.analysis.camera_motion import Step, classify, measure_step
from reels_scripter.analysis.colours import colour_name, dominant_colours
from reels_scripter.analysis.shot_visuals import ShotVisuals, ShotVisualsCollector
from support.reelgen import PALETTE, ReelSpec, camera_view


def _visuals(path: Path, cut: float | None = None) -> list[ShotVisuals]:
    """What the decode loop does: one collector per shot, small BGR frames when wanted."""
    shots = [ShotVisualsCollector()]
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            t = float(frame.time)
            if cut is not None and t >= cut and len(shots) == 1:
                shots.append(ShotVisualsCollector())
            if shots[-1].wants(t):
                small = frame.reformat(width=180, height=320, format="bgr24").to_ndarray()
                shots[-1].offer(t, np.asarray(small, dtype=np.uint8))  # bgr24 is bytes
    return [s.finish() for s in shots]


@pytest.mark.parametrize(
    ("camera", "speed", "move", "direction"),
    [
        ("static", 0.25, "static", None),
        ("pan", 0.25, "pan", "right"),
        ("pan", -0.15, "pan", "left"),
        ("pan", 0.05, "pan", "right"),  # slow: 3% of the frame a second
        ("pan", 1.0, "pan", "right"),  # fast: ~20 px between 160-px samples (LK_WINDOW)
        ("tilt", 0.25, "tilt", "down"),
        ("zoom", 0.25, "zoom", "in"),
        ("zoom", -0.1, "zoom", "out"),
        ("handheld", 0.25, "handheld", None),
    ],
)
def test_camera_motion_is_classified(
    reel: Callable[..., Path], camera: str, speed: float, move: str, direction: str | None
) -> None:
    path = reel(
        "cam.mp4", duration=4.0, cuts=(), camera=camera, camera_speed=speed, width=360, height=640
    )
    (shot,) = _visuals(path)
    assert shot.camera.move == move and shot.camera.direction == direction, shot.camera
    assert shot.samples >= 19  # every 0.2 s
    if camera in ("pan", "tilt"):
        # the crop is 1.5x the frame: the picture moves at speed / 1.5 frame sizes a second
        assert shot.camera.speed == pytest.approx(abs(speed) / 1.5, rel=0.1)
    if camera == "static":
        assert shot.camera.speed < 0.005
    else:
        assert shot.camera.speed > 0.02  # moving footage never reads as motionless


def test_pan_then_cut_to_static(reel: Callable[..., Path]) -> None:
    # the second shot's texture is another scene: collectors per shot keep them apart
    path = reel("two.mp4", duration=6.0, cuts=(3.0,), camera="pan", width=360, height=640)
    first, second = _visuals(path, cut=3.0)
    assert first.camera.move == second.camera.move == "pan"
    static = reel("st.mp4", duration=6.0, cuts=(3.0,), camera="static", width=360, height=640)
    assert [s.camera.move for s in _visuals(static, cut=3.0)] == ["static", "static"]


def test_object_moving_over_a_still_background_is_the_subject_not_the_camera() -> None:
    spec = ReelSpec(width=180, height=320, camera="static", cuts=())
    background = np.asarray(cv2.cvtColor(camera_view(spec, 0.0, 0), cv2.COLOR_RGB2GRAY), np.uint8)
    steps = []
    prev: npt.NDArray[np.uint8] | None = None
    for k in range(12):
        frame = background.copy()
        x = 20 + 8 * k  # a 40x40 square crossing the picture at 80 px/s
        frame[140:180, x : x + 40] = 255
        if prev is not None:
            steps.append(measure_step(prev, frame, 0.1))
        prev = frame
    motion = classify(steps)
    assert motion.move == "static", motion
    assert 0.01 < motion.subject_motion < 0.1  # the square's edges: a few % of the pixels


def test_a_moving_bar_on_a_flat_colour_is_not_a_pan(reel: Callable[..., Path]) -> None:
    (shot,) = _visuals(reel("bar.mp4", duration=3.0, cuts=(), width=360, height=640))
    assert shot.camera.move == "static" and shot.camera.subject_motion > 0.05


def test_classify_without_steps() -> None:
    motion = classify([])
    assert motion.move == "static" and motion.speed == 0
    shake = [Step(0.1, 0.3 * (-1) ** k, 0.0, 0.0, 0.0, 0.0) for k in range(10)]
    assert classify(shake).move == "handheld"


@pytest.mark.parametrize(
    ("rgb", "name"),
    [
        ((220, 40, 40), "red"),
        ((40, 180, 60), "green"),
        ((40, 60, 220), "blue"),
        ((230, 200, 40), "yellow"),
        ((40, 200, 200), "light blue"),
        ((240, 240, 240), "white"),
        ((30, 30, 30), "black"),
        ((128, 128, 128), "grey"),
        ((139, 69, 19), "brown"),
        ((245, 222, 179), "beige"),
        ((255, 192, 203), "pink"),
        ((255, 165, 0), "orange"),
        ((110, 30, 160), "purple"),
        ((135, 206, 235), "light blue"),
    ],
)
def test_colour_names(rgb: tuple[int, int, int], name: str) -> None:
    assert colour_name(*rgb) == name


def test_dominant_colours_of_a_split_frame() -> None:
    frame = np.zeros((640, 360, 3), np.uint8)
    frame[:400] = (200, 60, 20)  # BGR: blue, 62.5% of the picture
    frame[400:] = (40, 210, 230)  # yellow
    colours = dominant_colours([frame])
    assert [c.name for c in colours] == ["blue", "yellow"]
    assert colours[0].share == pytest.approx(0.625, abs=0.03)
    rgb = bytes.fromhex(colours[0].rgb[1:])
    assert all(abs(a - b) <= 8 for a, b in zip(rgb, (20, 60, 200), strict=True))
    assert dominant_colours([]) == []


def test_shot_colours_and_brightness_follow_the_scene(reel: Callable[..., Path]) -> None:
    # flat scenes: red then white, each with a small moving bar in the opposite colour
    path = reel("c.mp4", duration=4.0, cuts=(2.0,), width=360, height=640)
    red, green = _visuals(path, cut=2.0)
    assert red.colours[0].name == "red" and red.colours[0].share > 0.8
    assert green.colours[0].name == "green"
    r, g, b = PALETTE[1]
    luma = (0.299 * r + 0.587 * g + 0.114 * b) / 255
    assert green.brightness == pytest.approx(luma, abs=0.05)
    assert red.contrast > 0.05  # the bar


def test_gray_frames_give_motion_but_no_colours() -> None:
    collector = ShotVisualsCollector()
    assert collector.wants_colour(0.0)
    collector.offer(0.0, np.full((320, 180), 60, np.uint8))  # gray: the colour stays due
    assert collector.wants_colour(0.2) and not collector.wants_colour(0.1)
    collector = ShotVisualsCollector()
    for k in range(5):
        collector.offer(k * 0.2, np.full((320, 180), 60 + k, np.uint8))
    shot = collector.finish()
    assert shot.colours == [] and shot.samples == 5
    assert shot.brightness == pytest.approx(62 / 255, abs=0.01)


def test_a_shot_offered_at_two_sizes_is_measured_at_one() -> None:
    # The consumer offers a strided view of the decoder's luma plane between colour samples
    # scaled to 180 px; for 16:9 those become 160x91 and 160x90 motion images, which
    # optical flow refused (every 1920x1080, 1280x720 and 1080x1350 reel failed).
    rng = np.random.default_rng(7)
    scene = cv2.GaussianBlur(rng.integers(0, 255, (1080, 1920, 3), dtype=np.uint8), (9, 9), 0)
    colour = np.asarray(cv2.resize(scene, (180, 102), interpolation=cv2.INTER_AREA), np.uint8)
    luma = np.asarray(cv2.cvtColor(scene, cv2.COLOR_BGR2GRAY)[::10, ::10], np.uint8)  # 192x108
    collector = ShotVisualsCollector()
    for k in range(10):
        collector.offer(k * 0.2, colour if collector.wants_colour(k * 0.2) else luma)
    shot = collector.finish()
    assert shot.samples == 10 and shot.colours
    assert shot.camera.move == "static", shot.camera


@pytest.mark.parametrize(("width", "height"), [(640, 360), (480, 854), (864, 1080)])
def test_landscape_and_four_by_five_phone_encodes_are_measured(
    tmp_path: Path, width: int, height: int
) -> None:
    # x264's defaults (High profile, B-frames), as phones and editors write: colour samples
    # then fall on frames without a keyframe candidate's 360-px copy and are scaled apart
    import imageio_ffmpeg

    from reels_scripter.analysis import AnalysisOptions, analyze

    path = tmp_path / f"{width}x{height}.mp4"
    source = f"testsrc2=size={width}x{height}:rate=30:duration=4"
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    encode = ["-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run([ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", source, *encode], check=True)
    measured = analyze(path, AnalysisOptions(transcribe=False))
    assert measured.scenes and all(s.camera is not None for s in measured.scenes)
