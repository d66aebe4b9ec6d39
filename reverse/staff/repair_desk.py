"""Repair lists, the scan desk (receive at the centre or the store, hand back), turnaround
figures and the price list.

The lists and the report read reverse.repairs.reports; every change goes through one
operation of reverse.repairs (operations, pricing), committed once by the view. The scan desk
is built for a keyboard-wedge scanner like the intake screen: every answer comes with a colour
and a sound (static/js/staff.js) and the cursor back in the field.
"""

from __future__ import annotations

from datetime import date, timedelta
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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.catalog.constants import LocationKind
from reverse.catalog.models import Location
from reverse.core.dates import today_in_japan
from reverse.core.db import commit, utcnow
from reverse.core.errors import DomainError
from reverse.core.forms import attach_errors
from reverse.core.spreadsheet import csv_download, excel_csv
from reverse.core.templating import local_datetime, locale_code
from reverse.extensions import db
from reverse.repairs import operations as ops
from reverse.repairs import pricing
from reverse.repairs.constants import (
    HANDBACK_LABELS,
    PRICE_ITEM_KIND_LABELS,
    REPAIR_KIND_LABELS,
    Handback,
)
from reverse.repairs.models import PriceListItem
from reverse.repairs.reports import (
    DEFAULT_DAYS,
    TAB_SPECS,
    KindRow,
    Tab,
    TurnaroundFilters,
    TurnaroundReport,
    days_overdue,
    item_label,
    overdue_repairs,
    tab_counts,
    tab_page,
    tabs_for,
    turnaround,
)
from reverse.rmas.constants import STATUS_LABELS, RmaStatus
from reverse.rmas.models import Rma
from reverse.rmas.policies import can_see, staff_actor
from reverse.staff.common import LABELS, visible_rma
from reverse.staff.queues import age_text
from reverse.staff.repair_desk_forms import (
    MODE_CENTRE,
    ActiveForm,
    HandOverForm,
    PriceItemForm,
    ScanForm,
    TurnaroundFilterForm,
)

bp = Blueprint("repair_desk", __name__, url_prefix="/repairs")

S = RmaStatus

REPAIR_LABELS = {
    "kind": REPAIR_KIND_LABELS,
    "handback": HANDBACK_LABELS,
    "price_kind": PRICE_ITEM_KIND_LABELS,
}


@bp.context_processor
def desk_labels() -> dict[str, Any]:
    return {"labels": LABELS, "rl": REPAIR_LABELS, "age_text": age_text}


def _today() -> date:
    return today_in_japan(utcnow())


def _store() -> Location | None:
    """The store the logged-in store staff member works at (None for everyone else)."""
    if current_user.role != Role.STORE:
        return None
    if current_user.location is None:
        abort(403)
    return current_user.location


def overdue_text(days: int | None) -> str:
    """ "overdue 3 days" for a repair past its promised date; "" otherwise."""
    if not days:
        return ""
    return ngettext("overdue %(num)d day", "overdue %(num)d days", days)


# -- lists -------------------------------------------------------------------------------------


@bp.route("/")
@staff_required(Role.STORE, Role.ADMIN, Role.SUPPORT, Role.TECHNICIAN)
def index():
    _store()
    tabs = tabs_for(current_user)
    wanted = request.args.get("tab", "")
    tab = Tab(wanted) if wanted in {t.value for t in tabs} else tabs[0]
    today = _today()
    counts = tab_counts(current_user, tabs, today)
    pagination = tab_page(
        current_user,
        tab,
        today,
        page=max(request.args.get("page", 1, type=int), 1),
        per_page=current_app.config["STAFF_PAGE_SIZE"],
    )
    return render_template(
        "staff/repair_list.html",
        tab=TAB_SPECS[tab],
        tabs=[TAB_SPECS[t] for t in tabs],
        counts=counts,
        overdue_count=counts[Tab.OVERDUE],
        pagination=pagination,
        today=today,
        now=utcnow(),
        days_overdue=days_overdue,
        overdue_text=overdue_text,
        item_label=item_label,
        store_view=current_user.role == Role.STORE,
    )


def _place_name(rma: Rma, locale: str) -> str:
    return rma.location.name(locale) if rma.location else ""


def overdue_csv(repairs: list[Rma], today: date) -> bytes:
    locale = locale_code()
    return excel_csv(
        [
            _("Number"),
            _("Customer"),
            _("Item"),
            _("Status"),
            _("Location"),
            _("Promised date"),
            _("Days overdue"),
            _("In this status since"),
        ],
        (
            [
                rma.display_number,
                rma.customer.name,
                item_label(rma, locale),
                str(STATUS_LABELS[rma.status]),
                _place_name(rma, locale),
                rma.repair.promised_on.isoformat(),
                days_overdue(rma.repair, rma.status, today) or 0,
                local_datetime(rma.status_changed_at),
            ]
            for rma in repairs
        ),
    )


