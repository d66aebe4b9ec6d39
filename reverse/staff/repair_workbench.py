"""One repair's page: what the counter and the bench know about the item, and the next steps
that are legal now for the person looking, each a small form calling one operation of
reverse.repairs.operations.

Whoever may see the case opens the page (`visible_rma`: another store's repair looks missing);
a step the role may not take is refused with 403. Every form carries the status it was drawn
in: a form left open while a colleague moved the repair on changes nothing and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.catalog.constants import LocationKind
from reverse.catalog.models import Location
from reverse.core.actors import Actor
from reverse.core.dates import today_in_japan
from reverse.core.db import commit, utcnow
from reverse.core.errors import DomainError
from reverse.core.money import format_yen
from reverse.core.normalise import phone_display
from reverse.core.templating import locale_code
from reverse.extensions import db
from reverse.repairs import operations as ops
from reverse.repairs.constants import (
    HANDBACK_LABELS,
    PRICE_ITEM_KIND_LABELS,
    QUOTE_STATE_LABELS,
    REPAIR_KIND_LABELS,
    Handback,
    PriceItemKind,
    QuoteState,
    RepairKind,
)
from reverse.repairs.models import PriceListItem, RepairOrder
from reverse.rmas.constants import (
    STATUS_LABELS,
    TERMINAL_STATUSES,
    AttachmentKind,
    ReturnMethod,
    RmaStatus,
    RmaType,
)
from reverse.rmas.models import Rma
from reverse.rmas.policies import staff_actor
from reverse.shipping.constants import (
    CARRIER_LABELS,
    DIRECTION_LABELS,
    SHIPMENT_STATUS_LABELS,
    Carrier,
)
from reverse.shipping.models import Shipment
from reverse.staff.common import LABELS, visible_rma
from reverse.staff.repair_workbench_forms import (
    ActionForm,
    AnswerForm,
    CheckForm,
    DiagnoseForm,
    PaymentForm,
    QuoteForm,
    SendBackForm,
    SendForm,
    WorkForm,
    carrier_choices,
    carrier_of,
)

bp = Blueprint("repairs", __name__, url_prefix="/repairs")

S = RmaStatus

#: who may take each step besides admins; whether it is legal now is the operations' call
STEP_ROLES: dict[str, tuple[Role, ...]] = {
    "send": (Role.STORE,),
    "take_in": (Role.STORE,),
    "diagnose": (Role.TECHNICIAN,),
    "quote": (Role.TECHNICIAN,),
    "answer": (Role.SUPPORT, Role.TECHNICIAN),
    "start": (Role.TECHNICIAN,),
    "work": (Role.TECHNICIAN,),
    "ready_check": (Role.TECHNICIAN,),
    "check": (Role.TECHNICIAN,),
    "send_back": (Role.TECHNICIAN,),
    "carrier": (Role.TECHNICIAN,),
    "payment": (Role.SUPPORT, Role.TECHNICIAN),
}

#: statuses in which a step has already happened: sent again (a double click, a colleague
#: quicker), it changes nothing and the page says so
DONE_IN: dict[str, frozenset[RmaStatus]] = {
    "send": frozenset({S.IN_TRANSIT}),
    "take_in": frozenset({S.ACCEPTED}),
    "start": frozenset({S.IN_REPAIR}),
    "ready_check": frozenset({S.QUALITY_CHECK}),
    "send_back": frozenset({S.RETURNING, S.READY}),
    "carrier": frozenset({S.HANDED_BACK, S.CLOSED}),
}

#: where the repair stands, in a sentence for whoever opens the page
NOW_TEXT: dict[RmaStatus, Any] = {
    S.SUBMITTED: _l("Filed on the web: the request is being checked."),
    S.AWAITING_ITEM: _l("Waiting for the customer to bring or send the item."),
    S.ACCEPTED: _l("Taken in at the counter: to be sent to the repair centre."),
    S.IN_TRANSIT: _l("On its way to the repair centre, which scans it in at the scan desk."),
    S.AT_REPAIR_CENTRE: _l("At the repair centre, waiting for a technician's diagnosis."),
    S.DIAGNOSED: _l("Diagnosed: next, a quote for the customer (or the repair, under warranty)."),
    S.QUOTED: _l("Waiting for the customer's answer to the quote."),
    S.QUOTE_APPROVED: _l("The customer approved the quote: the repair can start."),
    S.QUOTE_DECLINED: _l("The customer declined the quote: the item goes back unrepaired."),
    S.IN_REPAIR: _l("In repair at the repair centre."),
    S.QUALITY_CHECK: _l("Repaired: waiting for the quality check."),
    S.RETURNING: _l("On its way back to the pickup store."),
    S.READY: _l("Ready for the customer."),
    S.HANDED_BACK: _l("Handed back to the customer."),
    S.CLOSED: _l("Finished."),
    S.REJECTED: _l("Rejected: nothing more to do."),
    S.CANCELLED: _l("Cancelled: nothing more to do."),
    S.EXPIRED: _l("Expired: the item never arrived."),
}

QUOTE_TONES = {
    QuoteState.SENT: "warn",
    QuoteState.APPROVED: "good",
    QuoteState.DECLINED: "bad",
    QuoteState.SUPERSEDED: "muted",
}

REPAIR_LABELS = {
    "kind": REPAIR_KIND_LABELS,
    "handback": HANDBACK_LABELS,
    "quote_state": QUOTE_STATE_LABELS,
    "quote_tone": QUOTE_TONES,
    "item_kind": PRICE_ITEM_KIND_LABELS,
    "carrier": CARRIER_LABELS,
    "direction": DIRECTION_LABELS,
    "shipment_status": SHIPMENT_STATUS_LABELS,
}


@bp.context_processor
def repair_labels() -> dict[str, Any]:
    return {"labels": LABELS, "rl": REPAIR_LABELS}


# -- who sees and does what --------------------------------------------------------------------


def _role_may(step: str) -> bool:
    return bool(current_user.has_role(Role.ADMIN, *STEP_ROLES[step]))


def visible_repair(number: str) -> Rma:
    """The repair case if the user may see it; anything else (another store's, a return)
    looks missing."""
    rma = visible_rma(number)
    if rma.type != RmaType.REPAIR:
        abort(404)
    return rma


def _drop_off_store(rma: Rma) -> Location | None:
    """The store a web repair is to be brought to, if it is one of the user's (admins act
    for any store); None for a repair sent by parcel."""
    location = rma.location
    if rma.return_method != ReturnMethod.STORE_DROP_OFF or location is None:
        return None
    if location.kind not in (LocationKind.STORE, LocationKind.DEPARTMENT_STORE_COUNTER):
        return None
    if current_user.role != Role.ADMIN and location.id != current_user.location_id:
        return None
    return location


def offers(rma: Rma, repair: RepairOrder) -> dict[str, bool]:
    """The steps the page offers this user now (the operations check again on POST)."""
    s = rma.status
    legal = {
        "send": s == S.ACCEPTED and rma.location_id is not None,
        "take_in": s == S.AWAITING_ITEM and _drop_off_store(rma) is not None,
        "diagnose": s in (S.AT_REPAIR_CENTRE, S.DIAGNOSED),
        "quote": not repair.warranty and s in (S.DIAGNOSED, S.QUOTED, S.IN_REPAIR),
        "answer": s == S.QUOTED and repair.open_quote is not None,
        "start": s == S.QUOTE_APPROVED or (s == S.DIAGNOSED and repair.warranty),
        "work": s == S.IN_REPAIR,
        "ready_check": s == S.IN_REPAIR,
        "check": s == S.QUALITY_CHECK,
        "send_back": s in (S.DIAGNOSED, S.QUOTE_DECLINED),
        "carrier": s == S.READY and repair.handback == Handback.SHIP,
        "payment": repair.amount_outstanding_yen > 0 and s not in TERMINAL_STATUSES,
    }
    return {step: ok and _role_may(step) for step, ok in legal.items()}


# -- the page ----------------------------------------------------------------------------------


@dataclass
class Forms:
    """The forms of the page: the one that failed comes back with its input and errors."""

    send: SendForm | None = None
    take_in: ActionForm | None = None
    diagnose: DiagnoseForm | None = None
    quote: QuoteForm | None = None
    answer: AnswerForm | None = None
    start: ActionForm | None = None
    work: WorkForm | None = None
    ready_check: ActionForm | None = None
    check: CheckForm | None = None
    send_back: SendBackForm | None = None
    carrier: ActionForm | None = None
    payment: PaymentForm | None = None


def price_items(repair: RepairOrder) -> dict[int, PriceListItem]:
    """What quotes are made from: the active price list, and items of the quote being
    revised even if they were switched off since."""
    on_quote = {
        line.price_item_id
        for line in (repair.current_quote.lines if repair.current_quote else [])
        if line.price_item_id is not None
    }
    stmt = sa.select(PriceListItem).where(
        sa.or_(PriceListItem.active, PriceListItem.id.in_(on_quote or {0}))
    )
    items = db.session.scalars(
        stmt.order_by(PriceListItem.kind, PriceListItem.repair_kind, PriceListItem.code)
    )
    return {item.id: item for item in items}


def _grouped(catalogue: dict[int, PriceListItem]) -> list[tuple[Any, list[PriceListItem]]]:
    """Labour first, then parts: the order technicians build a quote in."""
    order = (PriceItemKind.LABOUR, PriceItemKind.PART)
    return [
        (PRICE_ITEM_KIND_LABELS[kind], [i for i in catalogue.values() if i.kind == kind])
        for kind in order
        if any(i.kind == kind for i in catalogue.values())
    ]


def _fresh_quote(rma: Rma, repair: RepairOrder) -> QuoteForm:
    """Empty rows; when revising (or re-quoting during the repair), the lines of the quote
    that stands, to change rather than retype."""
    quote = repair.current_quote if rma.status in (S.QUOTED, S.IN_REPAIR) else None
    lines = quote.lines if quote is not None else []
    items = [
        {"item": str(line.price_item_id), "quantity": line.quantity}
        for line in lines
        if line.price_item_id is not None
    ]
    free = [
        {
            "description": line.description,
            "kind": line.kind.value,
            "quantity": line.quantity,
            "price": line.unit_price_yen,
        }
        for line in lines
        if line.price_item_id is None
    ]
    form = QuoteForm(formdata=None, items=items, free=free, quote_note=quote.note if quote else "")
    form.items.min_entries = max(form.items.min_entries, len(items) + 2)
    for _ in range(len(form.items), form.items.min_entries):
        form.items.append_entry()
    if free and len(form.free) < len(free) + 2:
        form.free.append_entry()
    return form


@dataclass(frozen=True)
class Draft:
    """What the quote form adds up to as typed, row by row (None: not a valid row yet)."""

    items: list[int | None]
    free: list[int | None]

    @property
    def total(self) -> int:
        return sum(a for a in (*self.items, *self.free) if a is not None)


def draft_of(form: QuoteForm, catalogue: dict[int, PriceListItem]) -> Draft:
    def item_amount(row: Any) -> int | None:
        item = _catalogue_item(row.item.data, catalogue)
        quantity = row.quantity.data if row.quantity.data is not None else 1
        return item.price_yen * quantity if item is not None and quantity > 0 else None

    def free_amount(row: Any) -> int | None:
        quantity = row.quantity.data if row.quantity.data is not None else 1
        price = row.price.data
        return price * quantity if price is not None and price >= 0 and quantity > 0 else None

    return Draft(
        items=[item_amount(entry.form) for entry in form.items],
        free=[free_amount(entry.form) for entry in form.free],
    )


def _catalogue_item(value: str | None, catalogue: dict[int, PriceListItem]) -> PriceListItem | None:
    return catalogue.get(int(value)) if value and value.isdigit() else None


def _work_form(form: WorkForm | None, catalogue: dict[int, PriceListItem]) -> WorkForm:
    form = form or WorkForm(formdata=None)
    _part_choices(form, catalogue)
    return form


def _part_choices(form: WorkForm, catalogue: dict[int, PriceListItem]) -> None:
    form.part.choices = [
        SelectChoice("", _l("No part")),
        *[
            SelectChoice(str(i.id), f"{i.code} · {i.name(locale_code())}")
            for i in catalogue.values()
            if i.kind == PriceItemKind.PART and i.active
        ],
    ]


def _way_back(form: Any, field_name: str, repair: RepairOrder) -> None:
    """The carrier choices for the way back: the in-house courier by default to a pickup
    store, the centre's usual carrier to the customer's door."""
    field = form[field_name]
    field.choices = carrier_choices(courier=repair.handback == Handback.STORE_PICKUP)
    if field.data is None:
        field.data = field.choices[0].value


def _check_form(form: CheckForm | None, repair: RepairOrder) -> CheckForm:
    form = form or CheckForm(formdata=None)
    _way_back(form, "qc_carrier", repair)
    return form


def _send_back_form(form: SendBackForm | None, repair: RepairOrder) -> SendBackForm:
    form = form or SendBackForm(formdata=None)
    _way_back(form, "back_carrier", repair)
    return form


def page(rma: Rma, forms: Forms | None = None, *, status: int = 200, failed: str | None = None):
    """The repair page. `failed` names the step whose form comes back with errors; when that
    step is no longer on offer (the repair moved on), its messages go to the top."""
    forms = forms or Forms()
    repair = ops.repair_of(rma)
    may = offers(rma, repair)
    catalogue = price_items(repair)
    diagnose = forms.diagnose or DiagnoseForm(
        formdata=None,
        diagnosis=repair.diagnosis,
        kind=repair.kind.value if repair.kind else "",
        warranty=repair.warranty,
    )
    quote_form = forms.quote or _fresh_quote(rma, repair)
    alerts: list[Any] = []
    if failed is not None and not may.get(failed):
        form = getattr(forms, failed)
        if form is not None:
            alerts.extend(form.form_errors)
            alerts.extend(
                e for field in form for e in field.errors if field.type != "CSRFTokenField"
            )
    today = today_in_japan(utcnow())
    finished = repair.handed_back_at is not None or rma.status in (
        S.HANDED_BACK,
        *TERMINAL_STATUSES,
    )
    shipments = list(
        db.session.scalars(
            sa.select(Shipment).where(Shipment.rma_id == rma.id).order_by(Shipment.id)
        )
    )
    return (
        render_template(
            "staff/repair_detail.html",
            rma=rma,
            repair=repair,
            customer=rma.customer,
            photos=[a for a in rma.attachments if a.kind != AttachmentKind.RECEIPT],
            receipts=[a for a in rma.attachments if a.kind == AttachmentKind.RECEIPT],
            shipments=shipments,
            overdue=bool(repair.promised_on and repair.promised_on < today and not finished),
            may=may,
            now_text=NOW_TEXT.get(rma.status, ""),
            alerts=alerts,
            failed=failed,
            catalogue=catalogue,
            price_groups=_grouped(catalogue),
            draft=draft_of(quote_form, catalogue),
            work_minutes=sum(entry.minutes for entry in repair.work),
            send_form=forms.send or SendForm(formdata=None),
            take_in_form=forms.take_in or ActionForm(formdata=None),
            diagnose_form=diagnose,
            quote_form=quote_form,
            answer_form=forms.answer or AnswerForm(formdata=None),
            start_form=forms.start or ActionForm(formdata=None),
            work_form=_work_form(forms.work, catalogue),
            ready_check_form=forms.ready_check or ActionForm(formdata=None),
            check_form=_check_form(forms.check, repair),
            send_back_form=_send_back_form(forms.send_back, repair),
            carrier_form=forms.carrier or ActionForm(formdata=None),
            payment_form=forms.payment or PaymentForm(formdata=None),
            locale=locale_code(),
        ),
        status,
    )


@bp.route("/<number>")
@staff_required()
def detail(number: str):
    return page(visible_repair(number))


# -- taking a step -----------------------------------------------------------------------------


def _step(number: str, step: str) -> Rma:
    """The case for a POST: 404 when the user may not see it, 403 when the role may not
    take this step."""
    rma = visible_repair(number)
    if not _role_may(step):
        abort(403)
    return rma


def _actor() -> Actor:
    return staff_actor(current_user)


def _back(rma: Rma) -> Response:
    return redirect(url_for("staff.repairs.detail", number=rma.number))


def _done(rma: Rma, message: Any) -> Response:
    commit()
    flash(message, "success")
    return _back(rma)


def _nothing_changed(rma: Rma, message: Any) -> Response:
    db.session.rollback()
    flash(message, "info")
    return _back(rma)


def _invalid(rma: Rma, step: str, form: ActionForm):
    return page(rma, Forms(**{step: form}), status=422, failed=step)


def _early(rma: Rma, step: str, form: ActionForm):
    """A step that already happened changes nothing; a form drawn before the repair moved
    on is refused rather than applied to a state its author did not see."""
    if rma.status in DONE_IN.get(step, ()):
        return _nothing_changed(
            rma,
            _l(
                "Nothing changed: %(n)s is already “%(status)s” (done by a colleague or an "
                "earlier click).",
                n=rma.display_number,
                status=STATUS_LABELS[rma.status],
            ),
        )
    if form.seen.data and form.seen.data != rma.status.value:
        seen = next((s for s in RmaStatus if s.value == form.seen.data), None)
        form.form_errors.append(
            _l(
                "Nothing was saved: while this page was open, %(n)s moved from “%(was)s” to "
                "“%(status)s”. Check the page and try again.",
                n=rma.display_number,
                was=STATUS_LABELS[seen] if seen else form.seen.data,
                status=STATUS_LABELS[rma.status],
            )
        )
        return page(rma, Forms(**{step: form}), status=409, failed=step)
    return None


def _refused(number: str, step: str, form: ActionForm, exc: DomainError, targets: dict[str, Any]):
    """Undo, and show the operation's message beside the field it names (or atop the form)."""
    db.session.rollback()
    rma = visible_repair(number)
    target = targets.get(exc.details.get("field") or "")
    if target is not None:
        target.errors = [*target.errors, exc.message]
    else:
        form.form_errors.append(exc.message)
    return page(rma, Forms(**{step: form}), status=exc.status, failed=step)


