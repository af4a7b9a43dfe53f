"""Validate an uploaded file and read its container facts, refusing bad input with typed errors.

The file is untrusted, and FFmpeg's demuxers and decoders are large C code, so every byte of
parsing happens in a short-lived child process with a wall-clock timeout and an address-space
limit: a hostile or broken file can at worst kill that child, which becomes a CorruptVideoError.

Cheap checks that need no parser (size, magic bytes) run in the caller's process first.

The child imports only the stdlib, this module, `errors`, `sniff` and PyAV. It is started
without running the package `__init__` files, so whatever the rest of the package grows to
import (OpenCV, faster-whisper, ...) does not slow down every probe.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import stat
import statistics
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from reels_scripter.analysis.errors import (
    INPUT_ERRORS,
    AudioOnlyError,
    CorruptVideoError,
    EmptyFileError,
    InputError,
    NotAVideoError,
    NoVideoStreamError,
    ProbeTimeoutError,
    ProbeUnavailableError,
    ResolutionTooLargeError,
    TooLargeError,
    TooLongError,
    UnsupportedFormatError,
)
from reels_scripter.analysis.sniff import HEAD_SIZE, container_name, foreign_format, sniff

if TYPE_CHECKING:
    import av.container
    import av.stream

    from reels_scripter.analysis.models import AnalysisOptions, ProbeInfo

__all__ = ["probe", "sniff"]

log = logging.getLogger(__name__)

SUPPORTED = "MP4, MOV or WebM"
_UNAVAILABLE = "The video could not be inspected right now because of a server problem."

# A declared duration may exceed the limit by this much before we refuse: muxers round, and
# audio priming makes a 180.0 s reel report 180.02 s.
_DURATION_SLACK = 0.25
# How far the last packet may stop short of the declared duration before we call the file
# truncated. Streams of one file end together within a frame or two in a healthy file.
_TRUNCATION_SLACK = 0.25
# Video packets fed to the decoder while waiting for the first picture: covers decoder delay
# (B-frames, VP9 alt-ref frames) with room to spare, yet bounds work on a hopeless stream.
_FIRST_FRAME_PACKETS = 64

_MIB = 1024 * 1024
_MIN_PARSE_HEADROOM = 64 * _MIB

_ERRORS_BY_CODE: dict[str, type[InputError]] = {cls.code: cls for cls in INPUT_ERRORS}


def probe(path: str | Path, options: AnalysisOptions | None = None) -> ProbeInfo:
    """Validate the file at `path` and return its facts, or raise an `InputError` subclass."""
    # Imported here, not at the top, so the probe child never pays for pydantic.
    from reels_scripter.analysis.models import AnalysisOptions, ProbeInfo

    opts = options or AnalysisOptions()
    p = Path(path)
    try:
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):
            raise InputError("The upload is not a regular file.")
        with p.open("rb") as f:
            head = f.read(HEAD_SIZE)
    except OSError:
        raise InputError("The file could not be read.") from None

    size = st.st_size
    if size == 0:
        raise EmptyFileError("The file is empty (0 bytes).")
    if opts.max_size_bytes is not None and size > opts.max_size_bytes:
        raise TooLargeError(
            f"The file is {_mb(size)}, larger than the {_mb(opts.max_size_bytes)} limit.",
            params={"limit_mb": opts.max_size_bytes / _MIB},
        )

    family = sniff(head)
    if family is None:
        _refuse_unknown(head)
    name = container_name(head) or family or "mp4"

    request = {
        "path": str(p.resolve()),
        "family": family,
        "max_pixels": opts.max_pixels,
        "max_duration": opts.max_duration,
        "memory_mb": opts.probe_memory_mb,
        "timeout": opts.probe_timeout,
    }
    facts = _run_child(request, opts.probe_timeout)

    info = ProbeInfo(container=name, size_bytes=size, **facts)
    # The child enforces this too; checking again keeps the limit true even if it misreports.
    if info.duration > opts.max_duration + _DURATION_SLACK:
        raise _too_long(info.duration, opts.max_duration)
    return info


def _refuse_unknown(head: bytes) -> NoReturn:
    found = foreign_format(head)
    if found is None:
        raise NotAVideoError(f"The file is not a video. Upload an {SUPPORTED} file.")
    kind, label = found
    params = {"kind": kind, "format": label}
    if kind == "video":
        raise UnsupportedFormatError(
            f"{label} videos are not supported. Upload an {SUPPORTED} file.", params=params
        )
    if kind == "audio":
        raise AudioOnlyError(
            f"The file is {label} audio, not a video. Upload an {SUPPORTED} file.", params=params
        )
    noun = "an image" if kind == "image" else "a document"
    raise NotAVideoError(
        f"The file is {noun} ({label}), not a video. Upload an {SUPPORTED} file.", params=params
    )


def _mb(n: int) -> str:
    # binary units, as MAX_FILE_SIZE_MB is counted: a 100 MB setting must read "100.0 MB"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _too_long(duration: float, limit: float, at_least: bool = False) -> TooLongError:
    prefix = "at least " if at_least else ""
    return TooLongError(
        f"The video is {prefix}{duration:.1f} s long, longer than the {limit:.1f} s limit.",
        params={"duration": duration, "limit": limit},
    )


# --------------------------------------------------------------------------- parent side


def _run_child(request: dict[str, Any], timeout: float) -> dict[str, Any]:
    analysis_dir = Path(__file__).resolve().parent
    cmd = [
        sys.executable,
        # keep the current directory off sys.path, so nothing there can shadow `av`
        "-P",
        "-c",
        _BOOTSTRAP,
        str(analysis_dir.parent),
        str(analysis_dir),
        json.dumps(request),
    ]
    try:
        done = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=max(timeout, 0.001),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ProbeTimeoutError(
            f"Reading the video took longer than {timeout:g} s; the file may be damaged.",
            params={"timeout": timeout},
        ) from None
    except OSError as e:
        log.error("probe child could not start: %s", e)
        raise ProbeUnavailableError(_UNAVAILABLE) from e

    reply: Any = None
    try:
        reply = json.loads(done.stdout.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError):
        reply = None
    stderr_tail = done.stderr[-2000:].decode("utf-8", "replace")
    if isinstance(reply, dict) and reply.get("unavailable"):
        log.error("probe child cannot load PyAV: %s", reply["unavailable"])
        raise ProbeUnavailableError(_UNAVAILABLE)
    if done.returncode < 0:
        # Killed by a signal (segfault, abort on out-of-memory, CPU limit) while parsing:
        # the file drove the parser into a state it could not recover from.
        log.warning("probe child died of signal %d: %s", -done.returncode, stderr_tail)
        raise CorruptVideoError("The video file is damaged and could not be read.")
    if not isinstance(reply, dict):
        # Every file problem is caught inside the child and answered as JSON; an exit
        # without an answer means the child itself could not run.
        log.error("probe child failed (exit %d): %s", done.returncode, stderr_tail)
        raise ProbeUnavailableError(_UNAVAILABLE)
    if "facts" in reply:
        facts = reply["facts"]
        if isinstance(facts, dict):
            return facts
    error_cls = _ERRORS_BY_CODE.get(str(reply.get("code")), CorruptVideoError)
    message = str(reply.get("message") or "The video file is damaged and could not be read.")
    params = reply.get("params")
    raise error_cls(message, params=params if isinstance(params, dict) else None)


# Run by `python -c` in the child. It registers the two packages as bare namespaces so that
# importing this module does not execute `reels_scripter/__init__.py` or
# `reels_scripter/analysis/__init__.py` (see the module docstring for why).
_BOOTSTRAP = """\
import sys, types
for _name, _dir in (("reels_scripter", sys.argv[1]), ("reels_scripter.analysis", sys.argv[2])):
    _m = types.ModuleType(_name)
    _m.__path__ = [_dir]
    sys.modules[_name] = _m
