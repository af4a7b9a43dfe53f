"""`reels-scripter`: analyse a reel from the shell, print the schema, run the service.

Bad input ends with a one-line message and a non-zero exit code, never a traceback
(`--debug` shows one for bug reports).
"""

from __future__ import annotations

import sys
import tempfile
from enum import StrEnum
from functools import partial
from importlib.resources import as_file, files
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from reels_scripter.analysis import HeadStart
    from reels_scripter.config import Settings
    from reels_scripter.contract import AnalysisResult
    from reels_scripter.imports.downloader import Downloaded

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Measure a short vertical video and write a scene-by-scene script for a similar one.",
)

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


class OutputFormat(StrEnum):
    json = "json"
    md = "md"


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def analyze(
    video: Annotated[
        str | None,
        typer.Argument(
            help="The reel: an mp4, mov or webm file, or a link (Reels, TikTok, Shorts, VK "
            "clip, a video file or a page with og:video) to download first.",
            show_default=False,
            metavar="PATH_OR_URL",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the result here, not stdout.")
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="json or md.")] = OutputFormat.json,
    provider: Annotated[
        str | None, typer.Option(help="AI provider (default: AI_PROVIDER, i.e. local).")
    ] = None,
    keyframes: Annotated[
        Path | None,
        typer.Option(help="Folder for scene keyframes (default: DATA_DIR/keyframes/<sha>)."),
    ] = None,
    sample: Annotated[bool, typer.Option(help="Analyse the bundled sample reel.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks on errors.")] = False,
) -> None:
    """Analyse one reel and print the result (JSON or a Markdown script)."""
    if video is not None and _is_link(video):
        with tempfile.TemporaryDirectory(prefix="reels-import-") as workdir:
            fetched, imported = _download(video, Path(workdir), quiet, debug)
            _analyze(fetched, output, fmt, provider, keyframes, quiet, debug, imported)
        return
    if sample:
        with as_file(files("reels_scripter.samples").joinpath("sample_reel.mp4")) as p:
            video = str(p)
    if video is None:
        _fail("give a video file or a link (or --sample)", EXIT_BAD_INPUT)
    _analyze(Path(video), output, fmt, provider, keyframes, quiet, debug, None)


def _is_link(text: str) -> bool:
    return "://" in text or text.lower().startswith(("http:", "https:"))


def _download(url: str, workdir: Path, quiet: bool, debug: bool) -> tuple[Path, Downloaded]:
    """Fetch the reel at `url` (imports.downloader: the service's rules and limits)."""
    from reels_scripter.config import get_settings
    from reels_scripter.imports.downloader import fetch
    from reels_scripter.imports.errors import LinkError

    try:
        settings = get_settings()
    except Exception as exc:  # a malformed .env or environment value
        _fail(f"bad settings: {exc}", EXIT_BAD_INPUT)
    if not quiet and sys.stderr.isatty():
        typer.echo(f"downloading {url}", err=True)
    try:
        got = fetch(url, workdir, settings)
    except LinkError as exc:
        if debug:
            raise
        _fail(f"{exc.message} ({exc.code})", EXIT_FAILED if exc.transient else EXIT_BAD_INPUT)
    return got.path, got


def _analyze(
    path: Path,
    output: Path | None,
    fmt: OutputFormat,
    provider: str | None,
    keyframes: Path | None,
    quiet: bool,
    debug: bool,
    imported: Downloaded | None,
) -> None:
    if not path.is_file():
        _fail(f"no such file: {path}", EXIT_BAD_INPUT)
    # Start the probe (a child process) and the speech models' loading first: they run while
    # the rest of the program is imported below.
    from reels_scripter.analysis import begin
    from reels_scripter.config import analysis_options, get_settings

    try:
        settings = get_settings()
    except Exception as exc:  # a malformed .env or environment value
        _fail(f"bad settings: {exc}", EXIT_BAD_INPUT)
    head = begin(path, analysis_options(settings))
    from reels_scripter.analysis.errors import AnalysisError
    from reels_scripter.providers.base import ProviderConfigError, ProviderError

    try:
        # While the probe and the model loads run: a retired model or a missing key is
        # reported now, not after the measuring.
        _check_provider(settings, provider)
    except ProviderConfigError as exc:
        if debug:
            raise
        _fail(exc.message, EXIT_FAILED)
    try:
        result = _run_with_progress(head, settings, provider, keyframes, quiet, imported)
    except AnalysisError as exc:
        if debug:
            raise
        _fail(exc.message, EXIT_BAD_INPUT if exc.http_status < 500 else EXIT_FAILED)
    except ProviderError as exc:
        if debug:
            raise
        _fail(exc.message, EXIT_FAILED)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:
        if debug:
            raise
        _fail(f"unexpected failure ({type(exc).__name__}: {exc}); rerun with --debug", EXIT_FAILED)

    if fmt is OutputFormat.md:
        from reels_scripter.render.markdown import render_markdown

        text = render_markdown(result)
    else:
        text = result.model_dump_json(indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def _check_provider(settings: Settings, provider: str | None) -> None:
    """The provider's own start-up check, when its failure would end the run: with a fallback
    provider configured, the pipeline writes with that one instead. Transient failures (a
    429, a timeout) are left to the real call and its retries."""
    from reels_scripter.providers.base import ProviderConfigError, ProviderError
    from reels_scripter.providers.registry import get_provider

    name = provider or settings.ai_provider
    if settings.ai_fallback and settings.ai_fallback != name:
        return
    try:
        get_provider(name, settings).check()
    except ProviderConfigError:
        raise
    except ProviderError:
        pass


def _run_with_progress(
    head: HeadStart,
    settings: Settings,
    provider: str | None,
    keyframes: Path | None,
    quiet: bool,
    imported: Downloaded | None = None,
) -> AnalysisResult:
    from reels_scripter.keyframes import FolderSink
    from reels_scripter.pipeline import analyze_reel

    # by default keyframes go to DATA_DIR/keyframes/<content sha>/, so reruns reuse one folder
    sink = (
        FolderSink(keyframes)
        if keyframes is not None
        else FolderSink(settings.data_dir / "keyframes", by_content=True)
    )
    run = partial(
        analyze_reel,
        head,
        settings,
        provider=provider,
        keyframes=sink,
        source=imported.source if imported is not None else None,
        notices=imported.notices if imported is not None else None,
    )
    if quiet or not sys.stderr.isatty():
        return run()  # no bar: rich is not even imported
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description:<8}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("probe", total=1.0)

        def on_progress(stage: str, fraction: float) -> None:
            bar.update(task, completed=fraction, description=stage)

        return run(progress=on_progress)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the analysis result."""
    from reels_scripter.contract import result_json_schema_text

    sys.stdout.write(result_json_schema_text() + "\n")


@app.command()
def providers() -> None:
    """List the AI providers that can be named in AI_PROVIDER or --provider."""
    from reels_scripter.providers.registry import available

    for name in available():
        typer.echo(name)


def _mount_service_commands() -> None:
    # these modules import only typer at the top; Celery, SQLAlchemy and uvicorn load when run
    from reels_scripter.api.commands import serve
    from reels_scripter.worker.commands import storage_app, worker

    app.command()(serve)
    app.command()(worker)
    app.add_typer(storage_app, name="storage")


_mount_service_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
