"""The script as a creator works with it, in headless Chromium: each row's fit bar, a row edited
in place (tap → edit → save), «изменено» and the AI's version given back, and the teleprompter
advancing rows on their measured times, at a phone's 390 px and at desktop width.

Screenshots are written to test-artifacts/studio/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from reels_scripter.contract import AnalysisResult

from .conftest import CHROMIUM, CHROMIUM_MISSING, DESKTOP, PHONE, PageWatch, StudioServer
from .test_studio import assert_fits_width, goto, upload_api, wait_completed

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)]

NEW_LINE = "Снимайте у окна: дневной свет мягкий и бесплатный."
FIT_WORDS = {"ok": "Укладывается", "tight": "Впритык", "too_long": "Не укладывается"}
# How late a row may change against its measured start: timers in a loaded headless browser
# fire late by tens of milliseconds; a row change scheduled on the wrong row time would be off
# by a second or more.
TOLERANCE_MS = 250

# Records every row change of the teleprompter (index, performance.now()) and when it starts
# running, from page load on.
PROMPTER_RECORDER = """
window.__rows = [];
window.__phases = [];
new MutationObserver((mutations) => {
  const t = performance.now();
  for (const m of mutations) {
    const el = m.target;
    if (m.attributeName === "aria-current" && el.getAttribute("aria-current") === "true")
      window.__rows.push([Number(el.dataset.index), t]);
    if (m.attributeName === "data-phase" && el.classList.contains("prompter"))
      window.__phases.push([el.dataset.phase, t]);
  }
}).observe(document, {subtree: true, attributes: true,
                      attributeFilter: ["aria-current", "data-phase"]});
window.__wake = [];
Object.defineProperty(navigator, "wakeLock", {configurable: true, value: {
  request: async (type) => {
    window.__wake.push(type);
    return {release: async () => { window.__wake.push("release"); }};
  },
}});
"""


@pytest.fixture(scope="module")
def analysed(
    speech_reel: Path, tmp_path_factory: pytest.TempPathFactory
) -> Any:  # a (server, job id, result) made once: the analysis is the slow part
    from reels_scripter.db import upgrade_database  # noqa: F401 - the server migrates
    from support.settings import make_settings

    server = StudioServer(make_settings(tmp_path_factory.mktemp("script-tools") / "data")).start()
    job = upload_api(server, speech_reel, "рилс для правки.mp4")
    result = wait_completed(server, job)
    yield server, job, result
    server.stop()


@pytest.fixture
def restored(analysed: Any) -> Any:
    """`analysed`, its script as the analysis wrote it: no earlier test's edits left over."""
    server, job, _ = analysed
    restore_all(server, job)
    return analysed


def status_result(server: StudioServer, job: str) -> AnalysisResult:
    body = httpx.get(f"{server.url}/api/status/{job}", timeout=10).json()
    return AnalysisResult.model_validate(body["result"])


def restore_all(server: StudioServer, job: str) -> None:
    resp = httpx.post(f"{server.url}/api/jobs/{job}/script/restore", timeout=10)
    assert resp.status_code == 200, resp.text


def open_result(watch: PageWatch, server: StudioServer, job: str) -> Any:
    page = goto(watch, f"{server.url}/#/jobs/{job}")
    page.wait_for_selector(".result-head")
    page.wait_for_selector("tr.script-row")
    return page


