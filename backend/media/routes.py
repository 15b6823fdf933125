"""Public photos (products, vendor profiles), served with year-long caching: their keys are content hashes.

Pages always link to /media/<key>, whichever store holds the photo, so their addresses never change. With media in
a bucket that has a public address (S3_PUBLIC_BASE_URL: the bucket's own, or a CDN's), that address answers with a
redirect there, worked out without asking the bucket; otherwise the app reads the photo and serves it itself.

Certificate and invoice-terms documents and claim photos are private and are served only through the routes that
check who is asking (private_document_response), streamed from the store, never by a shareable address.
"""

from __future__ import annotations

import anyio.to_thread
from litestar import Response, get, head
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from backend.media.storage import PUBLIC_PREFIXES, Storage, is_valid_key, media_type_of

IMMUTABLE = "public, max-age=31536000, immutable"
# The redirect to the bucket's public address is kept a day, not a year: a move to another CDN reaches everybody
# within a day; the photo it leads to is itself kept a year.
REDIRECT_CACHE_CONTROL = "public, max-age=86400"
# An address with no public photo behind it: a CDN may keep that answer a minute, no longer (a photo is saved before
# any page links to it, but a shared cache must not hide one for long that a slow upload made late).
MISSING_PHOTO_CACHE = "public, max-age=60"


def _public_key(key: str) -> str | None:
    """The key of a public photo; None for a private key or one no store could hold."""
    key = key.lstrip("/")
    if not key.startswith(PUBLIC_PREFIXES) or not is_valid_key(key):
        return None
    return key


def _redirect(url: str) -> Redirect:
    return Redirect(url, status_code=302, headers={"Cache-Control": REDIRECT_CACHE_CONTROL})


async def _public_photo(key: str, storage: Storage) -> tuple[bytes, dict[str, str]] | None:
    """A public photo and the headers it is served with; None when there is none."""
    try:
        data = await anyio.to_thread.run_sync(storage.read, key)
    except (FileNotFoundError, ValueError):
        return None
    return data, {"Content-Type": media_type_of(key), "Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"}


@get("/media/{key:path}", include_in_schema=False)
async def serve_media(key: FromPath[str], storage: NamedDependency[Storage]) -> Response[bytes] | Redirect:
    public_key = _public_key(key)
    if public_key is not None and (url := storage.public_url(public_key)):
        return _redirect(url)
    photo = await _public_photo(public_key, storage) if public_key is not None else None
    if photo is None:
        return Response(b"", status_code=404, headers={"Cache-Control": MISSING_PHOTO_CACHE})
    data, headers = photo
    return Response(data, media_type=headers["Content-Type"], headers=headers)


@head("/media/{key:path}", include_in_schema=False)
async def media_headers(key: FromPath[str], storage: NamedDependency[Storage]) -> Response[None]:
    """What a GET would answer, without the photo: link checkers and caches ask this way."""
    public_key = _public_key(key)
    if public_key is not None and (url := storage.public_url(public_key)):
        return Response(None, status_code=302, headers={"Location": url, "Cache-Control": REDIRECT_CACHE_CONTROL})
    photo = await _public_photo(public_key, storage) if public_key is not None else None
    if photo is None:
        return Response(None, status_code=404, headers={"Cache-Control": MISSING_PHOTO_CACHE})
    data, headers = photo
    return Response(None, headers={**headers, "Content-Length": str(len(data))})


def private_document_response(data: bytes, media_type: str) -> Response[bytes]:
    """A certificate document for its owner or a manager: never cached, never run as a page."""
    return Response(
        data,
        media_type=media_type,
        headers={
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "sandbox",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
        },
    )


MEDIA_ROUTES = [serve_media, media_headers]
