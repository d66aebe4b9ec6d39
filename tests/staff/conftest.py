"""Cases waiting for a receipt check, stored photos, and the mailbox of the file backend."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image

from reverse.catalog.constants import ChannelCode
from reverse.catalog.models import Location
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.rmas.constants import AttachmentKind, ProofStatus, PurchasePlace, RmaStatus, RmaType
from reverse.rmas.models import Attachment, Rma
from tests.conftest import read_mails
from tests.fixtures.catalog import in_context


@pytest.fixture
def create_pending(app: Flask, create_rma: Callable[..., Rma]) -> Callable[..., Rma]:
    """`create_pending(type, location=…)`: a submitted department-store purchase whose receipt
    waits for a person (its private link token on `.token`)."""

    def make(rma_type: RmaType = RmaType.EXCHANGE, location: Location | None = None) -> Rma:
        rma = create_rma(
            rma_type, RmaStatus.SUBMITTED, channel=ChannelCode.DEPARTMENT_STORE, location=location
        )
        with in_context(app):
            stored = db.session.get(Rma, rma.id)
            stored.proof_status = ProofStatus.PENDING
            stored.purchase_place = PurchasePlace.DEPARTMENT_STORE
            stored.declared_retailer = "伊勢丹新宿店"
            stored.declared_purchase_date = utcnow().date()
            stored.declared_price_yen = 12_900
            db.session.commit()
            db.session.refresh(stored)
            stored.token = rma.token
            return stored

    return make


def jpeg_bytes(colour: str = "navy") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def add_photo(app: Flask) -> Callable[..., int]:
    """`add_photo(rma, kind)`: a photo stored the way uploads are; returns the attachment id."""
    from reverse.core.uploads import save_image

    def make(rma: Rma, kind: AttachmentKind = AttachmentKind.RECEIPT, colour: str = "navy") -> int:
        with in_context(app):
            stored = save_image(io.BytesIO(jpeg_bytes(colour)))
            attachment = Attachment(
                rma_id=rma.id,
                kind=kind,
                stored_name=stored.name,
                content_type=stored.content_type,
                size_bytes=stored.size,
                width=stored.width,
                height=stored.height,
            )
            db.session.add(attachment)
            db.session.commit()
            return attachment.id

    return make


class Mailbox:
    """What the file mail backend wrote: (to, subject, body) per mail."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def mails(self) -> list[tuple[str, str, str]]:
        return read_mails(self.folder) if self.folder.exists() else []


@pytest.fixture
def mailbox(app: Flask) -> Mailbox:
    folder = Path(app.config["MAIL_FILE_DIR"])
    shutil.rmtree(folder, ignore_errors=True)
    return Mailbox(folder)