def _yen(amount: int) -> str:
    return format_yen(amount, locale_code())


@bp.route("/<number>/send-to-centre", methods=["POST"])
@staff_required()
def send(number: str):
    rma = _step(number, "send")
    form = SendForm()
    if not form.validate_on_submit():
        return _invalid(rma, "send", form)
    if (early := _early(rma, "send", form)) is not None:
        return early
    carrier = carrier_of(form.send_carrier.data)
    try:
        ops.send_to_centre(rma, _actor(), carrier=carrier)
    except DomainError as exc:
        return _refused(number, "send", form, exc, {})
    if carrier in (None, Carrier.OWN):
        message = _l(
            "%(n)s is on its way to the repair centre with the in-house courier: keep the "
            "claim tag on the item.",
            n=rma.display_number,
        )
    else:
        message = _l(
            "%(n)s is on its way to the repair centre: print the label and hand the parcel "
            "to %(carrier)s.",
            n=rma.display_number,
            carrier=CARRIER_LABELS[carrier],
        )
    return _done(rma, message)


@bp.route("/<number>/take-in", methods=["POST"])
@staff_required()
def take_in(number: str):
    rma = _step(number, "take_in")
    form = ActionForm()
    if not form.validate_on_submit():
        return _invalid(rma, "take_in", form)
    if (early := _early(rma, "take_in", form)) is not None:
        return early
    # Admins take it in for the store it is to be brought to; store staff for their own.
    location = rma.location if current_user.role == Role.ADMIN else current_user.location
    try:
        ops.take_in_dropped_off(rma, location, _actor())
    except DomainError as exc:
        return _refused(number, "take_in", form, exc, {})
    return _done(
        rma,
        _l(
            "%(n)s is taken in at the counter. Next: send it to the repair centre.",
            n=rma.display_number,
        ),
    )


