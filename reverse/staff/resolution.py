"""Settling cases from the staff case page: the refund as computed, the exchange and its
price difference, and the decision on an inspected case (refund, store credit, exchange,
or rejection with a reason the customer reads)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, g, redirect, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.core.db import commit
from reverse.core.errors import DomainError
from reverse.extensions import db
from reverse.resolution.constants import RESOLUTION_LABELS, Resolution
from reverse.resolution.exchanges import reserve_replacements
from reverse.resolution.operations import resolve
from reverse.resolution.summary import (
    REFUND_STATE_LABELS,
    REFUND_STATE_TONES,
    RESERVATION_STATE_LABELS,
    StaffSummary,
    staff_summary,
)
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma
from reverse.rmas.policies import staff_actor
from reverse.staff.common import visible_rma

bp = Blueprint("resolution", __name__, url_prefix="/resolution")

#: who settles cases (admins always may)
DECIDERS = (Role.WAREHOUSE, Role.SUPPORT)
#: a price typed by staff for a declared purchase without one, yen
MAX_PRICE_YEN = 10_000_000
#: statuses in which a missing replacement can still be reserved
RESERVABLE = frozenset(
    {
        RmaStatus.APPROVED,
        RmaStatus.AWAITING_ITEM,
        RmaStatus.IN_TRANSIT,
        RmaStatus.RECEIVED,
        RmaStatus.INSPECTED,
    }
)


class DecisionForm(FlaskForm):
    decision = RadioField(
        _l("Settle by"), validators=[InputRequired(_l("Choose how to settle the case."))]
    )
    reason = TextAreaField(
        _l("Reason for the customer"),
        validators=[Optional(), Length(max=500)],
        description=_l("Needed to reject. Shown on the status page and in our email."),
    )
    price_yen = IntegerField(
        _l("Price paid, checked (yen)"),
        validators=[
            Optional(),
            NumberRange(0, MAX_PRICE_YEN, message=_l("Enter a price from 0 to 10,000,000 yen.")),
        ],
    )

    def set_choices(self, rma: Rma) -> DecisionForm:
        options = [Resolution.REFUND, Resolution.STORE_CREDIT]
        if rma.type == RmaType.EXCHANGE:
            options.insert(0, Resolution.EXCHANGE)
        options.append(Resolution.REJECTED)
        self.decision.choices = [(o.value, RESOLUTION_LABELS[o]) for o in options]
        return self


class ReserveForm(FlaskForm):
    """Just the CSRF token: try to reserve the missing replacements again."""


@dataclass
class ResolutionPanel:
    """What the case page's side panel shows (templates/staff/_rma_resolution.html)."""

    summary: StaffSummary
    form: DecisionForm | None
    reserve_form: ReserveForm | None
    labels: dict[str, Any]


def _may_decide() -> bool:
    return current_user.is_authenticated and current_user.has_role(Role.ADMIN, *DECIDERS)


@bp.app_template_global()
def resolution_panel(rma: Rma) -> ResolutionPanel | None:
    """The panel of `rma` for the logged-in staff member; None for repairs. A decision form
    that failed comes back through `g` with its errors."""
    summary = staff_summary(rma)
    if summary is None:
        return None
    deciding = _may_decide()
    form = None
    if deciding and summary.awaiting_decision:
        form = g.get("resolution_form") or DecisionForm(formdata=None, prefix="resolve")
        form.set_choices(rma)
        if form.decision.data is None:
            form.decision.data = (rma.resolution or _default(rma)).value
    reserve = (
        ReserveForm(formdata=None, prefix="reserve")
        if deciding and summary.missing_reservation and rma.status in RESERVABLE
        else None
    )
    return ResolutionPanel(
        summary=summary,
        form=form,
        reserve_form=reserve,
        labels={
            "resolution": RESOLUTION_LABELS,
            "refund_state": REFUND_STATE_LABELS,
            "refund_tone": REFUND_STATE_TONES,
            "reservation_state": RESERVATION_STATE_LABELS,
        },
    )


def _default(rma: Rma) -> Resolution:
    return Resolution.EXCHANGE if rma.type == RmaType.EXCHANGE else Resolution.REFUND


@bp.route("/")
@staff_required(*DECIDERS)
def index():  # type: ignore[no-untyped-def]
    """Cases waiting for a decision are the inspected ones: the case list, filtered."""
    return redirect(url_for("staff.rma_list", status=RmaStatus.INSPECTED.value, age=""))


def _page_again(rma: Rma, form: DecisionForm, status: int):  # type: ignore[no-untyped-def]
    from reverse.staff.views import detail_page

    g.resolution_form = form
    return detail_page(rma, status=status)


@bp.route("/rmas/<number>/decide", methods=["POST"])
@staff_required(*DECIDERS)
def decide(number: str):  # type: ignore[no-untyped-def]
    rma = visible_rma(number)
    form = DecisionForm(prefix="resolve").set_choices(rma)
    if not form.validate_on_submit():
        return _page_again(rma, form, 422)
    resolution = Resolution(form.decision.data)
    try:
        resolve(
            rma,
            resolution,
            staff_actor(current_user),
            reason=form.reason.data or "",
            price_yen=form.price_yen.data,
        )
    except DomainError as exc:
        db.session.rollback()
        rma = visible_rma(number)
        form.decision.errors = [*form.decision.errors, exc.message]
        return _page_again(rma, form, exc.status)
    commit()
    flash(
        _l(
            "%(number)s settled: %(how)s.",
            number=rma.display_number,
            how=RESOLUTION_LABELS[resolution],
        ),
        "success",
    )
    return redirect(url_for("staff.rma_detail", number=rma.number))


@bp.route("/rmas/<number>/reserve", methods=["POST"])
@staff_required(*DECIDERS)
def reserve(number: str):  # type: ignore[no-untyped-def]
    rma = visible_rma(number)
    form = ReserveForm(prefix="reserve")
    if not form.validate_on_submit() or rma.type != RmaType.EXCHANGE:
        flash(_l("This form has expired. Please reload the page and try again."), "error")
        return redirect(url_for("staff.rma_detail", number=rma.number))
    if rma.status not in RESERVABLE:
        flash(_l("Replacements can no longer be reserved for this case."), "error")
        return redirect(url_for("staff.rma_detail", number=rma.number))
    made = reserve_replacements(rma, staff_actor(current_user))
    commit()
    if made:
        flash(_l("Replacement reserved."), "success")
    else:
        flash(_l("Still no stock for the replacement."), "info")
    return redirect(url_for("staff.rma_detail", number=rma.number))
