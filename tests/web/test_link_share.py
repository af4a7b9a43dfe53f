"""Import by link and share links in the studio, in headless Chromium at a phone's 390 px:
paste a link → live progress («Скачиваем ролик») → the result with its source line; the owner
shares the result, a visitor with no key opens it read-only, and after revoking it the link is
a Russian 404 page.

Screenshots go to test-artifacts/studio/ (link-*.png, share-*.png).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.reelgen import make_reel
from support.video_site import VideoSite

from .conftest import CHROMIUM, CHROMIUM_MISSING, DESKTOP, OWNER_KEY, PHONE, StudioServer
from .test_studio import (
    PROGRESS_RECORDER,
    STATUS_LINE,
    assert_fits_width,
    goto,
    upload_api,
    wait_completed,
    wait_images_loaded,
)

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)]

KEY_STORAGE = "reels-scripter.api-key"
ABOUT: dict[str, object] = {
    "name": "Утренняя рутина за 30 секунд",
    "description": "Мой рецепт утра #morning #routine",
    "author": {"@type": "Person", "name": "anna.reels"},
    "uploadDate": "2026-12-01T10:00:00+00:00",
    "interactionStatistic": [
        {
            "@type": "InteractionCounter",
            "interactionType": {"@type": "WatchAction"},
            "userInteractionCount": 2_300_000,
        },
        {
            "@type": "InteractionCounter",
            "interactionType": {"@type": "LikeAction"},
            "userInteractionCount": 120_400,
        },
    ],
}


@pytest.fixture
def site() -> Iterator[VideoSite]:
    with VideoSite() as running:
        yield running


def test_phone_paste_link_progress_result_with_source(
    make_studio: Any, open_page: Any, site: VideoSite, speech_reel: Path, artifacts: Path
) -> None:
    server = make_studio(IMPORT_ALLOW_PRIVATE=True)
    site.add("reel.mp4", speech_reel)
    site.described["reel.mp4"] = ABOUT
    site.pace_sec = 3.0  # a slow site: the download's own progress shows
    link = site.url("/page/reel.mp4")

    watch = open_page(PHONE, permissions=["clipboard-read", "clipboard-write"])
    page = watch.page
    page.add_init_script(PROGRESS_RECORDER)
    goto(watch, server.url + "/")
    field = page.get_by_label("Вставьте ссылку на Reels, TikTok или Shorts")
    assert field.is_visible()
    # what a phone's share sheet puts on the clipboard: words and the link
    page.evaluate("(text) => navigator.clipboard.writeText(text)", f"Смотри, какой рилс! {link}")
    page.get_by_role("button", name="Вставить ссылку из буфера обмена").click()
    page.wait_for_function("() => document.getElementById('link-input').value !== ''")
    assert field.input_value() == link
    assert_fits_width(page)
    page.screenshot(path=artifacts / "link-phone-pasted.png", full_page=True)

    page.get_by_role("button", name="Разобрать по ссылке").click()
    page.wait_for_selector(".progress-panel")
    page.wait_for_function(
        "() => (window.__progress || []).some(([v, s]) => s === 'Скачиваем ролик' && v > 0)"
    )
    page.screenshot(path=artifacts / "link-phone-progress.png", full_page=True)
    page.wait_for_selector(".result-head", timeout=120_000)
    wait_images_loaded(page)

    seen = page.evaluate("window.__progress")
    stages = [stage for _, stage in seen]
    assert stages[0] in ("В очереди", "Скачиваем ролик")
    downloading = [value for value, stage in seen if stage == "Скачиваем ролик"]
    assert downloading and max(downloading) <= 15  # its share of the bar, filled as bytes came
    assert "Написание сценария" in stages or "Готово" in stages
    values = [value for value, _ in seen]
    assert values == sorted(values)  # never goes back

    line = page.locator(".source-line")
    text = line.inner_text()
    assert text.startswith("Источник: 127.0.0.1 ·")
    assert "автор anna.reels" in text
    assert "2,3\u00a0млн\u00a0просмотров" in text and "120,4\u00a0тыс.\u00a0лайков" in text
    assert "опубликовано 1 декабря 2026" in text
    assert line.locator("a").get_attribute("href") == link
    assert page.locator("h1").inner_text() == "Утренняя рутина за 30 секунд"
    hook = page.locator(".keys").inner_text()
    assert "Охват оригинала: 2,3\u00a0млн\u00a0просмотров за" in hook
    assert_fits_width(page)
    page.screenshot(path=artifacts / "link-phone-result.png", full_page=True)
    watch.assert_clean()


def test_share_link_opens_without_a_key_and_dies_when_revoked(
    keyed_studio: StudioServer, open_page: Any, speech_reel: Path, artifacts: Path, tmp_path: Path
) -> None:
    server = keyed_studio
    key = OWNER_KEY
    job_id = upload_api(server, speech_reel, "рилс.mp4", key)
    wait_completed(server, job_id, key)
    other = make_reel(tmp_path / "other.mp4", duration=2.0, width=90, height=160, fps=10)
    other_id = upload_api(server, other, "другой.mp4", key)
    wait_completed(server, other_id, key)

    owner = open_page(DESKTOP)
    owner.page.add_init_script(f"localStorage.setItem('{KEY_STORAGE}', '{key}')")
    page = goto(owner, f"{server.url}/#/jobs/{job_id}")
    page.wait_for_selector(".result-head")
    page.get_by_role("button", name="Поделиться ссылкой").click()
    page.wait_for_selector("#share-link")
    link = page.locator("#share-link").input_value()
    assert re.fullmatch(rf"{re.escape(server.url)}/s/[\w-]{{43}}", link)
    page.locator(".share-panel").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "share-desktop-owner.png")

    visitor = open_page(PHONE, accept_downloads=True)  # a fresh browser: no key anywhere
    view = goto(visitor, link)
    view.wait_for_selector(".result-head")
    wait_images_loaded(view)
    assert view.locator("h1").inner_text() == "рилс.mp4"
    assert view.locator(".share-badge").inner_text() == "Только просмотр"
    # read-only: no navigation to history or upload, no share controls, nothing to delete
    assert view.locator("nav, .share-panel, #key-dialog").count() == 0
    assert (
        view.get_by_role(
            "button", name=re.compile("Удалить|Изменить|Поделиться|Подключить")
        ).count()
        == 0
    )
    assert view.locator(".ai-offer").count() == 0  # the owner's settings are not the visitor's
    assert page.locator(".ai-offer").count() == 1  # (the owner is offered them: written offline)
    srcs = view.eval_on_selector_all("img.thumb", "els => els.map((e) => e.src)")
    assert srcs and all(f"/api/jobs/{job_id}/" in s and "access=" in s for s in srcs)
    with view.expect_download() as info:
        view.get_by_role("button", name="Скачать Markdown").click()
    assert info.value.suggested_filename.endswith(".md")
    # the page's token reads its own job only
    token = srcs[0].split("access=")[1]
    status = view.evaluate(
        "(url) => fetch(url).then((r) => r.status)",
        f"/api/jobs/{other_id}/keyframes/0.jpg?access={token}",
    )
    assert status == 401
    assert_fits_width(view)
    view.screenshot(path=artifacts / "share-phone-visitor.png", full_page=True)

    page.get_by_role("button", name="Отозвать ссылку").click()
    page.wait_for_selector("text=Ссылка отозвана")
    page.get_by_role("button", name="Поделиться ссылкой").wait_for()

    response = view.goto(link)
    assert response is not None and response.status == 404
    assert view.locator("h1").inner_text() == "Ссылка не найдена"
    assert "Попросите у владельца новую ссылку" in view.locator("main").inner_text()
    assert_fits_width(view)
    view.screenshot(path=artifacts / "share-phone-revoked.png", full_page=True)
    owner.assert_clean()
    visitor.assert_clean(allowed=(STATUS_LINE.format(401), STATUS_LINE.format(404)))
