"""Recognise a file by its first bytes, never by its name or declared MIME type.

Stdlib only: this runs in the parent before any untrusted parsing, and in the probe child,
whose start-up cost is paid on every analysis.
"""

from __future__ import annotations

from typing import Literal

# What we accept, as error messages name it.
SUPPORTED = "MP4, MOV or WebM"

# The MIME type of each container name `container_name` returns: what storage and AI providers
# are told, always from the sniffed content, never from the client's file name or header.
MIME_TYPES: dict[str, str] = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "matroska": "video/x-matroska",
}


def mime_type(container: str) -> str:
    return MIME_TYPES.get(container, "video/mp4")


# How many leading bytes the helpers here want to see. The EBML header that names a
# Matroska file's DocType and an ISO-BMFF `ftyp` box both fit comfortably.
HEAD_SIZE = 4096

ForeignKind = Literal["video", "audio", "image", "other"]

# QuickTime files written before `ftyp` existed start straight with one of these boxes.
_LEGACY_QT_BOXES = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
# ISO-BMFF brands of still images (HEIF/AVIF/Canon raw): FFmpeg would open some of them
# as a one-frame "video", which is not what a user meant to upload.
_IMAGE_BRANDS = frozenset(
    {b"mif1", b"msf1", b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"avif", b"avis"}
    | {b"crx ", b"jpx ", b"jp2 "}
)

# The RIFF container's form type (bytes 8-12), and the leading bytes of the other formats that
# a plain prefix names for certain (no two of them start alike).
_RIFF_TYPES: dict[bytes, tuple[ForeignKind, str]] = {
    b"AVI ": ("video", "AVI"),
    b"WAVE": ("audio", "WAV"),
    b"WEBP": ("image", "WebP"),
}
_SIGNATURES: tuple[tuple[tuple[bytes, ...], ForeignKind, str], ...] = (
    ((b"FLV\x01",), "video", "FLV"),
    ((b"\x00\x00\x01\xba",), "video", "MPEG-PS"),
    ((b"\x30\x26\xb2\x75\x8e\x66\xcf\x11",), "video", "ASF/WMV"),
    ((b".RMF",), "video", "RealMedia"),
    ((b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"\xff\xfa"), "audio", "MP3"),
    ((b"\xff\xf1", b"\xff\xf9"), "audio", "AAC"),
    ((b"fLaC",), "audio", "FLAC"),
    ((b"#!AMR",), "audio", "AMR"),
    ((b"\x89PNG\r\n\x1a\n",), "image", "PNG"),
    ((b"\xff\xd8\xff",), "image", "JPEG"),
    ((b"GIF87a", b"GIF89a"), "image", "GIF"),
    ((b"%PDF",), "other", "PDF"),
    ((b"PK\x03\x04",), "other", "ZIP"),
)


def sniff(head: bytes) -> str | None:
    """Container family from the first bytes: "mp4" (ISO-BMFF, QuickTime included) or "webm"
    (EBML/Matroska); None when it is not a supported video container. Never raises."""
    try:
        if _iso_bmff_brand(head) is not None:
            return "mp4"
        if _ebml_doctype(head) is not None:
            return "webm"
    except Exception:  # a sniffer that raises would turn junk input into a server error
        return None
    return None


def container_name(head: bytes) -> str | None:
    """The user-facing container name: "mp4", "mov", "webm" or "matroska"; None if unsupported."""
    try:
        brand = _iso_bmff_brand(head)
        if brand is not None:
            return "mov" if brand in (b"qt  ", b"") else "mp4"
        doctype = _ebml_doctype(head)
        if doctype is not None:
            return "webm" if doctype == b"webm" else "matroska"
    except Exception:
        return None
    return None


def foreign_format(head: bytes) -> tuple[ForeignKind, str] | None:
    """What an unsupported file most likely is, as (kind, name), so the error can say so.

    Only unambiguous signatures count: a wrong guess here would tell the user something false.
    """
    h = head
    if h.startswith(b"RIFF") and h[8:12] in _RIFF_TYPES:
        return _RIFF_TYPES[h[8:12]]
    if len(h) >= 377 and h[0] == 0x47 and h[188] == 0x47 and h[376] == 0x47:
        return ("video", "MPEG-TS")
    if h.startswith(b"OggS"):
        return ("video", "Ogg") if b"\x80theora" in h else ("audio", "Ogg")
    if h.startswith(b"BM") and len(h) >= 14:
        return ("image", "BMP")
    for prefixes, kind, name in _SIGNATURES:
        if h.startswith(prefixes):
            return (kind, name)
    if len(h) >= 12 and h[4:8] == b"ftyp" and h[8:12] in _IMAGE_BRANDS:
        return ("image", "HEIF/AVIF")
    return None


def _iso_bmff_brand(head: bytes) -> bytes | None:
    """The major brand of an ISO-BMFF/QuickTime file (b"" for pre-`ftyp` QuickTime), or None."""
    if len(head) < 8:
        return None
    size = int.from_bytes(head[0:4], "big")
    box = head[4:8]
    if box == b"ftyp":
        # size 1 means a 64-bit size follows; a real ftyp is never that big, nor under 16 bytes
        if not 16 <= size <= 1024 or len(head) < 12:
            return None
        brand = head[8:12]
        if brand in _IMAGE_BRANDS or not _printable(brand):
            return None
        return brand
    if box in _LEGACY_QT_BOXES and (size in (0, 1) or size >= 8):
        return b""
    return None


def _ebml_doctype(head: bytes) -> bytes | None:
    """The DocType of an EBML file (b"webm", b"matroska"), or None if it is not Matroska-like."""
    if not head.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    # DocType element id 0x4282, then a one-byte size vint (0x80 | length) in practice
    i = head.find(b"\x42\x82", 4, 64)
    if i < 0 or i + 3 > len(head):
        return None
    length = head[i + 2]
    if not length & 0x80:
        return None
    n = length & 0x7F
    doctype = head[i + 3 : i + 3 + n]
    if doctype in (b"webm", b"matroska"):
        return doctype
    return None


def _printable(b: bytes) -> bool:
    return all(0x20 <= c < 0x7F for c in b)