@bp.route("/<number>/diagnose", methods=["POST"])
@staff_required()
def diagnose(number: str):
    rma = _step(number, "diagnose")
    form = DiagnoseForm()
    if not form.validate_on_submit():
        return _invalid(rma, "diagnose", form)
    if (early := _early(rma, "diagnose", form)) is not None:
        return early
    revising = rma.status == S.DIAGNOSED
    try:
        ops.diagnose(
            rma,
            _actor(),
            diagnosis=form.diagnosis.data or "",
            kind=RepairKind(form.kind.data),
            warranty=bool(form.warranty.data),
            warranty_note=form.warranty_note.data or "",
        )
    except DomainError as exc:
        targets = {"diagnosis": form.diagnosis, "warranty_note": form.warranty_note}
        return _refused(number, "diagnose", form, exc, targets)
    return _done(rma, _l("Diagnosis revised.") if revising else _l("Diagnosis saved."))


def quote_lines(
    form: QuoteForm, catalogue: dict[int, PriceListItem], locale: str
) -> tuple[list[ops.QuoteLineData], list[Any]]:
    """The filled rows as quote lines, and the row form of each line (for its errors).
    Blank rows are left out; a row that cannot become a line gets an error."""
    lines: list[ops.QuoteLineData] = []
    rows: list[Any] = []
    for entry in form.items:
        row = entry.form
        if row.blank:
            continue
        item = _catalogue_item(row.item.data, catalogue)
        if item is None:
            row.form_errors.append(_l("Choose an item of the price list, or clear the row."))
            continue
        quantity = row.quantity.data if row.quantity.data is not None else 1
        lines.append(ops.quote_line_from(item, quantity, locale))
        rows.append(row)
    for entry in form.free:
        row = entry.form
        if row.blank:
            continue
        if row.price.data is None:
            row.form_errors.append(_l("Give the price of this line, or clear the row."))
            continue
        quantity = row.quantity.data if row.quantity.data is not None else 1
        lines.append(
            ops.QuoteLineData(
                description=row.description.data or "",
                unit_price_yen=row.price.data,
                quantity=quantity,
                kind=PriceItemKind(row.kind.data),
            )
        )
        rows.append(row)
    return lines, rows


