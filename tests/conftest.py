"""The one root test setup: `tests/` is on the path (pyproject's `pythonpath`), and the shared
fixtures live in one plugin module, `support.fixtures`."""

pytest_plugins = ["support.fixtures"]
