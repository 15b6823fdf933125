"""What browsers and caches may keep: static files for a year when their URL names their content (each text file
compressed once per process at the best quality), and the pages a visitor reads most (the catalogue, a product, a
vendor) revalidated with an ETag, so a phone on patchy mobile data that has the page already gets a 304 of a few
hundred bytes instead of the page again.

A visitor's page is `private, no-cache`: only the visitor's own browser keeps it, and asks every time. It cannot be
shared, because every page carries the visitor's CSRF token (backend.csrf), bound to the `pk_csrf` cookie of that
browser, and the first answer also sets that cookie. The ETag hashes the page with the token left out (its nonce
differs on every render, BREACH) and with the browser's `pk_csrf` id put in: the same page for the same browser
keeps its tag, while another browser's tag, or a tag sent without the cookie (cookies cleared, a new id on its way),
never matches, so nobody is handed back a copy holding a token that is not valid with their cookies.

Pages for a logged-in person carry what the person may buy, their canteen's place and name: `private, no-store`.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from functools import partial
from typing import Any
from urllib.parse import parse_qs

import anyio.to_thread
import brotli
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState

from backend.csrf import CSRF_COOKIE
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
# The pages a visitor gets with an ETag: the catalogue (page, results and rows fragments), a product, a vendor.
# The same pages the service worker keeps for reading offline (static/sw.js, SAVED_PAGE).
REVALIDATED_PAGE = re.compile(r"/(catalogue|products/\d+|vendors/\d+)")
VISITOR_PAGE = "private, no-cache"
PERSONAL_PAGE = "private, no-store"
# What a visitor's page depends on besides its URL: htmx's fragment or the whole page (page_or_fragment), the
# language and the CSRF binding (both cookies: backend.accounts.auth picks the language from `pk_lang`, never from
# Accept-Language) and, once compressed, the encoding.
VISITOR_PAGE_VARIES = ("Cookie",)
NOT_MODIFIED_VARIES = ("Cookie", "Accept-Encoding")
# Headers describing the body, which a 304 has none of.
BODY_HEADERS = frozenset({b"content-length", b"content-type", b"content-encoding"})


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
        compressible = fingerprint is not None and _is_text(path)
        encoding = _accepted_encoding(scope) if compressible else None
        start: HTTPResponseStartEvent | None = None
        body: list[bytes] = []

        async def send_cached_and_compressed(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] < 400:
                    headers = MutableScopeHeaders.from_message(message)
                    headers["Cache-Control"] = cache_control
                    if compressible:  # a shared cache keeps the plain and the compressed copy apart
                        headers["Vary"] = "Accept-Encoding"
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


class RevalidatedPages(ASGIMiddleware):
    """ETags and 304s for a visitor's catalogue, product and vendor pages; no storing them for a logged-in person.

    Runs after CrossSiteRequestMiddleware (the page's CSRF token is known) and inside the compression middleware,
    so the tag is computed from the page as rendered, before it is compressed."""

    scopes = (ScopeType.HTTP,)

    @staticmethod
    def should_bypass_for_scope(scope: Scope) -> bool:
        return scope.get("method") != "GET" or REVALIDATED_PAGE.fullmatch(scope["path"]) is None

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("user") is not None:
            await next_app(scope, receive, _not_stored(send))
            return
        start: HTTPResponseStartEvent | None = None
        body: list[bytes] = []

        async def answer_when_rendered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None:
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await _answer_visitor(scope, send, start, b"".join(body))
            else:
                await send(message)

        await next_app(scope, receive, answer_when_rendered)


def _not_stored(send: Send) -> Send:
    async def send_not_stored(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableScopeHeaders.from_message(message)["Cache-Control"] = PERSONAL_PAGE
        await send(message)

    return send_not_stored


async def _answer_visitor(scope: Scope, send: Send, start: HTTPResponseStartEvent, body: bytes) -> None:
    """The page with its ETag, or a 304 when the browser's copy (If-None-Match) is the same page for the same
    browser. Only a 200 gets a tag: a refused filter's 400 is answered afresh each time."""
    if start["status"] != 200:
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})
        return
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
    browser_id = connection.cookies.get(CSRF_COOKIE)
    token: str = value_or_default(ScopeState.from_scope(scope).csrf_token, "")
    tag = entity_tag(body, csrf_token=token, browser_id=browser_id or "")
    headers = MutableScopeHeaders.from_message(start)
    headers["ETag"] = tag
    headers["Cache-Control"] = VISITOR_PAGE
    _add_vary(headers, VISITOR_PAGE_VARIES)
    if browser_id and _matches(connection.headers.get("if-none-match"), tag):
        not_modified: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 304,
            "headers": [(name, value) for name, value in start["headers"] if name.lower() not in BODY_HEADERS],
        }
        _add_vary(MutableScopeHeaders.from_message(not_modified), NOT_MODIFIED_VARIES)
        await send(not_modified)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})


def entity_tag(body: bytes, *, csrf_token: str, browser_id: str) -> str:
    """A weak tag (the page is the same whatever its compression) of the page without its CSRF token, for this
    browser's CSRF id."""
    digest = hashlib.sha256(body.replace(csrf_token.encode(), b"") if csrf_token else body)
    digest.update(b"\0" + browser_id.encode())
    return f'W/"{digest.hexdigest()[:32]}"'


def _matches(if_none_match: str | None, tag: str) -> bool:
    """If-None-Match's weak comparison: any listed tag equal to ours, W/ or not, or `*`."""
    if not if_none_match:
        return False
    opaque = tag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == opaque:
            return True
    return False


def _add_vary(headers: MutableScopeHeaders, names: tuple[str, ...]) -> None:
    present = [name.strip() for name in headers.get("vary", "").split(",") if name.strip()]
    known = {name.lower() for name in present}
    headers["Vary"] = ", ".join([*present, *(name for name in names if name.lower() not in known)])