def _rows_invalid(form: QuoteForm) -> bool:
    return any(e.form.form_errors for e in (*form.items, *form.free))


@bp.route("/<number>/quote", methods=["POST"])
@staff_required()
def quote(number: str):
    rma = _step(number, "quote")
    form = QuoteForm()
    if not form.validate_on_submit():
        return _invalid(rma, "quote", form)
    if form.do.data == "add":
        form.add_rows()
        return page(rma, Forms(quote=form), failed="quote")
    if form.do.data == "calculate":
        return page(rma, Forms(quote=form), failed="quote")
    if (early := _early(rma, "quote", form)) is not None:
        return early
    repair = ops.repair_of(rma)
    customer = rma.customer
    lines, rows = quote_lines(form, price_items(repair), customer.locale or "ja")
    if _rows_invalid(form):
        return _invalid(rma, "quote", form)
    try:
        sent = ops.send_quote(rma, lines, _actor(), note=form.quote_note.data or "")
    except DomainError as exc:
        targets: dict[str, Any] = {"note": form.quote_note}
        field = exc.details.get("field") or ""
        if field.startswith("lines-") and field[6:].isdigit() and int(field[6:]) < len(rows):
            db.session.rollback()
            rows[int(field[6:])].form_errors.append(exc.message)
            return page(
                visible_repair(number), Forms(quote=form), status=exc.status, failed="quote"
            )
        return _refused(number, "quote", form, exc, targets)
    total = _yen(sent.total_yen)
    if customer.email:
        message = _l(
            "Quote %(no)d (%(total)s) sent: we are emailing %(email)s.",
            no=sent.number,
            total=total,
            email=customer.email,
        )
    else:
        message = _l(
            "Quote %(no)d (%(total)s) is on the customer’s status page. They have no email "
            "with us: please call %(phone)s.",
            no=sent.number,
            total=total,
            phone=phone_display(customer.phone),
        )
    return _done(rma, message)


