"""Where uploaded media live: a small interface, with the local disk (the default) or an S3-compatible bucket
(backend.media.s3, MEDIA_STORAGE=s3) behind it.

Keys are content-addressed (content_key), so a stored file never changes under its key and can be served with
`Cache-Control: public, max-age=31536000, immutable`. Every method blocks (disk or network): callers on the event
loop run them in a worker thread (anyio.to_thread).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from backend.config import Settings
    from backend.media.s3 import S3Storage

MAX_KEY_LENGTH = 200
# Product and vendor profile photos are public; everything else (certificate and invoice-terms documents, claim
# photos) reaches people only through the routes that check who is asking.
PUBLIC_PREFIXES = ("products/", "vendors/")
MEDIA_TYPES = {"webp": "image/webp", "pdf": "application/pdf"}
# Lowercase path segments that never start with a dot: no "..", no ".", no hidden files, no empty segment,
# no leading or trailing "/". Temporary files start with a dot, so no key can name one.
_KEY_PATTERN = re.compile(r"[a-z0-9_-][a-z0-9_.-]*(/[a-z0-9_-][a-z0-9_.-]*)*")


class StorageUnreachable(OSError):
    """The store could not be reached or refused the request (an outage or a misconfiguration, never a missing
    key): the request may be sent again once it is back. Pages and the API answer 503 (backend.problems)."""


@runtime_checkable
class Storage(Protocol):
    """A flat store of bytes under keys such as "products/ab/ab12...ef.webp"."""

    def save(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing what was there; readers see the old or the new bytes, never a part."""
        ...

    def read(self, key: str) -> bytes:
        """The bytes under `key`; raises FileNotFoundError when there are none, StorageUnreachable when the store
        cannot say."""
        ...

    def delete(self, key: str) -> None:
        """Forget `key`; nothing happens when it is already gone."""
        ...

    def exists(self, key: str) -> bool: ...

    def public_url(self, key: str) -> str | None:
        """Where browsers fetch a public photo from when it is not the app's own /media/ address, else None."""
        ...


class FileSystemStorage:
    """Media as files under one root directory (created on first save), one file a key."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed over it: a crash or a concurrent reader never sees half a file.
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as temp_file:
                temp_file.write(data)
                # Flushed to disk before the rename: an empty file under a content key would be cached for a year.
                temp_file.flush()
                os.fsync(temp_file.fileno())
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def public_url(self, key: str) -> str | None:
        return None  # the app serves every file itself

    def keys(self) -> Iterator[str]:
        """Every stored key, in no particular order (files that are no valid key, such as temporary ones, are not
        listed)."""
        if not self.root.is_dir():
            return
        for path in self.root.rglob("*"):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and is_valid_key(key):
                yield key

    def _path(self, key: str) -> Path:
        """The file for `key`; a key that could reach outside the root raises ValueError before any disk access."""
        return self.root / check_key(key)


def is_valid_key(key: str) -> bool:
    return len(key) <= MAX_KEY_LENGTH and ".." not in key and _KEY_PATTERN.fullmatch(key) is not None


def check_key(key: str) -> str:
    """`key` itself; ValueError for one that could name a path outside the store (checked before any access)."""
    if not is_valid_key(key):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


def media_type_of(key: str) -> str:
    return MEDIA_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")


def storage_from_settings(settings: Settings) -> Storage:
    """The store MEDIA_STORAGE names: the directory MEDIA_DIR, or the bucket of the S3_* settings."""
    if settings.media_storage == "s3":
        return s3_storage_from_settings(settings)
    return FileSystemStorage(settings.media_dir)


def s3_storage_from_settings(settings: Settings) -> S3Storage:
    """The bucket of the S3_* settings, whatever MEDIA_STORAGE says (copy-media-to-s3 fills it before the switch).

    Raises ValueError when S3_BUCKET is not set."""
    from backend.media.s3 import S3Storage  # boto3 is loaded only where a bucket is used

    if not settings.s3_bucket:
        raise ValueError("S3_BUCKET must be set to use object storage")
    return S3Storage(
        bucket=settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
        public_base_url=settings.s3_public_base_url,
    )


def content_key(prefix: str, data: bytes, extension: str) -> str:
    """A key named after the bytes: "products/ab/ab12...ef.webp" (128 bits of SHA-256, two-character fan-out)."""
    digest = hashlib.sha256(data).hexdigest()[:32]
    return f"{prefix}/{digest[:2]}/{digest}.{extension}"
