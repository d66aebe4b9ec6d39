"""Store counter: taking a walk-in repair in, the confirmation, and its claim tag PDF.

The intake is one page that works without a script: "Find" (the customer), "Search" (the
product) and "Check" (the policy's verdict) post back to it and keep everything typed; only
"Accept the repair" writes, through `accept_at_counter`. Store staff take items in at their
own store; an admin chooses the counter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.catalog.constants import LocationKind
from reverse.catalog.models import Location, Variant
from reverse.core.dates import today_in_japan
from reverse.core.db import commit, utcnow
from reverse.core.errors import DomainError
from reverse.core.normalise import InvalidInput, nfkc, phone_display
from reverse.core.normalise import email as normalise_email
from reverse.core.normalise import phone as normalise_phone
from reverse.core.normalise import postal_code as normalise_postal_code
from reverse.core.templating import locale_code
from reverse.core.uploads import StoredImage, UploadRejected, discard, save_image
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.orders.models import Order, OrderLine
from reverse.policy.engine import Outcome
from reverse.portal.operations import OWN_PLACES, assess, find_order, search_variants
from reverse.repairs.constants import HANDBACK_LABELS, Handback
from reverse.repairs.operations import (
    CounterIntake,
    accept_at_counter,
    counter_draft,
    default_promise,
    repair_of,
)
from reverse.rmas.constants import REASONS, PurchasePlace, RmaType
from reverse.rmas.models import Rma
from reverse.rmas.policies import staff_actor
from reverse.staff.common import LABELS, visible_rma
from reverse.staff.repair_counter_forms import MAX_PHOTOS, CounterForm

bp = Blueprint("repair_counter", __name__, url_prefix="/repairs")

#: where a walk-in repair can be taken in
COUNTER_KINDS = (LocationKind.STORE, LocationKind.DEPARTMENT_STORE_COUNTER)
#: places whose purchase date the customer often cannot tell
DATELESS_PLACES = frozenset({PurchasePlace.GIFT, PurchasePlace.UNKNOWN})
#: places where the shop's name is asked for (e.g. 伊勢丹新宿店)
NAMED_SHOPS = frozenset({PurchasePlace.DEPARTMENT_STORE, PurchasePlace.OTHER_RETAILER})
SEARCH_LIMIT = 8
#: the form fields an operation's `details["field"]` may name
OPERATION_FIELDS = frozenset(
    {"estimate_min_yen", "estimate_max_yen", "promised_on", "postal_code", "photos"}
)
NO_ORDER = _l(
    "No order with this number for this phone or email. Check both, or leave the number out."
)


@dataclass
class CounterState:
    """What the typed form points at, for the page to draw."""

    location: Location | None = None
    #: the customer with the typed phone or email, if we know them
    customer: Customer | None = None
    #: "Find" was pressed and nobody has this phone or email
    customer_missing: bool = False
    results: list[Variant] = field(default_factory=list)
    variant: Variant | None = None
    order: Order | None = None
    order_line: OrderLine | None = None
    outcome: Outcome | None = None
    #: why the policy could not be asked (a purchase channel that is not set up …)
    check_error: Any = None


# -- reading the form --------------------------------------------------------------------------


def _is_store() -> bool:
    return bool(current_user.role == Role.STORE)


def _int(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _place(form: CounterForm) -> PurchasePlace | None:
    try:
        return PurchasePlace(form.place.data) if form.place.data else None
    except ValueError:
        return None


def _handback(form: CounterForm) -> Handback:
    try:
        return Handback(form.handback.data)
    except ValueError:
        return Handback.STORE_PICKUP


def counter_locations() -> list[Location]:
    """Active stores and department-store counters, for an admin to choose from."""
    return list(
        db.session.scalars(
            sa.select(Location)
            .where(Location.active, Location.kind.in_(COUNTER_KINDS))
            .order_by(Location.kind, Location.code)
        )
    )


def _location(form: CounterForm) -> Location | None:
    if _is_store():
        return cast(Location | None, current_user.location)
    location = db.session.get(Location, _int(form.location_id.data) or 0)
    if location is None or not location.active or location.kind not in COUNTER_KINDS:
        return None
    return location


def _fill_choices(form: CounterForm) -> None:
    locale = locale_code()
    form.location_id.choices = [("", _l("Choose…"))] + [
        (str(loc.id), loc.name(locale)) for loc in counter_locations()
    ]


def _normalised(value: str | None, normalise: Any) -> str:
    """The normalised value, or "" when it is empty or not valid."""
    text = nfkc(value)
    if not text:
        return ""
    try:
        return str(normalise(text))
    except InvalidInput:
        return ""


def _contact(form: CounterForm) -> dict[str, str]:
    """The contact as the operation wants it: email, phone and 〒 normalised where valid
    (`_check_for_submit` reports the ones that are not)."""
    ship = _handback(form) == Handback.SHIP
    return {
        "name": nfkc(form.name.data),
        "name_kana": nfkc(form.name_kana.data),
        "email": _normalised(form.email.data, normalise_email),
        "phone": _normalised(form.phone.data, normalise_phone),
        "postal_code": _normalised(form.postal_code.data, normalise_postal_code) if ship else "",
        "prefecture": (form.prefecture.data or "") if ship else "",
        "city": nfkc(form.city.data) if ship else "",
        "street": nfkc(form.street.data) if ship else "",
        "building": nfkc(form.building.data) if ship else "",
        "locale": form.locale.data if form.locale.data in ("ja", "en") else "ja",
    }


def _known_customer(form: CounterForm) -> Customer | None:
    """The customer with the typed phone (first) or email."""
    phone = _normalised(form.phone.data, normalise_phone)
    if phone:
        customer = db.session.scalar(sa.select(Customer).where(Customer.phone == phone))
        if customer is not None:
            return customer
    email = _normalised(form.email.data, normalise_email)
    if email:
        return db.session.scalar(sa.select(Customer).where(Customer.email == email))
    return None


def _prefill(form: CounterForm, customer: Customer) -> None:
    """Fill in what the staff member has not typed yet from the customer's record."""
    if not nfkc(form.name.data):
        form.name.data = customer.name
    if not nfkc(form.name_kana.data):
        form.name_kana.data = customer.name_kana
    if not nfkc(form.email.data) and customer.email:
        form.email.data = customer.email
    if not nfkc(form.phone.data) and customer.phone:
        form.phone.data = phone_display(customer.phone)
    form.locale.data = customer.locale or "ja"