@bp.route("/<number>/answer", methods=["POST"])
@staff_required()
def answer(number: str):
    rma = _step(number, "answer")
    form = AnswerForm()
    if (
        not form.validate_on_submit()
        or form.answer.data not in ("approve", "decline")
        or not (form.quote_id.data or "").isdigit()
    ):
        abort(400)
    approve = form.answer.data == "approve"
    try:
        changed = ops.answer_quote(rma, int(form.quote_id.data), approve, _actor())
    except DomainError as exc:
        return _refused(number, "answer", form, exc, {})
    if not changed:
        return _nothing_changed(rma, _l("This answer was already recorded: nothing changed."))
    repair = ops.repair_of(rma)
    if approve:
        message = _l(
            "Approval recorded: the repair can start. The customer pays %(amount)s.",
            amount=_yen(repair.amount_due_yen),
        )
    else:
        message = _l(
            "Decline recorded: send the item back. Decline fee: %(amount)s.",
            amount=_yen(repair.amount_due_yen),
        )
    return _done(rma, message)


@bp.route("/<number>/start", methods=["POST"])
@staff_required()
def start(number: str):
    rma = _step(number, "start")
    form = ActionForm()
    if not form.validate_on_submit():
        return _invalid(rma, "start", form)
    if (early := _early(rma, "start", form)) is not None:
        return early
    try:
        ops.start_repair(rma, _actor())
    except DomainError as exc:
        return _refused(number, "start", form, exc, {})
    return _done(rma, _l("Repair started. Log the work as you go."))


