"""The pre-owned shop: public pages to browse graded items and reserve or buy one.

No login: anyone may browse listed items, open an item by its code and reserve it. The
reservation's private page is reached only through the link in its token (mailed and shown
after reserving), like a case's status page.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from flask_wtf import FlaskForm
from sqlalchemy.orm import contains_eager

from reverse.catalog.constants import CATEGORY_LABELS, Category
from reverse.catalog.models import Product, Variant
from reverse.core.actors import Actor
from reverse.core.db import commit, utcnow
from reverse.core.errors import DomainError
from reverse.core.normalise import code_text
from reverse.core.templating import locale_code
from reverse.core.uploads import send_photo
from reverse.extensions import db, limiter
from reverse.intake.constants import Disposition, Grade
from reverse.resale import operations as ops
from reverse.resale.constants import (
    GRADE_BUYER_TEXT,
    KIND_LABELS,
    ResaleState,
    ReservationKind,
    ReservationState,
)
from reverse.resale.forms import GRADE_NAMES, SORTS, BrowseForm, ReserveForm
from reverse.resale.models import ResaleItem, ResaleReservation, parse_item_code
from reverse.rmas.constants import AttachmentKind
from reverse.rmas.models import Attachment

bp = Blueprint("shop", __name__, url_prefix="/preowned")

PAGE_SIZE = 24
#: how many other items a page suggests
SIMILAR_COUNT = 4
#: per visitor's address; RESALE_RESERVE_RATE_LIMIT in the config replaces it
RESERVE_RATE_LIMIT = "10 per minute"
#: the states in which an item has a public page (sold and reserved ones say so, no form)
PUBLIC_STATES = frozenset({ResaleState.LISTED, ResaleState.RESERVED, ResaleState.SOLD})
#: a photo is served as what it was stored as only when it is one of these
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
#: photos are stored by their hash, so a cached copy never goes stale; an hour keeps a
#: withdrawn item's photos from lingering long in shared caches
PHOTO_MAX_AGE = 3600
#: badge tone of each grade (the colour tokens of app.css)
GRADE_TONES = {Grade.A: "a", Grade.B: "b", Grade.C: "c", Grade.D: "d"}
#: a reservation's state in the customer's words (the staff labels say "reserved" as stock does)
CUSTOMER_STATE_LABELS = {
    ReservationState.ACTIVE: _l("Reserved for you"),
    ReservationState.READY: _l("Ready for pickup"),
    ReservationState.COMPLETED: _l("Purchased"),
    ReservationState.CANCELLED: _l("Cancelled"),
    ReservationState.EXPIRED: _l("Ended"),
}
#: the sizes in the order people expect them; others follow, numbers by value
SIZE_ORDER = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "3L", "4L", "F", "FREE")

LABELS = {
    "category": CATEGORY_LABELS,
    "grade_text": GRADE_BUYER_TEXT,
    "grade_name": GRADE_NAMES,
    "grade_tone": GRADE_TONES,
    "kind": KIND_LABELS,
    "reservation_state": CUSTOMER_STATE_LABELS,
    "sort": SORTS,
}
PRIVATE_ENDPOINTS = frozenset({"shop.reservation", "shop.reservation_cancel"})


class CancelForm(FlaskForm):
    """The customer's cancel button: only the CSRF token."""


@bp.context_processor
def shop_labels() -> dict[str, Any]:
    return {"labels": LABELS, "grades": list(Grade)}


@bp.after_request
def private_pages(response):  # type: ignore[no-untyped-def]
    # A reservation page is one person's: never kept by a shared cache or the back-forward
    # cache, never sent on in a Referer (the token is in its address), never indexed.
    if request.endpoint in PRIVATE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex"
    return response


# -- reading ----------------------------------------------------------------------------------


def _size_key(size: str) -> tuple[int, float, str]:
    upper = size.upper()
    if upper in SIZE_ORDER:
        return (0, SIZE_ORDER.index(upper), upper)
    try:
        return (1, float(size), upper)
    except ValueError:
        return (2, 0, upper)


