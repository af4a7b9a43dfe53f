"""Editing the script in place, on SQLite and PostgreSQL: an edit is a new version that the
status, the job, Markdown, DOCX and the subtitles all show; version 1 stays the AI's; a bad
edit changes nothing; only the job's owner edits.

Jobs are completed through the real job layer (submit, claim, complete) with a result the
local provider writes from hand-built measurements of English speech.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import srt
from docx import Document
from fastapi.testclient import TestClient

from reels_scripter.api.app import create_app
from reels_scripter.api.security import owner_id
from reels_scripter.compose import compose_result
from reels_scripter.config import Settings
from reels_scripter.contract import AnalysisResult
from reels_scripter.db import session_factory
from reels_scripter.fit import count_syllables
from reels_scripter.jobs.models import Job
from reels_scripter.jobs.repository import JobRepository, stale_cutoff
from reels_scripter.jobs.script_versions import ScriptVersionRepository
from reels_scripter.providers.base import WriteRequest
from reels_scripter.providers.local import LocalProvider
from reels_scripter.rows import plan_rows
from support.factories import measurements, segment, submit_job
from support.settings import make_settings

KEY = "edit-test-key-1"
OTHER_KEY = "edit-test-key-2"
SPEECH = (
    "Stop scrolling. Here are three simple tricks to film better video with your phone. "
    "First, always shoot near a window. Second, lock the exposure. Third, keep it short."
)
NEW_LINE = "Снимайте у окна: дневной свет мягкий и бесплатный."


def analysed() -> dict[str, Any]:
    m = measurements(cuts=[3.0, 7.0], duration=12.0, segments=[segment(SPEECH, 0.3, step=0.4)])
    rows = plan_rows(m)
    creative = LocalProvider.from_settings(Settings()).write(
        WriteRequest(measurements=m, rows=rows, video_path="x.mp4")
    )
    result = compose_result(m, rows, creative, provider="local", target_language="ru")
    assert len(result.script) >= 3
    return result.model_dump(mode="json")


@dataclass
class Api:
    client: TestClient
    settings: Settings
    job: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": KEY}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kw)

    def patch(self, body: Any, job: str | None = None) -> Any:
        return self.client.patch(
            f"/api/jobs/{job or self.job}/script", json=body, headers=self.headers
        )

    def restore(self, body: Any = None) -> Any:
        return self.client.post(
            f"/api/jobs/{self.job}/script/restore", json=body, headers=self.headers
        )

    def script(self, version: int | None = None) -> dict[str, Any]:
        params = {"version": version} if version is not None else {}
        resp = self.get(f"/api/jobs/{self.job}/script", params=params)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def status_result(self) -> dict[str, Any]:
        resp = self.get(f"/api/status/{self.job}")
        assert resp.status_code == 200, resp.text
        return dict(resp.json()["result"])


def completed_job(settings: Settings, result: dict[str, Any], owner: str | None) -> str:
    with session_factory(settings)() as session:
        job = submit_job(session, settings, owner=owner)
        repo = JobRepository(session)
        claim = repo.claim(job.id, stale_cutoff(60))
        assert claim is not None
        assert repo.complete(claim, result, "local", None)
        session.commit()
        return job.id


@pytest.fixture
def api(db_settings: Settings) -> Iterator[Api]:
    settings = make_settings(
        db_settings.data_dir,
        DATABASE_URL=db_settings.database_url,
        API_KEYS=f"{KEY},{OTHER_KEY}",
    )
    job = completed_job(settings, analysed(), owner_id(KEY))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, settings, job)


def assert_error(resp: Any, status: int, code: str) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code, body
    assert re.search("[а-яё]", body["error"], re.IGNORECASE), body
    if code.startswith("script_"):  # this feature's own texts end as sentences do
        assert body["error"].endswith("."), body
    return str(body["error"])


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def test_an_edit_is_a_new_version_every_export_shows(api: Api) -> None:
    original = api.script(1)["script"]
    resp = api.patch({"rows": [{"index": 1, "text": NEW_LINE, "visual": "Крупный план: окно."}]})
    assert resp.status_code == 200, resp.text
    result = AnalysisResult.model_validate(resp.json())
    assert result.script_version == 2 and result.edited
    assert [row.edited for row in result.script] == [i == 1 for i in range(len(original))]
    row = result.script[1]
    assert (row.text, row.visual, row.text_language) == (NEW_LINE, "Крупный план: окно.", None)
    assert row.note == original[1]["note"]  # a field left out stays
    # fit measured again for the new line, against the row's own time
    assert row.fit is not None
    assert row.fit.syllables == count_syllables(NEW_LINE, "ru")
    assert row.fit.seconds_available == pytest.approx(
        (original[1]["fit"] or {}).get("seconds_available", row.end - row.start)
    )
    others = [r for i, r in enumerate(resp.json()["script"]) if i != 1]
    assert others == [r for i, r in enumerate(original) if i != 1]

    # every reader shows the current version
    status = AnalysisResult.model_validate(api.status_result())
    assert status.script_version == 2 and status.script[1].text == NEW_LINE
    detail = AnalysisResult.model_validate(api.get(f"/api/jobs/{api.job}").json()["result"])
    assert detail.script[1].text == NEW_LINE and detail.edited
    markdown = api.get(f"/api/jobs/{api.job}/script.md").text
    assert NEW_LINE in markdown and original[1]["text"] not in markdown
    doc = Document(io.BytesIO(api.get(f"/api/jobs/{api.job}/script.docx").content))
    cells = [cell.text for table in doc.tables for r in table.rows for cell in r.cells]
    assert any(NEW_LINE in text for text in cells + [p.text for p in doc.paragraphs])
    for kind in ("srt", "vtt"):
        subtitles = api.get(f"/api/jobs/{api.job}/subtitles.{kind}?track=translation").text
        assert " ".join(words(NEW_LINE)) in " ".join(words(subtitles)), kind
    cues = list(srt.parse(api.get(f"/api/jobs/{api.job}/subtitles.srt?track=translation").text))
    edited_cues = [c for c in cues if set(words(c.content)) & set(words(NEW_LINE))]
    assert edited_cues and all(
        row.start - 1e-3 <= c.start.total_seconds() and c.end.total_seconds() <= row.end + 1e-3
        for c in edited_cues
    )

    # version 1 is still the AI's; the current one is 2; there is no 3
    first = api.script(1)
    assert first["script"] == original and not first["edited"] and first["latestVersion"] == 2
    current = api.script()
    assert current["version"] == 2 and current["edited"]
    assert current["script"][1]["text"] == NEW_LINE
    assert_error(api.get(f"/api/jobs/{api.job}/script?version=3"), 404, "script_version_not_found")

    # the next edit is version 3 and keeps the first edit
    assert api.patch({"rows": [{"index": 0, "note": "Пауза перед фразой."}]}).status_code == 200
    third = api.script()
    assert third["version"] == 3
    assert third["script"][1]["text"] == NEW_LINE and third["script"][0]["note"] == (
        "Пауза перед фразой."
    )
    assert api.script(2)["script"][0]["note"] == original[0]["note"]


def test_restore_gives_rows_the_ai_texts_back(api: Api) -> None:
    original = api.script(1)["script"]
    api.patch({"rows": [{"index": 0, "text": NEW_LINE}, {"index": 2, "note": "Моя заметка."}]})
    resp = api.restore({"rows": [0]})
    assert resp.status_code == 200, resp.text
    result = resp.json()
    assert result["script_version"] == 3 and result["edited"]
    assert result["script"][0] == {**original[0], "edited": False}
    assert result["script"][2]["edited"] and result["script"][2]["note"] == "Моя заметка."
    # all rows (no body): the AI's script again, as a new version
    resp = api.restore()
    assert resp.status_code == 200, resp.text
    result = resp.json()
    assert result["script_version"] == 4 and not result["edited"]
    assert result["script"] == [{**row, "edited": False} for row in original]
    assert not api.status_result()["edited"]
    assert_error(api.restore({"rows": [99]}), 422, "script_row_not_found")
    assert_error(api.restore({"rows": "all"}), 422, "script_edit_invalid")


def test_writing_the_ai_text_again_is_no_edit(api: Api) -> None:
    original = api.script(1)["script"]
    api.patch({"rows": [{"index": 0, "text": NEW_LINE}]})
    resp = api.patch({"rows": [{"index": 0, "text": " " + original[0]["text"] + "\n"}]})
    assert resp.status_code == 200
    assert resp.json()["script"][0] == {**original[0], "edited": False}
    assert not resp.json()["edited"] and resp.json()["script_version"] == 3


def test_onscreen_caption_is_added_changed_and_removed(api: Api) -> None:
    resp = api.patch({"rows": [{"index": 1, "onscreen": "3 ТРЮКА"}]})
    row = resp.json()["script"][1]
    assert row["onscreen"]["text"] == "3 ТРЮКА" and row["onscreen"]["language"] is None
    assert (row["onscreen"]["start"], row["onscreen"]["end"]) == (row["start"], row["end"])
    resp = api.patch({"rows": [{"index": 1, "onscreen": ""}]})
    assert resp.json()["script"][1]["onscreen"] is None
    assert not resp.json()["script"][1]["edited"]  # the AI's row had no caption either


BAD_EDITS: list[tuple[Any, str, str | None]] = [
    ({}, "script_edit_invalid", None),
    ({"rows": []}, "script_edit_empty", None),
    ({"rows": [{"index": 99, "text": "x"}]}, "script_row_not_found", "блока 100"),
    ({"rows": [{"index": 0, "text": "я" * 1001}]}, "script_text_too_long", "1000 символов"),
    ({"rows": [{"index": 1, "note": "я" * 1001}]}, "script_text_too_long", "блока 2"),
    ({"rows": [{"index": "0", "text": "x"}]}, "script_edit_invalid", None),
    ({"rows": [{"index": True, "text": "x"}]}, "script_edit_invalid", None),
    ({"rows": [{"index": -1, "text": "x"}]}, "script_edit_invalid", None),
    ({"rows": [{"index": 0, "text": 5}]}, "script_edit_invalid", None),
    ({"rows": [{"index": 0, "text": ["x"]}]}, "script_edit_invalid", None),
    ({"rows": [{"index": 0, "txt": "x"}]}, "script_edit_invalid", None),
    ({"rows": [{"index": 0}]}, "script_row_no_fields", "блока 1"),
    ({"rows": [{"index": 0, "text": None}]}, "script_row_no_fields", None),
    ({"rows": [{"index": 0, "text": "a"}, {"index": 0, "note": "b"}]}, "script_row_repeated", None),
    # a good row beside a bad one: nothing is saved
    (
        {"rows": [{"index": 0, "text": "годная"}, {"index": 50, "text": "x"}]},
        "script_row_not_found",
        None,
    ),
    ({"rows": {"index": 0, "text": "x"}}, "script_edit_invalid", None),
    ([{"index": 0, "text": "x"}], "script_edit_invalid", None),
    ("текст", "script_edit_invalid", None),
    (None, "script_edit_invalid", None),
]


def test_invalid_edits_are_refused_and_change_nothing(api: Api) -> None:
    before = api.status_result()
    for body, code, words_expected in BAD_EDITS:
        message = assert_error(api.patch(body), 422, code)
        if words_expected:  # a number is bound to its word by a non-breaking space
            assert words_expected in message.replace("\xa0", " "), (body, message)
    # not JSON at all
    resp = api.client.patch(
        f"/api/jobs/{api.job}/script",
        content=b"{rows: [",
        headers={**api.headers, "Content-Type": "application/json"},
    )
    assert_error(resp, 422, "validation_error")
    assert api.status_result() == before
    assert api.script()["version"] == 1 and not api.script()["edited"]
    with session_factory(api.settings)() as session:
        assert ScriptVersionRepository(session).latest(api.job) is None


def test_only_the_owner_edits(api: Api) -> None:
    path = f"/api/jobs/{api.job}/script"
    body = {"rows": [{"index": 0, "text": NEW_LINE}]}
    c = api.client
    assert_error(c.patch(path, json=body), 401, "unauthorized")
    assert_error(c.get(path), 401, "unauthorized")
    other = {"X-API-Key": OTHER_KEY}
    assert_error(c.patch(path, json=body, headers=other), 404, "job_not_found")
    assert_error(c.get(path, headers=other), 404, "job_not_found")
    assert_error(c.post(path + "/restore", headers=other), 404, "job_not_found")
    # a signed read-only link cannot edit
    token = c.post(f"/api/jobs/{api.job}/access", headers=api.headers).json()["token"]
    assert c.get(path, params={"access": token}).status_code == 200
    assert_error(c.patch(path, json=body, params={"access": token}), 401, "access_token_read_only")
    assert_error(api.patch(body, job="00000000-0000-0000-0000-000000000000"), 404, "job_not_found")
    assert api.script()["version"] == 1


def test_a_job_still_running_has_no_script_to_edit(api: Api) -> None:
    with session_factory(api.settings)() as session:
        waiting = submit_job(session, api.settings, owner=owner_id(KEY)).id
    assert_error(
        api.patch({"rows": [{"index": 0, "text": "x"}]}, job=waiting), 409, "not_completed"
    )
    assert_error(api.get(f"/api/jobs/{waiting}/script"), 409, "not_completed")


def test_edits_at_the_same_moment_all_land(api: Api) -> None:
    rows = len(api.script()["script"])
    barrier = threading.Barrier(rows)
    answers: list[int] = []

    def edit(index: int) -> None:
        barrier.wait()
        resp = api.patch({"rows": [{"index": index, "note": f"Заметка {index}."}]})
        answers.append(resp.status_code)

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(rows)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    saved = answers.count(200)
    assert saved >= 1 and set(answers) <= {200, 409}, answers
    current = api.script()
    assert current["version"] == 1 + saved
    notes = [row["note"] for row in current["script"]]
    assert sum(note.startswith("Заметка ") for note in notes) == saved


def test_a_deduplicated_job_gets_the_ai_script_and_deleting_takes_the_versions(api: Api) -> None:
    api.patch({"rows": [{"index": 0, "text": NEW_LINE}]})
    with session_factory(api.settings)() as session:
        sha256 = session.get(Job, api.job).sha256  # type: ignore[union-attr]
        twin = submit_job(session, api.settings, owner=owner_id(KEY), sha256=sha256)
        assert twin.state == "completed"
    resp = api.client.get(f"/api/status/{twin.id}", headers=api.headers)
    assert resp.json()["result"]["script_version"] == 1
    assert NEW_LINE not in resp.text
    assert api.client.delete(f"/api/jobs/{api.job}", headers=api.headers).status_code == 204
    with session_factory(api.settings)() as session:
        assert ScriptVersionRepository(session).latest(api.job) is None


def test_a_share_link_shows_the_current_script(api: Api) -> None:
    api.patch({"rows": [{"index": 0, "text": NEW_LINE}]})
    link = api.client.post(f"/api/jobs/{api.job}/share", headers=api.headers)
    assert link.status_code == 200, link.text
    shared = api.client.get(f"/api/shared/{link.json()['token']}")  # no key: the link is enough
    assert shared.status_code == 200, shared.text
    result = shared.json()["job"]["result"]
    assert result["script"][0]["text"] == NEW_LINE and result["script_version"] == 2
    # its signed access token reads the script but never edits it
    access = shared.json()["access"]["token"]
    path = f"/api/jobs/{api.job}/script"
    assert api.client.get(path, params={"access": access}).json()["version"] == 2
    assert_error(
        api.client.patch(
            path, json={"rows": [{"index": 0, "text": "x"}]}, params={"access": access}
        ),
        401,
        "access_token_read_only",
    )
