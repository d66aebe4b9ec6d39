"""Photo uploads from customers and staff: checked by content, cleaned, stored by hash.

An upload is read with a size cap, opened by Pillow as JPEG, PNG or WebP only (never by its
name or the client's content type), refused when it claims too many pixels — before any pixel
is decoded — or is damaged, then turned upright, stripped of every piece of metadata (EXIF with
GPS, XMP, comments, colour profile after converting to sRGB), scaled down and re-encoded. The
result is written atomically as `<sha256>.jpg|png` under UPLOAD_DIR, so the same photo sent
twice is one file.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import struct
import tempfile
import threading
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from flask import Response, abort, current_app, send_file
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError
from werkzeug.datastructures import FileStorage

from reverse.core.errors import DomainError

#: What Pillow may open: every other decoder (EPS through Ghostscript, PSD, TIFF …) stays shut.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
#: Longest side of a stored photo, in pixels: enough to judge a stain or a seam.
MAX_SIDE = 2000
JPEG_QUALITY = 85

_NAME_RE = re.compile(r"[0-9a-f]{64}\.(?:jpg|png)")
_CHUNK = 1024 * 1024
_MB = 1024 * 1024


class UploadRejected(DomainError):
    """An uploaded file is not accepted; the message tells the user what to send instead."""

    status = 422
    code = "upload_rejected"


@dataclass(frozen=True)
class StoredImage:
    #: the stored file name, "<sha256>.jpg" or "<sha256>.png"
    name: str
    content_type: str
    #: bytes of the stored (re-encoded) file
    size: int
    width: int
    height: int
    #: hex SHA-256 of the stored file
    sha256: str
    #: this call wrote the file (False: the same photo was stored already)
    written: bool = field(default=False, compare=False)


def save_image(stream: IO[bytes] | FileStorage, *, max_bytes: int | None = None) -> StoredImage:
    """Check, clean and store an uploaded photo; raises UploadRejected with a message for the
    user when the file is refused or cannot be written."""
    config = current_app.config
    limit = config["UPLOAD_MAX_BYTES"] if max_bytes is None else max_bytes
    data = _read_capped(stream, limit)
    image = _open_checked(data, config["UPLOAD_MAX_PIXELS"])
    encoded, extension, content_type, size = _clean(image)
    digest = hashlib.sha256(encoded).hexdigest()
    name = f"{digest}.{extension}"
    written = _store(Path(config["UPLOAD_DIR"]), name, encoded)
    return StoredImage(
        name=name,
        content_type=content_type,
        size=len(encoded),
        width=size[0],
        height=size[1],
        sha256=digest,
        written=written,
    )


def save_images(streams: Iterable[IO[bytes] | FileStorage]) -> list[StoredImage]:
    """Several photos of one request, all or none: when one is refused or cannot be written
    (a full disk), the files this call wrote for the others are removed again, so no photo is
    left on disk that nothing refers to."""
    saved: list[StoredImage] = []
    try:
        for stream in streams:
            saved.append(save_image(stream))
    except UploadRejected:
        discard(saved)
        raise
    return saved


def discard(images: Iterable[StoredImage]) -> None:
    """Remove the files that these `save_image` calls wrote, when what they were for is not
    saved after all (a later photo refused, a full disk); a photo that was stored already
    before them stays."""
    for image in images:
        if image.written:
            with contextlib.suppress(OSError):
                upload_path(image.name).unlink()


def upload_path(name: str) -> Path:
    """Where a stored photo lives. Raises ValueError for any name that `save_image` cannot
    have produced (so no path can lead out of the folder); views answer 404 to it."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError(f"not a stored upload name: {name!r}")
    return Path(current_app.config["UPLOAD_DIR"]) / name


#: what save_image stores: served as the image it is, in the browser
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


def send_photo(stored_name: str, content_type: str, *, public_max_age: int = 0) -> Response:
    """A stored photo as the image it is, shown inline. 404 for a name save_image cannot have
    made, a file that is gone or anything that is not an image. `public_max_age` lets shared
    caches keep a public photo that long; otherwise browsers revalidate every time."""
    try:
        path = upload_path(stored_name)
    except ValueError:
        abort(404)
    if content_type not in IMAGE_TYPES or not path.is_file():
        abort(404)
    response = send_file(path, mimetype=content_type, max_age=public_max_age, conditional=True)
    if public_max_age:
        response.headers["Cache-Control"] = f"public, max-age={public_max_age}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response