def _lookup_order(form: CounterForm) -> Order | None:
    place = _place(form)
    number = nfkc(form.order_number.data)
    if place not in OWN_PLACES or not number:
        return None
    for contact in (nfkc(form.phone.data), nfkc(form.email.data)):
        order = find_order(place, number, contact) if contact else None
        if order is not None:
            return order
    return None


def _intake(form: CounterForm, state: CounterState, photos: list[StoredImage]) -> CounterIntake:
    place = _place(form)
    assert place is not None  # callers check it
    own = state.order is not None
    return CounterIntake(
        # the check (counter_draft) never reads the location: an admin may check before choosing
        location=cast(Location, state.location),
        contact=_contact(form),
        place=place,
        reason=form.reason.data or "",
        symptom=(form.symptom.data or "").strip(),
        variant=state.variant,
        description="" if state.variant else nfkc(form.description.data),
        order=state.order,
        order_line=state.order_line,
        retailer="" if own or place not in NAMED_SHOPS else nfkc(form.retailer.data),
        purchase_date=None if own else form.purchase_date.data,
        price_yen=None if own else form.price_yen.data,
        condition_notes=(form.condition_notes.data or "").strip(),
        accessories=nfkc(form.accessories.data),
        estimate_min_yen=form.estimate_min_yen.data,
        estimate_max_yen=form.estimate_max_yen.data,
        promised_on=form.promised_on.data,
        handback=_handback(form),
        receipt_seen=bool(form.receipt_seen.data),
        photos=photos,
    )


