"""The studio's HTTP side: the page and its files, public config, offline API docs, DOCX and
subtitle exports, the stored video with HTTP Range, and signed links with API keys on.

Jobs are analysed for real: the app's queue is replaced by the worker's own `run_job`,
called in-process, so an upload returns once its job has completed.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import srt
import webvtt
from docx import Document
from fastapi.testclient import TestClient

from reels_scripter.api.app import create_app
from reels_scripter.api.errors import InvalidAccessTokenError
from reels_scripter.config import Settings
from reels_scripter.contract import AnalysisResult
from reels_scripter.db import upgrade_database
from reels_scripter.render.subtitles import spoken_runs
from support.reelgen import make_reel
from support.settings import make_settings
from support.subtitles import assert_cue_rules

KEY = "studio-test-key-1"


class Runner:
    """The queue, in-process: runs a job at once, or leaves it waiting when paused."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.paused = False

    def __call__(self, job_id: str) -> None:
        if self.paused:
            return
        from reels_scripter.jobs.runner import run_job

        outcome = run_job(job_id, self.settings)
        assert outcome.status == "completed", outcome


class Studio:
    # jobs uploaded once per module: speech/silent/waiting by `studio`, job by `keyed`
    speech_job: str
    silent_job: str
    waiting_job: str
    job: str

    def __init__(self, data_dir: Path, **env: Any) -> None:
        self.settings = make_settings(data_dir, **env)
        upgrade_database(self.settings)
        self.app = create_app(self.settings)
        self.runner = Runner(self.settings)
        self.app.state.services.enqueue = self.runner
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.headers = {"X-API-Key": KEY} if env.get("API_KEYS") else {}

    def upload(self, path: Path, name: str | None = None) -> str:
        with path.open("rb") as f:
            resp = self.client.post(
                "/api/upload",
                files={"video": (name or path.name, f, "video/mp4")},
                headers=self.headers,
            )
        assert resp.status_code == 200, resp.text
        return str(resp.json()["jobId"])

    def result(self, job_id: str) -> AnalysisResult:
        resp = self.client.get(f"/api/jobs/{job_id}", headers=self.headers)
        assert resp.status_code == 200, resp.text
        return AnalysisResult.model_validate(resp.json()["result"])

    def export(self, job_id: str, file: str, content_type: str) -> Any:
        """GET /api/jobs/{job_id}/{file}, answered 200 with `content_type`: the response."""
        resp = self.client.get(f"/api/jobs/{job_id}/{file}", headers=self.headers)
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith(content_type)
        return resp


@pytest.fixture(scope="module")
def reels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("studio-reels")
    return {
        "speech": make_reel(
            d / "речь.mp4",
            duration=8.0,
            cuts=(2.5, 5.0),
            width=180,
            height=320,
            fps=15,
            audio="speech",
        ),
        "silent": make_reel(
            d / "silent.mp4", duration=2.5, cuts=(1.2,), width=64, height=112, fps=10, audio="tone"
        ),
        # different bytes, so it is not answered from the speech job (dedupe)
        "waiting": make_reel(d / "waiting.mp4", duration=3.0, width=64, height=112, fps=10),
    }


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory, reels: dict[str, Path]) -> Iterator[Studio]:
    s = Studio(tmp_path_factory.mktemp("studio") / "data")
    s.speech_job = s.upload(reels["speech"], "мой ролик.mp4")
    s.silent_job = s.upload(reels["silent"])
    s.runner.paused = True
    s.waiting_job = s.upload(reels["waiting"], "ждёт.mov")
    yield s
    s.client.close()


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory, reels: dict[str, Path]) -> Iterator[Studio]:
    s = Studio(tmp_path_factory.mktemp("keyed") / "data", API_KEYS=f"{KEY},second-key-2")
    s.job = s.upload(reels["silent"])
    yield s
    s.client.close()