def _read_capped(stream: IO[bytes] | FileStorage, limit: int) -> bytes:
    """At most `limit` bytes; one byte more means the file is too large."""
    buffer = bytearray()
    while len(buffer) <= limit:
        chunk = stream.read(min(_CHUNK, limit + 1 - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    if len(buffer) > limit:
        raise UploadRejected(
            _l(
                "This file is larger than %(limit)s MB. Please send a smaller photo.",
                limit=_megabytes(limit),
            ),
            reason="too_large",
            limit_bytes=limit,
        )
    if not buffer:
        raise UploadRejected(_l("The file is empty."), reason="empty")
    return bytes(buffer)


def _megabytes(size: int) -> str:
    return f"{size / _MB:.1f}".removesuffix(".0")


def _open_checked(data: bytes, max_pixels: int) -> Image.Image:
    """The decoded image, after the checks that need only its header."""
    unreadable = UploadRejected(
        _l("This file is not a photo we can read. Please send a JPEG, PNG or WebP image."),
        reason="unsupported",
    )
    too_many_pixels = UploadRejected(
        _l(
            "This image is too large: at most %(limit)s megapixels. Please send a smaller photo.",
            limit=max_pixels // 1_000_000,
        ),
        reason="too_many_pixels",
    )
    try:
        # Pillow's own bomb check warns above Image.MAX_IMAGE_PIXELS and raises above twice
        # that; the warning is made an error here so it can never pass as a log line. The
        # filter names only this category, so threads racing on it change nothing else.
        with _strict_decoding(), warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            # Only the header has been read: refuse a pixel bomb before decoding anything.
            if image.width * image.height > max_pixels:
                raise too_many_pixels
            image.verify()  # PNG: every chunk's checksum; cheap for the others
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            if image.format == "JPEG":
                # Decode at the smallest DCT scale that still gives MAX_SIDE: faster, and a
                # 40-megapixel photo never needs 120 MB of memory.
                scale = MAX_SIDE / max(image.size)
                if scale < 1:
                    size = (round(image.width * scale), round(image.height * scale))
                    image.draft(image.mode, size)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels from None
    except UnidentifiedImageError:
        if _is_heif(data):
            raise UploadRejected(
                _l(
                    "HEIC photos are not accepted. Please send the photo as JPEG or PNG "
                    "(on an iPhone: Settings > Camera > Formats > Most Compatible)."
                ),
                reason="heic",
            ) from None
        raise unreadable from None
    except (OSError, SyntaxError, ValueError, EOFError):
        # Truncated data, broken checksums, garbage after a valid-looking header …
        raise UploadRejected(
            _l("This image is damaged or incomplete. Please send it again."),
            reason="damaged",
        ) from None
    return image


_strict_lock = threading.Lock()
_strict_users = 0
_truncated_setting = False


@contextlib.contextmanager
def _strict_decoding() -> Iterator[None]:
    """Pillow refuses truncated or broken data only while ImageFile.LOAD_TRUNCATED_IMAGES is
    false, and WeasyPrint sets it true for the whole process when it is imported. Keep it
    false while any upload is being checked, and put back what was there after the last."""
    global _strict_users, _truncated_setting
    with _strict_lock:
        if _strict_users == 0:
            _truncated_setting = ImageFile.LOAD_TRUNCATED_IMAGES
        _strict_users += 1
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        with _strict_lock:
            _strict_users -= 1
            if _strict_users == 0:
                ImageFile.LOAD_TRUNCATED_IMAGES = _truncated_setting


def _is_heif(data: bytes) -> bool:
    """HEIC / HEIF / AVIF: an ISO-BMFF 'ftyp' box with an image brand."""
    return data[4:8] == b"ftyp" and data[8:12] in {
        b"heic",
        b"heix",
        b"hevc",
        b"hevx",
        b"heim",
        b"heis",
        b"mif1",
        b"msf1",
        b"avif",
    }


def _clean(image: Image.Image) -> tuple[bytes, str, str, tuple[int, int]]:
    """Upright, sRGB, at most MAX_SIDE, without metadata; (bytes, extension, type, size)."""
    icc = image.info.get("icc_profile")
    # Unreadable EXIF: the photo as it was taken is still worth keeping.
    with contextlib.suppress(OSError, SyntaxError, ValueError, TypeError, KeyError, struct.error):
        image = ImageOps.exif_transpose(image) or image
    transparent = _has_transparency(image)
    # A transparent image stays PNG; a colour profile on one is rare enough to drop.
    image = image.convert("RGBA") if transparent else _to_srgb(_opaque(image), icc)
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # A fresh image from the pixels alone: nothing of the upload's info (EXIF, XMP, ICC,
    # comments, PNG text chunks) can ride along into the stored file.
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    if transparent:
        clean.save(out, format="PNG", compress_level=6)
        return out.getvalue(), "png", "image/png", clean.size
    clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue(), "jpg", "image/jpeg", clean.size


def _has_transparency(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return image.getchannel("A").getextrema()[0] < 255
    if "transparency" in image.info:  # a palette entry or a colour keyed transparent
        return _has_transparency(image.convert("RGBA"))
    return False


def _opaque(image: Image.Image) -> Image.Image:
    """RGB, CMYK or L (8-bit greyscale), whatever the mode of the upload."""
    if image.mode in ("RGB", "CMYK", "L"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale (PNG): scale down to 8 bits rather than clip at 255.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode in ("1", "LA", "La", "F"):
        return image.convert("L")
    return image.convert("RGB")


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Colours in sRGB: an embedded profile (Display P3 from phones, CMYK press profiles) is
    applied, then dropped with the rest; without one the pixels are taken as sRGB already."""
    if icc and image.mode in ("RGB", "CMYK"):
        try:
            return ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                ImageCms.createProfile("sRGB"),
                outputMode="RGB",
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: the pixels as they are
    return image.convert("RGB") if image.mode == "CMYK" else image


def _store(directory: Path, name: str, data: bytes) -> bool:
    """Write `data` as `directory/name` atomically: a temporary file renamed into place, or
    nothing at all. Returns whether it wrote (False: the same photo was stored already)."""
    failed = UploadRejected(
        _l("The photo could not be saved. Please try again."), reason="not_saved"
    )
    target = directory / name
    if target.is_file():
        return False  # same name, same bytes: the photo is already stored
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".tmp")
    except OSError as exc:
        raise failed from exc
    try:
        try:
            _write_file(fd, data)
        finally:
            os.close(fd)
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        current_app.logger.warning("upload %s could not be written: %s", name, exc)
        raise failed from exc
    return True


def _write_file(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    os.fsync(fd)