def _listed() -> sa.Select[tuple[ResaleItem]]:
    return (
        sa.select(ResaleItem)
        .join(Variant, Variant.id == ResaleItem.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .where(ResaleItem.state == ResaleState.LISTED)
        .options(contains_eager(ResaleItem.variant).contains_eager(Variant.product))
    )


def _on_sale_facets() -> tuple[list[Category], list[str]]:
    """The categories and sizes of the listed items: what is worth filtering by."""
    rows = db.session.execute(
        sa.select(Product.category, Variant.size)
        .join(Variant, Variant.product_id == Product.id)
        .join(ResaleItem, ResaleItem.variant_id == Variant.id)
        .where(ResaleItem.state == ResaleState.LISTED)
        .distinct()
    ).all()
    categories = {category for category, _size in rows}
    sizes = {size for _category, size in rows if size}
    return list(categories), sorted(sizes, key=_size_key)


def _browse_statement(filters: dict[str, Any]) -> sa.Select[tuple[ResaleItem]]:
    stmt = _listed()
    if filters["category"] is not None:
        stmt = stmt.where(Product.category == filters["category"])
    if filters["size"]:
        stmt = stmt.where(Variant.size == filters["size"])
    if filters["grade"] is not None:
        stmt = stmt.where(ResaleItem.grade == filters["grade"])
    order = {
        "newest": (ResaleItem.listed_at.desc(), ResaleItem.id.desc()),
        "price_asc": (ResaleItem.price_yen.asc(), ResaleItem.id.desc()),
        "price_desc": (ResaleItem.price_yen.desc(), ResaleItem.id.desc()),
    }[filters["sort"]]
    return stmt.order_by(*order)


def _photos(unit_ids: list[int]) -> dict[int, list[Attachment]]:
    """The inspection photos of each unit, newest first, in one query."""
    if not unit_ids:
        return {}
    found: dict[int, list[Attachment]] = {}
    rows = db.session.scalars(
        sa.select(Attachment)
        .where(
            Attachment.unit_id.in_(unit_ids),
            Attachment.kind == AttachmentKind.INSPECTION,
            Attachment.content_type.in_(list(PHOTO_TYPES)),
        )
        .order_by(Attachment.created_at.desc(), Attachment.id.desc())
    )
    for attachment in rows:
        found.setdefault(attachment.unit_id, []).append(attachment)
    return found


def _first_photos(items: list[ResaleItem]) -> dict[int, Attachment]:
    photos = _photos([item.unit_id for item in items])
    return {item.id: photos[item.unit_id][0] for item in items if photos.get(item.unit_id)}


def _similar(item: ResaleItem, count: int = SIMILAR_COUNT) -> list[ResaleItem]:
    """Other listed items like this one: the same product first, then its category."""
    same_product = sa.case((Variant.product_id == item.variant.product_id, 0), else_=1)
    stmt = (
        _listed()
        .where(ResaleItem.id != item.id, Product.category == item.variant.product.category)
        .order_by(same_product, ResaleItem.listed_at.desc(), ResaleItem.id.desc())
        .limit(count)
    )
    return list(db.session.scalars(stmt))


def _public_item(code: str) -> ResaleItem:
    """The item of a code as anyone may see it: listed, reserved or sold; 404 otherwise.
    Lower case and full-width input ("ｐｏ００００１２３") are the same code."""
    item_id = parse_item_code(code_text(code))
    item = db.session.get(ResaleItem, item_id) if item_id is not None else None
    if item is None or item.state not in PUBLIC_STATES:
        abort(404)
    return item


# -- browsing ---------------------------------------------------------------------------------


@bp.route("/")
def browse():
    form = BrowseForm(formdata=request.args)
    categories, sizes = _on_sale_facets()
    form.fill_choices(categories, sizes)
    filters = form.cleaned()
    page: Pagination = db.paginate(
        _browse_statement(filters),
        page=filters["page"],
        per_page=PAGE_SIZE,
        error_out=False,
    )
    items = list(page.items)
    filtered = any(filters[k] for k in ("category", "size", "grade"))
    return render_template(
        "shop/browse.html",
        form=form,
        pagination=page,
        items=items,
        photos=_first_photos(items),
        filtered=filtered,
        anything_listed=bool(categories),
        locale=locale_code(),
    )


# -- an item ----------------------------------------------------------------------------------


def _reserve_form(form: ReserveForm | None = None) -> ReserveForm:
    form = form or ReserveForm(formdata=None)
    form.fill_choices(ops.pickup_locations(), locale_code())
    return form


def _item_page(
    item: ResaleItem,
    form: ReserveForm | None = None,
    status: int = 200,
    error: Any = None,
):
    available = ops.is_reservable(item)
    photos = _photos([item.unit_id]).get(item.unit_id, [])
    similar = _similar(item)
    cfg = current_app.config
    return (
        render_template(
            "shop/item.html",
            item=item,
            photos=photos,
            available=available,
            form=_reserve_form(form) if available else None,
            error=error,
            similar=similar,
            similar_photos=_first_photos(similar),
            refurbished=item.source_disposition == Disposition.REFURBISH,
            pickup_days=cfg["RESALE_PICKUP_HOLD_DAYS"],
            ready_days=cfg["RESALE_READY_HOLD_DAYS"],
            purchase_hours=cfg["RESALE_PURCHASE_HOLD_HOURS"],
            locale=locale_code(),
        ),
        status,
    )


@bp.route("/<code>")
def item(code: str):
    return _item_page(_public_item(code))


@bp.route("/<code>/photos/<int:attachment_id>")
def photo(code: str, attachment_id: int):
    """One inspection photo of the item's unit, only while the item has a public page."""
    item = _public_item(code)
    attachment = db.session.get(Attachment, attachment_id)
    if (
        attachment is None
        or attachment.unit_id != item.unit_id
        or attachment.kind != AttachmentKind.INSPECTION
        or attachment.content_type not in PHOTO_TYPES
    ):
        abort(404)
    return send_photo(attachment.stored_name, attachment.content_type, public_max_age=PHOTO_MAX_AGE)


def _reserve_limit() -> str:
    return current_app.config.get("RESALE_RESERVE_RATE_LIMIT", RESERVE_RATE_LIMIT)


@bp.route("/<code>/reserve", methods=["POST"])
@limiter.limit(_reserve_limit)
def reserve(code: str):
    item = _public_item(code)
    item_id = item.id
    form = _reserve_form(ReserveForm())
    if not form.validate_on_submit():
        return _item_page(item, form, 422)
    try:
        _reservation, token = ops.reserve(
            item_id,
            kind=ReservationKind(form.kind.data),
            contact=form.contact(locale_code()),
            pickup_location_id=form.pickup_location_id,
            actor=Actor.customer(),
        )
    except ops.NotAvailable as exc:
        db.session.rollback()
        return _item_page(db.session.get(ResaleItem, item_id), form, 409, error=exc.message)
    except DomainError as exc:
        db.session.rollback()
        field = getattr(form, str(exc.details.get("field") or ""), None)
        if field is not None and hasattr(field, "errors") and field.name != "csrf_token":
            field.errors = [*field.errors, exc.message]
            error = None
        else:
            error = exc.message
        return _item_page(db.session.get(ResaleItem, item_id), form, exc.status, error=error)
    commit()
    return redirect(url_for("shop.reservation", token=token))


# -- the customer's reservation -----------------------------------------------------------------


def _reservation_or_404(token: str) -> ResaleReservation:
    reservation = ops.reservation_for_token(token)
    if reservation is None:
        abort(404)
    return reservation


@bp.route("/reservations/<token>")
def reservation(token: str):
    reservation = _reservation_or_404(token)
    item = reservation.item
    # A hold past its time reads as ended even before the expiry job has closed it.
    lapsed = reservation.is_open and reservation.expires_at < utcnow()
    photos = _photos([item.unit_id]).get(item.unit_id, []) if item.state in PUBLIC_STATES else []
    return render_template(
        "shop/reservation.html",
        reservation=reservation,
        item=item,
        token=token,
        photo=photos[0] if photos else None,
        form=CancelForm(),
        is_open=reservation.is_open and not lapsed,
        lapsed=lapsed,
        state=ReservationState.EXPIRED if lapsed else reservation.state,
        ready=reservation.state == ReservationState.READY,
        ready_days=current_app.config["RESALE_READY_HOLD_DAYS"],
        pickup=reservation.kind == ReservationKind.PICKUP,
        item_public=item.state in PUBLIC_STATES,
        locale=locale_code(),
    )


@bp.route("/reservations/<token>/cancel", methods=["POST"])
def reservation_cancel(token: str):
    reservation = _reservation_or_404(token)
    if not CancelForm().validate_on_submit():
        abort(400)
    if reservation.state == ReservationState.CANCELLED:
        # a second click, or the form sent again from the history: nothing more to do
        flash(_l("This reservation is cancelled."), "info")
        return redirect(url_for("shop.reservation", token=token))
    try:
        ops.cancel_reservation(reservation.id, Actor.customer(), "customer cancelled")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        commit()
        flash(_l("Your reservation is cancelled. Thank you for letting us know."), "success")
    return redirect(url_for("shop.reservation", token=token))