@bp.route("/overdue.csv")
@staff_required(Role.STORE, Role.ADMIN, Role.SUPPORT, Role.TECHNICIAN)
def overdue_export():
    _store()
    today = _today()
    store_id = request.args.get("store", type=int) if current_user.role != Role.STORE else None
    body = overdue_csv(overdue_repairs(current_user, today, store_id=store_id), today)
    return csv_download(body, f"repairs-overdue-{today:%Y%m%d}.csv")


# -- scan desk ---------------------------------------------------------------------------------


def _scan_page(status: int = 200, **context: Any) -> tuple[str, int]:
    defaults: dict[str, Any] = {
        "form": ScanForm(formdata=None, mode=request.values.get("mode") or None),
        "hand_over": None,
        "rma": None,
        "message": None,
        "feedback": None,
        "store": _store(),
        "is_admin": current_user.role == Role.ADMIN,
        "is_technician": current_user.role == Role.TECHNICIAN,
    }
    defaults.update(context)
    return render_template("staff/repair_scan.html", **defaults), status


def _refused(exc: DomainError, **context: Any) -> tuple[str, int]:
    """A red answer with the reason; nothing was recorded (409 when it is another place's)."""
    db.session.rollback()
    status = 409 if exc.status == 409 else 422
    return _scan_page(status, message=exc.message, feedback="bad", **context)


def _scan_at_centre(form: ScanForm) -> tuple[str, int]:
    try:
        result = ops.receive_at_centre(form.code.data, staff_actor(current_user))
        commit()
    except DomainError as exc:
        return _refused(exc, form=form)
    return _scan_page(
        form=ScanForm(formdata=None, mode=form.mode.data),
        rma=result.rma,
        message=result.message
        if result.new
        else _l(
            "%(n)s is already at the repair centre — nothing changed.",
            n=result.rma.display_number,
        ),
        feedback="good" if result.new else "warn",
    )


def _not_here(rma: Rma) -> DomainError:
    return ops.WrongPlace(_l("%(n)s is not collected at this store.", n=rma.display_number))


def _scan_at_store(form: ScanForm, store: Location) -> tuple[str, int]:
    """Look first: a returning item is received, a ready one shown for the hand-over."""
    try:
        rma = ops.find_repair(form.code.data)
    except DomainError as exc:
        return _refused(exc, form=form)
    repair = rma.repair  # looked at, not opened: a look-up writes nothing
    pickup_id = repair.pickup_location_id if repair is not None else None
    ours = store.id in (rma.location_id, pickup_id)
    if rma.status == S.RETURNING:
        try:
            result = ops.receive_at_store(form.code.data, store, staff_actor(current_user))
            commit()
        except DomainError as exc:
            return _refused(exc, form=form)
        return _scan_page(
            rma=result.rma, message=result.message, feedback="good" if result.new else "warn"
        )
    if not ours or not can_see(current_user, rma):
        return _refused(_not_here(rma), form=form)
    if rma.status == S.READY and repair is not None and repair.handback == Handback.STORE_PICKUP:
        if pickup_id != store.id:
            return _refused(_not_here(rma), form=form)
        return _scan_page(
            rma=rma,
            message=_l("%(n)s is ready: hand it over to the customer.", n=rma.display_number),
            feedback="good",
            hand_over=HandOverForm(formdata=None),
        )
    if rma.status in (S.HANDED_BACK, S.CLOSED) and repair and repair.handed_back_at:
        return _scan_page(
            rma=rma,
            message=_l("%(n)s was already handed over — nothing changed.", n=rma.display_number),
            feedback="warn",
        )
    return _scan_page(rma=rma, message=_status_hint(rma), feedback="warn")


def _status_hint(rma: Rma) -> Any:
    """What a store scan of a case it has nothing to do with right now tells the clerk."""
    if rma.status == S.ACCEPTED:
        return _l(
            "%(n)s was taken in here and has not left yet: send it to the repair centre from "
            "its repair page.",
            n=rma.display_number,
        )
    if rma.status == S.AWAITING_ITEM:
        return _l(
            "%(n)s is waiting for the customer to bring the item: take it in from its repair page.",
            n=rma.display_number,
        )
    return _l(
        "%(n)s is “%(status)s”: nothing to do at the counter now.",
        n=rma.display_number,
        status=STATUS_LABELS[rma.status],
    )


