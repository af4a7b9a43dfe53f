"""The studio in a real browser: Debian's Chromium driven by Playwright, against the real app
served by uvicorn, with jobs analysed in-process by the real task code (`run_job`) instead of
a Celery worker process, so an uploaded reel really completes.

Screenshots go to `test-artifacts/studio/` at the repository root (ignored by git).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from reels_scripter.api.app import create_app
from reels_scripter.config import Settings
from reels_scripter.db import upgrade_database
from support.reelgen import make_reel
from support.served import ServedApp, started_servers
from support.settings import make_settings

CHROMIUM = Path(os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "studio"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


CHROMIUM_MISSING = (
    f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does) to run the browser tests"
)


class InlineJobs:
    """Stands in for the queue: runs each submitted job with the worker's own `run_job`,
    one at a time on a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inline-job")
        self.futures: list[Future[Any]] = []
        # a fault to inject: the stored upload vanishes before the next analysis starts
        self.lose_next_video = False

    def __call__(self, job_id: str) -> None:
        self.futures.append(self.pool.submit(self._run, job_id))

    def _run(self, job_id: str) -> Any:
        from reels_scripter.jobs.runner import run_job

        if self.lose_next_video:
            self.lose_next_video = False
            shutil.rmtree(self.settings.data_dir / "storage" / "uploads", ignore_errors=True)
        return run_job(job_id, self.settings)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)


class StudioServer(ServedApp):
    """The app on `settings`, served by uvicorn, its jobs run by `InlineJobs`."""

    app: FastAPI

    def __init__(self, settings: Settings) -> None:
        upgrade_database(settings)
        self.settings = settings
        super().__init__(create_app(settings))
        self.jobs = InlineJobs(settings)
        self.app.state.services.enqueue = self.jobs

    def stop(self) -> None:
        super().stop()
        self.jobs.close()

    def edit_result(self, job_id: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """The completed job's stored result, changed in place by `change` and stored again
        (fields a later analysis step writes, for the page to show): the changed result."""
        from sqlalchemy import update

        from reels_scripter.db import session_factory
        from reels_scripter.jobs.models import Job

        sessions = session_factory(self.settings)
        with sessions() as session:
            job = session.get(Job, job_id)
            assert job is not None and job.result is not None
            result = dict(job.result)
        change(result)
        with sessions() as session:
            session.execute(update(Job).where(Job.id == job_id).values(result=result))
            session.commit()
        return result


@pytest.fixture
def make_studio(tmp_path: Path) -> Iterator[Callable[..., StudioServer]]:
    yield from started_servers(lambda **env: StudioServer(make_settings(tmp_path / "data", **env)))


OWNER_KEY = "studio-owner-key-7"


@pytest.fixture
def keyed_studio(make_studio: Callable[..., StudioServer]) -> StudioServer:
    """A studio that asks for an API key: OWNER_KEY, or someone else's."""
    return make_studio(API_KEYS=f"{OWNER_KEY},someone-else")


@pytest.fixture(scope="session")
def speech_reel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An 8 s vertical reel with three hard cuts and the committed English speech sample."""
    out = tmp_path_factory.mktemp("reels") / "рилс с речью.mp4"
    return make_reel(
        out, duration=8.0, cuts=(2.5, 5.0), width=180, height=320, fps=15, audio="speech"
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.skip(CHROMIUM_MISSING)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\nstudio screenshots: {ARTIFACTS}")
    return ARTIFACTS


class PageWatch:
    """A page plus everything it complained about: console errors and uncaught exceptions."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def assert_clean(self, allowed: tuple[str, ...] = ()) -> None:
        unexpected = [e for e in self.errors if not any(a in e for a in allowed)]
        assert not unexpected, unexpected


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., PageWatch]]:
    contexts: list[Any] = []

    def factory(viewport: dict[str, int] = DESKTOP, **options: Any) -> PageWatch:
        context = browser.new_context(viewport=viewport, locale="ru-RU", **options)
        context.set_default_timeout(20_000)
        contexts.append(context)
        return PageWatch(context.new_page())

    yield factory
    for context in contexts:
        context.close()
