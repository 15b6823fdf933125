"""`python -m backend copy-media-to-s3`: the media of the local disk into the bucket, before MEDIA_STORAGE=s3.

Idempotent: an object already in the bucket with the same size and MD5 is left alone, so the command can run again
after an interruption, or once more just before the switch to pick up what was uploaded meanwhile.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from backend.media.s3 import S3Storage
from backend.media.storage import FileSystemStorage

# Uploads in flight at once: each waits mostly on the network.
COPY_THREADS = 8


@dataclass(frozen=True)
class CopyRun:
    copied: int
    already_there: int
    copied_bytes: int


def copy_media_to_s3(source: FileSystemStorage, destination: S3Storage, *, threads: int = COPY_THREADS) -> CopyRun:
    """Copy every file of `source` into `destination` under the same key, skipping identical objects."""

    def copy_one(key: str) -> int | None:
        """The bytes copied, or None when the bucket already holds the same."""
        data = source.read(key)
        stored = destination.stat(key)
        # The size first: the hash is worked out only for an object that may be the same.
        if (
            stored is not None
            and stored.size == len(data)
            and stored.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
        ):
            return None
        destination.save(key, data)
        return len(data)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(copy_one, sorted(source.keys())))
    copied = [size for size in results if size is not None]
    return CopyRun(copied=len(copied), already_there=len(results) - len(copied), copied_bytes=sum(copied))
