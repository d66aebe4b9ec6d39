"""Filing a request for a customer on the phone: one page, no script needed.

The page posts back to itself for the look-ups (order, product search, another item) and
keeps everything typed so far; only "File the request" changes data. What is typed is turned
into the same draft data the customer form builds, and the same policy decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.catalog.models import Variant
from reverse.core.db import commit
from reverse.core.errors import DomainError
from reverse.core.normalise import InvalidInput, nfkc
from reverse.core.normalise import email as normalise_email
from reverse.core.normalise import phone as normalise_phone
from reverse.core.normalise import postal_code as normalise_postal_code
from reverse.core.templating import locale_code
from reverse.customers.models import Customer
from reverse.customers.queries import contact_prefill
from reverse.extensions import db
from reverse.orders.models import Order, OrderLine
from reverse.policy.engine import Outcome
from reverse.portal.operations import (
    OWN_PLACES,
    assess,
    available_stock,
    drop_off_locations,
    find_order,
    requested_quantities,
    search_variants,
)
from reverse.rmas.constants import (
    REASONS,
    RETURN_METHOD_LABELS,
    PurchasePlace,
    ReturnMethod,
    RmaType,
)
from reverse.rmas.policies import staff_actor
from reverse.staff.forms import MAX_FILING_LINES, FilingForm, FilingLineForm
from reverse.staff.operations import file_for_customer

bp = Blueprint("filing", __name__)

#: how a customer on the phone can send an item back (a counter hand-over is the stores' own)
PHONE_METHODS = (
    ReturnMethod.PREPAID_LABEL,
    ReturnMethod.CARRIAGE_FORWARD,
    ReturnMethod.PICKUP,
    ReturnMethod.STORE_DROP_OFF,
)
#: methods that start at the customer's door: the address is needed
DOOR_METHODS = frozenset({ReturnMethod.PREPAID_LABEL, ReturnMethod.PICKUP})
#: places whose purchase date is usually unknown to the customer
DATELESS_PLACES = frozenset({PurchasePlace.GIFT, PurchasePlace.UNKNOWN})
SEARCH_LIMIT = 8
#: the session key that carries a new case's private link to its page, once
FILED_KEY = "filed_rma"
#: every reason code with the request types it belongs to, in the order the lists give them
REASON_TYPES: dict[str, list[str]] = {}
for _type, _codes in REASONS.items():
    for _code in _codes:
        REASON_TYPES.setdefault(_code, []).append(_type.value)
NO_ORDER = _l("No order with this number for this email or phone. Check both with the customer.")


@dataclass
class LineView:
    """One item row as the page draws it: the sub-form and what it resolves to."""

    form: FilingLineForm
    index: int
    order_line: OrderLine | None = None
    variant: Variant | None = None
    results: list[Variant] = field(default_factory=list)
    #: (variant, units available) of the same product, for exchanges
    alternatives: list[tuple[Variant, int]] = field(default_factory=list)
    problems: list[Any] = field(default_factory=list)

    @property
    def included(self) -> bool:
        if self.order_line is not None:
            return bool(self.form.include.data)
        return self.variant is not None or bool((self.form.description.data or "").strip())


@dataclass
class FilingState:
    order: Order | None = None
    #: units of each order line already in an open or finished case
    already: dict[int, int] = field(default_factory=dict)
    lines: list[LineView] = field(default_factory=list)
    outcome: Outcome | None = None


# -- reading the form --------------------------------------------------------------------------


def _rma_type(form: FilingForm) -> RmaType | None:
    try:
        return RmaType(form.type.data) if form.type.data else None
    except ValueError:
        return None


def _place(form: FilingForm) -> PurchasePlace | None:
    try:
        return PurchasePlace(form.place.data) if form.place.data else None
    except ValueError:
        return None


def _method(form: FilingForm) -> ReturnMethod | None:
    try:
        method = ReturnMethod(form.method.data) if form.method.data else None
    except ValueError:
        return None
    return method if method in PHONE_METHODS else None


def _int(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _contacts(form: FilingForm) -> list[str]:
    return [c for c in (nfkc(form.email.data), nfkc(form.phone.data)) if c]


def _lookup_order(form: FilingForm) -> Order | None:
    place = _place(form)
    number = nfkc(form.order_number.data)
    if place not in OWN_PLACES or not number:
        return None
    for contact in _contacts(form):
        order = find_order(place, number, contact)
        if order is not None:
            return order
    return None


def _fill_choices(form: FilingForm) -> None:
    locale = locale_code()
    form.method.choices = [("", _l("Choose…"))] + [
        (m.value, RETURN_METHOD_LABELS[m]) for m in PHONE_METHODS
    ]
    form.drop_off_location_id.choices = [("", _l("Choose…"))] + [
        (str(loc.id), loc.name(locale)) for loc in drop_off_locations()
    ]


def _match_rows_to_order(form: FilingForm, order: Order | None) -> None:
    """Item rows follow the purchase: one row per line of a newly found order (ticked when it
    is the only one), and a fresh empty row when the order no longer applies."""
    ids = [_int(entry.form.order_line_id.data) for entry in form.lines.entries]
    if order is not None:
        if any(i in {line.id for line in order.lines} for i in ids):
            return
        rows = [str(line.id) for line in order.lines]
    elif any(ids):
        rows = [""]
    else:
        return
    while form.lines.entries:
        form.lines.pop_entry()
    for line_id in rows:
        entry = form.lines.append_entry()
        entry.form.order_line_id.data = line_id
        entry.form.include.data = len(rows) == 1 and bool(line_id)
        entry.form.quantity.data = 1


def _resolve(form: FilingForm, order: Order | None) -> FilingState:
    """What the rows point at: order lines, picked products, search results, alternatives."""
    state = FilingState(order=order)
    if order is not None:
        state.already = requested_quantities(order)
    order_lines = {line.id: line for line in order.lines} if order else {}
    for index, entry in enumerate(form.lines.entries):
        sub = entry.form
        view = LineView(form=sub, index=index)
        line_id = _int(sub.order_line_id.data)
        if line_id is not None:
            view.order_line = order_lines.get(line_id)
            view.variant = view.order_line.variant if view.order_line else None
        else:
            query = nfkc(sub.query.data)
            view.results = search_variants(query, limit=SEARCH_LIMIT) if query else []
            variant_id = _int(sub.variant_id.data)
            if variant_id is not None:
                view.variant = db.session.get(Variant, variant_id)
            if view.variant is not None and view.variant not in view.results and view.results:
                view.results.insert(0, view.variant)
        if view.variant is not None:
            siblings = view.variant.product.variants
            stock = available_stock([v.id for v in siblings])
            view.alternatives = [(v, stock.get(v.id, 0)) for v in siblings]
        state.lines.append(view)
    return state


def _line_data(view: LineView) -> dict[str, Any]:
    sub = view.form
    return {
        "order_line_id": view.order_line.id if view.order_line else None,
        "variant_id": view.variant.id if view.variant and not view.order_line else None,
        "description": "" if view.variant else nfkc(sub.description.data),
        "quantity": sub.quantity.data if isinstance(sub.quantity.data, int) else 1,
        "reason": sub.reason.data or "",
        "comment": (sub.comment.data or "").strip(),
        "wanted_variant_id": _int(sub.wanted_variant_id.data),
        "symptom": (sub.symptom.data or "").strip(),
    }


def _draft_data(form: FilingForm, state: FilingState) -> dict[str, Any] | None:
    """The draft data of what is typed so far, or None while type, place or items are missing.

    Contact fields are taken as typed here; `_check_for_submit` normalises them."""
    rma_type, place = _rma_type(form), _place(form)
    lines = [view for view in state.lines if view.included]
    if rma_type is None or place is None or not lines:
        return None
    declared = place not in OWN_PLACES
    method = _method(form)
    return {
        "type": rma_type.value,
        "place": place.value,
        "order_id": state.order.id if state.order and not declared else None,
        "retailer": nfkc(form.retailer.data) if declared else "",
        "purchase_date": (
            form.purchase_date.data.isoformat() if declared and form.purchase_date.data else None
        ),
        "price_yen": form.price_yen.data if declared and form.price_yen.data is not None else None,
        "lines": [_line_data(view) for view in lines],
        "method": method.value if method else None,
        "drop_off_location_id": (
            _int(form.drop_off_location_id.data) if method == ReturnMethod.STORE_DROP_OFF else None
        ),
        "contact": _contact(form),
    }


def _contact(form: FilingForm) -> dict[str, str]:
    return {
        "name": nfkc(form.name.data),
        "name_kana": nfkc(form.name_kana.data),
        "email": nfkc(form.email.data),
        "phone": nfkc(form.phone.data),
        "postal_code": nfkc(form.postal_code.data),
        "prefecture": form.prefecture.data or "",
        "city": nfkc(form.city.data),
        "street": nfkc(form.street.data),
        "building": nfkc(form.building.data),
        "locale": form.locale.data if form.locale.data in ("ja", "en") else "ja",
    }


def _assess(data: dict[str, Any] | None, state: FilingState) -> None:
    """The policy's verdict on what is typed so far, with each item's problems on its row."""
    if data is None:
        return
    try:
        state.outcome = assess(data)
    except (DomainError, ValueError):
        return
    included = [view for view in state.lines if view.included]
    for view, verdict in zip(included, state.outcome.lines, strict=True):
        view.problems = list(verdict.problems)


# -- checking before filing --------------------------------------------------------------------


def _error(fld: Any, message: Any) -> None:
    fld.errors = [*fld.errors, message]


def _check_contact(form: FilingForm, contact: dict[str, str]) -> None:
    """Errors beside the contact fields; normalises `contact` in place (email, phone, 〒)."""
    if not contact["email"] and not contact["phone"]:
        _error(form.email, _l("Enter an email address or a phone number."))
    if contact["email"]:
        try:
            contact["email"] = normalise_email(contact["email"])
        except InvalidInput:
            _error(form.email, _l("This is not an email address."))
    if contact["phone"]:
        try:
            contact["phone"] = normalise_phone(contact["phone"])
        except InvalidInput:
            _error(form.phone, _l("This is not a phone number."))
    if contact["postal_code"]:
        try:
            contact["postal_code"] = normalise_postal_code(contact["postal_code"])
        except InvalidInput:
            _error(form.postal_code, _l("Enter 7 digits, e.g. 150-0041."))
    if _method(form) in DOOR_METHODS:
        needed = {
            "postal_code": form.postal_code,
            "prefecture": form.prefecture,
            "city": form.city,
            "street": form.street,
        }
        for key, fld in needed.items():
            if not contact[key] and not fld.errors:
                _error(fld, _l("Needed for a label or a pickup."))


def _check_purchase(form: FilingForm, state: FilingState, place: PurchasePlace) -> None:
    if place in OWN_PLACES:
        if not nfkc(form.order_number.data):
            _error(form.order_number, _l("Enter the order or receipt number."))
        elif state.order is None:
            _error(form.order_number, NO_ORDER)
        return
    named_shop = place in (PurchasePlace.DEPARTMENT_STORE, PurchasePlace.OTHER_RETAILER)
    if named_shop and not nfkc(form.retailer.data):
        _error(form.retailer, _l("Enter the shop, e.g. 伊勢丹新宿店."))
    if (
        place not in DATELESS_PLACES
        and form.purchase_date.data is None
        and not form.purchase_date.errors
    ):
        _error(form.purchase_date, _l("Enter the purchase date."))


def _check_line(view: LineView, rma_type: RmaType, state: FilingState) -> None:
    sub = view.form
    if view.order_line is not None:
        left = view.order_line.quantity - state.already.get(view.order_line.id, 0)
        if isinstance(sub.quantity.data, int) and sub.quantity.data > max(left, 0):
            _error(sub.quantity, _l("Only %(n)d can still be requested.", n=max(left, 0)))
    elif view.variant is None and not nfkc(sub.description.data):
        _error(sub.query, _l("Pick the product from the results, or describe the item."))
    if sub.reason.data not in REASONS[rma_type]:
        _error(sub.reason, _l("Choose a reason."))
    if rma_type == RmaType.REPAIR and not (sub.symptom.data or "").strip():
        _error(sub.symptom, _l("Describe what is wrong."))
    if rma_type == RmaType.EXCHANGE and view.variant is not None:
        wanted = _int(sub.wanted_variant_id.data)
        stock = dict((v.id, n) for v, n in view.alternatives)
        if wanted is None or wanted not in stock:
            _error(sub.wanted_variant_id, _l("Choose the size or colour wanted instead."))
        elif stock[wanted] <= 0:
            _error(
                sub.wanted_variant_id,
                _l("Out of stock everywhere: offer another size or colour, or a return."),
            )


def _check_for_submit(form: FilingForm, state: FilingState, data: dict[str, Any] | None) -> bool:
    """Field errors for everything a request needs; True when it can be filed."""
    form.validate()
    rma_type, place = _rma_type(form), _place(form)
    if place is not None:
        _check_purchase(form, state, place)
    included = [view for view in state.lines if view.included]
    if not included:
        target = state.lines[0].form.include if state.order else state.lines[0].form.query
        _error(target, _l("Add at least one item."))
    if rma_type is not None:
        for view in included:
            _check_line(view, rma_type, state)
    method = _method(form)
    if method is None:
        _error(form.method, _l("Choose how the item comes back."))
    elif method == ReturnMethod.STORE_DROP_OFF:
        if rma_type == RmaType.REPAIR:
            _error(form.method, _l("Repairs go straight to the repair centre: choose another way."))
        elif _int(form.drop_off_location_id.data) is None:
            _error(form.drop_off_location_id, _l("Choose the store."))
    _check_contact(form, data["contact"] if data is not None else _contact(form))
    if state.outcome is not None and not state.outcome.eligible:
        form.form_errors.append(
            _l("The return policy does not allow this request: see the marked items.")
        )
    elif _has_errors(form):
        form.form_errors.append(_l("Some details are missing or wrong: see the marked fields."))
    return not _has_errors(form)


def _has_errors(form: FilingForm) -> bool:
    if form.form_errors:
        return True
    for fld in form:
        if fld.name == "lines":
            if any(entry.form.errors for entry in fld.entries):
                return True
        elif fld.errors:
            return True
    return False


# -- the page ----------------------------------------------------------------------------------


def _page(form: FilingForm, state: FilingState, status: int = 200):
    return (
        render_template(
            "staff/filing.html",
            form=form,
            state=state,
            reason_types=REASON_TYPES,
            own_places=[p.value for p in OWN_PLACES],
            max_lines=MAX_FILING_LINES,
        ),
        status,
    )


def _prefill_customer(form: FilingForm, customer_id: int | None) -> None:
    """From the support console: the known customer's contact details, not typed again."""
    customer = db.session.get(Customer, customer_id) if customer_id else None
    if customer is not None:
        for name, value in contact_prefill(customer).items():
            getattr(form, name).data = value


