"""The job worker: Celery app, analysis task wiring, sweeper and CLI commands.

Import `reels_scripter.worker.celery_app` for `run_worker` / `make_enqueue`; this package
itself imports nothing heavy.
"""
