"""Avatar pictures: untrusted upload bytes in, a small square WebP without any metadata out (Pillow).

The type is sniffed from the bytes (only the decoders of FORMATS are tried, whatever the file's
name or declared type), the pixel count is checked from the header before anything is decoded,
and the picture is drawn anew, so no EXIF, XMP, ICC profile or comment of the upload survives.
"""

from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
OUTPUT_FORMAT = "WEBP"
OUTPUT_EXTENSION = "webp"
OUTPUT_QUALITY = 85

NOT_AN_IMAGE = "Upload a PNG, JPEG, WebP or GIF image."
UNREADABLE = "This image is damaged or cannot be read."


class ImageRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def too_many_pixels(max_pixels: int) -> str:
    return f"This image has too many pixels (at most {max_pixels:,} are accepted)."


def _check_header(data: bytes, max_pixels: int) -> None:
    """The format and dimensions from the header alone, then Pillow's structural check (no decoding)."""
    try:
        # Pillow itself warns above MAX_IMAGE_PIXELS and raises above twice that; the check below
        # refuses far earlier (AVATAR_MAX_PIXELS), so its warning never precedes a decode.
        with Image.open(BytesIO(data), formats=FORMATS) as probe:
            width, height = probe.size
            if width * height > max_pixels:
                raise ImageRefused(too_many_pixels(max_pixels))
            probe.verify()
    except ImageRefused:
        raise
    except UnidentifiedImageError:
        raise ImageRefused(NOT_AN_IMAGE) from None
    except Image.DecompressionBombError:  # Pillow's own limit (2 x MAX_IMAGE_PIXELS), checked in open()
        raise ImageRefused(too_many_pixels(max_pixels)) from None
    except Exception:  # a damaged file can fail any of Pillow's parsers in its own way
        raise ImageRefused(UNREADABLE) from None


def _square(data: bytes, size: int) -> Image.Image:
    """The first frame, turned as its EXIF orientation says, centre-cropped to a square of `size`."""
    try:
        with Image.open(BytesIO(data), formats=FORMATS) as image:
            image.seek(0)
            image.draft(None, (size, size))  # JPEG: decode at the smallest scale still >= size
            upright = ImageOps.exif_transpose(image)
            alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
            converted = upright.convert("RGBA" if alpha else "RGB")
            return ImageOps.fit(converted, (size, size), method=Image.Resampling.LANCZOS)
    except Exception:  # the header passed, the pixel data did not (truncated, corrupt)
        raise ImageRefused(UNREADABLE) from None


def avatar_render(data: bytes, *, size: int, max_pixels: int) -> bytes:
    """The upload as a `size` x `size` WebP; ImageRefused (with a message for the user) otherwise."""
    _check_header(data, max_pixels)
    square = _square(data, size)
    # A new image holds the pixels only: `info` (EXIF, ICC, XMP, comments) is left behind.
    clean = Image.new(square.mode, square.size)
    clean.paste(square)
    out = BytesIO()
    clean.save(out, OUTPUT_FORMAT, quality=OUTPUT_QUALITY, method=4)
    return out.getvalue()