def _look_up(form: ScanForm) -> tuple[str, int]:
    try:
        rma = ops.find_repair(form.code.data)
    except DomainError as exc:
        return _refused(exc, form=form)
    return _scan_page(
        form=ScanForm(formdata=None, mode=form.mode.data),
        rma=rma,
        message=_l(
            "%(n)s is “%(status)s”. Nothing was changed.",
            n=rma.display_number,
            status=STATUS_LABELS[rma.status],
        ),
        feedback="warn",
    )


@bp.route("/scan", methods=["GET", "POST"])
@staff_required(Role.STORE, Role.ADMIN, Role.TECHNICIAN)
def scan():
    store = _store()
    form = ScanForm()
    if not form.validate_on_submit():
        sent = form.is_submitted()
        return _scan_page(422 if sent else 200, form=form, feedback="bad" if sent else None)
    if store is not None:
        return _scan_at_store(form, store)
    if current_user.role == Role.TECHNICIAN or form.mode.data == MODE_CENTRE:
        return _scan_at_centre(form)
    return _look_up(form)


@bp.route("/scan/<number>/hand-over", methods=["POST"])
@staff_required(Role.STORE)
def hand_over(number: str):
    """The customer collects the item: payment confirmed when money is owed, case closed."""
    store = _store()
    if store is None:
        abort(403)
    rma = visible_rma(number)
    form = HandOverForm()
    if not form.validate_on_submit():
        return _scan_page(
            422,
            rma=rma,
            hand_over=form,
            feedback="bad",
            message=_l("The form expired. Please try again.")
            if form.csrf_token.errors
            else _l("Please correct the marked fields."),
        )
    try:
        done = ops.hand_back(
            rma,
            store,
            staff_actor(current_user),
            paid=bool(form.paid.data),
            payment_note=form.payment_note.data or "",
        )
        commit()
    except DomainError as exc:
        db.session.rollback()
        attach_errors(form, exc)
        rma = visible_rma(number)
        return _scan_page(
            exc.status,
            rma=rma,
            hand_over=form if rma.status == S.READY else None,
            message=exc.message,
            feedback="bad",
        )
    rma = visible_rma(number)
    message = (
        _l("%(n)s handed over to the customer. The case is closed.", n=rma.display_number)
        if done
        else _l("%(n)s was already handed over — nothing changed.", n=rma.display_number)
    )
    return _scan_page(rma=rma, message=message, feedback="good" if done else "warn")


# -- turnaround --------------------------------------------------------------------------------


def _stores() -> list[Location]:
    store = _store()
    if store is not None:
        return [store]
    kinds = [LocationKind.STORE, LocationKind.DEPARTMENT_STORE_COUNTER]
    return list(
        db.session.scalars(
            sa.select(Location)
            .where(Location.active, Location.kind.in_(kinds))
            .order_by(Location.kind, Location.code)
        )
    )


def _turnaround_filters() -> tuple[TurnaroundFilterForm, TurnaroundFilters | None]:
    """The form as typed, and the filters it asks for (None when invalid). Missing dates
    default to the last 90 days; store staff always get their own store."""
    store = _store()
    form = TurnaroundFilterForm(formdata=request.args)
    form.fill_choices(_stores(), locale_code(), fixed=store is not None)
    if store is not None:
        form.store.data = str(store.id)
    if not form.validate():
        return form, None
    today = _today()
    date_from, date_to = form.date_from.data, form.date_to.data
    if date_from is None and date_to is None:
        date_from, date_to = today - timedelta(days=DEFAULT_DAYS - 1), today
    elif date_to is None:
        date_to = max(date_from, today)
    elif date_from is None:
        date_from = date_to - timedelta(days=DEFAULT_DAYS - 1)
    form.date_from.data, form.date_to.data = date_from, date_to
    form.date_from.raw_data = form.date_to.raw_data = None  # show the dates as read
    store_id = int(form.store.data) if form.store.data else None
    return form, TurnaroundFilters(date_from=date_from, date_to=date_to, store_id=store_id)


def kind_label(row: KindRow) -> str:
    if row.total:
        return _("Total")
    if row.kind is None:
        return _("Not diagnosed")
    return str(REPAIR_KIND_LABELS[row.kind])


