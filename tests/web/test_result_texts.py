"""What a creator reads on every result screen, as the browser shows it, for reels of each kind:
speech, no speech (a tone), music only, no audio track, Spanish, 16:9. The visible text
(innerText: what is rendered, not what is hidden) must be Russian prose an editor would pass:
no `null` or `undefined`, no developer identifiers (provider ids, env names, README, snake_case
codes) and no decimal point between digits. The screens are photographed at 390 px (a phone
with touch) and at desktop width; the timeline's labels are checked for overlaps and
small-text contrast.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from support.reelgen import make_reel

from .conftest import CHROMIUM, CHROMIUM_MISSING, DESKTOP, PHONE, PageWatch
from .test_studio import goto, upload_api, wait_completed, wait_images_loaded

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)]

# Reels of each kind the issue names; small, so five analyses stay quick.
REELS: dict[str, dict[str, Any]] = {
    "speech": {"audio": "speech", "duration": 8.0, "cuts": (2.5, 5.0)},
    "no-speech": {"audio": "tone", "duration": 5.0, "cuts": (1.6, 3.4)},
    "music": {"audio": "clicks", "bpm": 120.0, "duration": 6.0, "cuts": (2.0, 4.0)},
    "no-audio": {"audio": "none", "duration": 4.0, "cuts": (0.4, 2.0)},
    "spanish": {"audio": "espeak", "speech_voice": "es", "duration": 12.0, "cuts": (4.0, 8.5)},
    "wide": {"audio": "speech", "duration": 8.0, "cuts": (3.1,), "width": 320, "height": 180},
}

BANNED = [
    (re.compile(r"\bnull\b|\bundefined\b|\bNaN\b|\[object Object\]"), "a JavaScript value"),
    (
        re.compile(r"local-rules|\blocal\b \(|AI_PROVIDER|README|argostranslate", re.I),
        "a developer word",
    ),
    (re.compile(r"\b[a-z]+(?:_[a-z]+)+\b"), "a snake_case identifier"),
    (re.compile(r"[A-Z]{2,}(?:_[A-Z]+)+"), "an environment name"),
    (re.compile(r"\d\.\d"), "a decimal point"),
]


def problems(text: str) -> list[str]:
    found = []
    for pattern, what in BANNED:
        for match in pattern.finditer(text):
            around = text[max(0, match.start() - 30) : match.end() + 30].replace("\n", " ")
            found.append(f"{what}: {match.group(0)!r} in «{around}»")
    return found


def test_the_check_catches_each_kind_of_slip() -> None:
    assert problems("Склейка каждые 5,3\xa0с. Темп 3,1 LU.") == []
    for slip in (
        "null",
        "анализ: local (local-rules-v1)",
        "см. README",
        "задайте AI_PROVIDER",
        "код no_subtitles",
        "около 5.3 слова",
    ):
        assert problems(slip), slip


@pytest.fixture(scope="module")
def reels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("kinds")
    made = {}
    for name, spec in REELS.items():
        options = {"width": 180, "height": 320, "fps": 15, **spec}
        made[name] = make_reel(folder / f"{name}.mp4", **options)
    return made


# Parts of a result screen whose words the server writes (the analysis, its warnings); the
# rest is the page's own, from static/texts.js.
SERVER_WRITTEN = (
    ".warnings li, .cards, .hook-type .evidence, .script tbody, .recs, .pair .long-text"
)


def visible_text(page: Any, without: str = "") -> str:
    """What the page shows (innerText); `without` hides those parts while it is read."""
    return str(
        page.evaluate(
            """(selector) => {
              const hidden = selector ? [...document.querySelectorAll(selector)] : [];
              for (const el of hidden) el.style.visibility = 'hidden';
              const text = document.body.innerText;
              for (const el of hidden) el.style.visibility = '';
              return text;
            }""",
            without,
        )
    )


def timeline_overlaps(page: Any) -> list[str]:
    """Pairs of timeline labels whose boxes overlap, or a label crossed by a cut line."""
    return list(
        page.evaluate(
            """() => {
              const svg = document.querySelector('svg.timeline-svg');
              const boxes = (sel) => [...svg.querySelectorAll(sel)]
                .filter((e) => e.textContent).map((e) => [e, e.getBBox()]);
              const meet = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width
                && a.y < b.y + b.height && b.y < a.y + a.height;
              const labels = boxes('text.lane-label, text.hook-label, text.onscreen-text, '
                + 'text.scene-badge-text');
              const marks = boxes('line.cut, line.payoff-line, rect.hook-window, path.cut-head');
              const out = [];
              for (const [el, box] of labels) {
                for (const [other, obox] of labels) {
                  if (el !== other && meet(box, obox)) {
                    out.push(`${el.textContent} / ${other.textContent}`);
                  }
                }
                if (el.classList.contains('lane-label') || el.classList.contains('hook-label')) {
                  for (const [mark, mbox] of marks) {
                    if (meet(box, mbox)) {
                      out.push(`${el.textContent} crossed by ${mark.getAttribute('class')}`);
                    }
                  }
                }
              }
              for (const t of svg.querySelectorAll('text.onscreen-text')) {
                const chip = t.previousElementSibling.getBBox();
                const b = t.getBBox();
                if (t.textContent && b.x + b.width > chip.x + chip.width + 0.5) {
                  out.push(`${t.textContent} spills`);
                }
              }
              return out;
            }"""
        )
    )


def small_text_contrast(page: Any) -> list[str]:
    """Small SVG labels whose fill is below 4.5:1 against white (their halo and the lane)."""
    return list(
        page.evaluate(
            """() => {
              const lum = (rgb) => {
                const c = rgb.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map((v) => {
                  v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
              };
              const bgs = ['rgb(255, 255, 255)', 'rgb(242, 243, 247)'];
              const out = [];
              for (const t of document.querySelectorAll('svg.timeline-svg text')) {
                if (!t.textContent) continue;
                const fill = getComputedStyle(t).fill;
                for (const bg of bgs) {
                  const [a, b] = [lum(fill), lum(bg)].sort((x, y) => y - x);
                  const ratio = (a + 0.05) / (b + 0.05);
                  if (ratio < 4.5) out.push(`${t.textContent}: ${ratio.toFixed(2)} on ${bg}`);
                }
              }
              return out;
            }"""
        )
    )


def test_every_result_screen_reads_as_russian_prose(
    make_studio: Any, open_page: Any, reels: dict[str, Path], artifacts: Path
) -> None:
    server = make_studio()
    jobs = {name: upload_api(server, path, f"{name}.mp4") for name, path in reels.items()}
    results = {name: wait_completed(server, job) for name, job in jobs.items()}
    desktop: PageWatch = open_page(DESKTOP)
    phone: PageWatch = open_page(PHONE, has_touch=True, is_mobile=True)
    seen: dict[str, list[str]] = {}  # everything shown
    own: dict[str, list[str]] = {}  # the page's own words only

    for watch, size in ((desktop, "desktop"), (phone, "phone")):
        page = goto(watch, server.url + "/")
        upload_text = visible_text(page)
        seen[f"upload/{size}"] = own[f"upload/{size}"] = problems(upload_text)
        # a phone cannot drag a file: the page does not offer it there
        assert ("перетащите" in upload_text) is (size == "desktop"), upload_text
        page.screenshot(path=artifacts / f"{size}-kinds-upload.png", full_page=True)
        # a toast with a long file name wraps between words (or after a hyphen), never
        # inside one
        broken = page.evaluate(
            """() => {
              const box = document.getElementById('toast');
              box.textContent = '«рилс-про-утренний-кофе-и-три-приёма-съёмки.mp4» удалён';
              box.className = 'toast show';
              const text = box.firstChild;
              const out = [];
              let at = 0;
              // a line may end after a space or a hyphen, never inside a piece between them
              for (const piece of text.data.match(/[^ -]+-?| /g)) {
                const range = document.createRange();
                range.setStart(text, at);
                range.setEnd(text, at + piece.length);
                const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                if (lines.size > 1) out.push(piece);
                at += piece.length;
              }
              return out;
            }"""
        )
        assert broken == [], broken
        page.wait_for_function(
            "() => getComputedStyle(document.getElementById('toast')).opacity === '1'"
        )
        page.screenshot(path=artifacts / f"{size}-kinds-toast.png")
        page.evaluate("document.getElementById('toast').className = 'toast'")

        for name, job in jobs.items():
            page.goto(f"{server.url}/#/jobs/{job}")
            page.wait_for_selector(".result-head")
            wait_images_loaded(page)
            text = visible_text(page)
            seen[f"{name}/{size}"] = problems(text)
            own[f"{name}/{size}"] = problems(visible_text(page, without=SERVER_WRITTEN))
            assert "разбор готов" in text.lower()
            # nothing printed where a part has nothing to say (a result without warnings)
            assert not re.search(r"(^|\n)\s*null\s*(\n|$)", text)
            # subtitles are offered only when they can be made
            spoken = any(s.text.strip() for s in results[name].timeline.speech)
            assert page.get_by_role("button", name="Субтитры оригинала, SRT").count() == int(spoken)
            assert page.get_by_role("button", name="Субтитры перевода, SRT").count() == 0  # offline
            assert timeline_overlaps(page) == [], (name, size)
            assert small_text_contrast(page) == [], (name, size)
            page.screenshot(path=artifacts / f"{size}-kinds-{name}.png", full_page=True)
            page.locator(".timeline-panel").screenshot(
                path=artifacts / f"{size}-kinds-{name}-timeline.png"
            )

        page.goto(f"{server.url}/#/history")
        page.wait_for_selector(".history-item")
        seen[f"history/{size}"] = own[f"history/{size}"] = problems(visible_text(page))
        watch.assert_clean()

    failing = {screen: found for screen, found in own.items() if found}
    assert failing == {}, "\n".join(f"{k}: {v}" for k, v in failing.items())
    # and with the analysis' own words (keys, warnings, script, recommendations) too
    failing = {screen: found for screen, found in seen.items() if found}
    assert failing == {}, "\n".join(f"{k}: {v}" for k, v in failing.items())


def test_on_screen_text_labels_fit_their_chips_on_a_phone(
    make_studio: Any, open_page: Any, reels: dict[str, Path], artifacts: Path
) -> None:
    """Captions as the on-screen text step reports them: a long one over a short span is cut
    short with an ellipsis inside its chip, not spilled over the cut that follows it."""
    server = make_studio()
    job_id = upload_api(server, reels["speech"], "текст в кадре.mp4")
    wait_completed(server, job_id)

    def add_captions(result: dict[str, Any]) -> None:
        result["timeline"]["onscreen_text"] = [
            {"start": 0.2, "end": 2.4, "text": "3 TRICKS TO FILM BETTER VIDEOS"},
            {"start": 5.1, "end": 7.9, "text": "WAIT FOR IT"},
        ]

    server.edit_result(job_id, add_captions)

    watch = open_page(PHONE, has_touch=True, is_mobile=True)
    page = goto(watch, f"{server.url}/#/jobs/{job_id}")
    page.wait_for_selector(".result-head")
    wait_images_loaded(page)
    labels = page.locator("svg.timeline-svg text.onscreen-text")
    first = labels.nth(0).text_content() or ""
    assert first.endswith("…") and first.startswith("3 TRICKS"), first
    assert timeline_overlaps(page) == []
    assert small_text_contrast(page) == []
    # the whole caption is still there, in the chip's tooltip
    tooltip = page.locator("svg.timeline-svg g.onscreen title").first.text_content() or ""
    assert "3 TRICKS TO FILM BETTER VIDEOS" in tooltip
    page.locator(".timeline-panel").screenshot(path=artifacts / "phone-timeline-onscreen.png")
    watch.assert_clean()
