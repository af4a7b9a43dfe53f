"""No deprecation warnings from our own code paths.

pytest turns a DeprecationWarning attributed to a reels_scripter module into an error
(pyproject.toml). kombu's SQLAlchemy transport, our embedded broker, warns about SQLAlchemy
2.1's deprecated `noload` on its first query; worker/broker_warnings.py silences exactly that.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import warnings
from contextlib import closing
from pathlib import Path

import pytest

# Sends one job id through the embedded (SQLite) broker in a fresh interpreter, where
# kombu's mappers are configured for the first time, with that module's deprecation
# warnings turned into errors. With "strict", a filter installed after ours takes
# precedence, which shows what kombu does without our filter.
SEND_CODE = """
import sys, warnings
from reels_scripter.config import Settings
from reels_scripter.worker.celery_app import make_enqueue

settings = Settings(_env_file=None, DATA_DIR=sys.argv[1])
enqueue = make_enqueue(settings)
if sys.argv[2] == "strict":
    warnings.filterwarnings(
        "error", category=DeprecationWarning, module=r"kombu\\.transport\\.sqlalchemy"
    )
enqueue("0b5c0000-0000-4000-8000-000000000000")
"""


def _send(tmp_path: Path, mode: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    return subprocess.run(
        [
            sys.executable,
            "-W",
            "error::DeprecationWarning:kombu.transport.sqlalchemy",
            "-c",
            SEND_CODE,
            str(tmp_path),
            mode,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _queued(data_dir: Path) -> int:
    # closing(): a sqlite3 connection's own `with` commits but does not close it
    with closing(sqlite3.connect(data_dir / "broker.db")) as db:
        return int(db.execute("select count(*) from kombu_message").fetchone()[0])


def test_embedded_broker_sends_without_deprecation_warning(tmp_path: Path) -> None:
    sent = _send(tmp_path, "ours")
    assert sent.returncode == 0, sent.stderr
    assert "Deprecat" not in sent.stderr
    assert _queued(tmp_path) == 1


def test_kombu_still_warns_without_our_filter(tmp_path: Path) -> None:
    # When this fails, kombu no longer uses `noload`: delete worker/broker_warnings.py.
    sent = _send(tmp_path, "strict")
    assert sent.returncode != 0
    assert "The ``noload`` loader strategy is deprecated" in sent.stderr


def test_deprecation_from_our_code_fails_the_test() -> None:
    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit(
            "old API", DeprecationWarning, "jobs/service.py", 1, module="reels_scripter.jobs"
        )