def _days(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _maybe(value: Any) -> Any:
    return "" if value is None else value


def turnaround_csv(report: TurnaroundReport) -> bytes:
    return excel_csv(
        [
            _("Kind of repair"),
            _("Handed back"),
            _("Median days"),
            _("90th percentile days"),
            _("On time (%)"),
            _("Quote approval rate (%)"),
            _("Quotes approved"),
            _("Quotes declined"),
            _("Average repair cost (yen)"),
        ],
        (
            [
                kind_label(row),
                row.count,
                _days(row.median_days),
                _days(row.p90_days),
                _maybe(row.on_time_share),
                _maybe(row.approval_rate),
                row.quotes_approved,
                row.quotes_declined,
                _maybe(row.average_cost_yen),
            ]
            for row in [*report.rows, report.totals]
        ),
    )


def _query_args(filters: TurnaroundFilters) -> dict[str, str]:
    args = {"date_from": filters.date_from.isoformat(), "date_to": filters.date_to.isoformat()}
    if filters.store_id is not None and current_user.role != Role.STORE:
        args["store"] = str(filters.store_id)
    return args


@bp.route("/turnaround", endpoint="turnaround")
@staff_required(Role.STORE, Role.ADMIN, Role.SUPPORT, Role.TECHNICIAN)
def turnaround_page():
    form, filters = _turnaround_filters()
    today = _today()
    report = turnaround(filters, current_user, today) if filters is not None else None
    return render_template(
        "staff/repair_turnaround.html",
        form=form,
        filters=filters,
        report=report,
        today=today,
        kind_label=kind_label,
        days_overdue=days_overdue,
        overdue_text=overdue_text,
        item_label=item_label,
        export_url=url_for(".turnaround_export", **_query_args(filters)) if filters else None,
        store_view=current_user.role == Role.STORE,
    ), (200 if filters is not None else 422)


@bp.route("/turnaround.csv")
@staff_required(Role.STORE, Role.ADMIN, Role.SUPPORT, Role.TECHNICIAN)
def turnaround_export():
    _form, filters = _turnaround_filters()
    if filters is None:
        return turnaround_page()
    report = turnaround(filters, current_user, _today())
    name = f"repair-turnaround-{filters.date_from:%Y%m%d}-{filters.date_to:%Y%m%d}.csv"
    return csv_download(turnaround_csv(report), name)


# -- price list --------------------------------------------------------------------------------


def _prices_page(status: int = 200, **context: Any) -> tuple[str, int]:
    defaults: dict[str, Any] = {
        "items": pricing.price_items(),
        "form": PriceItemForm(formdata=None, prefix="new"),
        "editing": None,
        "edit_form": None,
    }
    defaults.update(context)
    return render_template("staff/repair_prices.html", **defaults), status


def _save(form: PriceItemForm, item: PriceListItem | None) -> PriceListItem | None:
    """Run the operation; on refusal put its message beside the field. The item when saved."""
    try:
        if item is None:
            item = pricing.add_price_item(form.data_for_operation())
        else:
            pricing.update_price_item(item, form.data_for_operation())
        commit()
    except DomainError as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return None
    except sa.exc.IntegrityError:
        # a colleague saved the same code at the same moment
        db.session.rollback()
        form.code.errors = [*form.code.errors, _l("Another item already has this code.")]
        return None
    return item


@bp.route("/prices", methods=["GET", "POST"])
@staff_required(Role.ADMIN, Role.TECHNICIAN)
def prices():
    form = PriceItemForm(prefix="new")
    if not form.is_submitted():
        return _prices_page()
    item = _save(form, None) if form.validate() else None
    if item is None:
        return _prices_page(422, form=form)
    flash(_l("%(code)s added to the price list.", code=item.code), "success")
    return redirect(url_for(".prices", _anchor=f"item-{item.id}"))


def _item(item_id: int) -> PriceListItem:
    item = db.session.get(PriceListItem, item_id)
    if item is None:
        abort(404)
    return item


@bp.route("/prices/<int:item_id>", methods=["GET", "POST"])
@staff_required(Role.ADMIN, Role.TECHNICIAN)
def price_item(item_id: int):
    item = _item(item_id)
    form = PriceItemForm(prefix="edit")
    if not form.is_submitted():
        form.fill_from(item)
        return _prices_page(editing=item, edit_form=form)
    if not form.validate() or _save(form, item) is None:
        return _prices_page(422, editing=_item(item_id), edit_form=form)
    flash(_l("%(code)s saved.", code=item.code), "success")
    return redirect(url_for(".prices", _anchor=f"item-{item.id}"))


@bp.route("/prices/<int:item_id>/active", methods=["POST"])
@staff_required(Role.ADMIN, Role.TECHNICIAN)
def price_item_active(item_id: int):
    item = _item(item_id)
    form = ActiveForm()
    if not form.validate_on_submit() or form.active.data not in ("on", "off"):
        flash(_l("The form expired. Please try again."), "error")
        return redirect(url_for(".prices"))
    active = form.active.data == "on"
    pricing.set_price_item_active(item, active)
    commit()
    message = (
        _l("%(code)s is offered in quotes again.", code=item.code)
        if active
        else _l("%(code)s is switched off: no longer offered in new quotes.", code=item.code)
    )
    flash(message, "success")
    return redirect(url_for(".prices", _anchor=f"item-{item.id}"))
