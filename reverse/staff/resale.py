"""Staff pages of pre-owned stock: list, filters, bulk actions, an item, reservations, pricing,
shelf tags.

Warehouse and admins manage every item; store staff see and act on the items at their store
and the reservations picked up there; support may look. Every change goes through
reverse.resale.operations; a view checks who may do it, calls the operation, commits once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.catalog.constants import Category
from reverse.catalog.models import Location, Product, Variant
from reverse.core.db import commit, utcnow
from reverse.core.errors import DomainError
from reverse.core.money import format_yen
from reverse.core.normalise import code_text, phone_display
from reverse.core.templating import locale_code
from reverse.core.uploads import send_photo
from reverse.extensions import db
from reverse.intake.constants import GRADE_DEFINITIONS, Grade
from reverse.intake.models import ReceiptUnit
from reverse.resale import operations as ops
from reverse.resale.constants import (
    GRADE_BUYER_TEXT,
    KIND_LABELS,
    PRICEABLE_STATES,
    RESERVATION_STATE_LABELS,
    SALE_CHANNEL_LABELS,
    STATE_LABELS,
    ResaleEventKind,
    ResaleState,
    ReservationKind,
    ReservationState,
    SaleChannel,
)
from reverse.resale.models import (
    ResaleEvent,
    ResaleItem,
    ResaleReservation,
    format_item_code,
    parse_item_code,
    percent_below,
    shop_url,
)
from reverse.resale.pricing import price_rules, rule_price, set_price_rule
from reverse.rmas.models import Attachment, Rma
from reverse.rmas.policies import can_see, staff_actor
from reverse.staff.common import LABELS
from reverse.staff.resale_forms import (
    ALL,
    OPEN,
    BackForm,
    BulkForm,
    CancelForm,
    DetailsForm,
    FindForm,
    PriceForm,
    PriceRulesForm,
    RefurbishedForm,
    ResaleFilterForm,
    SaleForm,
    WithdrawForm,
    safe_back,
)
from reverse.staff.stock import search_variants

bp = Blueprint("resale", __name__, url_prefix="/resale")

#: who may open the pages (admins always may); support only looks
VIEWERS = (Role.WAREHOUSE, Role.STORE, Role.SUPPORT)
#: who may change items (store staff: those at their store)
ACTORS = (Role.WAREHOUSE, Role.STORE)
#: a photo is shown inline only when it is one of these
#: the example original price on the pricing page
EXAMPLE_PRICE_YEN = 10_000
TAG_TEMPLATE = "pdf/shelf_tags.html"
TAG_CSS = "css/shelf_tag.css"
#: tags on one A4 sheet (3 columns × 4 rows)
TAGS_PER_SHEET = 12
STATE_TONES = {
    ResaleState.REFURBISHING: "warn",
    ResaleState.DRAFT: "muted",
    ResaleState.LISTED: "good",
    ResaleState.RESERVED: "neutral",
    ResaleState.SOLD: "muted",
    ResaleState.WITHDRAWN: "bad",
}

RESALE_LABELS = {
    "state": STATE_LABELS,
    "state_tone": STATE_TONES,
    "kind": KIND_LABELS,
    "reservation_state": RESERVATION_STATE_LABELS,
    "channel": SALE_CHANNEL_LABELS,
    "grade": GRADE_DEFINITIONS,
    "buyer": GRADE_BUYER_TEXT,
}

EVENT_KIND_LABELS = {
    ResaleEventKind.CREATED: _l("Created"),
    ResaleEventKind.STATE: _l("State"),
    ResaleEventKind.PRICE: _l("Price"),
    ResaleEventKind.DETAILS: _l("Details"),
    ResaleEventKind.RESERVATION: _l("Reservation"),
}


@bp.context_processor
def resale_labels() -> dict[str, Any]:
    return {"labels": LABELS, "rl": RESALE_LABELS}


# -- who sees and does what --------------------------------------------------------------------


def _is_store() -> bool:
    return current_user.role == Role.STORE


def _is_back_office() -> bool:
    return bool(current_user.has_role(Role.ADMIN, Role.WAREHOUSE))


def scope_items(stmt: sa.Select) -> sa.Select:
    """Store staff see the items at their store."""
    if _is_store():
        stmt = stmt.where(ResaleItem.location_id == current_user.location_id)
    return stmt


def may_manage(item: ResaleItem) -> bool:
    """Price, list, withdraw …: the back office, or the store the item is at."""
    if _is_back_office():
        return True
    return _is_store() and item.location_id == current_user.location_id


def may_handle(reservation: ResaleReservation | None) -> bool:
    """Mark ready, sell, cancel: the back office, or the store it is picked up at."""
    if reservation is None:
        return False
    if _is_back_office():
        return True
    return _is_store() and reservation.pickup_location_id == current_user.location_id


def _visible(item: ResaleItem | None) -> bool:
    if item is None:
        return False
    if not _is_store():
        return True
    if item.location_id == current_user.location_id:
        return True
    # on its way to this store for a customer: the counter looks it up when it arrives
    reservation = ops.open_reservation(item.id)
    return reservation is not None and reservation.pickup_location_id == current_user.location_id


def visible_item(item_id: int) -> ResaleItem:
    """The item if the user may see it; 404 otherwise (another store's item looks missing)."""
    item = db.session.get(ResaleItem, item_id)
    if not _visible(item):
        abort(404)
    return item


def visible_reservation(reservation_id: int) -> ResaleReservation:
    """The reservation if the user may see it; another store's looks missing."""
    reservation = db.session.get(ResaleReservation, reservation_id)
    if reservation is None:
        abort(404)
    if _is_store() and reservation.pickup_location_id != current_user.location_id:
        abort(404)
    return reservation


def _back(default: str, form: BackForm | None = None) -> Response:
    target = safe_back(form.next.data if form is not None else request.form.get("next"))
    return redirect(target or default)


# -- the list ----------------------------------------------------------------------------------


def _location_choices(locale: str) -> list[tuple[str, str]]:
    stmt = sa.select(Location).where(Location.active).order_by(Location.kind, Location.code)
    if _is_store():
        stmt = stmt.where(Location.id == current_user.location_id)
    return [(str(loc.id), loc.name(locale)) for loc in db.session.scalars(stmt)]


def _search(query: str) -> sa.ColumnElement[bool]:
    """An item code (PO0000012, any width), or what the stock search matches: name, style,
    SKU, JAN."""
    item_id = parse_item_code(code_text(query).replace(" ", ""))
    if item_id is not None:
        return ResaleItem.id == item_id
    return search_variants(query)


def _filtered(form: ResaleFilterForm, *, with_state: bool = True) -> sa.Select:
    stmt = scope_items(
        sa.select(ResaleItem)
        .join(Variant, Variant.id == ResaleItem.variant_id)
        .join(Product, Product.id == Variant.product_id)
    )
    if form.q.data:
        stmt = stmt.where(_search(form.q.data))
    if form.grade.data:
        stmt = stmt.where(ResaleItem.grade == Grade(form.grade.data))
    if form.category.data:
        stmt = stmt.where(Product.category == Category(form.category.data))
    if form.location.data:
        stmt = stmt.where(ResaleItem.location_id == int(form.location.data))
    states = form.states()
    if with_state and states is not None:
        stmt = stmt.where(ResaleItem.state.in_(states))
    return stmt


def _sorted(stmt: sa.Select, sort: str) -> sa.Select:
    if sort == "newest":
        return stmt.order_by(ResaleItem.created_at.desc(), ResaleItem.id.desc())
    if sort == "price_desc":
        return stmt.order_by(ResaleItem.price_yen.desc(), ResaleItem.id)
    if sort == "price_asc":
        return stmt.order_by(ResaleItem.price_yen.asc(), ResaleItem.id)
    if sort == "code":
        return stmt.order_by(ResaleItem.id)
    # on sale longest first (drafts by when they were made): what needs a markdown
    since = sa.func.coalesce(ResaleItem.listed_at, ResaleItem.created_at)
    return stmt.order_by(since.asc(), ResaleItem.id)


def _state_counts(form: ResaleFilterForm) -> dict[ResaleState, int]:
    stmt = _filtered(form, with_state=False).with_only_columns(
        ResaleItem.state, sa.func.count(ResaleItem.id)
    )
    counts = dict.fromkeys(ResaleState, 0)
    for state, n in db.session.execute(stmt.group_by(ResaleItem.state).order_by(None)):
        counts[ResaleState(state)] = n
    return counts


@dataclass(frozen=True)
class Rule:
    percent: int
    rounding: int

    def price(self, original_yen: int) -> int:
        return rule_price(original_yen, self.percent, self.rounding)


def current_rules() -> dict[Grade, Rule]:
    return {grade: Rule(*rule) for grade, rule in price_rules().items()}


@bp.route("/")
@staff_required(*VIEWERS)
def index():
    locale = locale_code()
    form = ResaleFilterForm(formdata=request.args)
    form.fill_choices(_location_choices(locale), fixed_location=_is_store())
    valid = form.validate()
    if not valid:
        # a hand-made address with a value no select offers: show the default list
        form = ResaleFilterForm(formdata=None)
        form.fill_choices(_location_choices(locale), fixed_location=_is_store())
    if _is_store():
        form.location.data = str(current_user.location_id)
    stmt = _sorted(_filtered(form), form.sort.data or "oldest").options(
        sa.orm.contains_eager(ResaleItem.variant).contains_eager(Variant.product),
        sa.orm.selectinload(ResaleItem.location),
    )
    page = db.paginate(
        stmt,
        page=max((form.page.data or 1) if valid else 1, 1),
        per_page=current_app.config["STAFF_PAGE_SIZE"],
        error_out=False,
    )
    counts = _state_counts(form)
    in_play = sum(
        n for s, n in counts.items() if s not in (ResaleState.SOLD, ResaleState.WITHDRAWN)
    )
    tabs = [
        (OPEN, _l("In play"), in_play),
        *[(s.value, STATE_LABELS[s], counts[s]) for s in ResaleState],
        (ALL, _l("All"), sum(counts.values())),
    ]
    return render_template(
        "staff/resale_list.html",
        form=form,
        pagination=page,
        tabs=tabs,
        rules=current_rules(),
        bulk=BulkForm(formdata=None),
        may_act=current_user.has_role(Role.ADMIN, *ACTORS),
        now=utcnow(),
        back=request.full_path.rstrip("?"),
    )


def _refusal_text(item_id: int, message: Any) -> str:
    code = format_item_code(item_id)
    text = str(message)
    return text if code in text else f"{code}: {text}"


def _report(changed: int, refused: Iterable[tuple[int, Any]]) -> None:
    if changed:
        flash(ngettext("%(num)d item changed.", "%(num)d items changed.", changed), "success")
    for item_id, message in refused:
        flash(_refusal_text(item_id, message), "error")


def _split_visible(ids: list[int]) -> tuple[list[int], list[tuple[int, Any]]]:
    """The selected ids the user may change, and a refusal for each of the others."""
    if not ids:
        return [], []
    stmt = sa.select(ResaleItem).where(ResaleItem.id.in_(ids))
    found = {item.id: item for item in db.session.scalars(stmt)}
    allowed, refused = [], []
    for item_id in dict.fromkeys(ids):
        item = found.get(item_id)
        if item is not None and may_manage(item):
            allowed.append(item_id)
        else:
            refused.append((item_id, _l("No such pre-owned item.")))
    return allowed, refused


@bp.route("/bulk", methods=["POST"])
@staff_required(*ACTORS)
def bulk():
    form = BulkForm()
    back = url_for("staff.resale.index")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return _back(back, form)
    if not form.ids.data:
        flash(_l("Select the items first: tick their boxes in the list."), "error")
        return _back(back, form)
    ids, refused = _split_visible(form.ids.data)
    actor = staff_actor(current_user)
    action = form.action.data
    try:
        if action == "list":
            result = ops.list_items(ids, actor)
        elif action == "reprice":
            result = ops.reprice_by_rule(ids, actor)
        elif action == "markdown":
            if form.percent.data is None:
                flash(_l("Enter the markdown in percent."), "error")
                return _back(back, form)
            result = ops.markdown(ids, form.percent.data, form.reason.data or "", actor)
        else:
            abort(400)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back(back, form)
    commit()
    _report(len(result.changed), [*refused, *result.refused])
    return _back(back, form)


# -- shelf tags --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tag:
    """One shelf tag as printed: Japanese first, English small."""

    code: str
    name_ja: str
    name_en: str
    colour_ja: str
    size: str
    grade: str
    grade_ja: str
    grade_en: str
    price_yen: int
    original_yen: int
    url: str

    @property
    def off_percent(self) -> int:
        """How much below the original price, rounded down ("40%OFF")."""
        return percent_below(self.price_yen, self.original_yen)


def tag_for(item: ResaleItem) -> Tag:
    variant = item.variant
    with force_locale("ja"):
        grade_ja = str(GRADE_BUYER_TEXT[item.grade])
    with force_locale("en"):
        grade_en = str(GRADE_BUYER_TEXT[item.grade])
    return Tag(
        code=item.code,
        name_ja=variant.product.name_ja,
        name_en=variant.product.name_en
        if variant.product.name_en != variant.product.name_ja
        else "",
        colour_ja=variant.colour_ja,
        size=variant.size,
        grade=item.grade.value,
        grade_ja=grade_ja,
        grade_en=grade_en if grade_en != grade_ja else "",
        price_yen=item.price_yen,
        original_yen=item.original_price_yen,
        url=shop_url(item.code),
    )


def render_shelf_tags(items: list[ResaleItem]) -> bytes:
    """Tags of `items` on A4 sheets of 3 × 4, with cut lines. Printed in Japanese, whatever
    the language of the staff member who prints them: they are read by shoppers here."""
    from reverse.core.pdf import render_pdf

    return render_pdf(
        TAG_TEMPLATE,
        stylesheets=[TAG_CSS],
        locale="ja",
        tags=[tag_for(item) for item in items],
        per_sheet=TAGS_PER_SHEET,
    )


def _pdf_response(pdf: bytes) -> Response:
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = 'inline; filename="shelf-tags.pdf"'
    return response


TAGGABLE = (ResaleState.REFURBISHING, ResaleState.DRAFT, ResaleState.LISTED, ResaleState.RESERVED)


@bp.route("/tags", methods=["POST"])
@staff_required(*ACTORS)
def tags():
    form = BulkForm()
    back = url_for("staff.resale.index")
    if not form.validate_on_submit() or not form.ids.data:
        flash(_l("Select the items first: tick their boxes in the list."), "error")
        return _back(back, form)
    ids, _others = _split_visible(form.ids.data)
    items = (
        list(
            db.session.scalars(
                sa.select(ResaleItem)
                .where(ResaleItem.id.in_(ids), ResaleItem.state.in_(TAGGABLE))
                .order_by(ResaleItem.id)
            )
        )
        if ids
        else []
    )
    if not items:
        flash(
            _l("None of the selected items gets a tag: sold and withdrawn items have none."),
            "error",
        )
        return _back(back, form)
    return _pdf_response(render_shelf_tags(items))


@bp.route("/<int:item_id>/tag.pdf")
@staff_required(*ACTORS)
def tag(item_id: int):
    item = visible_item(item_id)
    if item.state not in TAGGABLE or not may_manage(item):
        abort(404)
    return _pdf_response(render_shelf_tags([item]))


# -- finding an item by its code -------------------------------------------------------------


@bp.route("/find")
@staff_required(*VIEWERS)
def find():
    form = FindForm(formdata=request.args)
    back = safe_back(request.args.get("next")) or url_for("staff.resale.reservations")
    raw = code_text(form.code.data or "").replace(" ", "")
    # the shelf tag's QR holds the shop address: its last part is the code
    item_id = parse_item_code(raw.rstrip("/").rsplit("/", 1)[-1])
    item = db.session.get(ResaleItem, item_id) if item_id is not None else None
    if not _visible(item):
        if raw:
            flash(_l("No pre-owned item %(code)s here.", code=raw[:40]), "error")
        else:
            flash(_l("Scan or type an item code (PO and 7 digits)."), "error")
        return redirect(back)
    return redirect(url_for("staff.resale.item", item_id=item.id))


# -- one item --------------------------------------------------------------------------------


def _param_text(key: str, value: Any) -> Any:
    """Raw values stored in event parameters, in the reader's words."""
    tables: dict[str, dict[Any, Any]] = {
        "how": KIND_LABELS,
        "channel": SALE_CHANNEL_LABELS,
        "what": RESERVATION_STATE_LABELS,
    }
    table = tables.get(key)
    if table is not None:
        for enum_value, label in table.items():
            if enum_value.value == value:
                return str(label)
    return value


def event_text(event: ResaleEvent) -> str:
    """An event's note (a msgid) in the reader's language; "" when it has none."""
    if not event.note:
        return ""
    params = {k: _param_text(k, v) for k, v in (event.params or {}).items()}
    try:
        return gettext(event.note, **params)
    except (KeyError, ValueError, TypeError):
        return event.note


def event_title(event: ResaleEvent) -> str:
    if event.kind == ResaleEventKind.CREATED and event.to_state is not None:
        return gettext("Created as %(state)s", state=STATE_LABELS[event.to_state])
    if event.from_state is not None and event.to_state is not None:
        return f"{STATE_LABELS[event.from_state]} → {STATE_LABELS[event.to_state]}"
    return str(EVENT_KIND_LABELS.get(event.kind, event.kind))


@dataclass
class ItemForms:
    price: PriceForm | None = None
    details: DetailsForm | None = None
    withdraw: WithdrawForm | None = None
    refurbished: RefurbishedForm | None = None
    cancel: CancelForm | None = None


def _at_a_shop(item: ResaleItem) -> bool:
    return item.location is not None and item.location.kind in ops.PICKUP_KINDS


def _actions(item: ResaleItem, reservation: ResaleReservation | None) -> dict[str, bool]:
    """What the item page offers this user now (the operations check the state again)."""
    manage = may_manage(item)
    handle = may_handle(reservation)
    state = item.state
    pickup = reservation is not None and reservation.kind == ReservationKind.PICKUP
    return {
        "price": manage and state in PRICEABLE_STATES,
        "details": manage and state != ResaleState.SOLD,
        "list": manage and state in (ResaleState.DRAFT, ResaleState.WITHDRAWN),
        "unlist": manage and state in (ResaleState.LISTED, ResaleState.WITHDRAWN),
        "withdraw": manage
        and state in (ResaleState.REFURBISHING, ResaleState.DRAFT, ResaleState.LISTED),
        "refurbished": manage and state == ResaleState.REFURBISHING,
        # a walk-in buyer: only where shoppers come in (a store or a counter), not a centre
        "store_sale": (state == ResaleState.LISTED and manage and _at_a_shop(item))
        or (
            state == ResaleState.RESERVED
            and pickup
            and reservation.state == ReservationState.READY
            and handle
        ),
        "web_sale": state == ResaleState.RESERVED
        and reservation is not None
        and reservation.kind == ReservationKind.PURCHASE
        and _is_back_office(),
        "ready": pickup and reservation.state == ReservationState.ACTIVE and handle,
        "cancel": reservation is not None and handle,
        "tag": manage and state in TAGGABLE,
    }


def item_page(item: ResaleItem, forms: ItemForms | None = None, *, status: int = 200):
    forms = forms or ItemForms()
    locale = locale_code()
    unit = db.session.get(ReceiptUnit, item.unit_id)
    rma = db.session.get(Rma, unit.rma_id) if unit is not None else None
    photos = list(
        db.session.scalars(
            sa.select(Attachment)
            .where(Attachment.unit_id == item.unit_id)
            .order_by(Attachment.created_at, Attachment.id)
        )
    )
    reservation = ops.open_reservation(item.id)
    events = list(
        db.session.scalars(
            sa.select(ResaleEvent)
            .where(ResaleEvent.item_id == item.id)
            .order_by(ResaleEvent.created_at.desc(), ResaleEvent.id.desc())
        )
    )
    rule = current_rules()[item.grade]
    back = url_for("staff.resale.item", item_id=item.id)
    price = forms.price or PriceForm(formdata=None, price_yen=item.price_yen)
    if forms.price is None:
        price.reason.data = item.price_reason
    details = forms.details or DetailsForm(
        formdata=None, bin_code=item.bin_code, condition_notes=item.condition_notes
    )
    return (
        render_template(
            "staff/resale_item.html",
            item=item,
            variant=item.variant,
            unit=unit,
            rma=rma,
            rma_visible=rma is not None and can_see(current_user, rma),
            photos=photos,
            reservation=reservation,
            events=events,
            event_text=event_text,
            event_title=event_title,
            rule=rule,
            rule_price_now=rule.price(item.original_price_yen),
            may=_actions(item, reservation),
            price_form=price,
            details_form=details,
            withdraw_form=forms.withdraw or WithdrawForm(formdata=None),
            refurbished_form=forms.refurbished or RefurbishedForm(formdata=None),
            cancel_form=forms.cancel or CancelForm(formdata=None),
            back=back,
            locale=locale,
            now=utcnow(),
        ),
        status,
    )


@bp.route("/<int:item_id>")
@staff_required(*VIEWERS)
def item(item_id: int):
    return item_page(visible_item(item_id))


@bp.route("/<int:item_id>/photos/<int:attachment_id>")
@staff_required(*VIEWERS)
def photo(item_id: int, attachment_id: int):
    """An inspection photo of the item: whoever may see the item may see how it looks,
    also when the case it came from is not theirs to open."""
    item = visible_item(item_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.unit_id != item.unit_id:
        abort(404)
    return send_photo(attachment.stored_name, attachment.content_type)


def _managed(item_id: int) -> ResaleItem:
    item = visible_item(item_id)
    if not may_manage(item):
        abort(403)
    return item


def _done(item: ResaleItem, message: Any, form: BackForm | None = None) -> Response:
    commit()
    flash(message, "success")
    return _back(url_for("staff.resale.item", item_id=item.id), form)


def _refused(item_id: int, exc: DomainError, form: BackForm | None = None) -> Response:
    db.session.rollback()
    flash(exc.message, "error")
    return _back(url_for("staff.resale.item", item_id=item_id), form)


def _field_error(form: Any, exc: DomainError, fields: dict[str, str]) -> bool:
    """Put the operation's message on the form field it names; False when it names none."""
    name = fields.get(exc.details.get("field") or "")
    if name is None:
        return False
    form[name].errors = [exc.message]
    return True


@bp.route("/<int:item_id>/price", methods=["POST"])
@staff_required(*ACTORS)
def set_price(item_id: int):
    item = _managed(item_id)
    form = PriceForm()
    if not form.validate_on_submit():
        return item_page(item, ItemForms(price=form), status=422)
    try:
        ops.set_price(
            item.id, form.price_yen.data, form.reason.data or "", staff_actor(current_user)
        )
    except DomainError as exc:
        db.session.rollback()
        item = visible_item(item_id)
        if _field_error(form, exc, {"price_yen": "price_yen", "reason": "reason"}):
            return item_page(item, ItemForms(price=form), status=exc.status)
        return _refused(item_id, exc, form)
    return _done(
        item, _l("Price saved: %(price)s.", price=format_yen(item.price_yen, locale_code())), form
    )


@bp.route("/<int:item_id>/details", methods=["POST"])
@staff_required(*ACTORS)
def details(item_id: int):
    item = _managed(item_id)
    form = DetailsForm()
    if not form.validate_on_submit():
        return item_page(item, ItemForms(details=form), status=422)
    try:
        ops.update_details(
            item.id,
            bin_code=form.bin_code.data or "",
            condition_notes=form.condition_notes.data or "",
            actor=staff_actor(current_user),
        )
    except DomainError as exc:
        db.session.rollback()
        item = visible_item(item_id)
        fields = {"bin_code": "bin_code", "condition_notes": "condition_notes"}
        if _field_error(form, exc, fields):
            return item_page(item, ItemForms(details=form), status=exc.status)
        return _refused(item_id, exc, form)
    return _done(item, _l("Shelf and notes saved."), form)


@bp.route("/<int:item_id>/list", methods=["POST"])
@staff_required(*ACTORS)
def list_item(item_id: int):
    item = _managed(item_id)
    form = BackForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ops.list_item(item.id, staff_actor(current_user))
    except DomainError as exc:
        return _refused(item_id, exc, form)
    return _done(
        item, _l("%(code)s is listed: on the shop and in the feeds.", code=item.code), form
    )


@bp.route("/<int:item_id>/unlist", methods=["POST"])
@staff_required(*ACTORS)
def unlist_item(item_id: int):
    item = _managed(item_id)
    form = BackForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ops.unlist_item(item.id, staff_actor(current_user))
    except DomainError as exc:
        return _refused(item_id, exc, form)
    return _done(item, _l("%(code)s is back to draft: off the shop.", code=item.code), form)


@bp.route("/<int:item_id>/withdraw", methods=["POST"])
@staff_required(*ACTORS)
def withdraw(item_id: int):
    item = _managed(item_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return item_page(item, ItemForms(withdraw=form), status=422)
    try:
        ops.withdraw_item(item.id, form.reason.data, staff_actor(current_user))
    except DomainError as exc:
        db.session.rollback()
        item = visible_item(item_id)
        if _field_error(form, exc, {"reason": "reason"}):
            return item_page(item, ItemForms(withdraw=form), status=exc.status)
        return _refused(item_id, exc, form)
    return _done(item, _l("%(code)s is withdrawn from sale.", code=item.code), form)


@bp.route("/<int:item_id>/refurbished", methods=["POST"])
@staff_required(*ACTORS)
def refurbished(item_id: int):
    item = _managed(item_id)
    form = RefurbishedForm()
    if not form.validate_on_submit():
        return item_page(item, ItemForms(refurbished=form), status=422)
    try:
        ops.mark_refurbished(item.id, form.note.data or "", staff_actor(current_user))
    except DomainError as exc:
        return _refused(item_id, exc, form)
    return _done(item, _l("%(code)s is refurbished: a draft, ready to list.", code=item.code), form)


@bp.route("/<int:item_id>/sale", methods=["POST"])
@staff_required(*ACTORS)
def sale(item_id: int):
    item = visible_item(item_id)
    form = SaleForm()
    if not form.validate_on_submit() or form.channel.data not in (
        SaleChannel.STORE.value,
        SaleChannel.WEB_SHOP.value,
    ):
        abort(400)
    channel = SaleChannel(form.channel.data)
    reservation = ops.open_reservation(item.id)
    may = _actions(item, reservation)
    if not may["store_sale" if channel == SaleChannel.STORE else "web_sale"]:
        # not for this user, or not in this state: say which, without changing anything
        if not (may_manage(item) or may_handle(reservation)):
            abort(403)
        flash(
            _l(
                "%(code)s cannot be sold this way now (%(state)s).",
                code=item.code,
                state=STATE_LABELS[item.state],
            ),
            "error",
        )
        return _back(url_for("staff.resale.item", item_id=item.id), form)
    location_id = (current_user.location_id or item.location_id) if channel == "store" else None
    try:
        sold = ops.record_sale(
            item.id, channel=channel, actor=staff_actor(current_user), location_id=location_id
        )
    except DomainError as exc:
        return _refused(item_id, exc, form)
    return _done(
        item,
        _l(
            "%(code)s sold for %(price)s.",
            code=item.code,
            price=format_yen(sold.sold_price_yen, locale_code()),
        ),
        form,
    )


# -- reservations ----------------------------------------------------------------------------


@bp.route("/reservations/<int:reservation_id>/ready", methods=["POST"])
@staff_required(*ACTORS)
def reservation_ready(reservation_id: int):
    reservation = visible_reservation(reservation_id)
    if not may_handle(reservation):
        abort(403)
    form = BackForm()
    if not form.validate_on_submit():
        abort(400)
    item_id = reservation.item_id
    try:
        ops.mark_ready(reservation.id, staff_actor(current_user))
    except DomainError as exc:
        return _refused(item_id, exc, form)
    commit()
    customer = reservation.customer
    if customer.email:
        message = _l(
            "%(code)s is ready for pickup: we are emailing %(name)s.",
            code=reservation.item.code,
            name=customer.name or customer.email,
        )
    else:
        # no address to mail: the counter calls
        message = _l(
            "%(code)s is ready for pickup: please call %(name)s on %(phone)s.",
            code=reservation.item.code,
            name=customer.name or "—",
            phone=phone_display(customer.phone),
        )
    flash(message, "success")
    return _back(url_for("staff.resale.reservations"), form)


@bp.route("/reservations/<int:reservation_id>/cancel", methods=["POST"])
@staff_required(*ACTORS)
def reservation_cancel(reservation_id: int):
    reservation = visible_reservation(reservation_id)
    if not may_handle(reservation):
        abort(403)
    form = CancelForm()
    item_id = reservation.item_id
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return _back(url_for("staff.resale.item", item_id=item_id), form)
    try:
        ops.cancel_reservation(reservation.id, staff_actor(current_user), form.reason.data or "")
    except DomainError as exc:
        return _refused(item_id, exc, form)
    commit()
    flash(
        _l(
            "Reservation of %(code)s cancelled: the item is back on sale.",
            code=reservation.item.code,
        ),
        "success",
    )
    return _back(url_for("staff.resale.reservations"), form)


@dataclass(frozen=True)
class ReservationRow:
    reservation: ResaleReservation
    item: ResaleItem

    @property
    def on_the_way(self) -> bool:
        """A pickup whose item is not at the pickup store yet: someone has to send it."""
        r = self.reservation
        return (
            r.kind == ReservationKind.PICKUP
            and r.state == ReservationState.ACTIVE
            and self.item.location_id != r.pickup_location_id
        )


@bp.route("/reservations")
@staff_required(*VIEWERS)
def reservations():
    stmt = (
        sa.select(ResaleReservation)
        .where(ResaleReservation.state.in_([ReservationState.ACTIVE, ReservationState.READY]))
        .options(
            sa.orm.joinedload(ResaleReservation.item)
            .joinedload(ResaleItem.variant)
            .joinedload(Variant.product),
            sa.orm.joinedload(ResaleReservation.customer),
            sa.orm.joinedload(ResaleReservation.pickup_location),
        )
        .order_by(ResaleReservation.expires_at, ResaleReservation.id)
    )
    if _is_store():
        stmt = stmt.where(ResaleReservation.pickup_location_id == current_user.location_id)
    rows = [ReservationRow(r, r.item) for r in db.session.scalars(stmt).unique()]
    groups = {
        "ready": [r for r in rows if r.reservation.state == ReservationState.READY],
        "active": [
            r
            for r in rows
            if r.reservation.state == ReservationState.ACTIVE
            and r.reservation.kind == ReservationKind.PICKUP
        ],
        "purchase": [
            r
            for r in rows
            if r.reservation.state == ReservationState.ACTIVE
            and r.reservation.kind == ReservationKind.PURCHASE
        ],
    }
    return render_template(
        "staff/resale_reservations.html",
        groups=groups,
        total=len(rows),
        find_form=FindForm(formdata=None),
        actions={r.reservation.id: _actions(r.item, r.reservation) for r in rows},
        cancel_form=CancelForm(formdata=None),
        now=utcnow(),
        back=url_for("staff.resale.reservations"),
    )


# -- price rules -----------------------------------------------------------------------------


@bp.route("/pricing", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def pricing():
    rules = current_rules()
    form = PriceRulesForm()
    if request.method == "GET":
        for grade, percent, rounding in form.grade_fields():
            percent.data = rules[grade].percent
            rounding.data = str(rules[grade].rounding)
    elif form.validate_on_submit():
        actor = staff_actor(current_user)
        try:
            for grade, percent, rounding in form.grade_fields():
                field = {"percent": percent, "rounding": rounding}
                try:
                    set_price_rule(grade, percent.data, int(rounding.data), actor)
                except DomainError as exc:
                    target = field.get(exc.details.get("field") or "", percent)
                    target.errors = [exc.message]
                    raise
        except DomainError:
            db.session.rollback()
            return _pricing_page(form, status=422)
        commit()
        flash(
            _l(
                "Price rules saved. Items keep their price until you re-price them by rule "
                "from the list."
            ),
            "success",
        )
        return redirect(url_for("staff.resale.pricing"))
    else:
        return _pricing_page(form, status=422)
    return _pricing_page(form)


def _pricing_page(form: PriceRulesForm, *, status: int = 200):
    """The rules form with what each rule makes of ¥10,000 ("—" for a rule not valid)."""
    examples: dict[Grade, int | None] = {}
    for grade, percent, rounding in form.grade_fields():
        valid = not (percent.errors or rounding.errors) and percent.data is not None
        examples[grade] = (
            Rule(percent.data, int(rounding.data)).price(EXAMPLE_PRICE_YEN) if valid else None
        )
    return (
        render_template(
            "staff/resale_pricing.html",
            form=form,
            examples=examples,
            example_price=EXAMPLE_PRICE_YEN,
            definitions=GRADE_DEFINITIONS,
        ),
        status,
    )