def assert_error(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.content[:300]
    body = resp.json()
    assert body["code"] == code
    assert re.search("[а-яё]", body["error"], re.IGNORECASE), body  # Russian for people
    return dict(body)


# --- the page, its files, config, docs ---


def test_page_and_files(studio: Studio) -> None:
    page = studio.client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="ru">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    # everything the page loads is its own: no CDN, no other host
    assert not re.search(r"""(src|href)=["']https?://""", page.text)
    for name, kind in (("app.js", "text/javascript"), ("app.css", "text/css")):
        resp = studio.client.get(f"/studio/{name}")
        assert resp.status_code == 200 and resp.headers["content-type"].startswith(kind)
        etag = resp.headers["etag"]
        again = studio.client.get(f"/studio/{name}", headers={"If-None-Match": etag})
        assert again.status_code == 304
    assert_error(studio.client.get("/studio/../config.py"), 404, "not_found")
    assert_error(studio.client.get("/studio/missing.js"), 404, "not_found")


def test_files_are_gzipped_and_cached_by_content_hash(studio: Studio) -> None:
    page = studio.client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    assert page.headers["cache-control"] == "no-cache"  # the page is always revalidated
    assert "Accept-Encoding" in page.headers["vary"]
    assert "{{" not in page.text and "<noscript>" in page.text
    linked = re.findall(r'(?:src|href)="/studio/([\w.-]+)\?v=(\w+)"', page.text)
    assert {name for name, _ in linked} >= {"app.js", "app.css"}
    for name, version in linked:
        url = f"/studio/{name}?v={version}"
        resp = studio.client.get(url, headers={"Accept-Encoding": "gzip"})
        assert resp.status_code == 200, url
        assert "max-age=31536000" in resp.headers["cache-control"], url
        if name.endswith((".js", ".css")):
            assert resp.headers["content-encoding"] == "gzip", url
            compressed = int(resp.headers["content-length"])
            assert compressed < len(resp.content), url
        again = studio.client.get(
            url, headers={"Accept-Encoding": "gzip", "If-None-Match": resp.headers["etag"]}
        )
        assert again.status_code == 304, url
    # a module's imports carry their own hashes; an old or missing hash is only revalidated
    app_js = studio.client.get("/studio/app.js").text
    assert re.search(r'from "\./texts\.js\?v=\w{16}"', app_js)
    stale = studio.client.get("/studio/app.js?v=0000000000000000")
    assert stale.status_code == 200 and stale.headers["cache-control"] == "no-cache"
    plain = studio.client.get("/studio/app.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == app_js


def test_every_module_the_page_imports_is_served(studio: Studio) -> None:
    app_js = studio.client.get("/studio/app.js").text
    seen, todo = set(), ["app.js"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        resp = studio.client.get(f"/studio/{name}")
        assert resp.status_code == 200, name
        todo += re.findall(r'from "\./([\w.-]+\.js)(?:\?v=\w+)?"', resp.text)
    assert len(seen) >= 7, seen
    assert "./api.js" in app_js


def test_public_config(studio: Studio, keyed: Studio) -> None:
    body = studio.client.get("/api/config").json()
    assert body["maxFileSizeMb"] == 100
    assert body["maxFileSizeBytes"] == 100 * 1024 * 1024
    assert body["maxVideoDurationSec"] == 180
    assert "video/mp4" in body["acceptedTypes"] and ".mov" in body["acceptedExtensions"]
    assert body["uploadField"] == "video"
    assert body["apiKeysRequired"] is False
    # public even with keys on: the page must learn that it needs one
    on = keyed.client.get("/api/config")
    assert on.status_code == 200 and on.json()["apiKeysRequired"] is True


def test_docs_are_served_without_a_cdn(studio: Studio) -> None:
    for path in ("/docs", "/redoc"):
        html = studio.client.get(path).text
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
        urls += re.findall(r"""url:\s*'([^']+)'""", html)
        assert urls, html
        for url in urls:
            assert url.startswith("/"), f"{path} loads {url}"
            assert studio.client.get(url).status_code == 200, url
    assert "cdn.jsdelivr" not in studio.client.get("/docs").text
    assert b"cdn.redoc.ly" not in studio.client.get("/docs/assets/redoc.standalone.js").content
    assert_error(studio.client.get("/docs/assets/secret.js"), 404, "not_found")


# --- exports ---


def test_docx_is_a_shooting_script_with_keyframes(studio: Studio) -> None:
    job = studio.speech_job
    result = studio.result(job)
    resp = studio.export(job, "script.docx", "application/vnd.openxmlformats")
    disposition = resp.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert "%D0%BC%D0%BE%D0%B9" in disposition  # «мой ролик.docx», percent-encoded
    doc = Document(io.BytesIO(resp.content))
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == [
        "Время",
        "Кадр",
        "Визуал",
        "Текст за кадром",
        "Заметка",
    ]
    assert len(table.rows) == len(result.script) + 1
    for row, cells in zip(result.script, table.rows[1:], strict=True):
        assert cells.cells[2].text == row.visual
        assert cells.cells[3].text == row.text
    # one picture per script row, each a real JPEG from storage
    assert len(doc.inline_shapes) == len(result.script)
    blobs = [p.image.blob for p in doc.part.package.image_parts]
    assert blobs and all(b[:3] == b"\xff\xd8\xff" for b in blobs)
    text = "\n".join(p.text for p in doc.paragraphs)
    for key in result.keys:
        assert key.title in text


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'-]+", text.lower())


def test_subtitles_of_the_original_follow_the_words(studio: Studio) -> None:
    job = studio.speech_job
    result = studio.result(job)
    resp = studio.export(job, "subtitles.srt", "application/x-subrip")
    parsed = list(srt.parse(resp.text))
    cues = [(c.start.total_seconds(), c.end.total_seconds(), c.content) for c in parsed]
    assert_cue_rules(cues, slack=1e-6)  # times read back from the served file
    spoken = " ".join(c[2] for c in cues)
    assert _words(spoken) == _words(result.original.transcription)
    words = result.timeline.speech[0].words
    assert words, "the speech reel has word timings"
    first_word = words[0]
    assert abs(cues[0][0] - first_word.start) < 0.01  # on screen when it is said

    vtt = studio.export(job, "subtitles.vtt?track=original", "text/vtt")
    captions = webvtt.from_buffer(io.StringIO(vtt.text)).captions
    same = [(_seconds(c.start), _seconds(c.end), c.text) for c in captions]
    assert [c[2] for c in same] == [c[2] for c in cues]
    flat = [t for c in same for t in c[:2]]
    assert flat == pytest.approx([t for c in cues for t in c[:2]])


def _translate(studio: Studio, job_id: str) -> AnalysisResult:
    """Store the job's result as a translating writer returns it: the speech in Russian,
    each row's voice-over a Russian line (the local writer has no translator)."""
    from sqlalchemy import update

    from reels_scripter.db import session_factory
    from reels_scripter.jobs.models import Job

    result = studio.result(job_id)
    result.original.translation = "Хватит листать. Вот три простых приёма для съёмки."
    for i, row in enumerate(result.script):
        row.text = f"Строка {i + 1}: хватит листать, вот простой приём для съёмки телефоном."
        row.text_language = None
    with session_factory(studio.settings)() as session:
        session.execute(
            update(Job).where(Job.id == job_id).values(result=result.model_dump(mode="json"))
        )
        session.commit()
    return result


def test_subtitles_of_the_translation_follow_the_speech(
    studio: Studio, reels: dict[str, Path]
) -> None:
    # offline, the English speech has no translation: no translation track, a clear reason
    offline = studio.speech_job
    for kind in ("srt", "vtt"):
        refused = studio.client.get(f"/api/jobs/{offline}/subtitles.{kind}?track=translation")
        body = assert_error(refused, 409, "no_translation")
        assert body["error"].endswith(".")
    original = studio.client.get(f"/api/jobs/{offline}/subtitles.srt?track=original")
    assert (
        "filename*=UTF-8''%D0%BC%D0%BE%D0%B9%20%D1%80%D0%BE%D0%BB%D0%B8%D0%BA.en.srt"
        in (original.headers["content-disposition"])
    )

    job = studio.upload(reels["speech"], "переведённый.mp4")
    result = _translate(studio, job)
    runs = spoken_runs(result)
    assert runs
    resp = studio.client.get(f"/api/jobs/{job}/subtitles.vtt", params={"track": "translation"})
    assert resp.status_code == 200
    assert resp.headers["content-disposition"].endswith(".ru.vtt")
    captions = webvtt.from_buffer(io.StringIO(resp.text)).captions
    cues = [(_seconds(c.start), _seconds(c.end), c.text) for c in captions]
    assert_cue_rules(cues, slack=1e-6)  # times read back from the served file
    # every cue is on screen while something is said (within 0.3 s either side)
    for start, end, text in cues:
        assert any(s - 0.3 <= start and end <= e + 0.3 for s, e in runs), (start, end, text, runs)
    spoken_rows = [
        r.text
        for r in result.script
        if any(min(e, r.end) - max(s, r.start) > 0.05 for s, e in runs)
    ]
    assert _words(" ".join(c[2] for c in cues)) == _words(" ".join(spoken_rows))
    srt_resp = studio.client.get(f"/api/jobs/{job}/subtitles.srt?track=translation")
    assert srt_resp.headers["content-disposition"].endswith(".ru.srt")
    parsed = list(srt.parse(srt_resp.text))
    flat = [t for c in parsed for t in (c.start.total_seconds(), c.end.total_seconds())]
    assert flat == pytest.approx([t for c in cues for t in c[:2]])


def _seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_export_errors_are_russian_json(studio: Studio) -> None:
    silent = studio.silent_job
    waiting = studio.waiting_job
    c = studio.client
    assert_error(c.get(f"/api/jobs/{silent}/subtitles.srt"), 409, "no_subtitles")
    assert_error(c.get(f"/api/jobs/{waiting}/script.docx"), 409, "not_completed")
    assert_error(c.get(f"/api/jobs/{waiting}/subtitles.vtt"), 409, "not_completed")
    assert_error(c.get("/api/jobs/nope/subtitles.srt"), 404, "job_not_found")
    assert_error(c.get("/api/jobs/nope/script.docx"), 404, "job_not_found")
    assert_error(
        c.get(f"/api/jobs/{studio.speech_job}/subtitles.srt?track=klingon"),
        422,
        "validation_error",
    )
    # a silent reel still has a script: its docx is fine, with a picture per row
    doc = Document(io.BytesIO(c.get(f"/api/jobs/{silent}/script.docx").content))
    assert len(doc.inline_shapes) == len(studio.result(silent).script)


# --- the stored video ---


def test_video_streams_with_ranges_while_stored(studio: Studio, reels: dict[str, Path]) -> None:
    waiting = studio.waiting_job
    data = reels["waiting"].read_bytes()
    c = studio.client
    detail = c.get(f"/api/jobs/{waiting}").json()
    assert detail["videoStored"] is True
    whole = c.get(f"/api/jobs/{waiting}/video")
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.content == data
    part = c.get(f"/api/jobs/{waiting}/video", headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-1099/{len(data)}"
    assert part.content == data[100:1100]
    tail = c.get(f"/api/jobs/{waiting}/video", headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == data[-500:]
    rest = c.get(f"/api/jobs/{waiting}/video", headers={"Range": f"bytes={len(data) - 10}-"})
    assert rest.status_code == 206 and rest.content == data[-10:]
    big = c.get(f"/api/jobs/{waiting}/video", headers={"Range": "bytes=0-99999999999"})
    assert big.status_code == 206 and big.content == data
    bad = c.get(f"/api/jobs/{waiting}/video", headers={"Range": f"bytes={len(data)}-"})
    assert_error(bad, 416, "range_not_satisfiable")
    assert bad.headers["content-range"] == f"bytes */{len(data)}"
    # a header we do not understand is ignored, as RFC 9110 allows
    assert c.get(f"/api/jobs/{waiting}/video", headers={"Range": "pages=1-2"}).status_code == 200


def test_video_answers_head_and_oversized_ranges(studio: Studio, reels: dict[str, Path]) -> None:
    waiting = studio.waiting_job
    size = len(reels["waiting"].read_bytes())
    c = studio.client
    head = c.head(f"/api/jobs/{waiting}/video")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(size)
    assert head.headers["accept-ranges"] == "bytes"
    part = c.head(f"/api/jobs/{waiting}/video", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.headers["content-range"] == f"bytes 0-9/{size}"
    # numbers longer than int() takes (4,300 digits) are answered, never a 500
    nines = "9" * 5000
    far = c.get(f"/api/jobs/{waiting}/video", headers={"Range": f"bytes={nines}-"})
    assert_error(far, 416, "range_not_satisfiable")
    assert far.headers["content-range"] == f"bytes */{size}"
    suffix = c.get(f"/api/jobs/{waiting}/video", headers={"Range": f"bytes=-{nines}"})
    assert suffix.status_code == 206 and len(suffix.content) == size
    end = c.get(f"/api/jobs/{waiting}/video", headers={"Range": f"bytes=0-{nines}"})
    assert end.status_code == 206 and len(end.content) == size
    # digits other than ASCII's are not a range: the whole file, as for any unknown Range
    # (headers are Latin-1: "²" is one that str.isdigit() accepts and int() refuses)
    odd_range = {b"Range": "bytes=\u00b2-".encode("latin-1")}
    odd = c.get(f"/api/jobs/{waiting}/video", headers=odd_range)
    assert odd.status_code == 200 and len(odd.content) == size


def test_video_plays_after_the_analysis_until_its_retention_ends(studio: Studio) -> None:
    job = studio.speech_job
    c = studio.client
    detail = c.get(f"/api/jobs/{job}").json()
    # any tab can play a row of a finished job, not only the one that uploaded it
    assert detail["state"] == "completed" and detail["videoStored"] is True
    assert detail["videoExpiresAt"] is not None
    assert c.get(f"/api/jobs/{job}/video", headers={"Range": "bytes=0-99"}).status_code == 206

    # VIDEO_RETENTION_HOURS later the sweeper deletes it and the link says so
    from sqlalchemy import update

    from reels_scripter.db import session_factory, utcnow
    from reels_scripter.jobs import Job
    from reels_scripter.jobs.sweeper import sweep

    with session_factory(studio.settings)() as session:
        session.execute(
            update(Job).where(Job.id == job).values(video_expires_at=utcnow() - timedelta(1))
        )
        session.commit()
    assert len(sweep(studio.settings, lambda _id: None).expired_videos) == 1
    assert c.get(f"/api/jobs/{job}").json()["videoStored"] is False
    gone = assert_error(c.get(f"/api/jobs/{job}/video"), 410, "video_gone")
    assert "24\xa0ч" in gone["error"]
    assert_error(c.get("/api/jobs/nope/video"), 404, "job_not_found")


# --- signed links with API keys on ---


def test_signed_links_open_one_job_for_reading(keyed: Studio) -> None:
    job = keyed.job
    c = keyed.client
    keyframe = f"/api/jobs/{job}/keyframes/0.jpg"
    for path in (
        keyframe,
        f"/api/jobs/{job}/script.docx",
        f"/api/jobs/{job}/subtitles.srt",
        f"/api/jobs/{job}/subtitles.vtt",
        f"/api/jobs/{job}/video",
    ):
        assert_error(c.get(path), 401, "unauthorized")
        assert c.get(path, headers=keyed.headers).status_code != 401, path
    assert_error(c.post(f"/api/jobs/{job}/access"), 401, "unauthorized")
    minted = c.post(f"/api/jobs/{job}/access", headers=keyed.headers)
    assert minted.status_code == 200
    body = minted.json()
    assert body["param"] == "access" and body["expiresAt"] > time.time() + 60
    token = body["token"]
    assert KEY not in token

    image = c.get(keyframe, params={"access": token})
    assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"
    for path in (
        f"/api/jobs/{job}",
        f"/api/status/{job}",
        f"/api/jobs/{job}/script.md",
        f"/api/jobs/{job}/script.docx",
    ):
        assert c.get(path, params={"access": token}).status_code == 200, path
    with c.stream("GET", f"/api/jobs/{job}/events", params={"access": token}) as events:
        assert events.status_code == 200
        text = "".join(events.iter_text())
    assert "event: completed" in text

    # reading only, this job only, unaltered, in time
    assert_error(
        c.delete(f"/api/jobs/{job}", params={"access": token}), 401, "access_token_read_only"
    )
    assert c.get(f"/api/jobs/{job}", headers=keyed.headers).status_code == 200
    assert_error(c.get("/api/jobs", params={"access": token}), 401, "access_token_read_only")
    assert_error(
        c.post(f"/api/jobs/{job}/access", params={"access": token}), 401, "access_token_read_only"
    )
    other = keyed.upload(keyed_reel(keyed))
    assert_error(c.get(f"/api/jobs/{other}", params={"access": token}), 401, "invalid_access_token")
    expires, owner, signature = token.split(".")
    forged = f"{int(expires) + 3600}.{owner}.{signature}"
    assert_error(c.get(keyframe, params={"access": forged}), 401, "invalid_access_token")
    assert_error(c.get(keyframe, params={"access": "garbage"}), 401, "invalid_access_token")
    signer = keyed.app.state.services.url_signer
    stale, _ = signer.mint(job, owner, now=time.time() - signer.ttl_sec - 5)
    expired = assert_error(c.get(keyframe, params={"access": stale}), 401, "access_token_expired")
    assert "истёк" in expired["error"]


def test_a_token_expiry_is_plain_ascii_digits(keyed: Studio) -> None:
    job = keyed.job
    c = keyed.client
    keyframe = f"/api/jobs/{job}/keyframes/0.jpg"
    token = c.post(f"/api/jobs/{job}/access", headers=keyed.headers).json()["token"]
    assert c.get(keyframe, params={"access": token}).status_code == 200
    expires, owner, signature = token.split(".")
    arabic_indic = expires.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    for bad_expiry in (
        "0" + expires,  # the same number, another spelling: would reuse the signature
        arabic_indic,  # int() reads these as the same number too
        "9" * 5000,  # over int()'s 4,300-digit limit: was a 500 with a traceback
        "+" + expires,
    ):
        resp = c.get(keyframe, params={"access": f"{bad_expiry}.{owner}.{signature}"})
        assert_error(resp, 401, "invalid_access_token")


def keyed_reel(keyed: Studio) -> Path:
    path = keyed.settings.data_dir.parent / "other.mp4"
    if not path.exists():
        make_reel(path, duration=1.5, cuts=(), width=64, height=112, fps=10)
    return path


def test_a_token_is_bound_to_its_owner(keyed: Studio) -> None:
    """Another key's token for a job it cannot see is useless: minting is refused."""
    job = keyed.job
    c = keyed.client
    assert_error(
        c.post(f"/api/jobs/{job}/access", headers={"X-API-Key": "second-key-2"}),
        404,
        "job_not_found",
    )


def test_keys_off_needs_no_token(studio: Studio) -> None:
    job = studio.speech_job
    assert studio.client.get(f"/api/jobs/{job}/keyframes/0.jpg").status_code == 200
    # a stray token changes nothing when keys are off
    resp = studio.client.get(f"/api/jobs/{job}/keyframes/0.jpg", params={"access": "x"})
    assert resp.status_code == 200
    minted = studio.client.post(f"/api/jobs/{job}/access")
    assert minted.status_code == 200


def test_tokens_stay_out_of_logs() -> None:
    import logging

    from reels_scripter.logs import RedactFilter

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "GET %s HTTP/1.1" 200',
        ("127.0.0.1", "/api/jobs/1/video?access=123.key_ab.SIG&x=1"),
        None,
    )
    assert RedactFilter([]).filter(record)
    assert record.getMessage() == (
        '127.0.0.1 - "GET /api/jobs/1/video?access=***&x=1 HTTP/1.1" 200'
    )


def test_signing_secret_is_shared_by_replicas(tmp_path: Path) -> None:
    """Two app processes with the same API_KEYS accept each other's links (Cloud Run)."""
    from reels_scripter.api.signed_urls import UrlSigner, signing_secret

    def settings(**env: Any) -> Settings:
        return make_settings(tmp_path, **env)

    a = UrlSigner(signing_secret(settings(API_KEYS="k1,k2")))
    b = UrlSigner(signing_secret(settings(API_KEYS="k2, k1")))
    token, _ = a.mint("job-1", "key_x")
    assert b.verify(token, "job-1") == "key_x"
    rotated = UrlSigner(signing_secret(settings(API_KEYS="k1,k3")))
    with pytest.raises(InvalidAccessTokenError):
        rotated.verify(token, "job-1")
    explicit = UrlSigner(signing_secret(settings(API_KEYS="k1", URL_SIGNING_SECRET="s" * 32)))
    assert explicit.verify(explicit.mint("j", None)[0], "j") is None
