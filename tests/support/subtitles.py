"""The rules every subtitle cue keeps, whichever export (SRT, VTT) or layer wrote it."""

from __future__ import annotations


def assert_cue_rules(cues: list[tuple[float, float, str]], slack: float = 1e-9) -> None:
    """(start, end, text) cues: some; each one or two lines of 1 to 42 characters, shown for at
    least a second, none overlapping the one before; `slack` (s) for times read back rounded."""
    assert cues
    previous_end = 0.0
    for start, end, text in cues:
        lines = text.split("\n")
        assert 1 <= len(lines) <= 2, text
        assert all(0 < len(line) <= 42 for line in lines), text
        assert end - start >= 1.0 - slack, (start, end, text)
        assert start >= previous_end - slack, ("cues overlap", start, previous_end, text)
        previous_end = end