@bp.route("/<number>/work", methods=["POST"])
@staff_required()
def work(number: str):
    rma = _step(number, "work")
    form = WorkForm()
    catalogue = price_items(ops.repair_of(rma))
    _part_choices(form, catalogue)
    if not form.validate_on_submit():
        return _invalid(rma, "work", form)
    if (early := _early(rma, "work", form)) is not None:
        return early
    part = _catalogue_item(form.part.data, catalogue)
    try:
        ops.log_work(
            rma,
            _actor(),
            note=form.work_note.data or "",
            minutes=form.minutes.data or 0,
            part=part,
            quantity=form.part_quantity.data if form.part_quantity.data is not None else 1,
        )
    except DomainError as exc:
        targets = {
            "note": form.work_note,
            "minutes": form.minutes,
            "part": form.part,
            "quantity": form.part_quantity,
        }
        return _refused(number, "work", form, exc, targets)
    return _done(rma, _l("Work logged."))


@bp.route("/<number>/ready-for-check", methods=["POST"])
@staff_required()
def ready_check(number: str):
    rma = _step(number, "ready_check")
    form = ActionForm()
    if not form.validate_on_submit():
        return _invalid(rma, "ready_check", form)
    if (early := _early(rma, "ready_check", form)) is not None:
        return early
    try:
        ops.ready_for_check(rma, _actor())
    except DomainError as exc:
        return _refused(number, "ready_check", form, exc, {})
    return _done(rma, _l("%(n)s waits for its quality check.", n=rma.display_number))


