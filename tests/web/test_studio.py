"""The studio as a person uses it, in headless Chromium: upload → live progress → result,
take-away files, a bad file, history with delete, API keys, a phone's width, offline docs.

Screenshots (desktop 1280 px, phone 390 px) are written to test-artifacts/studio/.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import srt
import webvtt
from docx import Document

from reels_scripter.contract import AnalysisResult
from support.reelgen import make_reel

from .conftest import CHROMIUM, CHROMIUM_MISSING, DESKTOP, OWNER_KEY, PHONE, PageWatch, StudioServer

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)]

# Chromium reports every 4xx answer of fetch/XHR as a console error; a test that provokes one
# on purpose allows exactly that line and nothing else.
STATUS_LINE = "Failed to load resource: the server responded with a status of {}"

# Records every value the progress bar shows and the stage beside it, from page load on
# (a new stage at the same figure too).
PROGRESS_RECORDER = """
window.__progress = [];
new MutationObserver(() => {
  const bar = document.querySelector("[role=progressbar]");
  const stage = document.getElementById("stage");
  if (!bar || !stage) return;
  const now = [Number(bar.getAttribute("aria-valuenow")), stage.textContent];
  const last = window.__progress[window.__progress.length - 1];
  if (!last || last[0] !== now[0] || last[1] !== now[1]) window.__progress.push(now);
}).observe(document, {subtree: true, childList: true, characterData: true, attributes: true,
                      attributeFilter: ["aria-valuenow"]});
