"""Faces and shot scale on a reel built from a real face photo at known sizes."""

from __future__ import annotations

from pathlib import Path

from reels_scripter.analysis import analyze
from reels_scripter.analysis.models import AnalysisOptions
from support.reelgen import make_reel


def test_shot_scale_follows_face_size(tmp_path: Path) -> None:
    # scene 0: the face fills the frame width; 1: under half of it; 2: a small face; 3: none
    path = make_reel(
        tmp_path / "faces.mp4",
        width=360,
        height=640,
        duration=8.0,
        cuts=(2.0, 4.0, 6.0),
        face_scales=(1.0, 0.45, 0.3, 0.0),
    )
    m = analyze(path, AnalysisOptions(transcribe=False))
    assert not [n for n in m.notices if n.code == "faces_unavailable"]
    assert [s.shot_scale for s in m.scenes] == ["close-up", "medium", "wide", "unknown"]
    assert [s.faces for s in m.scenes] == [1, 1, 1, 0]
