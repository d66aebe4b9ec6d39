"""The disk for uploads is full while a customer adds photos: she reads a clear error in her
language, and nothing is half-saved — no row, no event, no file. A real (tiny) filesystem."""

from __future__ import annotations

import io
import os
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext
from PIL import Image

from reverse.core.uploads import save_image
from reverse.extensions import db
from reverse.rmas.models import Attachment, RmaEvent
from tests.conftest import csrf_token, service_unavailable
from tests.fixtures.catalog import in_context

DISK = 1024 * 1024
PAGE = 4096


def noise_photo(seed: int) -> bytes:
    """A photo that compresses badly: its stored size is a good part of the disk."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (420, 420), rng.randbytes(420 * 420 * 3))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


def _pages(size: int) -> int:
    return -(-size // PAGE) * PAGE


@pytest.fixture
def small_disk(app, tmp_path: Path) -> Iterator[Path]:
    """UPLOAD_DIR on a 1 MiB tmpfs of its own."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        service_unavailable("a tmpfs mount", mounted.stderr.strip(), "run the suite as root")
    previous = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(folder)
    try:
        yield folder
    finally:
        app.config["UPLOAD_DIR"] = previous
        subprocess.run(["umount", str(folder)], check=True)


def _stored_size(app, tmp_path: Path, data: bytes) -> int:
    with in_context(app):
        previous = app.config["UPLOAD_DIR"]
        app.config["UPLOAD_DIR"] = str(tmp_path / "measure")
        try:
            return save_image(io.BytesIO(data)).size
        finally:
            app.config["UPLOAD_DIR"] = previous


def test_a_full_disk_is_a_clear_error_and_nothing_is_half_saved(
    app, create_rma, small_disk, tmp_path
):
    first, second = noise_photo(1), noise_photo(2)
    a, b = _stored_size(app, tmp_path, first), _stored_size(app, tmp_path, second)
    # Room for the first photo and half of the second one.
    filler = small_disk / "other-files"
    filler.write_bytes(b"\0" * (DISK - _pages(a) - _pages(b) // 2 - PAGE))
    rma = create_rma()
    with in_context(app):
        events = db.session.scalar(
            sa.select(sa.func.count()).select_from(RmaEvent).where(RmaEvent.rma_id == rma.id)
        )

    client = app.test_client()  # Japanese, as customers see it by default
    token = csrf_token(client.get(f"/r/{rma.token}").text)
    response = client.post(
        f"/r/{rma.token}/photos",
        data={
            "csrf_token": token,
            "photos": [(io.BytesIO(first), "a.jpg"), (io.BytesIO(second), "b.jpg")],
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    with app.app_context(), force_locale("ja"):
        message = gettext("The photo could not be saved. Please try again.")
    assert message != "The photo could not be saved. Please try again."
    assert message in response.text
    with in_context(app):
        assert (
            db.session.scalars(sa.select(Attachment).where(Attachment.rma_id == rma.id)).all() == []
        )
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(RmaEvent).where(RmaEvent.rma_id == rma.id)
            )
            == events
        )
    # Neither photo, nor a temporary file: only what was on the disk before.
    assert sorted(os.listdir(small_disk)) == ["other-files"]
