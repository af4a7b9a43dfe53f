"""The studio's static files as the server sends them: read once at start-up, each ES-module
import and each link of the page pointing at a content-hashed name (`app.js?v=<hash>`), and a
gzip copy of every text file.

A versioned URL never changes meaning, so it may be cached for a year; the page itself and
unversioned URLs are revalidated (ETag) on each visit, so a new release shows at once.
Hashes cover a file's own bytes and the hashes of the files it imports, so a changed module
changes the URL of every module that leads to it.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
_COMPRESSIBLE = {".html", ".js", ".css", ".svg"}
VERSION_PARAM = "v"
PAGE = "index.html"

# `import … from "./x.js"`, `import "./x.js"`, `import("./x.js")`, `export … from "./x.js"`
_JS_IMPORT = re.compile(r"""((?:\bfrom|\bimport)\s*\(?\s*)(["'])\./([\w.-]+)\2""")
# `src="/studio/x.js"` and `href="/studio/x.css"` in the page
_PAGE_LINK = re.compile(r"""((?:src|href)=)(["'])/studio/([\w.-]+)\2""")
_FIELD = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None  # None when compressing does not pay
    media_type: str
    version: str  # content hash, also the ETag's value

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    @property
    def gzip_etag(self) -> str:
        return f'"{self.version}-gz"'


def _suffix(name: str) -> str:
    return "." + name.rsplit(".", 1)[-1] if "." in name else ""


class _Builder:
    def __init__(self, sources: Mapping[str, bytes], fields: Mapping[str, str]) -> None:
        self.sources = sources
        self.fields = fields
        self.built: dict[str, Asset] = {}
        self.building: set[str] = set()

    def version_of(self, name: str) -> str | None:
        """The hash a link to `name` carries; None for a file not served or an import cycle
        (that link stays unversioned, so it is revalidated rather than cached)."""
        if name not in self.sources or name in self.building:
            return None
        return self.build(name).version

    def _link(self, match: re.Match[str]) -> str:
        head, quote, name = match.group(1), match.group(2), match.group(3)
        version = self.version_of(name)
        prefix = "./" if match.re is _JS_IMPORT else "/studio/"
        target = f"{prefix}{name}" + (f"?{VERSION_PARAM}={version}" if version else "")
        return f"{head}{quote}{target}{quote}"

    def build(self, name: str) -> Asset:
        if name in self.built:
            return self.built[name]
        self.building.add(name)
        suffix = _suffix(name)
        body = self.sources[name]
        if suffix == ".js":
            body = _JS_IMPORT.sub(self._link, body.decode("utf-8")).encode("utf-8")
        elif suffix == ".html":  # the studio page and the share page
            text = _PAGE_LINK.sub(self._link, body.decode("utf-8"))
            text = _FIELD.sub(lambda m: html.escape(self.fields.get(m.group(1), "")), text)
            body = text.encode("utf-8")
        self.building.discard(name)
        packed = gzip.compress(body, compresslevel=9, mtime=0) if suffix in _COMPRESSIBLE else None
        asset = Asset(
            body=body,
            gzipped=packed if packed is not None and len(packed) < len(body) else None,
            media_type=MEDIA_TYPES[suffix],
            version=hashlib.sha256(body).hexdigest()[:16],
        )
        self.built[name] = asset
        return asset


def build_assets(sources: Mapping[str, bytes], fields: Mapping[str, str]) -> dict[str, Asset]:
    """Every file of `sources` (name -> bytes) as served; `fields` fill the page's {{name}}."""
    builder = _Builder(sources, fields)
    return {name: builder.build(name) for name in sorted(sources)}


def load_assets(fields: Mapping[str, str]) -> dict[str, Asset]:
    """The packaged studio (`reels_scripter/web/static`)."""
    root = resources.files("reels_scripter.web").joinpath("static")
    sources = {
        entry.name: entry.read_bytes()
        for entry in root.iterdir()
        if entry.is_file() and _suffix(entry.name) in MEDIA_TYPES
    }
    return build_assets(sources, fields)
