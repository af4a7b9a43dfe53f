"""«Подключить ИИ» in headless Chromium, at desktop width and at a phone's 390 px: a result
written offline offers the panel; a wrong key gets the server's Russian reason on the page; a
good key (fake Gemini / a fake local OpenAI-compatible server, through the real SDKs) connects,
and the next upload is written by that provider, with no restart.

Screenshots go to test-artifacts/studio/ai-*.png.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from support.fake_ai import GEMINI_KEY, FakeGemini, FakeOpenAI

from .conftest import CHROMIUM, CHROMIUM_MISSING, DESKTOP, PHONE
from .test_studio import STATUS_LINE, assert_fits_width, goto, upload_api, wait_completed

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)]

# What the page must never show a creator: setting names, the README, model ids.
FORBIDDEN = re.compile(r"AI_PROVIDER|GOOGLE_AI_API_KEY|GEMINI_|OPENAI_|README|\.env|gemini-\d")


def _no_names(element: Any) -> None:
    text = element.inner_text()
    assert not FORBIDDEN.search(text), FORBIDDEN.search(text)


def test_desktop_connect_gemini_from_the_topbar_then_the_next_reel_uses_it(
    make_studio: Any, open_page: Any, gemini: FakeGemini, speech_reel: Path, artifacts: Path
) -> None:
    server = make_studio()
    watch = open_page(DESKTOP)
    page = goto(watch, server.url + "/")
    button = page.locator("#ai-button")
    assert button.inner_text() == "Подключить ИИ"
    button.click()
    dialog = page.locator("#ai-dialog")
    dialog.wait_for(state="visible")
    assert page.locator("#ai-status").inner_text() == "Сейчас ИИ не подключён."
    assert page.locator("input[name=provider][value=gemini]").is_checked()
    assert page.locator("#ai-base-url-field").is_hidden()

    page.fill("#ai-key", "AIzaSy-wrong-key-0001")
    page.click("#ai-submit")
    message = page.locator("#ai-message.error-box")
    message.wait_for()
    assert message.inner_text().startswith("Ключ не подошёл")
    _no_names(dialog)
    dialog.screenshot(path=artifacts / "ai-desktop-wrong-key.png")

    page.fill("#ai-key", GEMINI_KEY)
    page.click("#ai-submit")
    page.locator("#ai-message.ok-box").wait_for()
    assert (
        page.locator("#ai-status").inner_text()
        == f"Сейчас подключён Gemini, ключ …{GEMINI_KEY[-4:]}."
    )
    assert page.locator("#ai-key").input_value() == ""  # the key does not stay in the page
    assert GEMINI_KEY not in page.content()
    assert button.inner_text() == "ИИ подключён"
    dialog.screenshot(path=artifacts / "ai-desktop-connected.png")
    page.click("#ai-dialog button.secondary")

    # the next reel is written by Gemini (the fake), with no restart of anything
    job_id = upload_api(server, speech_reel, "после подключения.mp4")
    result = wait_completed(server, job_id)
    assert result.meta.provider == "gemini"
    assert gemini.generate_calls()
    page.goto(f"{server.url}/#/jobs/{job_id}")
    page.wait_for_selector(".result-head")
    assert page.locator(".ai-offer").count() == 0  # no offer on an AI-written result
    page.screenshot(path=artifacts / "ai-desktop-result-with-ai.png", full_page=True)
    watch.assert_clean(allowed=(STATUS_LINE.format(422),))


def test_phone_an_offline_result_offers_the_panel_and_a_local_server_connects(
    make_studio: Any, open_page: Any, speech_reel: Path, artifacts: Path
) -> None:
    ollama = FakeOpenAI(models=("llama3.2-vision:latest",))
    ollama.ollama_names = True
    with ollama.running():
        server = make_studio()
        job_id = upload_api(server, speech_reel, "без ИИ.mp4")
        offline = wait_completed(server, job_id)
        assert offline.meta.provider == "local"
        assert "translation_unavailable" in {n.code for n in offline.meta.notices}

        watch = open_page(PHONE, is_mobile=True, has_touch=True)
        page = goto(watch, f"{server.url}/#/jobs/{job_id}")
        offer = page.locator(".ai-offer")
        offer.wait_for()
        assert offer.locator("h2").inner_text() == "Сценарий собран без ИИ"
        assert_fits_width(page)
        _no_names(page.locator("body"))  # the offer and the analysis' own notice alike
        offer.screenshot(path=artifacts / "ai-phone-offer.png")

        offer.locator("button").click()
        page.locator("#ai-dialog").wait_for(state="visible")
        page.locator("label.ai-choice", has_text="Свой сервер").click()
        assert page.locator("#ai-base-url-field").is_visible()
        page.fill("#ai-base-url", "http://127.0.0.1:9/v1")  # nothing listens there
        page.fill("#ai-model", "llama3.2-vision")
        page.click("#ai-submit")
        page.locator("#ai-message.error-box").wait_for()
        assert (
            page.locator("#ai-message")
            .inner_text()
            .startswith("Сервер ИИ по этому адресу не отвечает")
        )
        page.locator("#ai-dialog").screenshot(path=artifacts / "ai-phone-unreachable.png")

        page.fill("#ai-base-url", ollama.url + "v1")
        page.click("#ai-submit")
        page.locator("#ai-message.ok-box").wait_for()
        assert page.locator("#ai-status").inner_text() == "Сейчас подключён сервер ИИ."
        box = page.locator("#ai-dialog").bounding_box()
        assert box is not None and box["width"] <= PHONE["width"]
        assert_fits_width(page)
        page.screenshot(path=artifacts / "ai-phone-connected.png")
        assert [r.path for r in ollama.requests] == ["/v1/models"]
        watch.assert_clean(allowed=(STATUS_LINE.format(422),))

        # the next upload of the same reel goes to the local server: a new analysis, no reuse
        again = upload_api(server, speech_reel, "без ИИ.mp4")
        assert wait_completed(server, again).meta.provider == "openai"
        assert ollama.chat_calls()
