"""`python -m backend copy-media-to-s3`: an operator moves the media of one machine's disk into the bucket before
switching MEDIA_STORAGE to s3, and may run it again as often as needed."""

from __future__ import annotations

import subprocess
import sys

from backend.media.copy import CopyRun, copy_media_to_s3
from backend.media.s3 import S3Storage
from backend.media.storage import FileSystemStorage, content_key
from tests import s3_server
from tests.app_process import app_environment, free_port
from tests.conftest import ROOT

PHOTO = b"RIFF....WEBPVP8 photo"
THUMBNAIL = b"RIFF....WEBPVP8 thumb"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def copy_command(media_dir, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend", "copy-media-to-s3"],
        cwd=ROOT,
        env=app_environment(MEDIA_DIR=str(media_dir), **settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def bucket_settings(endpoint: str, bucket: str) -> dict[str, str]:
    return {
        "S3_ENDPOINT_URL": endpoint,
        "S3_BUCKET": bucket,
        "S3_REGION": s3_server.REGION,
        "S3_ACCESS_KEY_ID": s3_server.ACCESS_KEY_ID,
        "S3_SECRET_ACCESS_KEY": s3_server.SECRET_ACCESS_KEY,
    }


def test_local_media_are_copied_into_the_bucket_once_however_often_the_command_runs(s3_endpoint, tmp_path):
    local = FileSystemStorage(tmp_path / "media")
    keys = [content_key("products", PHOTO, "webp"), content_key("vendors", THUMBNAIL, "webp")]
    keys.append(content_key("certificates", PDF, "pdf"))
    for key, data in zip(keys, (PHOTO, THUMBNAIL, PDF), strict=True):
        local.save(key, data)
    (tmp_path / "media" / "products" / ".left-by-a-crash.tmp").write_bytes(b"half a photo")
    bucket = s3_server.create_bucket(s3_endpoint)
    settings = bucket_settings(s3_endpoint, bucket)
    client = s3_server.client(s3_endpoint)

    first = copy_command(tmp_path / "media", **settings)

    assert first.returncode == 0, first.stderr
    size = len(PHOTO) + len(THUMBNAIL) + len(PDF)
    assert f"media copied to bucket {bucket}: 3 ({size} bytes); already there: 0" in first.stdout
    listed = client.list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(item["Key"] for item in listed) == sorted(keys)
    assert client.get_object(Bucket=bucket, Key=keys[2])["Body"].read() == PDF
    assert client.head_object(Bucket=bucket, Key=keys[2])["ContentType"] == "application/pdf"

    again = copy_command(tmp_path / "media", **settings)
    assert again.returncode == 0, again.stderr
    assert f"media copied to bucket {bucket}: 0 (0 bytes); already there: 3" in again.stdout


def test_an_object_that_differs_in_the_bucket_is_copied_again_and_the_others_left_alone(s3_endpoint, tmp_path):
    local = FileSystemStorage(tmp_path)
    keys = [content_key("products", PHOTO, "webp"), content_key("products", THUMBNAIL, "webp")]
    local.save(keys[0], PHOTO)
    local.save(keys[1], THUMBNAIL)
    bucket = S3Storage(
        bucket=s3_server.create_bucket(s3_endpoint),
        endpoint_url=s3_endpoint,
        access_key_id=s3_server.ACCESS_KEY_ID,
        secret_access_key=s3_server.SECRET_ACCESS_KEY,
    )
    assert copy_media_to_s3(local, bucket) == CopyRun(copied=2, already_there=0, copied_bytes=len(PHOTO + THUMBNAIL))
    bucket.save(keys[0], b"X" * len(PHOTO))  # same size, other bytes

    repaired = copy_media_to_s3(local, bucket)

    assert repaired == CopyRun(copied=1, already_there=1, copied_bytes=len(PHOTO))
    assert bucket.read(keys[0]) == PHOTO


def test_without_a_bucket_the_command_says_which_setting_is_missing(tmp_path):
    done = copy_command(tmp_path / "media")

    assert done.returncode == 2
    assert "S3_BUCKET must be set" in done.stderr


def test_an_unreachable_server_stops_the_copy_with_one_line_and_a_failure(tmp_path):
    FileSystemStorage(tmp_path / "media").save(content_key("products", PHOTO, "webp"), PHOTO)
    closed_port = free_port()

    done = copy_command(tmp_path / "media", **bucket_settings(f"http://127.0.0.1:{closed_port}", "pasar-media"))

    assert done.returncode == 1
    assert "copy stopped:" in done.stderr and "run the command again" in done.stderr
    assert "Traceback" not in done.stderr
