"""The disk for uploads is full while a customer adds photos: she reads a clear error in her
language, and nothing is half-saved — no row, no event, no file. A real (tiny) filesystem."""

from __future__ import annotations

import io
import os

import sqlalchemy as sa
from flask_babel import force_locale, gettext

from reverse.extensions import db
from reverse.rmas.models import Attachment, RmaEvent
from tests.conftest import csrf_token
from tests.fixtures.catalog import in_context
from tests.fixtures.disk import DISK, PAGE, noise_photo, pages, stored_size


def test_a_full_disk_is_a_clear_error_and_nothing_is_half_saved(
    app, create_rma, small_disk, tmp_path
):
    first, second = noise_photo(1), noise_photo(2)
    a, b = stored_size(app, tmp_path, first), stored_size(app, tmp_path, second)
    # Room for the first photo and half of the second one.
    filler = small_disk / "other-files"
    filler.write_bytes(b"\0" * (DISK - pages(a) - pages(b) // 2 - PAGE))
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
