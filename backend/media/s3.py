"""Media in an S3-compatible bucket (AWS S3, MinIO, Ceph, Cloudflare R2...), behind the same Storage interface.

boto3's client is synchronous and thread-safe: like the local disk, every method here blocks and is called from a
worker thread (anyio.to_thread), never on the event loop.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from backend.media.storage import PUBLIC_PREFIXES, StorageUnreachable, check_key, media_type_of

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Photos are stored under content keys, so the bytes under a key never change: caches may keep them for a year.
PUBLIC_CACHE_CONTROL = "public, max-age=31536000, immutable"
PRIVATE_CACHE_CONTROL = "private, no-store"
_MISSING = ("404", "NoSuchKey", "NotFound")


@dataclass(frozen=True)
class StoredObject:
    """What the bucket says about an object: its size and the MD5 of its bytes (the ETag of a single-part upload)."""

    size: int
    md5: str


class S3Storage:
    """One object a key, in one bucket. Public photos may be read by anybody at `public_base_url` (a bucket
    policy or a CDN in front of the bucket); every other key is private and reaches people only through the app."""

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        public_base_url: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                signature_version="s3v4",
                # MinIO and most self-hosted servers answer at one address for every bucket; AWS picks its own.
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
                # As many connections as anyio's worker threads, so concurrent uploads never wait for one.
                max_pool_connections=40,
            ),
        )

    def save(self, key: str, data: bytes) -> None:
        # A PUT replaces the object whole: readers see the old or the new bytes, never a part.
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=check_key(key),
                Body=data,
                ContentType=media_type_of(key),
                CacheControl=PUBLIC_CACHE_CONTROL if key.startswith(PUBLIC_PREFIXES) else PRIVATE_CACHE_CONTROL,
                ContentMD5=_content_md5(data),
            )
        except (BotoCoreError, ClientError) as error:
            raise self._unreachable(error) from error

    def read(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=check_key(key))
            return answer["Body"].read()
        except ClientError as error:
            if _is_missing(error):
                raise FileNotFoundError(key) from None
            raise self._unreachable(error) from error
        except BotoCoreError as error:
            raise self._unreachable(error) from error

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=check_key(key))
        except (BotoCoreError, ClientError) as error:
            raise self._unreachable(error) from error

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    def stat(self, key: str) -> StoredObject | None:
        """The object's size and MD5, or None when there is none under `key`."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as error:
            if _is_missing(error):
                return None
            raise self._unreachable(error) from error
        except BotoCoreError as error:
            raise self._unreachable(error) from error
        return StoredObject(size=head["ContentLength"], md5=head["ETag"].strip('"'))

    def _unreachable(self, error: BotoCoreError | ClientError) -> StorageUnreachable:
        """One line an operator can act on: which bucket, and what the server or the connection said."""
        return StorageUnreachable(f"S3 bucket {self.bucket!r} unavailable: {error}")

    def public_url(self, key: str) -> str | None:
        """Where a browser fetches a public photo straight from the bucket or its CDN; None where the app serves
        it itself (no public address set, or a private key)."""
        if self.public_base_url is None or not key.startswith(PUBLIC_PREFIXES):
            return None
        return f"{self.public_base_url}/{check_key(key)}"


def _is_missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in _MISSING


def _content_md5(data: bytes) -> str:
    """The Content-MD5 header: the server refuses bytes damaged on the way instead of storing them for a year."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