def _resolve(form: CounterForm, action: str) -> CounterState:
    """The store, the customer, the product, the order and the policy's verdict of what is
    typed so far. Writes nothing."""
    state = CounterState(location=_location(form))
    state.customer = _known_customer(form)
    if action == "find_customer":
        if state.customer is not None:
            _prefill(form, state.customer)
        else:
            state.customer_missing = True
    if action == "clear_item":
        form.query.data = ""
        form.variant_id.data = ""
    query = nfkc(form.query.data)
    state.results = search_variants(query, limit=SEARCH_LIMIT) if query else []
    state.variant = db.session.get(Variant, _int(form.variant_id.data) or 0)
    if state.variant is None and len(state.results) == 1:
        # a scanned JAN finds exactly one item: take it
        state.variant = state.results[0]
        form.variant_id.data = str(state.variant.id)
    if state.variant is not None and state.results and state.variant not in state.results:
        state.results.insert(0, state.variant)
    state.order = _lookup_order(form)
    if state.order is not None and state.variant is not None:
        state.order_line = next(
            (line for line in state.order.lines if line.variant_id == state.variant.id), None
        )
    if _place(form) is not None:
        try:
            state.outcome = assess(counter_draft(_intake(form, state, [])))
        except DomainError as exc:
            state.check_error = exc.message
    return state


# -- checking before accepting -----------------------------------------------------------------


def _error(fld: Any, message: Any) -> None:
    fld.errors = [*fld.errors, message]


def _check_contact(form: CounterForm) -> None:
    email, phone = nfkc(form.email.data), nfkc(form.phone.data)
    if not email and not phone:
        _error(form.phone, _l("Enter a phone number or an email address."))
    if email and not _normalised(email, normalise_email):
        _error(form.email, _l("This is not an email address."))
    if phone and not _normalised(phone, normalise_phone):
        _error(form.phone, _l("This is not a phone number."))


def _check_purchase(form: CounterForm, state: CounterState, place: PurchasePlace) -> None:
    if place in OWN_PLACES and nfkc(form.order_number.data) and state.order is None:
        _error(form.order_number, NO_ORDER)
    if state.order is not None:
        return
    if place in NAMED_SHOPS and not nfkc(form.retailer.data):
        _error(form.retailer, _l("Enter the shop, e.g. 伊勢丹新宿店."))
    bought = form.purchase_date.data
    if bought is None and place not in DATELESS_PLACES and not form.purchase_date.errors:
        _error(
            form.purchase_date, _l("Enter the purchase date (the receipt or warranty card has it).")
        )
    if bought is not None and bought > today_in_japan(utcnow()):
        _error(form.purchase_date, _l("The purchase date is in the future."))


def _check_address(form: CounterForm) -> None:
    if _handback(form) != Handback.SHIP:
        return
    if nfkc(form.postal_code.data) and not _normalised(
        form.postal_code.data, normalise_postal_code
    ):
        _error(form.postal_code, _l("Enter 7 digits, e.g. 150-0041."))
    needed = (form.postal_code, form.prefecture, form.city, form.street)
    for fld in needed:
        if not nfkc(fld.data) and not fld.errors:
            _error(fld, _l("Needed to deliver the item."))


def _has_errors(form: CounterForm) -> bool:
    return bool(form.form_errors) or any(fld.errors for fld in form)


def _check_for_submit(form: CounterForm, state: CounterState, files: list[FileStorage]) -> bool:
    """Field errors for everything the intake needs; True when it can be accepted."""
    form.validate()
    if state.location is None:
        if _is_store():
            form.form_errors.append(_l("Your account has no store: ask an admin."))
        else:
            _error(form.location_id, _l("Choose the store that takes the item in."))
    _check_contact(form)
    if state.variant is None and not nfkc(form.description.data):
        _error(form.query, _l("Pick the product from the results, or describe the item."))
    place = _place(form)
    if place is not None:
        _check_purchase(form, state, place)
    if form.reason.data and form.reason.data not in REASONS[RmaType.REPAIR]:
        _error(form.reason, _l("Choose a reason."))
    _check_address(form)
    if len(files) > MAX_PHOTOS:
        _error(form.photos, _l("At most %(n)d photos.", n=MAX_PHOTOS))
    if state.check_error is not None:
        form.form_errors.append(state.check_error)
    elif state.outcome is not None and not state.outcome.eligible:
        form.form_errors.append(_l("This repair cannot be accepted: see the policy check."))
    elif _has_errors(form):
        form.form_errors.append(_l("Some details are missing or wrong: see the marked fields."))
    return not _has_errors(form)