def _sent_back_message(rma: Rma, repair: RepairOrder, *, repaired: bool) -> Any:
    if repair.handback == Handback.STORE_PICKUP and repair.pickup_location is not None:
        store = repair.pickup_location.name(locale_code())
        if repaired:
            return _l(
                "Quality check passed: %(n)s goes back to %(store)s, which scans it in.",
                n=rma.display_number,
                store=store,
            )
        return _l(
            "%(n)s goes back to %(store)s unrepaired; the customer is told why.",
            n=rma.display_number,
            store=store,
        )
    if repaired:
        return _l(
            "Quality check passed: %(n)s is ready to ship. Print the label below.",
            n=rma.display_number,
        )
    return _l(
        "%(n)s is ready to ship back unrepaired: print the label below.", n=rma.display_number
    )


@bp.route("/<number>/check", methods=["POST"])
@staff_required()
def check(number: str):
    rma = _step(number, "check")
    form = CheckForm()
    repair = ops.repair_of(rma)
    _way_back(form, "qc_carrier", repair)
    if not form.validate_on_submit() or form.result.data not in ("pass", "fail"):
        if form.result.data not in ("pass", "fail"):
            form.form_errors.append(_l("Choose: passed or failed."))
        return _invalid(rma, "check", form)
    if (early := _early(rma, "check", form)) is not None:
        return early
    try:
        if form.result.data == "fail":
            ops.fail_quality_check(rma, _actor(), form.qc_note.data or "")
        else:
            ops.pass_quality_check(
                rma,
                _actor(),
                note=form.qc_note.data or "",
                carrier=carrier_of(form.qc_carrier.data),
            )
    except DomainError as exc:
        return _refused(number, "check", form, exc, {"note": form.qc_note})
    if form.result.data == "fail":
        return _done(
            rma, _l("Quality check failed: %(n)s is back in repair.", n=rma.display_number)
        )
    return _done(rma, _sent_back_message(rma, repair, repaired=True))


