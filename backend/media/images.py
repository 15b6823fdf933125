"""Photos and certificate documents from vendors' phones: checked, stood upright, stripped of metadata, re-encoded.

These functions decode untrusted bytes and are CPU-bound, so they are plain synchronous functions;
callers run them in a worker thread (backend.media.uploads).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

from backend.errors import N_

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Checked from the header before any pixel is decoded: a small file can claim billions of pixels.
MAX_PIXELS = 64_000_000  # 48 and 50 MP phone camera modes (8000 x 6000) must pass
THUMBNAIL_WIDTH = 320
DETAIL_WIDTH = 960
DOCUMENT_WIDTH = 1600
WEBP_QUALITY = 80

# What phone cameras and browsers produce; Pillow reads many more formats, each one more parser to attack.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
# libwebp cannot encode a longer side; only an extremely tall picture gets there after downscaling.
WEBP_MAX_SIDE = 16383
# PDF readers look for the end-of-file marker in the last kilobyte; writers may append a little after it.
PDF_EOF_WINDOW = 1024

EMPTY = N_("The file is empty.")
TOO_LARGE = N_("The file is too large. The limit is 10 MB.")  # keep in step with MAX_UPLOAD_BYTES
TOO_MANY_PIXELS = N_("The photo is too large in pixels.")
NOT_A_PHOTO = N_("The file is not a photo. Choose a JPEG, PNG or WebP picture.")
NOT_A_DOCUMENT = N_("The document must be a photo or a PDF.")


class InvalidUpload(ValueError):
    """An upload we refuse; `message` is an English message id to show the person who sent it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    width: int
    height: int
    media_type: str = "image/webp"


@dataclass(frozen=True)
class ProcessedPhoto:
    thumbnail: EncodedImage
    detail: EncodedImage


@dataclass(frozen=True)
class ProcessedDocument:
    data: bytes
    media_type: str
    extension: str


def process_photo(data: bytes) -> ProcessedPhoto:
    """A product or profile photo: upright, without EXIF (no GPS position of the vendor's home), as two WebP sizes.

    Raises InvalidUpload when the bytes are not a complete JPEG, PNG or WebP picture within the limits.
    """
    _check_upload_size(data)
    image = _decode_picture(data, not_a_picture=NOT_A_PHOTO, width=DETAIL_WIDTH)
    detail = _fit_width(image, DETAIL_WIDTH)
    thumbnail = _fit_width(detail, THUMBNAIL_WIDTH)
    return ProcessedPhoto(thumbnail=_encode_webp(thumbnail), detail=_encode_webp(detail))


def process_document(data: bytes) -> ProcessedDocument:
    """A certificate document: a photo of the paper (re-encoded like a product photo) or a PDF (kept as sent).

    Raises InvalidUpload for anything else.
    """
    _check_upload_size(data)
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-PDF_EOF_WINDOW:]:
            raise InvalidUpload(NOT_A_DOCUMENT)
        return ProcessedDocument(data=data, media_type="application/pdf", extension="pdf")
    image = _decode_picture(data, not_a_picture=NOT_A_DOCUMENT, width=DOCUMENT_WIDTH)
    encoded = _encode_webp(_fit_width(image, DOCUMENT_WIDTH))
    return ProcessedDocument(data=encoded.data, media_type=encoded.media_type, extension="webp")


def _check_upload_size(data: bytes) -> None:
    if not data:
        raise InvalidUpload(EMPTY)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidUpload(TOO_LARGE)


def _decode_picture(data: bytes, *, not_a_picture: str, width: int) -> Image.Image:
    """Decode every pixel (a truncated file is refused, not half shown), upright, as RGB with no metadata attached."""
    try:
        opened = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard trips first for the most extreme sizes (the warning only where warnings are errors).
        raise InvalidUpload(TOO_MANY_PIXELS) from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise InvalidUpload(not_a_picture) from None
    with opened:
        if opened.width * opened.height > MAX_PIXELS:
            raise InvalidUpload(TOO_MANY_PIXELS)
        # A JPEG can be decoded at 1/2, 1/4 or 1/8 scale for a fraction of the memory and time, still at least
        # `width` pixels on each side so the width survives rotation; other formats ignore this.
        opened.draft("RGB", (width, width))
        try:
            opened.load()
            upright = ImageOps.exif_transpose(opened)
        except (OSError, ValueError, SyntaxError, EOFError):
            raise InvalidUpload(not_a_picture) from None
    return _flatten_to_rgb(upright)


def _flatten_to_rgb(image: Image.Image) -> Image.Image:
    """RGB, with transparent areas painted white; the result carries no EXIF, XMP or ICC profile."""
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        flattened = Image.new("RGB", rgba.size, "white")
        flattened.paste(rgba, mask=rgba.getchannel("A"))
    else:
        flattened = image.convert("RGB")
    # Metadata rides along in `info` through convert/resize; clear it so nothing can reach the encoder.
    flattened.info.clear()
    return flattened


def _fit_width(image: Image.Image, width: int) -> Image.Image:
    """Downscale to `width` keeping the aspect ratio; a smaller picture is kept as it is, never blown up."""
    if image.width <= width:
        return image
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.LANCZOS)


def _encode_webp(image: Image.Image) -> EncodedImage:
    if max(image.size) > WEBP_MAX_SIDE:
        raise InvalidUpload(TOO_MANY_PIXELS)
    buffer = io.BytesIO()
    # Pillow writes EXIF, XMP or an ICC profile into WebP only when they are passed here; none are.
    image.save(buffer, "WEBP", quality=WEBP_QUALITY)
    return EncodedImage(data=buffer.getvalue(), width=image.width, height=image.height)
