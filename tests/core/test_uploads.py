"""Photo uploads: what people (and attackers) send, and what ends up on disk."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import random
import struct
import warnings
import zlib
from pathlib import Path

import pytest
from flask_babel import force_locale
from PIL import Image, ImageCms, ImageFile, ImageOps, PngImagePlugin
from werkzeug.datastructures import FileStorage

from reverse.core import uploads
from reverse.core.uploads import StoredImage, UploadRejected, save_image, upload_path

MB = 1024 * 1024


@pytest.fixture
def upload_dir(ctx, tmp_path, monkeypatch) -> Path:
    """An empty upload folder of this test's own."""
    folder = tmp_path / "uploads"
    monkeypatch.setitem(ctx.config, "UPLOAD_DIR", str(folder))
    return folder


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def photo(size=(640, 480), fmt="JPEG", mode="RGB", **save_args) -> bytes:
    """A photo-like picture: a gradient, so encoders have real work to do."""
    image = Image.linear_gradient("L").resize(size).convert(mode)
    out = io.BytesIO()
    image.save(out, format=fmt, **save_args)
    return out.getvalue()


def noisy(fmt: str) -> bytes:
    """A picture that compresses badly, so that cutting it short really cuts the pixels."""
    out = io.BytesIO()
    Image.effect_noise((640, 480), 64).convert("RGB").save(out, format=fmt)
    return out.getvalue()


def opened(path: Path) -> Image.Image:
    """The stored picture, decoded (and the file closed again)."""
    image = Image.open(io.BytesIO(path.read_bytes()))
    image.load()
    return image


