"""Typer commands for the worker and storage; mounted by `reels_scripter.cli`:

from reels_scripter.worker.commands import storage_app, worker
app.command()(worker)
app.add_typer(storage_app, name="storage")
"""

from __future__ import annotations

from typing import Annotated

import typer

storage_app = typer.Typer(no_args_is_help=True, help="Storage maintenance.")


def worker(
    concurrency: Annotated[
        int, typer.Option("-c", "--concurrency", min=1, help="Parallel analyses.")
    ] = 1,
    sweep: Annotated[
        bool,
        typer.Option(
            "--sweep/--no-sweep",
            # the old names, from when a beat scheduler sent the sweeps
            "--beat/--no-beat",
            help="Also sweep: re-queue jobs of dead workers, delete expired files (every "
            "worker may; sweeps are idempotent).",
        ),
    ] = True,
) -> None:
    """Run a job worker: migrates the database, checks the AI provider, speech model and
    storage, then analyses jobs and sweeps."""
    from reels_scripter.config import get_settings
    from reels_scripter.worker.celery_app import WorkerStartupError, run_worker

    try:
        run_worker(get_settings(), sweep=sweep, concurrency=concurrency)
    except WorkerStartupError as exc:
        # one line, no traceback: 78 (EX_CONFIG) for settings to fix, 75 for a passing fault
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from exc


@storage_app.command()
def lifecycle(
    age_days: Annotated[
        int, typer.Option("--age-days", min=1, help="Delete objects this many days old.")
    ] = 1,
) -> None:
    """Set the bucket's delete-after-N-days rule (the seed's 1-day rule by default)."""
    from reels_scripter.config import get_settings
    from reels_scripter.storage import StorageError, set_lifecycle

    try:
        rules = set_lifecycle(get_settings(), age_days)
    except StorageError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"lifecycle rules: {rules}")
