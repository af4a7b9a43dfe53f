"""Typed errors for bad input. Each has a stable machine `code`, an HTTP status the API maps
it to, and a human message safe to show to the person who uploaded the file."""

from __future__ import annotations


class AnalysisError(Exception):
    """Base for every error the analysis engine raises on purpose."""

    code: str = "analysis_failed"
    http_status: int = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(AnalysisError):
    """The file is not something we can analyse."""

    code = "invalid_video"


class EmptyFileError(InputError):
    code = "empty_file"


class NotAVideoError(InputError):
    code = "not_a_video"


class UnsupportedFormatError(InputError):
    code = "unsupported_format"
    http_status = 415


class NoVideoStreamError(InputError):
    code = "no_video_stream"


class AudioOnlyError(NoVideoStreamError):
    code = "audio_only"


class CorruptVideoError(InputError):
    code = "corrupt_video"


class TooLongError(InputError):
    code = "too_long"


class TooLargeError(InputError):
    code = "too_large"
    http_status = 413


class ResolutionTooLargeError(InputError):
    code = "resolution_too_large"


class ProbeTimeoutError(InputError):
    code = "probe_timeout"


class SpeechModelError(AnalysisError):
    """The speech model could not be found or loaded (a setup problem, not bad input)."""

    code = "speech_model_unavailable"
    http_status = 500


class ProbeUnavailableError(AnalysisError):
    """The sandboxed probe process could not be started or could not load PyAV (a setup
    problem, not bad input)."""

    code = "probe_unavailable"
    http_status = 500
