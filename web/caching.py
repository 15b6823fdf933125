"""What browsers may keep, and how the static files travel: a year when their URL names their content, each text
file compressed once per process at the best quality.
"""

from __future__ import annotations

import gzip
from functools import partial
from urllib.parse import parse_qs

import anyio.to_thread
import brotli
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

from web.templating import static_fingerprints

STATIC_PREFIX = "/static/"
# A URL carrying the hash of the file's current content (web.templating.static_url) never changes meaning.
FINGERPRINTED = "public, max-age=31536000, immutable"
# A bare URL (the manifest's icons, the service worker's) or an older release's hash: the file behind it may change
# with the next release, so it is kept briefly.
UNFINGERPRINTED = "public, max-age=600"
# Files whose format is compressed already (compressing them again gains nothing); below the minimum size,
# compression's own overhead outweighs the gain. The app's compression (backend.app) leaves /static/ to this module.
COMPRESSED_ALREADY = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".ico", ".woff", ".woff2")
MINIMUM_SIZE = 500


class FingerprintedStaticFiles(ASGIMiddleware):
    """The static files router's Cache-Control: a year and immutable for `/static/<path>?v=<its hash>`, briefly
    for any other URL of the same file. And their compression: each text file is compressed once per process, at
    brotli's and gzip's best (what a page's per-request compression cannot afford), and kept."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        path = scope["path"].removeprefix(STATIC_PREFIX)
        versions = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [])
        fingerprint = static_fingerprints().get(path)
        cache_control = FINGERPRINTED if fingerprint is not None and versions == [fingerprint] else UNFINGERPRINTED
        encoding = _accepted_encoding(scope) if fingerprint is not None and _is_text(path) else None
        start: HTTPResponseStartEvent | None = None
        body: list[bytes] = []

        async def send_cached_and_compressed(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] < 400:
                    MutableScopeHeaders.from_message(message)["Cache-Control"] = cache_control
                if encoding is None or message["status"] != 200:
                    await send(message)
                else:
                    start = message
            elif message["type"] == "http.response.body" and start is not None and encoding is not None:
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    content = await _compressed(path, encoding, b"".join(body))
                    headers = MutableScopeHeaders.from_message(start)
                    headers["Content-Encoding"] = encoding
                    headers["Content-Length"] = str(len(content))
                    headers["Vary"] = "Accept-Encoding"
                    # The file's own tag names the uncompressed bytes; this is the same file, differently encoded.
                    if "etag" in headers and not headers["etag"].startswith("W/"):
                        headers["ETag"] = f"W/{headers['etag']}"
                    await send(start)
                    await send({"type": "http.response.body", "body": content, "more_body": False})
            else:
                await send(message)

        await next_app(scope, receive, send_cached_and_compressed)


def _is_text(path: str) -> bool:
    return not path.endswith(COMPRESSED_ALREADY)


def _accepted_encoding(scope: Scope) -> str | None:
    """br when the browser takes it, else gzip, else nothing (q-values aside: no browser sends br;q=0)."""
    accepted = {
        part.split(";")[0].strip().lower()
        for part in ASGIConnection(scope).headers.get("accept-encoding", "").split(",")
    }
    return next((encoding for encoding in ("br", "gzip") if encoding in accepted), None)


_compressed_files: dict[tuple[str, str], bytes] = {}


async def _compressed(path: str, encoding: str, content: bytes) -> bytes:
    """The file compressed, once per process (a few hundred milliseconds of brotli's best for htmx, in a thread),
    then from memory: the static files do not change while the process runs (their fingerprints say so)."""
    key = (path, encoding)
    if key not in _compressed_files:
        if len(content) < MINIMUM_SIZE:
            _compressed_files[key] = content
        else:
            compress = brotli.compress if encoding == "br" else partial(gzip.compress, compresslevel=9, mtime=0)
            _compressed_files[key] = await anyio.to_thread.run_sync(compress, content)
    return _compressed_files[key]
