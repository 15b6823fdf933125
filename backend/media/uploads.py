"""Uploaded bytes → validated, re-encoded media, off the event loop; a bad file becomes a field error."""

from __future__ import annotations

import anyio.to_thread

from backend.errors import ValidationFailed
from backend.media.images import (
    MAX_UPLOAD_BYTES,
    InvalidUpload,
    ProcessedDocument,
    ProcessedPhoto,
    process_document,
    process_photo,
)

# The body of a multipart upload: the largest file accepted, and room for its form fields. Read that far, a file
# over MAX_UPLOAD_BYTES is refused with its own message rather than a bare 413.
UPLOAD_BODY_LIMIT = MAX_UPLOAD_BYTES + 256 * 1024


async def photo_from_upload(data: bytes, *, field: str = "photo") -> ProcessedPhoto:
    try:
        return await anyio.to_thread.run_sync(process_photo, data)
    except InvalidUpload as exc:
        raise ValidationFailed.single(field, exc.message) from None


async def document_from_upload(data: bytes, *, field: str = "document") -> ProcessedDocument:
    try:
        return await anyio.to_thread.run_sync(process_document, data)
    except InvalidUpload as exc:
        raise ValidationFailed.single(field, exc.message) from None
