"""The support console: find a customer by anything they can tell, and see their whole history.

Support staff and admins only: the page crosses every store and channel, so store staff (who
see their own store's cases) never get it. Searching and the timeline are read-only queries in
reverse.customers.queries; the one change made here is a message to the customer on a case.
"""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SearchField, TextAreaField
from wtforms.validators import DataRequired, Length

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.core.codes import parse_rma_number
from reverse.core.db import commit
from reverse.core.errors import DomainError
from reverse.customers.models import Customer
from reverse.customers.queries import (
    SEARCH_LIMIT,
    TIMELINE_LIMIT,
    TimelineFilter,
    customer_history,
    search_customers,
)
from reverse.extensions import db
from reverse.privacy import audit
from reverse.privacy.export import archive_name, export_archive
from reverse.privacy.models import AuditAction
from reverse.repairs.constants import QUOTE_STATE_LABELS
from reverse.resale.constants import KIND_LABELS as RESERVATION_KIND_LABELS
from reverse.resale.constants import RESERVATION_STATE_LABELS
from reverse.resolution.constants import RefundKind
from reverse.resolution.summary import REFUND_STATE_LABELS, REFUND_STATE_TONES
from reverse.rmas.operations import add_staff_message
from reverse.rmas.policies import staff_actor
from reverse.staff.common import visible_rma

bp = Blueprint("support", __name__, url_prefix="/support")

MESSAGE_MAX = 2000

FILTER_LABELS = {
    TimelineFilter.ALL: _l("Everything"),
    TimelineFilter.ORDERS: _l("Orders"),
    TimelineFilter.CASES: _l("Cases"),
    TimelineFilter.REFUNDS: _l("Refunds"),
    TimelineFilter.MESSAGES: _l("Messages"),
}

SUPPORT_LABELS = {
    "filter": FILTER_LABELS,
    "refund_state": REFUND_STATE_LABELS,
    "refund_tone": REFUND_STATE_TONES,
    "refund_kind": {RefundKind.REFUND: _l("Refund"), RefundKind.STORE_CREDIT: _l("Store credit")},
    "quote_state": QUOTE_STATE_LABELS,
    "reservation_state": RESERVATION_STATE_LABELS,
    "reservation_kind": RESERVATION_KIND_LABELS,
}


class SearchForm(FlaskForm):
    """One box for whatever the caller can read out; a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Find a customer"), validators=[Length(max=200, message=_l("Too long to search."))]
    )


class SupportMessageForm(FlaskForm):
    rma = HiddenField()
    text = TextAreaField(
        _l("Message to the customer"),
        validators=[
            DataRequired(_l("Write a message first.")),
            Length(max=MESSAGE_MAX, message=_l("At most %(n)d characters.", n=MESSAGE_MAX)),
        ],
    )


@bp.context_processor
def support_labels() -> dict[str, Any]:
    return {"sl": SUPPORT_LABELS}


@bp.route("/")
@staff_required(Role.SUPPORT)
def index():
    form = SearchForm(formdata=request.args)
    query = (form.q.data or "").strip()
    result = None
    if query and form.validate():
        result = search_customers(query, limit=SEARCH_LIMIT)
        if result.customer_id is not None:
            return redirect(
                url_for(
                    ".customer",
                    customer_id=result.customer_id,
                    case=result.rma_number,
                    order=result.order_id,
                    q=query,
                )
            )
    return render_template(
        "staff/support_search.html", form=form, query=query, result=result, limit=SEARCH_LIMIT
    )


def _customer_or_404(customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        abort(404)
    return customer


def _filter() -> TimelineFilter:
    try:
        return TimelineFilter(request.args.get("show", TimelineFilter.ALL.value))
    except ValueError:
        return TimelineFilter.ALL


def _customer_page(
    customer: Customer,
    *,
    failed: SupportMessageForm | None = None,
    failed_rma: str | None = None,
    status: int = 200,
):
    """The customer page; a message form that failed comes in with its errors and text."""
    only = _filter()
    history = customer_history(customer, only=only)
    highlight = failed_rma or parse_rma_number(request.args.get("case"))
    order_id = request.args.get("order", type=int)
    return (
        render_template(
            "staff/support_customer.html",
            customer=customer,
            history=history,
            only=only,
            filters=list(TimelineFilter),
            highlight=highlight,
            highlight_order=order_id,
            failed=failed,
            failed_rma=failed_rma,
            blank_form=SupportMessageForm(formdata=None),
            query=request.args.get("q", ""),
            entry_limit=TIMELINE_LIMIT,
            message_max=MESSAGE_MAX,
        ),
        status,
    )


@bp.route("/customers/<int:customer_id>")
@staff_required(Role.SUPPORT)
def customer(customer_id: int):
    customer = _customer_or_404(customer_id)
    audit.note(AuditAction.VIEW_CUSTOMER, target=f"customer {customer.id}")
    return _customer_page(customer)


@bp.route("/customers/<int:customer_id>/export.zip")
@staff_required(Role.SUPPORT)
def export(customer_id: int):
    """Everything held about the customer, for answering their request for it."""
    customer = _customer_or_404(customer_id)
    audit.note(AuditAction.EXPORT, target=f"customer {customer.id}")
    response = send_file(
        io.BytesIO(export_archive(customer)),
        mimetype="application/zip",
        as_attachment=True,
        download_name=archive_name(customer),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/customers/<int:customer_id>/messages", methods=["POST"])
@staff_required(Role.SUPPORT)
def message(customer_id: int):
    customer = _customer_or_404(customer_id)
    form = SupportMessageForm()
    rma = visible_rma(form.rma.data or "")
    if rma.customer_id != customer.id:
        abort(404)
    if not form.validate_on_submit():
        return _customer_page(customer, failed=form, failed_rma=rma.number, status=422)
    try:
        add_staff_message(rma, form.text.data, staff_actor(current_user))
    except DomainError as exc:
        db.session.rollback()
        form.text.errors = [exc.message]
        return _customer_page(customer, failed=form, failed_rma=rma.number, status=422)
    commit()
    flash(
        _l(
            "Message sent on %(number)s: the customer sees it on their status page.",
            number=rma.display_number,
        ),
        "success",
    )
    return redirect(
        url_for(".customer", customer_id=customer.id, case=rma.number, _anchor=f"case-{rma.number}")
    )
