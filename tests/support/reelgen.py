"""Synthetic reels with known truth, made with PyAV so tests need no recorded video.

A reel is a list of coloured scenes with hard cuts at chosen times, plus an optional audio
track: silence, a tone, a click track (music-like, known BPM), the committed speech sample, or
any text spoken by espeak-ng in any of its languages (generated at test time, cached per
session). Every frame carries a little moving texture so encoders do not collapse scenes into
nothing and motion is measurable. Optionally: captions drawn on the frames for known time spans,
and a camera that moves over a large texture (pan, tilt, zoom, handheld shake) or stands still.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np

DATA = Path(__file__).parents[1] / "data"
SPEECH_SAMPLE = DATA / "speech_en.ogg"
FACE_PHOTO = DATA / "face.jpg"
SPEECH_TEXT = (DATA / "speech_en.txt").read_text(encoding="utf-8").strip()

AudioKind = Literal["none", "silence", "tone", "clicks", "speech", "speech+clicks", "espeak"]
CameraKind = Literal["none", "static", "pan", "tilt", "zoom", "handheld"]

# Texts for espeak-ng reels: plain words, no digits (a recogniser may write "3" or "three").
SPEECH_TEXTS = {
    "es": (
        "Deja de deslizar. Hoy te enseño tres trucos sencillos para grabar mejores videos "
        "con tu teléfono. Primero, graba siempre cerca de una ventana para tener luz natural. "
        "Segundo, sostén la cámara a la altura de los ojos y mantenla firme. Tercero, corta "
        "cada pausa para que la historia avance rápido. Sígueme para más consejos."
    ),
    "de": (
        "Hör auf zu scrollen. Heute zeige ich dir drei einfache Tricks für bessere Videos mit "
        "deinem Handy. Erstens, filme immer in der Nähe eines Fensters für weiches Licht. "
        "Zweitens, halte die Kamera auf Augenhöhe und ruhig. Folge mir für mehr Tipps."
    ),
    "ru": (
        "Перестань листать. Сегодня покажу три простых приёма, как снимать видео на телефон "
        "лучше. Во-первых, снимай у окна, там мягкий естественный свет. Во-вторых, держи "
        "камеру на уровне глаз. Подпишись, чтобы узнать больше."
    ),
    "en": (
        "Stop scrolling. Here are three simple tricks to film better videos with your phone. "
        "First, always shoot near a window for soft natural light. Follow for more tips."
    ),
}

PALETTE = [
    (220, 40, 40),
    (40, 180, 60),
    (40, 60, 220),
    (230, 200, 40),
    (200, 40, 200),
    (40, 200, 200),
    (240, 240, 240),
    (30, 30, 30),
]


@dataclass
class ReelSpec:
    duration: float = 6.0
    cuts: Sequence[float] = (2.0, 4.0)  # scene boundaries in seconds (hard cuts)
    width: int = 270
    height: int = 480
    fps: int = 30
    audio: AudioKind = "none"
    tone_hz: float = 440.0
    bpm: float = 120.0
    rotation: int = 0  # display-matrix rotation written into the container
    vfr: bool = False  # variable frame rate: alternate 1/30 s and 1/15 s frame durations
    container: str = "mp4"
    codec: str = "libx264"
    bitrate: int | None = None
    noise: bool = False  # full-frame random noise: makes big files fast
    texture: bool = False  # a scrolling photo-like texture per scene: realistic bitrate/decode
    # per scene: width of the committed face photo as a share of the frame width (0: no face)
    face_scales: Sequence[float] = ()
    speech_offset: float = 0.5
    extra_options: dict[str, str] = field(default_factory=dict)
    # audio="espeak": `speech_text` (default: SPEECH_TEXTS[speech_voice]) said by espeak-ng
    speech_voice: str = "es"
    speech_text: str | None = None
    speech_gain: float = 1.0
    audio_channels: int = 1  # 2: stereo, the right channel at half the left's amplitude
    audio_rate: int = 48000
    # (start, end, text): drawn large, white with a black outline, in the upper third
    captions: Sequence[tuple[float, float, str]] = ()
    # a camera over one large texture instead of coloured scenes (cuts still switch texture)
    camera: CameraKind = "none"
    camera_speed: float = 0.25  # pan/tilt: frame widths (heights) per second; zoom: scale/s


_TEXTURES: dict[tuple[int, int, int], np.ndarray] = {}


def _texture(scene: int, height: int, width: int) -> np.ndarray:
    """Smooth random texture (upscaled noise) in the scene's colour, 25% larger than the frame."""
    key = (scene, height, width)
    if key not in _TEXTURES:
        import cv2

        rng = np.random.default_rng(scene)
        h, w = int(height * 1.25), int(width * 1.25)
        small = rng.integers(0, 256, size=(h // 16 + 1, w // 16 + 1, 3), dtype=np.uint8)
        big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        fine = rng.integers(0, 40, size=(h, w, 1), dtype=np.uint8)
        tint = np.array(PALETTE[scene % len(PALETTE)], dtype=np.uint16)
        _TEXTURES[key] = (
            ((big.astype(np.uint16) * tint // 255) + fine).clip(0, 255).astype(np.uint8)
        )
    return _TEXTURES[key]


def _paste_face(img: np.ndarray, scale: float) -> None:
    """The committed face photo (a crop of NASA's public-domain astronaut portrait), centred."""
    import cv2

    photo = cv2.imread(str(FACE_PHOTO))
    if photo is None:  # imread answers None, not an error, for a missing or unreadable file
        raise FileNotFoundError(FACE_PHOTO)
    face = cv2.cvtColor(photo, cv2.COLOR_BGR2RGB)
    size = max(8, int(img.shape[1] * scale))
    face = cv2.resize(face, (size, size), interpolation=cv2.INTER_AREA)
    y = max(0, (img.shape[0] - size) // 2)
    x = max(0, (img.shape[1] - size) // 2)
    h = min(size, img.shape[0] - y)
    w = min(size, img.shape[1] - x)
    img[y : y + h, x : x + w] = face[:h, :w]


def _scenery(scene: int, height: int, width: int) -> np.ndarray:
    """A large photo-like texture (blobs at several scales plus grain) for camera moves: it
    has corners at every scale, so motion between frames is measurable like in real footage."""
    key = (1000 + scene, height, width)
    if key not in _TEXTURES:
        import cv2

        rng = np.random.default_rng(100 + scene)
        h, w = height * 3, width * 3
        img = np.zeros((h, w, 3), np.float32)
        for cell, weight in ((64, 0.5), (16, 0.3), (4, 0.2)):
            small = rng.random((h // cell + 2, w // cell + 2, 3), dtype=np.float32)
            img += weight * cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)[:h, :w]
        tint = np.array(PALETTE[scene % len(PALETTE)], np.float32) / 255.0
        img = img * (0.5 + 0.5 * tint)
        _TEXTURES[key] = (img * 255).clip(0, 255).astype(np.uint8)
    return _TEXTURES[key]


def camera_view(spec: ReelSpec, t: float, scene: int) -> np.ndarray:
    """What a camera moving as `spec.camera` says sees at `t` (the texture is 3x the frame)."""
    import cv2

    tex = _scenery(scene, spec.height, spec.width)
    th, tw = tex.shape[:2]
    h, w = spec.height, spec.width
    cx, cy = (tw - w) / 2.0, (th - h) / 2.0  # top-left of a centred crop
    size = 1.0
    if spec.camera == "pan":
        cx = w * 0.2 + spec.camera_speed * w * t
    elif spec.camera == "tilt":
        cy = h * 0.2 + spec.camera_speed * h * t
    elif spec.camera == "zoom":  # zoom in: the crop shrinks around the centre
        size = max(0.3, 1.0 / (1.0 + spec.camera_speed * t))
    elif spec.camera == "handheld":  # a few pixels of smooth random shake, no drift
        cx += 0.02 * w * (np.sin(7.1 * t) + np.sin(12.7 * t + 1.0))
        cy += 0.02 * h * (np.sin(8.3 * t + 2.0) + np.sin(11.3 * t))
    cw, ch = w * 1.5 * size, h * 1.5 * size
    x0 = cx + (w - cw) / 2.0
    y0 = cy + (h - ch) / 2.0
    # An affine warp gives sub-pixel positions: a smooth move, as a real camera makes.
    m = np.array([[cw / w, 0.0, x0], [0.0, ch / h, y0]], np.float32)
    view = cv2.warpAffine(
        tex, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT
    )
    return np.ascontiguousarray(view)


def draw_caption(img: np.ndarray, text: str) -> None:
    """Large white text with a black outline across ~80% of the width, in the upper third."""
    import cv2

    font = cv2.FONT_HERSHEY_DUPLEX
    h, w = img.shape[:2]
    (tw, _), _ = cv2.getTextSize(text, font, 1.0, 2)
    scale = 0.8 * w / max(1, tw)
    thickness = max(2, round(scale * 2.5))
    (tw, th), _ = cv2.getTextSize(text, font, scale, thickness)
    org = ((w - tw) // 2, h // 4 + th // 2)
    cv2.putText(img, text, org, font, scale, (0, 0, 0), thickness * 3, cv2.LINE_AA)
    cv2.putText(img, text, org, font, scale, (255, 255, 255), thickness, cv2.LINE_AA)


def _frame_image(spec: ReelSpec, t: float, rng: np.random.Generator) -> np.ndarray:
    img = _scene_image(spec, t, rng)
    for start, end, text in spec.captions:
        if start <= t < end:
            img = img.copy()
            draw_caption(img, text)
    return img


def _scene_image(spec: ReelSpec, t: float, rng: np.random.Generator) -> np.ndarray:
    scene = sum(1 for c in spec.cuts if t >= c)
    if spec.camera != "none":
        return camera_view(spec, t, scene)
    if spec.texture:
        tex = _texture(scene, spec.height, spec.width)
        dy = int(t * 40) % (tex.shape[0] - spec.height)
        dx = int(t * 25) % (tex.shape[1] - spec.width)
        return np.ascontiguousarray(tex[dy : dy + spec.height, dx : dx + spec.width])
    r, g, b = PALETTE[scene % len(PALETTE)]
    img = np.empty((spec.height, spec.width, 3), dtype=np.uint8)
    img[:] = (r, g, b)
    if spec.noise:
        return rng.integers(0, 256, size=img.shape, dtype=np.uint8)
    if scene < len(spec.face_scales) and spec.face_scales[scene] > 0:
        _paste_face(img, spec.face_scales[scene])
        return img
    # a moving bar keeps some motion inside each shot
    bar = max(4, spec.width // 12)
    x = int((t * spec.width / 2) % max(1, spec.width - bar))
    img[:, x : x + bar] = (255 - r, 255 - g, 255 - b)
    return img


def audio_track(spec: ReelSpec, rate: int) -> np.ndarray:
    """The sound of a reel made from `spec`, mono float32 at `rate`."""
    n = int(spec.duration * rate)
    t = np.arange(n) / rate
    out = np.zeros(n, dtype=np.float32)
    if spec.audio == "tone":
        out += 0.3 * np.sin(2 * np.pi * spec.tone_hz * t).astype(np.float32)
    if spec.audio in ("clicks", "speech+clicks"):
        period = 60.0 / spec.bpm
        beat_len = int(0.05 * rate)
        env = np.exp(-np.arange(beat_len) / (0.01 * rate)).astype(np.float32)
        kick = (np.sin(2 * np.pi * 80 * np.arange(beat_len) / rate) * env).astype(np.float32)
        level = 0.5 if spec.audio == "clicks" else 0.15
        for k in range(int(spec.duration / period) + 1):
            i = int(k * period * rate)
            seg = out[i : i + beat_len]
            seg += level * kick[: len(seg)]
        # a soft chord under the beat, as background music has
        out += (level * 0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    if spec.audio in ("speech", "speech+clicks"):
        speech = load_speech(rate)
        i = int(spec.speech_offset * rate)
        m = min(len(speech), n - i)
        if m > 0:
            out[i : i + m] += speech[:m]
    if spec.audio == "espeak":
        text = spec.speech_text or SPEECH_TEXTS[spec.speech_voice]
        speech = spec.speech_gain * espeak(text, spec.speech_voice, rate)
        i = int(spec.speech_offset * rate)
        m = min(len(speech), n - i)
        if m > 0:
            out[i : i + m] += speech[:m]
    return np.clip(out, -1, 1)


_SPOKEN: dict[tuple[str, str, int, int], np.ndarray] = {}


def espeak(text: str, voice: str, rate: int = 48000, wpm: int = 150) -> np.ndarray:
    """`text` said by espeak-ng with `voice` ("es", "de", "ru", "en-us", ...) as mono float32
    at `rate`, peak-normalised to 0.5. Generated once per (text, voice, rate) per session."""
    key = (text, voice, rate, wpm)
    if key not in _SPOKEN:
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "speech.wav"
            subprocess.run(
                ["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(wav), text],
                check=True,
                capture_output=True,
            )
            samples = _decode_mono(wav, rate)
        peak = float(np.abs(samples).max()) or 1.0
        _SPOKEN[key] = (0.5 * samples / peak).astype(np.float32)
    return _SPOKEN[key]


def _decode_mono(path: Path, rate: int) -> np.ndarray:
    with av.open(str(path)) as c:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = []
        for frame in c.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.float32)


def words(text: str) -> list[str]:
    """Lower-case words of any script, punctuation dropped, accents kept, ё read as е."""
    text = unicodedata.normalize("NFC", text.lower()).replace("ё", "е")
    return re.sub(r"[^\w' -]+|_", " ", text).replace("-", " ").split()


def word_edits(reference: str, hypothesis: str) -> int:
    """Word-level edit distance (substitutions, insertions, deletions)."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: word-level edit distance over the number of reference words."""
    return word_edits(reference, hypothesis) / max(1, len(words(reference)))


def load_speech(rate: int = 48000) -> np.ndarray:
    """The committed speech sample as mono float32 at `rate`."""
    return _decode_mono(SPEECH_SAMPLE, rate)


def make_reel(path: Path, spec: ReelSpec | None = None, /, **kw: Any) -> Path:
    """Write a synthetic reel to `path` and return it. Keyword arguments override `spec`
    (positional, so that every keyword is a ReelSpec field); `spec` itself is left as it is,
    so one spec can serve several reels."""
    spec = replace(spec or ReelSpec(), **kw)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    # The sound first: when it cannot be made (espeak-ng missing) no half-written reel is left
    # behind for a later run to pick up as if it were whole.
    samples = audio_track(spec, spec.audio_rate) if spec.audio != "none" else None
    with av.open(str(path), "w", format=spec.container) as out:
        vs = out.add_stream(spec.codec, rate=spec.fps)
        assert isinstance(vs, av.VideoStream)  # the codec is a name chosen at run time
        vs.width, vs.height = spec.width, spec.height
        vs.pix_fmt = "yuv420p"
        vs.time_base = Fraction(1, 1000 if spec.vfr else spec.fps)
        if spec.bitrate:
            vs.bit_rate = spec.bitrate
        opts: dict[str, object] = {"preset": "ultrafast"} if spec.codec == "libx264" else {}
        opts.update(spec.extra_options)
        vs.options = opts
        if spec.rotation:
            vs.set_display_rotation(spec.rotation)
        audio_stream: av.AudioStream | None = None
        if spec.audio != "none":
            acodec = "libopus" if spec.container == "webm" else "aac"
            added = out.add_stream(acodec, rate=spec.audio_rate)
            assert isinstance(added, av.AudioStream)
            audio_stream = added
            audio_stream.layout = "stereo" if spec.audio_channels == 2 else "mono"
        t = 0.0
        k = 0
        while t < spec.duration - 1e-9:
            img = _frame_image(spec, t, rng)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            if spec.vfr:
                frame.pts = round(t * 1000)
                frame.time_base = Fraction(1, 1000)
                step = 1 / 30 if k % 2 == 0 else 1 / 15
            else:
                frame.pts = k
                frame.time_base = Fraction(1, spec.fps)
                step = 1 / spec.fps
            for packet in vs.encode(frame):
                out.mux(packet)
            t += step
            k += 1
        for packet in vs.encode():
            out.mux(packet)
        if audio_stream is not None and samples is not None:
            rate = spec.audio_rate
            chunk = 960 if spec.container == "webm" else 1024
            for i in range(0, len(samples), chunk):
                block = samples[i : i + chunk]
                if len(block) < chunk:
                    block = np.pad(block, (0, chunk - len(block)))
                if spec.audio_channels == 2:  # planar: left as generated, right at half
                    af = av.AudioFrame.from_ndarray(
                        np.stack([block, 0.5 * block]).astype(np.float32),
                        format="fltp",
                        layout="stereo",
                    )
                else:
                    af = av.AudioFrame.from_ndarray(
                        block.reshape(1, -1), format="flt", layout="mono"
                    )
                af.sample_rate = rate
                af.pts = i
                af.time_base = Fraction(1, rate)
                for packet in audio_stream.encode(af):
                    out.mux(packet)
            for packet in audio_stream.encode():
                out.mux(packet)
    if spec.rotation:
        _ensure_rotation(path, spec.rotation)
    return path


def make_spoken_reel(path: Path, voice: str, text: str | None = None, /, **kw: Any) -> Path:
    """A reel with no cuts in which espeak-ng's `voice` says `text` (by default the voice's
    known sample, SPEECH_TEXTS[voice]) from 1 s on. Keyword arguments override as in
    `make_reel`."""
    spoken = ReelSpec(
        cuts=(), audio="espeak", speech_voice=voice, speech_text=text, speech_offset=1.0
    )
    return make_reel(path, spoken, **kw)


def _ensure_rotation(path: Path, rotation: int) -> None:
    """Check the written file carries the rotation the test relies on."""
    with av.open(str(path)) as c:
        found = next(c.decode(video=0)).rotation
    if found % 360 != rotation % 360:
        raise RuntimeError(f"could not write rotation {rotation} (got {found})")


def make_audio_only(path: Path, duration: float = 3.0) -> Path:
    with av.open(str(path), "w", format="mp4") as out:
        a = out.add_stream("aac", rate=48000)
        a.layout = "mono"
        n = int(duration * 48000)
        samples = (0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / 48000)).astype(np.float32)
        for i in range(0, n, 1024):
            block = samples[i : i + 1024]
            if len(block) < 1024:
                block = np.pad(block, (0, 1024 - len(block)))
            af = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="flt", layout="mono")
            af.sample_rate = 48000
            af.pts = i
            for packet in a.encode(af):
                out.mux(packet)
        for packet in a.encode():
            out.mux(packet)
    return path
