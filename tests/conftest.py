from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from reelgen import make_reel


@pytest.fixture
def reel(tmp_path: Path) -> Callable[..., Path]:
    """Factory: `reel(name="x.mp4", **ReelSpec fields)` writes a synthetic reel under tmp_path."""

    def factory(name: str = "reel.mp4", **kw: object) -> Path:
        return make_reel(tmp_path / name, **kw)

    return factory
