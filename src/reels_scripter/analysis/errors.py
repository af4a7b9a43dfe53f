"""Errors of the analysis engine, under the one root (`reels_scripter.errors.AppError`).

Each has a stable `code`, the HTTP status the API answers with, an English `message` for logs
and developers, and `params` from which the person-facing text is rendered (`texts`).
Stdlib only (through `errors`): the sandboxed probe child imports this module.
"""

from __future__ import annotations

from reels_scripter.errors import AppError


class AnalysisError(AppError, code="analysis_failed", http_status=422):
    """Base for every error the analysis engine raises on purpose."""


class InputError(AnalysisError, code="invalid_video"):
    """The file is not something we can analyse; retrying will not help."""


class EmptyFileError(InputError, code="empty_file"): ...


class NotAVideoError(InputError, code="not_a_video"): ...


class UnsupportedFormatError(InputError, code="unsupported_format", http_status=415): ...


class NoVideoStreamError(InputError, code="no_video_stream"): ...


class AudioOnlyError(NoVideoStreamError, code="audio_only"): ...


class CorruptVideoError(InputError, code="corrupt_video"): ...


class TooLongError(InputError, code="too_long"): ...


class TooLargeError(InputError, code="too_large", http_status=413): ...


class ResolutionTooLargeError(InputError, code="resolution_too_large"): ...


class ProbeTimeoutError(InputError, code="probe_timeout"): ...


class SpeechModelError(AnalysisError, code="speech_model_unavailable", http_status=500):
    """The speech model could not be found or loaded (a setup problem, not bad input)."""


class ProbeUnavailableError(
    AnalysisError, code="probe_unavailable", http_status=500, transient=True
):
    """The sandboxed probe process could not be started or could not load PyAV (a setup
    problem, not bad input)."""


def too_long(duration: float, limit: float, *, at_least: bool = False) -> TooLongError:
    prefix = "at least " if at_least else ""
    return TooLongError(
        f"The video is {prefix}{duration:.1f} s long, longer than the {limit:.1f} s limit.",
        params={"duration": duration, "limit": limit},
    )


INPUT_ERRORS: tuple[type[InputError], ...] = (
    AudioOnlyError,
    CorruptVideoError,
    EmptyFileError,
    NotAVideoError,
    NoVideoStreamError,
    ProbeTimeoutError,
    ResolutionTooLargeError,
    TooLargeError,
    TooLongError,
    UnsupportedFormatError,
)
