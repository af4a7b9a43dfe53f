"""The studio's Russian lives in one front-end file, static/texts.js: no other file of the page
(modules, the HTML shell, the stylesheet) spells a Cyrillic letter."""

from __future__ import annotations

import re
from pathlib import Path

import reels_scripter.web

STATIC = Path(reels_scripter.web.__file__).parent / "static"
CYRILLIC = re.compile("[\u0400-\u04ff]")
CATALOG = "texts.js"


def cyrillic_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        f"{path.name}:{n}: {line.strip()}"
        for n, line in enumerate(lines, 1)
        if CYRILLIC.search(line)
    ]


def test_page_texts_live_only_in_the_catalog() -> None:
    files = sorted(p for p in STATIC.iterdir() if p.suffix in {".js", ".html", ".css", ".svg"})
    assert any(p.name == CATALOG for p in files)
    found = [line for p in files if p.name != CATALOG for line in cyrillic_lines(p)]
    assert found == [], "\n".join(found)


def test_the_check_sees_a_planted_literal(tmp_path: Path) -> None:
    planted = tmp_path / "planted.js"
    planted.write_text('export const label = "Сохранить";\n', encoding="utf-8")
    assert cyrillic_lines(planted) == ['planted.js:1: export const label = "Сохранить";']