@bp.route("/rmas/new", methods=["GET", "POST"])
@staff_required(Role.SUPPORT)
def new():
    form = FilingForm()
    _fill_choices(form)
    if not form.is_submitted():
        _prefill_customer(form, request.args.get("customer", type=int))
        return _page(form, _resolve(form, None))

    action = request.form.get("action", "refresh")
    order = _lookup_order(form)
    if action == "find_order" and order is None:
        _error(form.order_number, NO_ORDER)
    elif action == "add_line" and len(form.lines.entries) < MAX_FILING_LINES:
        form.lines.append_entry()
    elif action.startswith("remove:") and len(form.lines.entries) > 1:
        position = action.partition(":")[2]
        if position.isdigit() and int(position) < len(form.lines.entries):
            form.lines.entries.pop(int(position))
    _match_rows_to_order(form, order)

    state = _resolve(form, order)
    data = _draft_data(form, state)
    _assess(data, state)
    if action != "submit":
        return _page(form, state)
    if not _check_for_submit(form, state, data):
        return _page(form, state, 422)
    assert data is not None  # a form without type, place or items has errors
    try:
        rma, token = file_for_customer(data, staff_actor(current_user))
    except DomainError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _page(form, _resolve_again(form), 422)
    commit()
    base = current_app.config["PUBLIC_BASE_URL"]
    session[FILED_KEY] = {"number": rma.number, "link": f"{base}/r/{token}"}
    return redirect(url_for("staff.rma_detail", number=rma.number))


def _resolve_again(form: FilingForm) -> FilingState:
    """After a rollback: the objects of the first pass are gone, look everything up again."""
    state = _resolve(form, _lookup_order(form))
    _assess(_draft_data(form, state), state)
    return state
