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
import re
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


# --- One catalog: everything a person reads in Russian lives in texts.py -------------------------
# (and, for the studio page, web/static/texts.js). Anywhere else in src/ a Cyrillic string
# literal is a text that escaped the catalog: it misses the editor's rules (decimal comma, NBSP,
# agreement) that the catalog applies in one place.

CATALOGS = {"texts.py", "web/static/texts.js"}
# Russian letters and cue words that are matched against speech and captions are data, not
# words a person reads: allowed by name, in the one module that matches them. A new entry needs
# that argument.
LANGUAGE_DATA: dict[str, set[str]] = {
    "providers/hook_signals.py": {"_QUESTION_START", "_CUES", "_YOU"},
    "fit.py": {"_VOWELS", "_CYRILLIC"},  # syllables are counted on vowel letters
}
CYRILLIC = re.compile("[\u0400-\u04ff]")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes: documentation for developers, never shown to a person."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _allowed_data(tree: ast.Module, names: set[str]) -> set[int]:
    """ids of every node inside a module-level assignment to one of `names`."""
    found: set[int] = set()
    for stmt in tree.body:
        targets = (
            stmt.targets
            if isinstance(stmt, ast.Assign)
            else [stmt.target]
            if isinstance(stmt, ast.AnnAssign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id in names for t in targets):
            found.update(id(n) for n in ast.walk(stmt))
    return found


def cyrillic_literals(path: Path, allowed: set[str] | None = None) -> list[str]:
    """'file:line: text' for each string literal holding Cyrillic, by its value (an escape
    such as "\\u0441" counts), leaving out docstrings and the allowed module-level names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree) | _allowed_data(tree, allowed or set())
    return [
        f"{path.name}:{node.lineno}: {node.value[:40]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and CYRILLIC.search(node.value)
    ]


def test_person_facing_russian_lives_only_in_the_catalog() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative in CATALOGS or "/migrations/" in relative:
            continue
        found += cyrillic_literals(path, LANGUAGE_DATA.get(relative))
    assert found == []


def test_no_other_file_in_src_spells_russian() -> None:
    # The page's modules, shell and styles (tests/web/test_texts_catalog.py checks them line by
    # line too) and any other non-Python file: its texts come from texts.js or the server.
    found = [
        f"{path.relative_to(SRC)}:{n}"
        for path in sorted(SRC.rglob("*"))
        if path.suffix in {".js", ".html", ".css", ".svg", ".json", ".txt", ".md"}
        and path.relative_to(SRC).as_posix() not in CATALOGS
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if CYRILLIC.search(line)
    ]
    assert found == []


def test_the_catalog_check_finds_a_planted_literal(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(
        '"""Модуль: a docstring may show an example («5 сцен»)."""\n'
        "_CUES = ('стоп',)\n"
        "def f() -> str:\n"
        '    """Пример."""\n'
        "    return f'{1} с'\n"
        "LABEL = 'Готово'\n"
        "ESCAPED = '\\u0413\\u043e\\u0442\\u043e\\u0432\\u043e'\n"
        "LATIN = 'ready'\n",
        encoding="utf-8",
    )
    found = cyrillic_literals(planted, {"_CUES"})
    assert sorted(int(line.split(":")[1]) for line in found) == [5, 6, 7]
    # without the allowance the cue words are flagged too
    assert len(cyrillic_literals(planted)) == 4


def test_every_measured_colour_has_a_russian_name() -> None:
    from reels_scripter.analysis.colours import NAMES
    from reels_scripter.texts import colour_label

    assert all(CYRILLIC.search(colour_label(name)) for name in NAMES)