def check_fit_bars(page: Any, result: AnalysisResult) -> None:
    rows = page.locator("tr.script-row")
    assert rows.count() == len(result.script)
    for i, row in enumerate(result.script):
        bar = rows.nth(i).locator(".fit")
        assert row.fit is not None, f"row {i} has no fit"
        assert bar.count() == 1
        assert bar.get_attribute("data-status") == row.fit.status
        # the status is written out, not only coloured
        label = bar.get_attribute("aria-label") or ""
        assert FIT_WORDS[row.fit.status].lower() in label
        assert FIT_WORDS[row.fit.status] in bar.inner_text()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_edit_a_row_in_place_with_its_fit_bar(
    restored: Any, open_page: Any, artifacts: Path, viewport: dict[str, int]
) -> None:
    server, job, result = restored
    name = "phone" if viewport is PHONE else "desktop"
    watch = open_page(viewport)
    page = open_result(watch, server, job)
    check_fit_bars(page, result)
    page.locator(".script-panel").screenshot(path=artifacts / f"{name}-script-fit.png")

    row = page.locator("tr.script-row").nth(0)
    row.get_by_role("button", name="Изменить блок 1").click()
    editor = page.locator("tr.row-editor form")
    assert editor.count() == 1
    text = editor.get_by_label("Текст за кадром")
    assert text.input_value() == result.script[0].text
    assert text.evaluate("el => el === document.activeElement")
    text.fill(NEW_LINE)
    editor.get_by_label("Надпись в кадре").fill("3 ТРЮКА")
    if viewport is PHONE:
        assert_fits_width(page)
    page.locator(".script-panel").screenshot(path=artifacts / f"{name}-script-editing.png")
    editor.get_by_role("button", name="Сохранить").click()
    page.wait_for_selector("tr.row-editor", state="detached")

    # saved on the server, shown in place with its mark and a fit measured for the new line
    assert row.locator(".row-line").inner_text() == NEW_LINE
    assert row.locator(".edited-badge").inner_text() == "изменено"
    assert "3 ТРЮКА" in row.locator(".row-onscreen").inner_text()
    saved = status_result(server, job)
    assert saved.script[0].text == NEW_LINE and saved.script[0].edited
    assert saved.script_version >= 2
    assert saved.script[0].fit is not None
    assert row.locator(".fit").get_attribute("data-status") == saved.script[0].fit.status
    assert page.locator("tr.script-row .edited-badge").count() == 1
    restore = page.locator(".script-edit-bar").get_by_role(
        "button", name="Вернуть весь сценарий ИИ"
    )
    assert restore.is_visible()
    page.locator(".script-panel").screenshot(path=artifacts / f"{name}-script-edited.png")
    if viewport is PHONE:
        assert_fits_width(page)

    # a reload shows the edited version; the AI's version comes back from the editor
    page.reload()
    page.wait_for_selector("tr.script-row")
    row = page.locator("tr.script-row").nth(0)
    assert row.locator(".row-line").inner_text() == NEW_LINE
    row.get_by_role("button", name="Изменить блок 1").click()
    page.locator("tr.row-editor").get_by_role("button", name="Вернуть вариант ИИ").click()
    page.wait_for_selector("tr.row-editor", state="detached")
    assert row.locator(".row-line").inner_text() == result.script[0].text
    assert row.locator(".edited-badge").count() == 0
    assert not status_result(server, job).edited
    assert page.locator(".script-edit-bar button").is_hidden()
    watch.assert_clean()


def test_a_refused_edit_shows_the_reason_and_keeps_the_text(restored: Any, open_page: Any) -> None:
    server, job, result = restored
    watch = open_page(PHONE)
    page = open_result(watch, server, job)
    # the server refuses the edit (another tab deleted the job meanwhile, say)
    page.route(
        "**/api/jobs/*/script",
        lambda route: route.fulfill(
            status=422,
            json={"error": "Текст блока 1 длиннее 1000 символов.", "code": "script_text_too_long"},
        ),
    )
    row = page.locator("tr.script-row").nth(0)
    row.get_by_role("button", name="Изменить блок 1").click()
    page.locator("tr.row-editor textarea").first.fill(NEW_LINE)
    page.locator("tr.row-editor").get_by_role("button", name="Сохранить").click()
    alert = page.locator("tr.row-editor [role=alert]")
    alert.wait_for()
    assert alert.inner_text() == "Текст блока 1 длиннее 1000 символов."
    assert page.locator("tr.row-editor textarea").first.input_value() == NEW_LINE
    assert row.locator(".row-line").inner_text() == result.script[0].text
    watch.assert_clean(allowed=("status of 422",))


