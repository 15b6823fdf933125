"""Public photos (products, vendor profiles), served with year-long caching: their keys are content hashes.

Certificate documents are private and are served only through the routes that check who is asking.
"""

from __future__ import annotations

import anyio.to_thread
from litestar import Response, get, head
from litestar.di import NamedDependency
from litestar.params import FromPath

from backend.media.storage import Storage

PUBLIC_PREFIXES = ("products/", "vendors/")
MEDIA_TYPES = {"webp": "image/webp", "pdf": "application/pdf"}
IMMUTABLE = "public, max-age=31536000, immutable"
# An address with no public photo behind it: a CDN may keep that answer a minute, no longer (a photo is saved before
# any page links to it, but a shared cache must not hide one for long that a slow upload made late).
MISSING_PHOTO_CACHE = "public, max-age=60"


async def _public_photo(key: str, storage: Storage) -> tuple[bytes, dict[str, str]] | None:
    """A public photo and the headers it is served with; None for anything else."""
    key = key.lstrip("/")
    if not key.startswith(PUBLIC_PREFIXES):
        return None
    try:
        data = await anyio.to_thread.run_sync(storage.read, key)
    except (FileNotFoundError, ValueError):
        return None
    media_type = MEDIA_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")
    return data, {"Content-Type": media_type, "Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"}


@get("/media/{key:path}", include_in_schema=False)
async def serve_media(key: FromPath[str], storage: NamedDependency[Storage]) -> Response[bytes]:
    photo = await _public_photo(key, storage)
    if photo is None:
        return Response(b"", status_code=404, headers={"Cache-Control": MISSING_PHOTO_CACHE})
    data, headers = photo
    return Response(data, media_type=headers["Content-Type"], headers=headers)


@head("/media/{key:path}", include_in_schema=False)
async def media_headers(key: FromPath[str], storage: NamedDependency[Storage]) -> Response[None]:
    """What a GET would answer, without the photo: link checkers and caches ask this way."""
    photo = await _public_photo(key, storage)
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
