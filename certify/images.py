"""Reading a still photo (a reference for enrolment) into an upright RGB array."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["ImageError", "load_image", "MAX_IMAGE_PIXELS", "MAX_IMAGE_SIDE_PX"]

MAX_IMAGE_PIXELS = 40_000_000
"""Photos larger than this (width x height) are refused before decoding (decompression bombs)."""

MAX_IMAGE_SIDE_PX = 1600
"""Photos are downscaled so that their longer side is at most this; faces stay large enough."""


class ImageError(ValueError):
    """Bytes that are not a photo we can read."""


def load_image(data: bytes, *, max_side_px: int = MAX_IMAGE_SIDE_PX) -> np.ndarray:
    """Decode JPEG/PNG/WebP bytes to an upright (EXIF-transposed) RGB uint8 array."""
    if not data:
        raise ImageError("the photo is empty")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise ImageError(f"the photo is larger than {MAX_IMAGE_PIXELS} pixels")
            img.load()
            upright = ImageOps.exif_transpose(img) or img
            rgb = upright.convert("RGB")
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        # the decoder's own text names Python objects and internals: not for the caller
        raise ImageError("not a readable photo (JPEG, PNG or WebP)") from None
    if max(rgb.size) > max_side_px:
        rgb.thumbnail((max_side_px, max_side_px), Image.Resampling.LANCZOS)
    return np.asarray(rgb, dtype=np.uint8)