def prompter_times(page: Any) -> tuple[float, list[tuple[int, float]]]:
    phases = page.evaluate("window.__phases")
    running = [t for phase, t in phases if phase == "running"]
    assert running, phases
    return running[0], [(int(i), float(t)) for i, t in page.evaluate("window.__rows")]


def test_teleprompter_advances_rows_on_their_measured_times(
    restored: Any, open_page: Any, artifacts: Path
) -> None:
    server, job, result = restored
    rows = result.script
    assert len(rows) >= 2
    watch = open_page(PHONE)
    page = watch.page
    page.add_init_script(PROMPTER_RECORDER)
    open_result(watch, server, job)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    opened = page.evaluate("performance.now()")
    page.get_by_role("button", name="Открыть суфлёр").click()
    prompter = page.locator(".prompter[role=dialog]")
    prompter.wait_for()
    page.wait_for_function("document.querySelector('.prompter-countdown').textContent === '3'")
    page.screenshot(path=artifacts / "phone-prompter-countdown.png")
    assert prompter.locator("[aria-current=true]").inner_text() == rows[0].text
    page.wait_for_selector(".prompter[data-phase=running]", timeout=6000)
    page.screenshot(path=artifacts / "phone-prompter-running.png")
    page.wait_for_selector(".prompter[data-phase=ended]", timeout=int(rows[-1].end * 1000) + 5000)
    page.screenshot(path=artifacts / "phone-prompter-ended.png")

    started, changes = prompter_times(page)
    # the 3-2-1 countdown takes three seconds
    # (never shorter; the click and the first paint may add a little on a loaded machine)
    assert 3000 - TOLERANCE_MS <= started - opened <= 3000 + 4 * TOLERANCE_MS
    # each row becomes current at its measured start (relative to the first), in order
    firsts: dict[int, float] = {}
    for index, t in changes:
        firsts.setdefault(index, t)
    assert sorted(firsts) == list(range(len(rows)))
    for index, row in enumerate(rows[1:], start=1):
        expected = (row.start - rows[0].start) * 1000
        late = firsts[index] - started - expected
        assert -10 <= late <= TOLERANCE_MS, (index, late)
    ended = [t for phase, t in page.evaluate("window.__phases") if phase == "ended"][-1]
    assert abs(ended - started - (rows[-1].end - rows[0].start) * 1000) <= TOLERANCE_MS
    assert prompter.locator("[aria-current=true]").count() == 0
    # the screen was kept awake, and nothing but the loaded result was needed
    assert page.evaluate("window.__wake") == ["screen"]
    assert not [url for url in requests if "/api/" in url], requests
    prompter.get_by_role("button", name="Закрыть").click()
    assert page.locator(".prompter").count() == 0
    assert page.evaluate("window.__wake") == ["screen", "release"]
    watch.assert_clean()


def freeze(page: Any) -> None:
    """Stop the page's (installed) clock: from here on it moves only by `run_for`."""
    page.clock.pause_at(int(page.evaluate("Date.now()")) + 1000)


def open_prompter_on_a_paused_clock(watch: PageWatch, server: StudioServer, job: str) -> Any:
    """The job's result with the page's clock installed, then frozen (`freeze`), and the
    prompter opened: the page."""
    page = watch.page
    page.clock.install()
    open_result(watch, server, job)
    freeze(page)
    page.get_by_role("button", name="Открыть суфлёр").click()
    return page


