"""A real S3-compatible server for the tests: moto's server, in its own process on a free loopback port.

It speaks S3's HTTP API (signatures, ETags, Content-MD5 checks, 404s), so the app's boto3 client talks to it exactly
as it talks to MinIO or AWS.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

from tests.app_process import free_port

ACCESS_KEY_ID = "test-access-key"
SECRET_ACCESS_KEY = "test-secret-key-for-the-s3-stand-in"
REGION = "us-east-1"
START_TIMEOUT_SECONDS = 30


@contextmanager
def s3_server(log_dir: Path) -> Iterator[str]:
    """A running server; yields its endpoint URL (http://127.0.0.1:PORT). Stopped on leaving."""
    port = free_port()
    log = (log_dir / "moto-server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto's S3 server exited with {process.returncode} before it listened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto's S3 server did not listen on port {port} within {START_TIMEOUT_SECONDS} s")


def create_bucket(endpoint_url: str, name: str | None = None) -> str:
    """A new empty bucket on the server; its name."""
    name = name or f"test-media-{uuid.uuid4().hex[:12]}"
    client(endpoint_url).create_bucket(Bucket=name)
    return name


def client(endpoint_url: str) -> S3Client:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )


def allow_public_photos(endpoint_url: str, bucket: str) -> None:
    """The bucket policy the README asks for: anybody may read products/ and vendors/, nothing else."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/products/*", f"arn:aws:s3:::{bucket}/vendors/*"],
            }
        ],
    }
    client(endpoint_url).put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