@bp.route("/<number>/send-back", methods=["POST"])
@staff_required()
def send_back(number: str):
    rma = _step(number, "send_back")
    form = SendBackForm()
    repair = ops.repair_of(rma)
    _way_back(form, "back_carrier", repair)
    if not form.validate_on_submit():
        return _invalid(rma, "send_back", form)
    if (early := _early(rma, "send_back", form)) is not None:
        return early
    try:
        ops.send_back(
            rma,
            _actor(),
            carrier=carrier_of(form.back_carrier.data),
            reason=form.back_reason.data or "",
        )
    except DomainError as exc:
        return _refused(number, "send_back", form, exc, {"reason": form.back_reason})
    return _done(rma, _sent_back_message(rma, repair, repaired=False))


@bp.route("/<number>/carrier", methods=["POST"])
@staff_required()
def carrier(number: str):
    rma = _step(number, "carrier")
    form = ActionForm()
    if not form.validate_on_submit():
        return _invalid(rma, "carrier", form)
    if (early := _early(rma, "carrier", form)) is not None:
        return early
    try:
        ops.handed_to_carrier(rma, _actor())
    except DomainError as exc:
        return _refused(number, "carrier", form, exc, {})
    return _done(rma, _l("%(n)s left with the carrier: handed back.", n=rma.display_number))


@bp.route("/<number>/payment", methods=["POST"])
@staff_required()
def payment(number: str):
    rma = _step(number, "payment")
    form = PaymentForm()
    if not form.validate_on_submit():
        return _invalid(rma, "payment", form)
    amount = ops.repair_of(rma).amount_due_yen
    try:
        recorded = ops.record_payment(rma, _actor(), form.payment_note.data or "")
    except DomainError as exc:
        return _refused(number, "payment", form, exc, {"payment_note": form.payment_note})
    if not recorded:
        return _nothing_changed(
            rma, _l("Nothing to record: the payment was already recorded or nothing is owed.")
        )
    return _done(rma, _l("Payment of %(amount)s recorded.", amount=_yen(amount)))