def test_teleprompter_pause_pace_and_mirror_on_a_fake_clock(
    restored: Any, open_page: Any, artifacts: Path
) -> None:
    server, job, result = restored
    rows = result.script
    watch = open_page(PHONE)
    page = open_prompter_on_a_paused_clock(watch, server, job)
    prompter = page.locator(".prompter")

    def current() -> int:
        return int(prompter.locator("[aria-current=true]").get_attribute("data-index") or -1)

    page.clock.run_for(2999)
    assert prompter.get_attribute("data-phase") == "countdown"
    page.clock.run_for(2)
    assert prompter.get_attribute("data-phase") == "running" and current() == 0
    # at ×1 the second row comes at its start, not a moment earlier
    first_len = int((rows[1].start - rows[0].start) * 1000)
    page.clock.run_for(first_len - 30)
    assert current() == 0
    page.clock.run_for(60)
    assert current() == 1
    assert prompter.locator(".prompter-row.next").count() == (1 if len(rows) > 2 else 0)

    # a tap pauses: time goes by, the row stays
    prompter.locator(".prompter-stage").click()
    assert prompter.get_attribute("data-phase") == "paused"
    page.clock.run_for(20_000)
    assert current() == 1
    page.screenshot(path=artifacts / "phone-prompter-paused.png")
    prompter.locator(".prompter-stage").click()
    assert prompter.get_attribute("data-phase") == "running"

    # ×2 (ten steps of +0.1): the rest of the row passes in half its time
    faster = prompter.get_by_role("button", name="Быстрее")
    for _ in range(10):
        faster.click()
    assert prompter.locator(".prompter-speed").inner_text() == "×2"
    if len(rows) > 2:
        left = (rows[2].start - rows[1].start) * 1000 - 30  # about what was left of row 2
        page.clock.run_for(int(left / 2) + 40)
        assert current() == 2
    mirror = prompter.get_by_role("switch", name="Зеркально")
    mirror.click()
    assert mirror.get_attribute("aria-checked") == "true"
    transform = prompter.locator(".prompter-stage").evaluate("el => getComputedStyle(el).transform")
    assert transform.startswith("matrix(-1")
    page.screenshot(path=artifacts / "phone-prompter-mirrored.png")
    slower = prompter.get_by_role("button", name="Медленнее")
    for _ in range(20):
        slower.click()
    assert prompter.locator(".prompter-speed").inner_text() == "×0,5"  # the floor
    page.keyboard.press("Escape")
    assert page.locator(".prompter").count() == 0
    watch.assert_clean()


def test_teleprompter_at_desktop_width(analysed: Any, open_page: Any, artifacts: Path) -> None:
    server, job, result = analysed
    watch = open_page(DESKTOP)
    page = open_prompter_on_a_paused_clock(watch, server, job)
    page.clock.run_for(3100)
    prompter = page.locator(".prompter")
    assert prompter.locator("[aria-current=true]").inner_text() == result.script[0].text
    box = prompter.bounding_box()
    assert box is not None
    assert (box["width"], box["height"]) == (DESKTOP["width"], DESKTOP["height"])
    page.screenshot(path=artifacts / "desktop-prompter.png")
    prompter.get_by_role("button", name="Закрыть").click()
    watch.assert_clean()


def test_a_shared_page_shows_fit_and_the_prompter_but_no_editing(
    restored: Any, open_page: Any, artifacts: Path
) -> None:
    server, job, result = restored
    edit = {"rows": [{"index": 0, "text": NEW_LINE}]}
    assert httpx.patch(f"{server.url}/api/jobs/{job}/script", json=edit).status_code == 200
    link = httpx.post(f"{server.url}/api/jobs/{job}/share", timeout=10).json()
    watch = open_page(PHONE)
    page = goto(watch, f"{server.url}{link['path']}")
    page.wait_for_selector("tr.script-row")
    rows = page.locator("tr.script-row")
    assert rows.nth(0).locator(".row-line").inner_text() == NEW_LINE
    assert rows.nth(0).locator(".edited-badge").count() == 1
    assert page.locator("tr.script-row .fit").count() == len(result.script)
    assert page.locator(".edit-row").count() == 0 and page.locator(".script-edit-bar").count() == 0
    assert "null" not in page.locator(".script-panel").inner_text()
    page.locator(".script-panel").screenshot(path=artifacts / "phone-shared-script.png")
    page.get_by_role("button", name="Открыть суфлёр").click()
    page.wait_for_selector(".prompter[data-phase=running]", timeout=6000)
    page.keyboard.press("Escape")
    restore_all(server, job)
    watch.assert_clean()