def _store_photos(form: CounterForm, files: list[FileStorage]) -> list[StoredImage] | None:
    """The photos checked and stored; None (with the reason beside the field) if one is
    refused — and then none is kept, not even those stored before it."""
    photos = []
    for index, upload in enumerate(files, start=1):
        try:
            photos.append(save_image(upload))
        except UploadRejected as exc:
            discard(photos)
            name = upload.filename or str(index)
            _error(form.photos, _l("%(name)s: %(why)s", name=name, why=exc.message))
            return None
    return photos


# -- the pages ---------------------------------------------------------------------------------


def _page(form: CounterForm, state: CounterState, status: int = 200, **context: Any):
    photos_lost = status >= 400 and any(f.filename for f in request.files.getlist(form.photos.name))
    return (
        render_template(
            "staff/repair_counter.html",
            form=form,
            state=state,
            labels=LABELS,
            handback_labels=HANDBACK_LABELS,
            own_places=[p.value for p in OWN_PLACES],
            named_shops=[p.value for p in NAMED_SHOPS],
            store_only=_is_store(),
            photos_lost=photos_lost,
            max_photos=MAX_PHOTOS,
            **context,
        ),
        status,
    )


@bp.route("/counter", methods=["GET", "POST"])
@staff_required(Role.STORE, Role.ADMIN)
def new():
    form = CounterForm()
    _fill_choices(form)
    if not form.is_submitted():
        form.promised_on.data = default_promise(today_in_japan(utcnow()))
        return _page(form, CounterState(location=_location(form)))

    action = request.form.get("action", "refresh")
    state = _resolve(form, action)
    if action != "submit":
        return _page(form, state)

    files = [f for f in form.photos.data or [] if f and f.filename]
    if not _check_for_submit(form, state, files):
        return _page(form, state, 422)
    photos = _store_photos(form, files)
    if photos is None:
        form.form_errors.append(_l("A photo was refused: see the photos."))
        return _page(form, state, 422)
    try:
        rma, _token, _outcome = accept_at_counter(
            _intake(form, state, photos), staff_actor(current_user)
        )
        number = rma.number
        commit()
    except DomainError as exc:
        db.session.rollback()
        discard(photos)  # the case they were for was not made
        where = exc.details.get("field")
        if where in OPERATION_FIELDS:
            _error(getattr(form, where), exc.message)
        else:
            form.form_errors.append(exc.message)
        # the first pass's objects are gone with the rollback: look everything up again
        return _page(form, _resolve(form, "refresh"), exc.status)
    # the confirmation page says it: no flash on top of it
    return redirect(url_for("staff.repair_counter.accepted", number=number))


def _repair_case(number: str) -> Rma:
    rma = visible_rma(number)
    if rma.type != RmaType.REPAIR:
        abort(404)
    return rma


@bp.route("/counter/<number>")
@staff_required(Role.STORE, Role.ADMIN)
def accepted(number: str):
    """After the intake: the claim tag to print, and how the customer follows the repair."""
    rma = _repair_case(number)
    created = next((e for e in rma.events if e.kind.value == "created"), None)
    return render_template(
        "staff/repair_counter.html",
        done=rma,
        repair=repair_of(rma),
        created=created,
        labels=LABELS,
        handback_labels=HANDBACK_LABELS,
        find_url=current_app.config["PUBLIC_BASE_URL"] + url_for("portal.find"),
    )


@bp.route("/<number>/claim-tag.pdf")
@staff_required(Role.STORE, Role.ADMIN, Role.SUPPORT, Role.TECHNICIAN)
def claim_tag(number: str):
    # imported here: WeasyPrint is slow to import and most requests never print
    from reverse.repairs.claim_tag import render_claim_tag

    rma = _repair_case(number)
    response = current_app.response_class(render_claim_tag(rma), mimetype="application/pdf")
    filename = f"claim-tag-{rma.display_number}.pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