def png_declaring(width: int, height: int) -> bytes:
    """A few hundred bytes that claim to be a width × height PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def rejected(data: bytes | io.IOBase, **kwargs) -> UploadRejected:
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    with pytest.raises(UploadRejected) as info:
        save_image(stream, **kwargs)
    return info.value


def english(exc: UploadRejected) -> str:
    with force_locale("en"):
        return str(exc.message)


# ---------------------------------------------------------------- what is kept


def test_gps_and_every_other_metadata_are_removed(upload_dir):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "PhoneModel X"  # Model
    exif[0x0131] = "EditorApp 1.0"  # Software
    gps = exif.get_ifd(0x8825)  # GPSInfo
    gps[1] = "N"
    gps[2] = (35.0, 39.0, 29.0)
    gps[3] = "E"
    gps[4] = (139.0, 42.0, 3.0)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description GPSLatitude="35,39N"/></x:xmpmeta>'
    original = photo(exif=exif, xmp=xmp, comment=b"secret comment")
    assert b"PhoneModel X" in original  # the input has them
    assert b"GPSLatitude" in original

    stored = save_image(io.BytesIO(original))

    data = (upload_dir / stored.name).read_bytes()
    for leak in (b"Exif", b"PhoneModel", b"EditorApp", b"GPSLatitude", b"xmpmeta", b"secret"):
        assert leak not in data
    image = Image.open(io.BytesIO(data))
    assert len(image.getexif()) == 0
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile"} & set(image.info)


def test_a_transparent_png_keeps_no_chunks_but_its_pixels(upload_dir):
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    image.paste((0, 90, 200, 255), (8, 8, 56, 56))
    exif = Image.Exif()
    exif[0x0110] = "PhoneModel X"
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "home address: 東京都…")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    image.save(out, format="PNG", exif=exif, pnginfo=text, icc_profile=icc)

    stored = save_image(io.BytesIO(out.getvalue()))

    data = (upload_dir / stored.name).read_bytes()
    assert stored.content_type == "image/png"
    for chunk in (b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"iCCP", b"PhoneModel"):
        assert chunk not in data
    assert opened(upload_dir / stored.name).getpixel((32, 32)) == (0, 90, 200, 255)


def test_exif_orientation_is_applied(upload_dir):
    # a landscape picture, red on the left, blue on the right, taken with the phone turned:
    # orientation 6 says "turn me 90° clockwise to view"
    image = Image.new("RGB", (300, 200), "red")
    image.paste(Image.new("RGB", (150, 200), "blue"), (150, 0))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)

    stored = save_image(io.BytesIO(out.getvalue()))

    upright = opened(upload_dir / stored.name)
    assert (stored.width, stored.height) == upright.size == (200, 300)
    top, bottom = upright.getpixel((100, 40)), upright.getpixel((100, 260))
    assert (top[0] > 200, top[2] < 60) == (True, True), f"red on top, not {top}"
    assert (bottom[2] > 200, bottom[0] < 60) == (True, True), f"blue below, not {bottom}"
    assert ImageOps.exif_transpose(upright).size == (200, 300)  # no orientation left


def test_big_photos_are_scaled_to_2000_pixels_on_the_long_side(upload_dir):
    stored = save_image(io.BytesIO(photo((4032, 3024), quality=70)))
    assert (stored.width, stored.height) == (2000, 1500)
    assert opened(upload_dir / stored.name).size == (2000, 1500)


def test_small_photos_are_not_enlarged(upload_dir):
    stored = save_image(io.BytesIO(photo((640, 480))))
    assert (stored.width, stored.height) == (640, 480)


def test_saved_name_is_the_sha256_of_the_stored_file(upload_dir):
    stored = save_image(io.BytesIO(photo()))
    data = (upload_dir / stored.name).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert stored == StoredImage(
        name=f"{digest}.jpg",
        content_type="image/jpeg",
        size=len(data),
        width=640,
        height=480,
        sha256=digest,
    )
    assert upload_path(stored.name) == upload_dir / stored.name


def test_the_same_photo_twice_is_one_file(upload_dir):
    first = save_image(io.BytesIO(photo()))
    second = save_image(FileStorage(io.BytesIO(photo()), filename="IMG_0001.JPG"))
    assert first == second
    assert files_in(upload_dir) == [first.name]


def test_transparent_png_stays_png_and_opaque_png_becomes_jpeg(upload_dir):
    transparent = Image.new("RGBA", (64, 64), (200, 0, 0, 0))
    transparent.paste((0, 0, 200, 255), (16, 16, 48, 48))
    out = io.BytesIO()
    transparent.save(out, format="PNG")
    stored = save_image(io.BytesIO(out.getvalue()))
    assert stored.name.endswith(".png")
    assert stored.content_type == "image/png"
    assert opened(upload_dir / stored.name).getpixel((0, 0))[3] == 0

    opaque = save_image(io.BytesIO(photo(fmt="PNG")))
    assert opaque.name.endswith(".jpg")
    assert opaque.content_type == "image/jpeg"


def test_webp_is_accepted(upload_dir):
    stored = save_image(io.BytesIO(photo(fmt="WEBP")))
    assert stored.content_type == "image/jpeg"
    assert opened(upload_dir / stored.name).format == "JPEG"


def test_the_stored_file_is_only_the_image_not_what_was_appended(upload_dir):
    # a real JPEG with an HTML page and a ZIP archive behind it (a polyglot)
    payload = b"<html><script>alert(document.cookie)</script></html>PK\x03\x04evil.exe"
    stored = save_image(io.BytesIO(photo() + payload))
    data = (upload_dir / stored.name).read_bytes()
    assert b"<script>" not in data
    assert b"PK\x03\x04" not in data


# ---------------------------------------------------------------- what is refused


def test_a_text_file_named_jpg_is_refused(upload_dir):
    upload = FileStorage(
        io.BytesIO(b"Dear team, the zip broke after two days.\n" * 20),
        filename="photo.jpg",
        content_type="image/jpeg",
    )
    exc = rejected(upload)
    assert exc.details["reason"] == "unsupported"
    assert "JPEG, PNG or WebP" in english(exc)
    assert files_in(upload_dir) == []


@pytest.mark.parametrize(
    ("fmt", "save_args"),
    [("GIF", {}), ("BMP", {}), ("TIFF", {}), ("ICO", {}), ("PDF", {})],
)
def test_other_formats_are_refused(upload_dir, fmt, save_args):
    exc = rejected(photo((64, 64), fmt=fmt, **save_args))
    assert exc.details["reason"] == "unsupported"
    assert files_in(upload_dir) == []


def test_svg_is_refused(upload_dir):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert rejected(svg).details["reason"] == "unsupported"


def test_heic_is_refused_with_advice(upload_dir):
    heic = struct.pack(">I", 24) + b"ftypheic" + b"\0\0\0\0mif1heic" + b"\0" * 200
    exc = rejected(heic)
    assert exc.details["reason"] == "heic"
    assert "JPEG or PNG" in english(exc)


class CountingReader(io.RawIOBase):
    """A 20 MB upload that counts how much of it is read."""

    def __init__(self, size: int) -> None:
        self.remaining = size
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.remaining)
        buffer[:n] = (b"\xff\xd8\xff\xe0" + b"\0" * n)[:n]
        self.remaining -= n
        self.read_bytes += n
        return n


def test_a_20_mb_file_is_refused_with_the_limit_and_nothing_is_written(upload_dir):
    reader = CountingReader(20 * MB)
    exc = rejected(io.BufferedReader(reader, buffer_size=64 * 1024))
    assert exc.details["reason"] == "too_large"
    assert "10 MB" in english(exc)
    assert reader.read_bytes <= 10 * MB + 1 + 64 * 1024  # the cap, plus one read-ahead buffer
    assert files_in(upload_dir) == []


def test_max_bytes_overrides_the_configured_limit(upload_dir):
    data = photo()
    exc = rejected(data, max_bytes=len(data) - 1)
    assert exc.details["limit_bytes"] == len(data) - 1
    assert save_image(io.BytesIO(data), max_bytes=len(data)).size > 0


def test_an_empty_file_is_refused(upload_dir):
    assert rejected(b"").details["reason"] == "empty"


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (20_000, 20_000),  # 400 Mpx: Pillow's own DecompressionBombError
        (10_000, 10_000),  # 100 Mpx: Pillow only warns; the warning must not slip through
        (8_000, 6_000),  # 48 Mpx: below Pillow's limits, above ours (40 Mpx)
    ],
)
def test_pixel_bombs_are_refused_before_any_pixel_is_decoded(
    upload_dir, monkeypatch, width, height
):
    data = png_declaring(width, height)
    assert len(data) < 2000
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self))

    exc = rejected(data)

    assert exc.details["reason"] == "too_many_pixels"
    assert "40 megapixels" in english(exc)
    assert decoded == []
    assert files_in(upload_dir) == []


def test_pillows_bomb_warning_is_a_refusal_even_where_warnings_are_ignored(
    upload_dir, ctx, monkeypatch
):
    # Production does not turn warnings into errors as this test suite does; with our own
    # limit set above Pillow's, Pillow's warning is all that stands between us and 100 Mpx.
    monkeypatch.setitem(ctx.config, "UPLOAD_MAX_PIXELS", 150_000_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exc = rejected(png_declaring(10_000, 10_000))
    assert exc.details["reason"] == "too_many_pixels"


def test_the_pixel_limit_comes_from_the_config(upload_dir, ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "UPLOAD_MAX_PIXELS", 100 * 100)
    assert rejected(photo((101, 100))).details["reason"] == "too_many_pixels"
    assert save_image(io.BytesIO(photo((100, 100)))).width == 100


def _broken_png_checksum() -> bytes:
    data = bytearray(noisy("PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF  # one flipped byte inside the compressed pixels
    return bytes(data)


def _bad_png_crc() -> bytes:
    """Pixels intact, but the checksum of the pixel chunk is wrong."""
    data = bytearray(noisy("PNG"))
    idat = data.index(b"IDAT")
    length = int.from_bytes(data[idat - 4 : idat], "big")
    data[idat + 4 + length + 3] ^= 0xFF  # last byte of the chunk's CRC
    return bytes(data)


def _jpeg_header() -> bytes:
    """A real JPEG up to and including its start-of-scan header: what a polyglot keeps."""
    data = photo()
    start_of_scan = data.index(b"\xff\xda")
    length = int.from_bytes(data[start_of_scan + 2 : start_of_scan + 4], "big")
    return data[: start_of_scan + 2 + length]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(noisy("JPEG")[:20_000], id="truncated-jpeg"),
        pytest.param(noisy("PNG")[:20_000], id="truncated-png"),
        pytest.param(noisy("WEBP")[:20_000], id="truncated-webp"),
        pytest.param(_broken_png_checksum(), id="png-broken-pixel-data"),
        pytest.param(_bad_png_crc(), id="png-bad-crc"),
        # Fixed bytes, not os.urandom: about 1 in 20 random streams happens to be a valid
        # (if meaningless) entropy-coded scan that libjpeg decodes without a warning, and such
        # a file is a picture of noise, re-encoded like any photo — not a damaged one.
        pytest.param(
            _jpeg_header() + random.Random(0).randbytes(30_000), id="jpeg-header-then-garbage"
        ),
        pytest.param(png_declaring(64, 64)[:33] + b"garbage" * 100, id="png-header-then-garbage"),
    ],
)
@pytest.mark.parametrize("truncated_allowed", [False, True], ids=["pillow-default", "weasyprint"])
def test_damaged_files_are_refused(upload_dir, monkeypatch, data, truncated_allowed):
    # WeasyPrint, once imported, tells Pillow to accept truncated images process-wide.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", truncated_allowed)
    exc = rejected(data)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is truncated_allowed  # put back as it was
    assert exc.details["reason"] == "damaged"
    assert "damaged or incomplete" in english(exc)
    assert files_in(upload_dir) == []


# ---------------------------------------------------------------- storage


def test_disk_full_leaves_no_file_behind(upload_dir, monkeypatch):
    def half_then_full(fd: int, data: bytes) -> None:
        os.write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(uploads, "_write_file", half_then_full)

    exc = rejected(photo())

    assert exc.details["reason"] == "not_saved"
    assert "could not be saved" in english(exc)
    assert files_in(upload_dir) == []  # neither the photo nor a temporary file


def test_an_unwritable_folder_is_a_clear_refusal(upload_dir, ctx, monkeypatch):
    blocker = upload_dir.parent / "blocker"
    blocker.write_text("a file where a folder should be")
    monkeypatch.setitem(ctx.config, "UPLOAD_DIR", str(blocker / "uploads"))
    assert rejected(photo()).details["reason"] == "not_saved"


@pytest.mark.parametrize(
    "name",
    [
        "../etc/passwd",
        "../../instance/secret_key",
        "/etc/passwd",
        "a" * 64 + ".jpg/../../x",
        "../" + "a" * 64 + ".jpg",
        "A" * 64 + ".jpg",
        "a" * 63 + ".jpg",
        "a" * 64 + ".jpeg",
        "a" * 64 + ".gif",
        "a" * 64 + ".jpg\n",
        "a" * 64 + ".jpg\0.png",
        "",
    ],
)
def test_upload_path_refuses_anything_but_a_stored_name(upload_dir, name):
    with pytest.raises(ValueError, match="not a stored upload name"):
        upload_path(name)


def test_uploads_live_in_the_instance_folder_by_default(app):
    assert app.config["UPLOAD_DIR"] == str(Path(app.instance_path) / "uploads")
    assert app.config["UPLOAD_MAX_BYTES"] == 10 * MB
    assert app.config["MAX_CONTENT_LENGTH"] > app.config["UPLOAD_MAX_BYTES"]