"""


def goto(watch: PageWatch, url: str) -> Any:
    page = watch.page
    page.goto(url)
    page.wait_for_selector("html[data-ready]")
    return page


def upload_api(server: StudioServer, path: Path, name: str, key: str | None = None) -> str:
    headers = {"X-API-Key": key} if key else {}
    with path.open("rb") as f:
        resp = httpx.post(
            f"{server.url}/api/upload",
            files={"video": (name, f, "video/mp4")},
            headers=headers,
            timeout=60,
        )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["jobId"])


def wait_completed(server: StudioServer, job_id: str, key: str | None = None) -> AnalysisResult:
    headers = {"X-API-Key": key} if key else {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = httpx.get(f"{server.url}/api/status/{job_id}", headers=headers, timeout=10).json()
        if body["state"] == "completed":
            return AnalysisResult.model_validate(body["result"])
        assert body["state"] != "failed", body
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not complete")


def assert_fits_width(page: Any) -> None:
    sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert sizes[0] <= sizes[1], f"horizontal overflow: content {sizes[0]} px > {sizes[1]} px"


def wait_images_loaded(page: Any) -> None:
    """Every keyframe on the page has really loaded: <img> with pixels, SVG <image> loaded."""
    page.wait_for_function(
        """() => {
          const imgs = [...document.querySelectorAll("img.thumb")];
          const svgs = [...document.querySelectorAll("svg.timeline-svg image.keyframe")];
          return imgs.length > 0 && svgs.length > 0
            && imgs.every((i) => i.complete && i.naturalWidth > 0)
            && svgs.every((i) => i.getAttribute("data-loaded") === "1");
        }"""
    )


def check_cues(cues: list[tuple[float, float, str]]) -> None:
    assert cues
    previous = 0.0
    for start, end, text in cues:
        lines = text.split("\n")
        assert len(lines) <= 2 and all(len(line) <= 42 for line in lines), text
        assert end - start >= 1.0 - 1e-6 and start >= previous - 1e-6
        previous = end


def vtt_seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_upload_live_progress_result_and_take_away(
    make_studio: Any, open_page: Any, speech_reel: Path, artifacts: Path, tmp_path: Path
) -> None:
    # a small delay in each progress report keeps the job running long enough to watch it
    server = make_studio(JOB_PROGRESS_DELAY_SEC="0.02")
    watch = open_page(
        DESKTOP, accept_downloads=True, permissions=["clipboard-read", "clipboard-write"]
    )
    page = watch.page
    page.add_init_script(PROGRESS_RECORDER)
    goto(watch, server.url + "/")
    assert page.locator("#key-button").is_hidden()  # keys are off: nothing to ask
    assert page.locator("h1").inner_text() == "Разбор ролика"
    page.screenshot(path=artifacts / "desktop-upload.png", full_page=True)

    page.set_input_files("#video-file", str(speech_reel))
    page.wait_for_selector("[role=progressbar]")
    assert page.locator("#job-title").inner_text() == speech_reel.name
    page.wait_for_function(
        """() => document.querySelector('.result-head') || Number(
             (document.querySelector('[role=progressbar]') || {getAttribute: () => 0})
               .getAttribute('aria-valuenow')) > 5"""
    )
    if page.locator("[role=progressbar]").count():
        page.screenshot(path=artifacts / "desktop-progress.png")
    page.wait_for_selector(".result-head", timeout=120_000)

    progress = page.evaluate("window.__progress")
    values = [v for v, _ in progress]
    assert values == sorted(values), f"the bar went back: {values}"
    assert any(0 < v < 100 for v in values), values
    stages = {s for _, s in progress}
    assert stages and all(re.search("[а-яё]", s, re.I) for s in stages), stages
    # the real stages are named as they run, speech among them (not frames, then 100 %)
    assert any("реч" in s.lower() for s in stages), progress

    job_id = page.url.rsplit("/", 1)[-1]
    result = wait_completed(server, job_id)
    assert page.locator("h1").inner_text() == speech_reel.name
    assert page.locator("article.key").count() == 5
    assert page.locator(".script-row").count() == len(result.script)
    assert page.locator(".recs li").count() == len(result.recommendations)
    wait_images_loaded(page)
    timeline = page.locator("svg.timeline-svg")
    assert timeline.locator("path.cut-head").count() == len(result.timeline.scenes) - 1
    assert timeline.locator("rect.speech").count() == len(result.timeline.speech)
    # the hook window tints each lane (speech, loudness and the strip)
    assert timeline.locator("rect.hook-window").count() == 3
    assert timeline.locator("path.loudness-line").count() == 1
    assert "Хук" in timeline.locator("text.hook-label").text_content()
    warnings = page.locator(".warnings")
    assert warnings.is_visible()
    assert result.meta.warnings[0] in warnings.inner_text()
    assert "Stop scrolling" in page.locator(".pair").inner_text()
    page.screenshot(path=artifacts / "desktop-result.png", full_page=True)

    # a row plays its span of the video this tab uploaded, and stops at the row's end
    row = result.script[0]
    page.locator(".script-row .play").first.click()
    video = page.locator(".player video")
    assert video.get_attribute("src").startswith("blob:")
    page.wait_for_function(
        "() => (document.querySelector('.player video') || {}).currentTime > 0.3"
    )
    assert page.locator("line.playhead").get_attribute("visibility") == "visible"
    page.wait_for_function(
        "() => { const v = document.querySelector('.player video');"
        " return v.paused && v.currentTime > 0.3; }",
        timeout=30_000,
    )
    # it stops on the row's own last frame, not a quarter second into the next shot
    assert result.meta.video is not None
    fps = result.meta.video.fps
    stopped = page.evaluate("document.querySelector('.player video').currentTime")
    assert row.end - 1.5 / fps <= stopped <= row.end, (stopped, row.end)
    page.screenshot(path=artifacts / "desktop-player.png")

    # take-away: every download is a file its reader accepts
    def download(label: str) -> Path:
        with page.expect_download() as info:
            page.get_by_role("button", name=label).click()
        name: str = info.value.suggested_filename  # open_page is Any here: name the type
        target = tmp_path / name
        info.value.save_as(target)
        return target

    docx_file = download("Скачать DOCX")
    assert docx_file.name == "рилс с речью.docx"
    doc = Document(str(docx_file))
    assert len(doc.tables[0].rows) == len(result.script) + 1
    assert len(doc.inline_shapes) == len(result.script)
    original_srt = download("Субтитры оригинала, SRT")
    assert original_srt.name == "рилс с речью.en.srt"  # the track's language in the name
    subtitles = original_srt.read_text(encoding="utf-8")
    check_cues(
        [(c.start.total_seconds(), c.end.total_seconds(), c.content) for c in srt.parse(subtitles)]
    )
    original_vtt = download("Субтитры оригинала, VTT")
    assert original_vtt.name == "рилс с речью.en.vtt"
    check_cues(
        [
            (vtt_seconds(c.start), vtt_seconds(c.end), c.text)
            for c in webvtt.read(str(original_vtt)).captions
        ]
    )
    # offline there is no translator: no translation track is offered
    assert result.original.translation == ""
    assert page.get_by_role("button", name="Субтитры перевода, VTT").count() == 0
    markdown = download("Скачать Markdown").read_text(encoding="utf-8")
    assert markdown.startswith("# Сценарий ролика")
    as_json = json.loads(download("Скачать JSON").read_text(encoding="utf-8"))
    assert AnalysisResult.model_validate(as_json).script == result.script

    page.get_by_role("button", name="Скопировать сценарий").click()
    page.wait_for_selector(".toast.show")
    assert page.locator(".toast").inner_text() == "Сценарий скопирован"
    copied = page.evaluate("navigator.clipboard.readText()")
    assert all(r.visual in copied and r.text in copied for r in result.script)

    assert_fits_width(page)
    watch.assert_clean()


def test_phone_width_the_kept_video_then_its_keyframe_once_deleted(
    make_studio: Any, open_page: Any, speech_reel: Path, artifacts: Path
) -> None:
    server = make_studio()
    job_id = upload_api(server, speech_reel, "вертикальный рилс.mp4")
    result = wait_completed(server, job_id)
    watch = open_page(PHONE)
    page = goto(watch, server.url + "/")
    assert_fits_width(page)
    page.screenshot(path=artifacts / "phone-upload.png", full_page=True)

    page.goto(f"{server.url}/#/jobs/{job_id}")
    page.wait_for_selector(".result-head")
    wait_images_loaded(page)
    assert_fits_width(page)
    # on a phone the script is a stack of cards: the table header is not shown
    assert page.locator(".script thead").is_hidden()
    page.screenshot(path=artifacts / "phone-result.png", full_page=True)

    # opened from the server, not uploaded here: the server keeps a finished job's video for
    # VIDEO_RETENTION_HOURS, so the row plays from it
    page.locator(".script-row .play").first.click()
    kept = page.locator(".player video")
    kept.wait_for()
    assert f"/api/jobs/{job_id}/video" in (kept.get_attribute("src") or "")
    page.wait_for_function(
        "() => (document.querySelector('.player video') || {}).currentTime > 0.3"
    )
    page.get_by_role("button", name="Закрыть").click()

    # after its retention the sweeper deletes it: the keyframe shows instead
    from datetime import timedelta

    from sqlalchemy import update

    from reels_scripter.db import session_factory, utcnow
    from reels_scripter.jobs import Job
    from reels_scripter.jobs.sweeper import sweep

    with session_factory(server.settings)() as session:
        session.execute(
            update(Job).where(Job.id == job_id).values(video_expires_at=utcnow() - timedelta(1))
        )
        session.commit()
    assert len(sweep(server.settings, lambda _id: None).expired_videos) == 1
    page.reload()
    page.wait_for_selector(".result-head")
    page.locator(".script-row").nth(len(result.script) - 1).click()
    still = page.locator(".player img.player-still")
    still.wait_for()
    page.wait_for_function(
        "() => document.querySelector('.player img.player-still').naturalWidth > 0"
    )
    assert "больше не хранится" in page.locator(".player").inner_text()
    assert_fits_width(page)
    page.screenshot(path=artifacts / "phone-keyframe.png")
    # the close button gives focus back to the row's button (keyboard users keep their place)
    page.get_by_role("button", name="Закрыть").click()
    assert page.locator(".player").is_hidden()
    focused = page.evaluate("document.activeElement.className")
    assert focused == "play"

    page.goto(f"{server.url}/#/history")
    page.wait_for_selector(".history-item")
    assert_fits_width(page)
    page.screenshot(path=artifacts / "phone-history.png", full_page=True)
    watch.assert_clean()


def test_bad_files_get_a_russian_reason(
    make_studio: Any, open_page: Any, tmp_path: Path, artifacts: Path
) -> None:
    server = make_studio(MAX_FILE_SIZE_MB="1", MAX_VIDEO_DURATION_SEC="2")
    watch = open_page(PHONE)
    page = goto(watch, server.url + "/")
    uploads: list[str] = []
    page.on("request", lambda r: uploads.append(r.url) if r.method == "POST" else None)
    error = page.locator(".upload .error-box")

    notes = tmp_path / "заметки.txt"
    notes.write_text("это не видео", encoding="utf-8")
    page.set_input_files("#video-file", str(notes))
    error.wait_for()
    assert "не похож на видео" in error.inner_text()

    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * (1536 * 1024))
    page.set_input_files("#video-file", str(big))
    page.wait_for_function(
        "() => document.querySelector('.upload .error-box').textContent.includes('слишком')"
    )
    assert error.inner_text() == "Файл слишком большой: 1,5\xa0МБ. Максимум — 1\xa0МБ."

    long = make_reel(tmp_path / "long.mp4", duration=3.0, width=64, height=112, fps=10)
    page.set_input_files("#video-file", str(long))
    page.wait_for_function(
        "() => document.querySelector('.upload .error-box').textContent.includes('длится')"
    )
    assert error.inner_text() == "Видео длится 3\xa0с, а можно не больше 2\xa0с."
    assert uploads == [], "checked in the page: nothing was sent"

    # a text file that claims to be an MP4 passes the page's check; the server refuses it
    fake = tmp_path / "fake.mp4"
    fake.write_text("Это не видео, а просто текст.\n" * 20, encoding="utf-8")
    page.set_input_files("#video-file", str(fake))
    page.wait_for_function(
        "() => document.querySelector('.upload .error-box').textContent.includes('не является')"
    )
    assert error.inner_text().startswith("Файл не является видео. Загрузите MP4, MOV или WebM")
    assert uploads == [f"{server.url}/api/upload"]
    # the keyboard stays on the picker, ready for another file (not dropped to <body>)
    page.wait_for_function("() => document.activeElement.id === 'video-file'")
    assert page.locator(".upload-progress").is_hidden()
    assert_fits_width(page)
    page.screenshot(path=artifacts / "phone-bad-file.png", full_page=True)
    watch.assert_clean(allowed=(STATUS_LINE.format(422),))


def test_history_pages_open_and_delete(
    make_studio: Any, open_page: Any, speech_reel: Path, artifacts: Path
) -> None:
    server = make_studio()
    first = upload_api(server, speech_reel, "ролик-01.mp4")
    wait_completed(server, first)
    # the same bytes again are answered from the finished job at once (deduplicated)
    ids = [first] + [upload_api(server, speech_reel, f"ролик-{i:02d}.mp4") for i in range(2, 13)]
    watch = open_page(DESKTOP)
    page = goto(watch, server.url + "/#/history")
    page.wait_for_selector(".history-item")
    items = page.locator(".history-item .history-name")
    assert items.count() == 10
    assert items.first.inner_text() == "ролик-12.mp4"  # newest first
    assert page.locator(".pager-status").inner_text() == "Страница 1 из 2"
    assert page.locator(".panel > p.muted").first.inner_text() == "12 роликов"
    page.screenshot(path=artifacts / "desktop-history.png", full_page=True)

    page.get_by_role("link", name="Старее →").click()
    page.wait_for_function("() => location.hash === '#/history?page=2'")
    page.wait_for_function("() => document.querySelectorAll('.history-item').length === 2")
    assert [items.nth(i).inner_text() for i in range(2)] == ["ролик-02.mp4", "ролик-01.mp4"]

    page.get_by_role("button", name="Удалить «ролик-01.mp4»").click()
    assert page.locator(".confirm-text").inner_text() == "Удалить ролик и его разбор?"
    page.get_by_role("button", name="Да, удалить").click()
    page.wait_for_function("() => document.querySelectorAll('.history-item').length === 1")
    assert page.locator(".toast").inner_text() == "«ролик-01.mp4» удалён"
    assert page.locator(".panel > p.muted").first.inner_text() == "11 роликов"
    gone = httpx.get(f"{server.url}/api/jobs/{ids[0]}", timeout=10)
    assert gone.status_code == 404

    # from here on, the keyboard only: Enter on the link, Enter on a row's play button
    page.get_by_role("link", name="Открыть «ролик-02.mp4»").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(".result-head")
    assert page.locator("h1").inner_text() == "ролик-02.mp4"
    assert page.evaluate("document.activeElement.tagName") == "H1"  # focus moved to the page
    wait_images_loaded(page)
    page.locator(".script-row .play").first.focus()
    page.keyboard.press("Enter")
    page.locator(".player").wait_for()
    page.keyboard.press("Escape")  # closes the player, focus stays on the row's button
    assert page.locator(".player").is_hidden()
    assert page.evaluate("document.activeElement.className") == "play"

    # the upload page: the file input takes focus, shows it, and opens the picker with Space
    page.get_by_role("link", name="Новый ролик").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#video-file", state="attached")
    page.focus("#video-file")
    outline = page.eval_on_selector(".dropzone-label", "el => getComputedStyle(el).outlineStyle")
    assert outline == "solid", "the focused picker must look focused"
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    assert chooser.value.element.get_attribute("id") == "video-file"
    watch.assert_clean()


def test_api_keys_asked_once_and_links_signed(
    keyed_studio: StudioServer, open_page: Any, speech_reel: Path, artifacts: Path, tmp_path: Path
) -> None:
    server = keyed_studio
    key = OWNER_KEY
    watch = open_page(DESKTOP, accept_downloads=True)
    page = goto(watch, server.url + "/")
    dialog = page.locator("#key-dialog")
    assert dialog.is_visible()
    assert page.locator("h1").inner_text() == "Нужен API-ключ"

    page.fill("#key-input", "wrong-key")
    page.get_by_role("button", name="Сохранить").click()
    page.wait_for_function("() => !document.getElementById('key-error').hidden")
    assert "не подошёл" in page.locator("#key-error").inner_text()
    page.screenshot(path=artifacts / "desktop-api-key.png")

    page.fill("#key-input", key)
    page.get_by_role("button", name="Сохранить").click()
    page.wait_for_selector("#video-file", state="attached")
    assert not dialog.is_visible()
    assert page.evaluate("localStorage.getItem('reels-scripter.api-key')") == key

    page.set_input_files("#video-file", str(speech_reel))
    page.wait_for_selector(".result-head", timeout=120_000)  # progress came over signed SSE
    wait_images_loaded(page)
    srcs = page.eval_on_selector_all("img.thumb", "els => els.map((e) => e.src)")
    assert srcs and all("access=" in s for s in srcs)
    with page.expect_download() as info:
        page.get_by_role("button", name="Скачать DOCX").click()
    target = tmp_path / "keyed.docx"
    info.value.save_as(target)
    assert Document(str(target)).tables

    # the key is remembered: a new visit goes straight in
    page.goto(server.url + "/#/history")
    page.wait_for_selector(".history-item")
    assert not dialog.is_visible()
    assert page.locator(".history-item").count() == 1
    watch.assert_clean(allowed=(STATUS_LINE.format(401),))


def test_failed_job_shows_its_error_and_retry_sends_the_file_again(
    make_studio: Any, open_page: Any, speech_reel: Path, artifacts: Path
) -> None:
    server = make_studio()
    server.jobs.lose_next_video = True  # the stored upload vanishes before the analysis
    watch = open_page(PHONE)
    page = goto(watch, server.url + "/")
    # a slow phone line (about 40 KB/s up), so the upload's own progress can be seen
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 40_000},
    )
    page.evaluate(
        """() => { window.__upload = [];
          new MutationObserver(() => {
            const p = document.querySelector('.upload-progress progress');
            if (p) window.__upload.push(Number(p.value));
          }).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['value']});
        }"""
    )
    page.set_input_files("#video-file", str(speech_reel))
    page.wait_for_selector(".upload-progress progress")
    page.wait_for_function("() => window.__upload.some((v) => v > 0 && v < 100)")
    page.screenshot(path=artifacts / "phone-uploading.png")
    uploaded = page.evaluate("window.__upload")
    assert uploaded == sorted(uploaded), uploaded
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    page.wait_for_selector(".failed", timeout=60_000)
    job_id = page.url.rsplit("/", 1)[-1]
    status = httpx.get(f"{server.url}/api/status/{job_id}", timeout=10).json()
    assert status["state"] == "failed"
    box = page.locator(".failed .error-box")
    assert status["error"] in box.inner_text()
    assert f"Код ошибки: {status['code']}" in box.inner_text()
    assert_fits_width(page)
    page.screenshot(path=artifacts / "phone-failed.png", full_page=True)

    page.get_by_role("button", name="Повторить").click()
    page.wait_for_selector(".result-head", timeout=120_000)
    assert page.url.rsplit("/", 1)[-1] != job_id
    watch.assert_clean()


def test_api_docs_work_offline(make_studio: Any, open_page: Any) -> None:
    server = make_studio()
    watch = open_page(DESKTOP)
    page = watch.page
    elsewhere: list[str] = []

    def only_this_server(route: Any) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(server.url + "/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Reels Scripter API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() >= 10
    page.goto(server.url + "/redoc")
    page.wait_for_selector("h1:has-text('Reels Scripter API')")
    assert elsewhere == []
    watch.assert_clean()


def test_fields_later_issues_add_are_shown(
    make_studio: Any, open_page: Any, speech_reel: Path, artifacts: Path
) -> None:
    """`timeline.onscreen_text`, `hook_type`, warnings as objects and Russian stage labels
    with `stageCode` come from later work; the page already shows them when present."""
    server = make_studio()
    job_id = upload_api(server, speech_reel, "с текстом в кадре.mp4")
    wait_completed(server, job_id)

    def add_later_fields(result: dict[str, Any]) -> None:
        result["timeline"]["onscreen_text"] = [
            {"start": 0.2, "end": 2.4, "text": "3 TRICKS"},
            {"start": 5.1, "end": 7.9, "text": "WAIT FOR IT"},
        ]
        result["hook_type"] = {
            "type": "open_question",
            "payoff_at": 2.5,
            "evidence": ["вопрос в первой фразе"],
        }
        result["meta"]["warnings"] = [
            {"text": "Текст в кадре прочитан без кириллицы", "code": "ocr"}
        ]

    result = server.edit_result(job_id, add_later_fields)

    watch = open_page(DESKTOP)
    page = goto(watch, f"{server.url}/#/jobs/{job_id}")
    page.wait_for_selector(".result-head")
    wait_images_loaded(page)
    texts = page.locator("svg.timeline-svg g.onscreen text.onscreen-text")
    assert [texts.nth(i).text_content() for i in range(2)] == ["3 TRICKS", "WAIT FOR IT"]
    assert "текст в кадре" in page.locator(".legend").inner_text()
    assert "развязка хука" in page.locator(".legend").inner_text()
    assert page.locator("svg.timeline-svg g.payoff").count() == 1
    hook = page.locator(".hook-type").inner_text()
    assert "Открытый вопрос" in hook and "Развязка обещания — на 2,5\xa0с" in hook
    assert "вопрос в первой фразе" in hook
    assert page.locator(".warnings li").inner_text() == "Текст в кадре прочитан без кириллицы"
    page.locator(".timeline-panel").screenshot(path=artifacts / "desktop-timeline-onscreen.png")
    # offline, English speech has no translator: an empty translation is said so, not shown blank
    assert result["original"]["translation"] == ""
    pair = page.locator(".pair").inner_text()
    assert "Перевод не выполнен" in pair and "Stop scrolling" in pair
    page.locator(".pair").screenshot(path=artifacts / "desktop-untranslated.png")

    labels = page.evaluate(
        """async () => {
          const f = await import("/studio/format.js");
          return [
            f.stageLabel({state: "active", stage: "Распознаём речь", stageCode: "speech"}),
            f.stageLabel({state: "active", stage: "speech"}),
            f.stageLabel({state: "active", stageCode: "audio"}),
            f.stageLabel({state: "active", stage: "something_new"}),
            f.stageLabel({state: "waiting", stage: null}),
          ];
        }"""
    )
    assert labels == [
        "Распознаём речь",
        "Распознаём речь",
        "Слушаем звук",
        "Идёт анализ",
        "В очереди",
    ]
    watch.assert_clean()
