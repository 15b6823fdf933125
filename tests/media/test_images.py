"""A vendor uploads photos straight from a phone camera: they come out upright, small, and without the location."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib

import pytest
from PIL import Image, ImageFile

from backend.media import images
from backend.media.images import (
    DETAIL_WIDTH,
    DOCUMENT_WIDTH,
    MAX_UPLOAD_BYTES,
    THUMBNAIL_WIDTH,
    EncodedImage,
    InvalidUpload,
    process_document,
    process_photo,
)

ORIENTATION = 0x0112
MAKE = 0x010F
MODEL = 0x0110
GPS_INFO = 0x8825
RED = (220, 30, 30)
GREY = (120, 120, 120)
# Chunks a WebP picture needs; EXIF, XMP and ICCP chunks would carry metadata.
PICTURE_CHUNKS = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}


def phone_photo(width: int = 4000, height: int = 3000, *, orientation: int = 6) -> bytes:
    """A JPEG as a phone held sideways writes it: landscape pixels, a red band along the top row of the sensor,
    an EXIF orientation saying how to stand it up, the camera model and the GPS position where it was taken."""
    image = Image.new("RGB", (width, height), GREY)
    image.paste(RED, (0, 0, width, height // 10))
    exif = Image.Exif()
    exif[MAKE] = "Samsung"
    exif[MODEL] = "Galaxy A05"
    exif[ORIENTATION] = orientation
    exif[GPS_INFO] = {1: "S", 2: (6.0, 57.0, 16.0), 3: "E", 4: (110.0, 1.0, 56.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=85)
    return buffer.getvalue()


def noisy_jpeg(width: int = 640, height: int = 480) -> bytes:
    """A JPEG whose bytes are mostly picture data, so cutting it anywhere loses pixels."""
    pixels = random.Random(7).randbytes(width * height * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def truncated_jpeg() -> bytes:
    whole = noisy_jpeg()
    return whole[: len(whole) // 2]


def png_claiming(width: int, height: int) -> bytes:
    """A real one-pixel PNG whose header claims another size (with a valid CRC): the shape of a decompression bomb."""
    buffer = io.BytesIO()
    Image.new("1", (1, 1)).save(buffer, "PNG")
    png = bytearray(buffer.getvalue())
    ihdr_start = 8  # after the signature: length (4), type (4), data (13), crc (4)
    assert png[ihdr_start + 4 : ihdr_start + 8] == b"IHDR"
    png[ihdr_start + 8 : ihdr_start + 16] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(png[ihdr_start + 4 : ihdr_start + 21]))
    png[ihdr_start + 21 : ihdr_start + 25] = struct.pack(">I", crc)
    return bytes(png)


def webp_chunks(data: bytes) -> list[bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    chunks, offset = [], 12
    while offset + 8 <= len(data):
        fourcc, size = data[offset : offset + 4], struct.unpack("<I", data[offset + 4 : offset + 8])[0]
        chunks.append(fourcc)
        offset += 8 + size + (size & 1)
    return chunks


def rgb(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    """A pixel's channels (an RGB picture's pixels are tuples)."""
    pixel = image.getpixel(xy)
    assert isinstance(pixel, tuple), pixel
    return pixel


def assert_clean_webp(encoded: EncodedImage) -> Image.Image:
    """Open an output as a browser would, and check nothing but pixels went into it."""
    assert encoded.media_type == "image/webp"
    assert set(webp_chunks(encoded.data)) <= PICTURE_CHUNKS
    with Image.open(io.BytesIO(encoded.data)) as image:
        image.load()
        assert image.format == "WEBP"
        assert image.size == (encoded.width, encoded.height)
        assert len(image.getexif()) == 0
        assert "exif" not in image.info and "xmp" not in image.info and "icc_profile" not in image.info
        return image.copy()


@pytest.fixture
def no_pixel_decoding(monkeypatch):
    def refuse_to_decode(self, *args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse_to_decode)


def test_sideways_phone_photo_stands_up_in_two_sizes_without_location():
    upload = phone_photo(4000, 3000, orientation=6)
    with Image.open(io.BytesIO(upload)) as original:
        assert original.getexif().get_ifd(GPS_INFO), "the upload really carries a GPS position"

    photo = process_photo(upload)

    assert (photo.detail.width, photo.detail.height) == (DETAIL_WIDTH, 1280)
    assert (photo.thumbnail.width, photo.thumbnail.height) == (THUMBNAIL_WIDTH, 427)
    detail = assert_clean_webp(photo.detail)
    assert_clean_webp(photo.thumbnail)
    # Orientation 6 turns the picture a quarter clockwise: the band along the sensor's top ends up on the right.
    right_red, right_green, _ = rgb(detail, (DETAIL_WIDTH - 10, 640))
    left_red, left_green, _ = rgb(detail, (10, 640))
    assert right_red > 180 and right_green < 80
    assert abs(left_red - GREY[0]) < 20 and abs(left_green - GREY[1]) < 20


def test_upright_photo_keeps_its_shape():
    photo = process_photo(phone_photo(2000, 1500, orientation=1))

    assert (photo.detail.width, photo.detail.height) == (DETAIL_WIDTH, 720)
    assert (photo.thumbnail.width, photo.thumbnail.height) == (THUMBNAIL_WIDTH, 240)


def test_transparent_png_is_put_on_white():
    image = Image.new("RGBA", (500, 400), (0, 0, 0, 0))
    image.paste((200, 0, 0, 255), (150, 100, 350, 300))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")

    photo = process_photo(buffer.getvalue())

    detail = assert_clean_webp(photo.detail)
    assert detail.mode == "RGB"
    assert min(rgb(detail, (5, 5))) >= 245
    red, green, _ = rgb(detail, (250, 200))
    assert red > 170 and green < 40


def test_small_photo_is_not_blown_up():
    buffer = io.BytesIO()
    Image.new("RGB", (200, 100), GREY).save(buffer, "JPEG")

    photo = process_photo(buffer.getvalue())

    assert (photo.detail.width, photo.detail.height) == (200, 100)
    assert (photo.thumbnail.width, photo.thumbnail.height) == (200, 100)
    assert_clean_webp(photo.thumbnail)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        pytest.param(b"hello this is not an image", images.NOT_A_PHOTO, id="text file renamed .jpg"),
        pytest.param(truncated_jpeg(), images.NOT_A_PHOTO, id="truncated jpeg"),
        pytest.param(b"GIF89a" + b"\x00" * 64, images.NOT_A_PHOTO, id="not an accepted format"),
        pytest.param(b"", images.EMPTY, id="empty"),
        pytest.param(b"\xff\xd8\xff" + bytes(MAX_UPLOAD_BYTES), images.TOO_LARGE, id="over the upload limit"),
    ],
)
def test_refused_photo_says_why(upload, message):
    with pytest.raises(InvalidUpload) as refused:
        process_photo(upload)

    assert refused.value.message == message
    assert "%" not in refused.value.message


@pytest.mark.parametrize(
    ("width", "height"),
    [
        pytest.param(9000, 8000, id="72 megapixels, over our limit"),
        pytest.param(10_000, 10_000, id="100 megapixels, where Pillow warns"),
        pytest.param(50_000, 50_000, id="2.5 gigapixels, past Pillow's own guard"),
    ],
)
def test_decompression_bomb_is_refused_from_its_header(no_pixel_decoding, width, height):
    with pytest.raises(InvalidUpload) as refused:
        process_photo(png_claiming(width, height))

    assert refused.value.message == images.TOO_MANY_PIXELS


def test_pdf_certificate_is_kept_as_sent():
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

    document = process_document(pdf)

    assert (document.data, document.media_type, document.extension) == (pdf, "application/pdf", "pdf")


def test_photographed_certificate_is_reencoded_without_location():
    document = process_document(phone_photo(2400, 1800, orientation=1))

    assert (document.media_type, document.extension) == ("image/webp", "webp")
    image = assert_clean_webp(EncodedImage(data=document.data, width=DOCUMENT_WIDTH, height=1200))
    assert image.size == (DOCUMENT_WIDTH, 1200)


def zip_file() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sertifikat.txt", "halal")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(zip_file(), id="zip"),
        pytest.param(b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", id="html"),
        pytest.param(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n", id="pdf cut short"),
    ],
)
def test_document_that_is_neither_photo_nor_pdf_is_refused(upload):
    with pytest.raises(InvalidUpload) as refused:
        process_document(upload)

    assert refused.value.message == images.NOT_A_DOCUMENT
