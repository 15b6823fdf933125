"""Where uploaded media live: a small interface, and the local disk behind it today.

Keys are content-addressed (content_key), so a stored file never changes under its key and can be served with
`Cache-Control: public, max-age=31536000, immutable`.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

MAX_KEY_LENGTH = 200
# Lowercase path segments that never start with a dot: no "..", no ".", no hidden files, no empty segment,
# no leading or trailing "/". Temporary files start with a dot, so no key can name one.
_KEY_PATTERN = re.compile(r"[a-z0-9_-][a-z0-9_.-]*(/[a-z0-9_-][a-z0-9_.-]*)*")


@runtime_checkable
class Storage(Protocol):
    """A flat store of bytes under keys such as "products/ab/ab12...ef.webp"; an S3-compatible one can follow."""

    def save(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing what was there; readers see the old or the new bytes, never a part."""
        ...

    def read(self, key: str) -> bytes:
        """The bytes under `key`; raises FileNotFoundError when there are none."""
        ...

    def delete(self, key: str) -> None:
        """Forget `key`; nothing happens when it is already gone."""
        ...

    def exists(self, key: str) -> bool: ...


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

    def _path(self, key: str) -> Path:
        """The file for `key`; a key that could reach outside the root raises ValueError before any disk access."""
        if len(key) > MAX_KEY_LENGTH or ".." in key or not _KEY_PATTERN.fullmatch(key):
            raise ValueError(f"invalid storage key: {key!r}")
        return self.root / key


def content_key(prefix: str, data: bytes, extension: str) -> str:
    """A key named after the bytes: "products/ab/ab12...ef.webp" (128 bits of SHA-256, two-character fan-out)."""
    digest = hashlib.sha256(data).hexdigest()[:32]
    return f"{prefix}/{digest[:2]}/{digest}.{extension}"
