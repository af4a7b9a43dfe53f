"""A local web site that serves reels the way real sites misbehave, for the real yt-dlp.

Routes (all on 127.0.0.1; the tests set IMPORT_ALLOW_PRIVATE=true to reach it):
- `/v/<name>`: a registered file as video/mp4 with its Content-Length (HEAD too), at once
  or, with `pace_sec`, spread over that many seconds;
- `/page/<name>`: an HTML page whose `og:video` points at `/v/<name>`, or, for a name in
  `described`, a schema.org VideoObject in JSON-LD (author, figures, date) as sites publish;
- `/chunked/<mb>`: `mb` MiB of bytes with no length (chunked), as fast as they go;
- `/redirect?to=<url>`: a 302 to `url`;
- `/stall`: headers, then silence until the client gives up;
- anything else: 404.
Every request is recorded (`requests`), so a test can see that nothing was fetched.
"""

from __future__ import annotations

import contextlib
import html
import json
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from support.quiet_http import QuietHandler


class VideoSite:
    def __init__(self) -> None:
        self.files: dict[str, Path] = {}
        # name -> schema.org VideoObject fields: /page/<name> then describes the video in JSON-LD
        self.described: dict[str, dict[str, object]] = {}
        # > 0: /v/<name> sends its body in 20 pieces over this many seconds (a slow site)
        self.pace_sec = 0.0
        self.requests: list[str] = []
        self.stop_stalling = threading.Event()
        self.chunks_sent = 0
        site = self

        class Handler(QuietHandler):
            def do_HEAD(self) -> None:
                self._route(body=False)

            def do_GET(self) -> None:
                self._route(body=True)

            def _route(self, body: bool) -> None:
                site.requests.append(self.path)
                parts = urlsplit(self.path)
                path = parts.path
                if path.startswith("/v/") and path[3:] in site.files:
                    self._file(site.files[path[3:]], body)
                elif path.startswith("/page/") and path[6:] in site.files:
                    self._page(path[6:], body)
                elif path.startswith("/chunked/"):
                    self._chunked(int(path.split("/")[2]), body)
                elif path == "/redirect":
                    target = parse_qs(parts.query).get("to", [""])[0]
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif path == "/stall":
                    self.send_response(200)
                    self.send_header("Content-Type", "video/mp4")
                    self.send_header("Content-Length", "1000000")
                    self.end_headers()
                    self.wfile.flush()
                    site.stop_stalling.wait(120)
                else:
                    self.send_payload(404, "text/html", b"<html><body>Not here</body></html>", body)

            def _file(self, file: Path, body: bool) -> None:
                data = file.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if not body:
                    return
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    if site.pace_sec <= 0:
                        self.wfile.write(data)
                        return
                    piece = max(1, len(data) // 20 + 1)
                    for start in range(0, len(data), piece):
                        self.wfile.write(data[start : start + piece])
                        self.wfile.flush()
                        time.sleep(site.pace_sec / 20)

            def _page(self, name: str, body: bool) -> None:
                host = self.headers.get("Host", "127.0.0.1")
                video = html.escape(f"http://{host}/v/{name}")
                payload = (
                    "<!doctype html><html><head><title>Reel page</title>"
                    '<meta property="og:title" content="Как снять рилс за 5 минут #reels #tips">'
                    f'<meta property="og:video" content="{video}">'
                    '<meta property="og:video:type" content="video/mp4">'
                    "</head><body><p>Watch this reel.</p></body></html>"
                ).encode()
                if name in site.described:
                    payload = self._described_page(video, site.described[name])
                self.send_payload(200, "text/html; charset=utf-8", payload, body)

            def _described_page(self, video: str, about: dict[str, object]) -> bytes:
                """A page with a schema.org VideoObject (author, figures, date), as video
                sites publish for search engines."""
                meta = {
                    "@context": "https://schema.org",
                    "@type": "VideoObject",
                    "contentUrl": html.unescape(video),
                    **about,
                }
                data = json.dumps(meta, ensure_ascii=False).replace("<", "\\u003c")
                return (
                    "<!doctype html><html><head><title>Reel page</title>"
                    f'<script type="application/ld+json">{data}</script>'
                    "</head><body><p>Watch this reel.</p></body></html>"
                ).encode()

            def _chunked(self, mib: int, body: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                if not body:
                    self.wfile.write(b"0\r\n\r\n")
                    return
                block = b"\0" * (1 << 20)
                try:
                    for _ in range(mib):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                        site.chunks_sent += 1
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, name: str, path: Path) -> str:
        self.files[name] = path
        return self.url(f"/v/{name}")

    def __enter__(self) -> VideoSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_stalling.set()
        self.server.shutdown()
        self.server.server_close()
