"""Uploaded media are kept under content-addressed keys that cannot point outside the media directory."""

from __future__ import annotations

import os
import re

import pytest

from backend.media.storage import MAX_KEY_LENGTH, FileSystemStorage, content_key

KEY = "products/ab/ab12cd34ef56ab12cd34ef56ab12cd34.webp"


def files_under(root) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def test_saved_media_can_be_read_back_and_deleted(tmp_path):
    storage = FileSystemStorage(tmp_path / "media" / "not-yet-created")

    storage.save(KEY, b"photo bytes")

    assert storage.exists(KEY)
    assert storage.read(KEY) == b"photo bytes"
    storage.delete(KEY)
    assert not storage.exists(KEY)
    with pytest.raises(FileNotFoundError):
        storage.read(KEY)
    storage.delete(KEY)  # already gone: nothing to do


def test_saving_again_replaces_the_bytes(tmp_path):
    storage = FileSystemStorage(tmp_path)

    storage.save(KEY, b"first")
    storage.save(KEY, b"second")

    assert storage.read(KEY) == b"second"
    assert files_under(tmp_path) == [KEY]


def test_write_leaves_no_temporary_file_behind(tmp_path):
    storage = FileSystemStorage(tmp_path)

    storage.save(KEY, b"photo bytes")
    storage.save("certificates/0f/0f00.pdf", b"%PDF-1.4\n%%EOF\n")

    assert files_under(tmp_path) == ["certificates/0f/0f00.pdf", KEY]


def test_failed_write_keeps_the_old_file_and_cleans_up(tmp_path, monkeypatch):
    storage = FileSystemStorage(tmp_path)
    storage.save(KEY, b"old")

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        storage.save(KEY, b"new")
    monkeypatch.undo()

    assert storage.read(KEY) == b"old"
    assert files_under(tmp_path) == [KEY]


def test_content_key_is_named_after_the_bytes():
    key = content_key("products", b"photo bytes", "webp")

    match = re.fullmatch(r"products/([0-9a-f]{2})/([0-9a-f]{32})\.webp", key)
    assert match and match.group(2).startswith(match.group(1))
    assert content_key("products", b"photo bytes", "webp") == key
    assert content_key("products", b"other bytes", "webp") != key
    assert content_key("certificates", b"photo bytes", "pdf").endswith(match.group(2) + ".pdf")


def test_content_key_is_a_valid_storage_key(tmp_path):
    storage = FileSystemStorage(tmp_path)
    key = content_key("vendors", b"profile photo", "webp")

    storage.save(key, b"profile photo")

    assert storage.exists(key)


@pytest.mark.parametrize(
    "key",
    [
        "../etc/passwd",
        "/abs",
        "a/../../b",
        "UPPER.webp",
        "a b.webp",
        "",
        "products//ab.webp",
        "products/",
        "products/.hidden",
        "products/ab\\..\\x.webp",
        "products/ab\x00.webp",
        "products/ab.webp\n",
        "a" * (MAX_KEY_LENGTH + 1),
    ],
)
def test_key_that_could_escape_the_media_directory_is_refused(tmp_path, key):
    storage = FileSystemStorage(tmp_path / "media")

    for use in (
        lambda: storage.save(key, b"x"),
        lambda: storage.read(key),
        lambda: storage.delete(key),
        lambda: storage.exists(key),
    ):
        with pytest.raises(ValueError, match="invalid storage key"):
            use()
    assert files_under(tmp_path) == []