from reels_scripter.analysis.probe import _child_main
sys.exit(_child_main(sys.argv[3]))
"""


# --------------------------------------------------------------------------- child side


def _child_main(request_json: str) -> int:
    """Entry point of the probe child: one JSON request in, one JSON line out."""
    request = json.loads(request_json)
    try:
        # Imported before the memory limit: trusted code with a fixed cost.
        import av  # noqa: F401
    except Exception as e:
        # The server, not the upload, is at fault; say so rather than call the file corrupt.
        sys.stdout.write(json.dumps({"unavailable": f"{type(e).__name__}: {e}"}) + "\n")
        return 0
    try:
        _limit_resources(int(request["memory_mb"]), float(request["timeout"]))
        reply: dict[str, Any] = {
            "facts": _inspect(
                request["path"],
                request["family"],
                int(request["max_pixels"]),
                float(request["max_duration"]),
            )
        }
    except InputError as e:
        reply = {"code": e.code, "message": e.message, "params": e.params}
    except MemoryError:
        reply = {
            "code": CorruptVideoError.code,
            "message": "The video file could not be read: it needs more memory than allowed.",
        }
    except Exception:
        reply = {
            "code": CorruptVideoError.code,
            "message": "The video file is damaged and could not be read.",
        }
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
    return 0


def _limit_resources(memory_mb: int, timeout: float) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: the wall-clock timeout still applies
        return
    # The interpreter and FFmpeg's libraries already map ~120 MB before any parsing; a limit
    # below that would fail every file and blame the upload, so keep room for parsing on top.
    address_space = max(memory_mb * _MIB, _current_address_space() + _MIN_PARSE_HEADROOM)
    limits = [
        (resource.RLIMIT_AS, address_space),
        # the parent kills us on wall-clock time; this catches a spin the parent cannot see
        (resource.RLIMIT_CPU, math.ceil(timeout) + 1),
        # a probe writes nothing, and a crash should not leave a core dump of user data
        (resource.RLIMIT_FSIZE, 0),
        (resource.RLIMIT_CORE, 0),
    ]
    for which, value in limits:
        try:
            _soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def _current_address_space() -> int:
    try:
        with Path("/proc/self/status").open(encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _inspect(path: str, family: str, max_pixels: int, max_duration: float) -> dict[str, Any]:
    import av

    # Name the demuxer ourselves: FFmpeg must not go guessing among its hundreds of formats.
    fmt = "mov" if family == "mp4" else "matroska"
    # Codec options also reach the decoders that avformat_find_stream_info runs while opening:
    # `max_pixels` makes them refuse a giant picture instead of allocating it.
    codec_options = {"max_pixels": str(max_pixels), "threads": "1"}
    try:
        container = av.open(path, format=fmt, options=codec_options)
    except av.error.MemoryError as e:
        raise MemoryError from e
    except (av.FFmpegError, ValueError) as e:
        raise CorruptVideoError(
            "The video file is damaged or incomplete and cannot be opened."
        ) from e
    with container:
        return _inspect_open(container, max_pixels, max_duration, codec_options)


def _inspect_open(
    container: av.container.InputContainer,
    max_pixels: int,
    max_duration: float,
    codec_options: dict[str, str],
) -> dict[str, Any]:
    import av

    videos = [
        s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic
    ]
    audios = list(container.streams.audio)
    if not videos:
        if audios:
            raise AudioOnlyError("The file contains only audio, no video.")
        raise NoVideoStreamError("The file contains no video stream.")
    vs = videos[0]
    cc = vs.codec_context
    if cc is None:
        raise UnsupportedFormatError(
            f"The video uses a codec that is not supported. Upload an {SUPPORTED} file."
        )
    coded_w, coded_h = int(cc.width), int(cc.height)
    if coded_w <= 0 or coded_h <= 0:
        raise CorruptVideoError("The video file is damaged: its picture size is missing.")
    # Refused from the header alone, before a single frame is decoded.
    if coded_w * coded_h > max_pixels:
        raise ResolutionTooLargeError(
            f"The video is {coded_w}x{coded_h} pixels ({coded_w * coded_h / 1e6:.1f} MP), "
            f"above the {max_pixels / 1e6:.1f} MP limit.",
            params={"width": coded_w, "height": coded_h, "limit_mp": max_pixels / 1e6},
        )

    start = container.start_time / 1_000_000 if container.start_time is not None else 0.0
    declared = _declared_duration(container, [vs, *audios])
    if declared is not None and declared > max_duration + _DURATION_SLACK:
        raise _too_long(declared, max_duration)

    audio = audios[0] if audios else None
    wanted: list[av.stream.Stream] = [vs, audio] if audio is not None else [vs]
    _check_index_within_file(container, wanted)

    cc.thread_count = 1
    cc.options = dict(codec_options)
    first_frame: av.VideoFrame | None = None
    fed = 0
    video_pts: list[int] = []
    end = 0.0
    try:
        for packet in container.demux(wanted):
            if packet.size == 0:
                continue  # the flush packet PyAV yields at the end of each stream
            stream = packet.stream
            tb = packet.time_base or stream.time_base
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is not None and tb is not None:
                t_end = float((ts + (packet.duration or 0)) * tb) - start
                end = max(end, t_end)
                if t_end > max_duration + _DURATION_SLACK:
                    raise _too_long(t_end, max_duration, at_least=True)
            if stream.index != vs.index:
                continue
            if ts is not None:
                video_pts.append(ts)
            if first_frame is None and fed < _FIRST_FRAME_PACKETS:
                fed += 1
                first_frame = _decode_first(cc, packet)
    except av.error.MemoryError as e:
        raise MemoryError from e
    except av.FFmpegError as e:
        raise CorruptVideoError(
            "The video file is damaged or incomplete: it cannot be read to the end."
        ) from e
    if first_frame is None and fed:
        first_frame = _decode_first(cc, None)
    if not video_pts:
        raise CorruptVideoError("The video file is damaged: its video track has no frames.")
    if first_frame is None:
        raise CorruptVideoError("The video file is damaged: its first frame cannot be decoded.")

    fps = _fps(vs, len(video_pts), declared or end)
    # Matroska video blocks often carry no duration, so the last frame's own length is
    # missing from `end`: allow two frame intervals on top of the fixed slack.
    slack = max(_TRUNCATION_SLACK, 2.0 / fps if fps > 0 else 0.0, 0.02 * (declared or 0.0))
    if declared is not None and end < declared - slack:
        raise CorruptVideoError("The video file is incomplete: it stops early (truncated upload?).")

    duration = declared if declared is not None and end <= declared + 1.0 else end
    if duration <= 0:
        raise CorruptVideoError("The video file is damaged: its duration is unknown.")

    rotation = _normalise_rotation(first_frame.rotation)
    width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
    if fps <= 0:
        fps = len(video_pts) / duration
    facts: dict[str, Any] = {
        "duration": round(duration, 6),
        "width": width,
        "height": height,
        "coded_width": coded_w,
        "coded_height": coded_h,
        "rotation": rotation,
        "video_codec": cc.name,
        "fps": round(fps, 6),
        "variable_frame_rate": _is_vfr(video_pts),
        "frame_count": len(video_pts),
        "has_audio": audio is not None,
    }
    if audio is not None:
        acc = audio.codec_context
        facts["audio_codec"] = acc.name if acc is not None else audio.codec.name
        facts["audio_sample_rate"] = int(acc.sample_rate) if acc is not None else None
        facts["audio_channels"] = int(acc.channels) if acc is not None else None
    return facts


def _check_index_within_file(
    container: av.container.InputContainer, streams: list[av.stream.Stream]
) -> None:
    """Refuse a file whose own index points past its end.

    An MP4 lists every sample's offset up front (in full, for a faststart file), so a cut
    upload still opens and its first frames still decode; only the index gives it away.
    Comparing offsets, not frame counts, keeps trimmed files (edit lists) valid.
    """
    size = container.size
    if size <= 0:
        return
    for stream in streams:
        for entry in stream.index_entries:
            if entry.pos + entry.size > size:
                raise CorruptVideoError(
                    "The video file is incomplete: it ends before its last frame "
                    "(truncated upload?)."
                )


def _decode_first(cc: Any, packet: Any) -> Any:
    """Feed one packet (None flushes) and return the first picture it yields, if any."""
    import av

    try:
        frames = cc.decode(packet)
    except av.error.MemoryError as e:
        raise MemoryError from e
    except av.FFmpegError as e:
        raise CorruptVideoError(
            "The video file is damaged: its first frame cannot be decoded."
        ) from e
    return frames[0] if frames else None


def _declared_duration(
    container: av.container.InputContainer, streams: list[av.stream.Stream]
) -> float | None:
    """The longest duration the headers claim, from the container and each stream."""
    found: list[float] = []
    if container.duration is not None and container.duration > 0:
        found.append(container.duration / 1_000_000)
    for s in streams:
        if s.duration is not None and s.duration > 0 and s.time_base is not None:
            found.append(float(s.duration * s.time_base))
    return max(found) if found else None


def _fps(vs: av.stream.Stream, frames: int, duration: float) -> float:
    for rate in (vs.average_rate, vs.guessed_rate):
        if rate is not None and rate > 0:
            return float(rate)
    return frames / duration if duration > 0 else 0.0


def _is_vfr(pts: list[int]) -> bool:
    """Whether frame intervals vary beyond timestamp rounding.

    A single long interval (one dropped frame) does not count: what matters downstream is
    whether frame index and time stop being proportional.
    """
    ordered = sorted(set(pts))
    deltas = [b - a for a, b in itertools.pairwise(ordered)]
    if len(deltas) < 3:
        return False
    median = statistics.median(deltas)
    # 1.5 ticks absorbs millisecond rounding of a 30 fps clock (33/34 ms)
    tolerance = max(0.2 * median, 1.5)
    off = sum(1 for d in deltas if abs(d - median) > tolerance)
    return off > max(1, len(deltas) // 20)


def _normalise_rotation(value: float | int | None) -> int:
    if value is None or not math.isfinite(value):
        return 0
    return (round(value / 90) % 4) * 90


if __name__ == "__main__":
    # Manual use: `python -m reels_scripter.analysis.probe FILE` prints the facts as JSON.
    try:
        print(probe(sys.argv[1]).model_dump_json(indent=2))
    except InputError as err:
        print(f"{err.code}: {err.message}", file=sys.stderr)
        raise SystemExit(2) from None
