"""The managers' dashboard (/staff/analytics/): return rates, outcomes, cycle times and SLA,
repairs, recovered value and the most returned SKUs — one tab each, with filters, charts and a
CSV behind every table.

Admins and support read every location; store staff only their own. Filters are GET; the one
POST asks for a refresh of the summary tables (a job, through the outbox)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import Optional, ValidationError

from reverse.analytics import queries as q
from reverse.analytics.charts import ColumnChart, Segment, column_chart, stacked
from reverse.analytics.models import Refresh
from reverse.analytics.operations import refresh_pending, request_refresh
from reverse.analytics.refresh import latest_refresh
from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.catalog.constants import CATEGORY_LABELS, CHANNEL_LABELS, ChannelCode
from reverse.catalog.models import Location
from reverse.core.dates import TOKYO, today_in_japan
from reverse.core.db import commit
from reverse.core.spreadsheet import csv_download, excel_csv
from reverse.core.templating import locale_code
from reverse.extensions import db
from reverse.intake.constants import DISPOSITION_LABELS
from reverse.portal.forms import PurchaseDateField, select_choices
from reverse.repairs.constants import REPAIR_KIND_LABELS
from reverse.resale.reports import ValueReport
from reverse.resolution.constants import Resolution
from reverse.rmas.constants import REASON_LABELS
from reverse.rmas.models import RmaEvent
from reverse.staff.common import LABELS
from reverse.warehouse_queues import QUEUES

bp = Blueprint("analytics", __name__, url_prefix="/analytics")

READERS = (Role.SUPPORT, Role.STORE)

VIEW_LABELS = {
    q.View.RETURNS: _l("Return rate"),
    q.View.OUTCOMES: _l("Outcomes"),
    q.View.CYCLE: _l("Cycle times"),
    q.View.SLA: _l("SLA breaches"),
    q.View.REPAIRS: _l("Repairs"),
    q.View.RECOVERED: _l("Recovered value"),
    q.View.SKUS: _l("Most returned SKUs"),
}

GROUP_LABELS = {
    q.Group.REASON: _l("Reason"),
    q.Group.PRODUCT: _l("Product"),
    q.Group.CATEGORY: _l("Category"),
    q.Group.CHANNEL: _l("Channel"),
    q.Group.RETAILER: _l("Retailer"),
}

RESOLUTION_LABELS = {
    Resolution.REFUND.value: _l("Refund"),
    Resolution.STORE_CREDIT.value: _l("Store credit"),
    Resolution.EXCHANGE.value: _l("Exchange"),
    Resolution.REJECTED.value: _l("Sent back (rejected)"),
}

STAGE_LABELS = {
    q.Stage.TO_RECEIVE: _l("Submitted → received"),
    q.Stage.TO_INSPECT: _l("Received → inspected"),
    q.Stage.TO_RESOLVE: _l("Inspected → resolved"),
    q.Stage.TOTAL: _l("Submitted → resolved"),
}

#: the colour of each outcome in the mix (SVG attributes: the CSP allows no inline styles)
RESOLUTION_COLOURS = {
    Resolution.EXCHANGE.value: "#23395b",
    Resolution.STORE_CREDIT.value: "#4f7cac",
    Resolution.REFUND.value: "#c0843d",
    Resolution.REJECTED.value: "#9a9a9a",
}


class AnalyticsFilterForm(FlaskForm):
    """GET filters; not a state change, so no CSRF token."""

    class Meta:
        csrf = False

    date_from = PurchaseDateField(_l("From"))
    date_to = PurchaseDateField(_l("Until"))
    channel = SelectField(
        _l("Channel"),
        choices=select_choices(
            [("", _l("All channels")), *((c.value, CHANNEL_LABELS[c]) for c in ChannelCode)]
        ),
        validators=[Optional()],
    )
    location = SelectField(_l("Location"), validators=[Optional()])

    def validate_date_to(self, field: PurchaseDateField) -> None:
        start, end = self.date_from.data, field.data
        if start and end and start > end:
            raise ValidationError(_l("The end date is before the start date."))
        if start and end and (end - start).days >= q.MAX_RANGE_DAYS:
            raise ValidationError(_l("Choose a range of at most three years."))


def _store_view() -> bool:
    return current_user.role == Role.STORE


def _locations() -> list[Location]:
    if _store_view():
        return list(
            db.session.scalars(sa.select(Location).where(Location.id == current_user.location_id))
        )
    stmt = sa.select(Location).where(Location.active).order_by(Location.kind, Location.code)
    return list(db.session.scalars(stmt))


def _filters() -> tuple[AnalyticsFilterForm, q.Filters | None]:
    """The form as typed and the filters it asks for (None when invalid); missing dates are
    the last 90 days; store staff always get their own location."""
    store = _store_view()
    if store and current_user.location_id is None:
        abort(403)
    form = AnalyticsFilterForm(formdata=request.args)
    sites = [(str(loc.id), loc.name(locale_code())) for loc in _locations()]
    form.location.choices = select_choices(sites if store else [("", _l("All locations")), *sites])
    if store:
        form.location.data = str(current_user.location_id)
    if not form.validate():
        return form, None
    date_from, date_to = form.date_from.data, form.date_to.data
    today = today_in_japan()
    if date_from is None and date_to is None:
        date_from, date_to = today - timedelta(days=q.DEFAULT_DAYS - 1), today
    elif date_to is None:
        date_to = max(date_from, today)
    elif date_from is None:
        date_from = date_to - timedelta(days=q.DEFAULT_DAYS - 1)
    form.date_from.data, form.date_to.data = date_from, date_to
    form.date_from.raw_data = form.date_to.raw_data = None
    filters = q.Filters(
        date_from=date_from,
        date_to=date_to,
        channel=form.channel.data or None,
        location_id=int(form.location.data) if form.location.data else None,
    )
    return form, filters


def _group() -> q.Group:
    try:
        return q.Group(request.args.get("group", q.Group.REASON.value))
    except ValueError:
        return q.Group.REASON


def _args(filters: q.Filters, **extra: str) -> dict[str, str]:
    args = {"date_from": filters.date_from.isoformat(), "date_to": filters.date_to.isoformat()}
    if filters.channel:
        args["channel"] = filters.channel
    if filters.location_id is not None and not _store_view():
        args["location"] = str(filters.location_id)
    return args | extra


class Freshness:
    """How fresh the figures are: the last refresh, the changes made since, whether a
    refresh is waiting, and whether the page should warn."""

    def __init__(self, refresh: Refresh | None, config: Any, now: datetime) -> None:
        self.refresh = refresh
        self.pending = refresh_pending()
        self.changes = 0
        self.stale = refresh is None
        if refresh is not None:
            as_of = refresh.as_of
            # rma_events.created_at is indexed: this stays cheap on years of events
            self.changes = int(
                db.session.scalar(
                    sa.select(sa.func.count())
                    .select_from(RmaEvent)
                    .where(RmaEvent.created_at > refresh.as_of)
                )
                or 0
            )
            max_age = timedelta(minutes=float(config["ANALYTICS_MAX_AGE_MINUTES"]))
            self.stale = self.changes > 0 and now - as_of > max_age

    @property
    def as_of_local(self) -> str:
        if self.refresh is None:
            return ""
        return self.refresh.as_of.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")

    @property
    def as_of_day(self) -> date | None:
        return None if self.refresh is None else self.refresh.as_of.astimezone(TOKYO).date()


def _view_or_404(view: str) -> q.View:
    try:
        return q.View(view)
    except ValueError:
        abort(404)


@bp.route("/", defaults={"view": q.View.RETURNS.value})
@bp.route("/<view>")
@staff_required(*READERS)
def index(view: str):
    current = _view_or_404(view)
    form, filters = _filters()
    freshness = Freshness(latest_refresh(), current_app.config, datetime.now(UTC))
    data: dict[str, Any] = {}
    if filters is not None and freshness.refresh is not None:
        data = q.view_data(
            current,
            filters,
            group=_group(),
            config=current_app.config,
            as_of=freshness.refresh.as_of,
        )
    return render_template(
        "staff/analytics.html",
        view=current,
        views=VIEW_LABELS,
        form=form,
        filters=filters,
        group=_group(),
        group_labels=GROUP_LABELS,
        data=data,
        freshness=freshness,
        args=_args(filters) if filters else {},
        store_view=_store_view(),
        labels=LABELS,
        key_label=key_label,
        resolution_labels=RESOLUTION_LABELS,
        resolution_colours=RESOLUTION_COLOURS,
        stage_labels=STAGE_LABELS,
        queues=QUEUES,
        reason_labels=REASON_LABELS,
        disposition_labels=DISPOSITION_LABELS,
        percentiles=q.PERCENTILES,
        can_refresh=current_user.role in (Role.ADMIN, Role.SUPPORT),
        tables=TABLES,
        repair_kinds=REPAIR_KIND_LABELS,
        column_chart_of=_trend_chart,
        stacked_of=_outcome_segments,
        cycle_top=_cycle_top,
    ), (200 if filters is not None else 422)


def _trend_chart(points: list[q.TrendPoint], monthly: bool) -> ColumnChart:
    return column_chart([p.start for p in points], [p.rate for p in points], monthly=monthly)


def _outcome_segments(rows: list[q.OutcomeRow]) -> list[Segment]:
    return stacked([(r.resolution, r.cases, RESOLUTION_COLOURS[r.resolution]) for r in rows])


def _cycle_top(rows: list[q.CycleRow]) -> float:
    """One scale for every stage's bar: the longest P90, at least an hour."""
    return max([r.hours[0.9] or 0 for r in rows] + [1.0])


@bp.post("/refresh")
@staff_required(Role.SUPPORT)
def refresh():
    if request_refresh():
        flash(_("Refresh requested: the figures are recomputed in the background."), "success")
    else:
        flash(_("A refresh is already on its way."), "success")
    commit()
    return redirect(_safe_next(request.form.get("next", "")))


def _safe_next(target: str) -> str:
    """Back to the dashboard page the button was on; never to another site."""
    if target.startswith("/staff/analytics/") and "//" not in target:
        return target
    return url_for(".index")


# -- labels and CSV ------------------------------------------------------------------------------


def key_label(group: q.Group, row: q.RateRow) -> str:
    """A group's name in the reader's language."""
    if row.key is None:
        return _("Total")
    if group == q.Group.REASON:
        return str(REASON_LABELS.get(row.key, row.key or _("No reason given")))
    if group == q.Group.CATEGORY:
        return str(_enum_label(CATEGORY_LABELS, row.key))
    if group == q.Group.CHANNEL:
        return str(_enum_label(CHANNEL_LABELS, row.key))
    if group == q.Group.RETAILER:
        return row.key or _("Our own channels")
    return row.label(locale_code())


def _enum_label(labels: dict[Any, Any], key: str) -> Any:
    for value, label in labels.items():
        if value == key:
            return label
    return key


def _rate(value: Any) -> str:
    return "" if value is None else str(value)


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _csv_rates(filters: q.Filters) -> tuple[list[Any], list[list[Any]]]:
    group = _group()
    report = q.return_rates(filters, group)
    header = [
        str(GROUP_LABELS[group]),
        _("Group name"),
        _("Units returned"),
        _("Units sold"),
        _("Return rate (%)"),
    ]
    rows = [
        [row.key or "", key_label(group, row), row.returned, row.sold, _rate(row.rate)]
        for row in [*report.rows, report.totals]
    ]
    return header, rows


def _csv_trend(filters: q.Filters) -> tuple[list[Any], list[list[Any]]]:
    points, monthly = q.trend(filters)
    header = [
        _("Month from") if monthly else _("Week from"),
        _("Units returned"),
        _("Units sold"),
        _("Return rate (%)"),
    ]
    return header, [[p.start.isoformat(), p.returned, p.sold, _rate(p.rate)] for p in points]


def _csv_outcomes(filters: q.Filters) -> tuple[list[Any], list[list[Any]]]:
    report = q.outcomes(filters)
    header = [
        _("Outcome"),
        _("Group name"),
        _("Cases"),
        _("Share (%)"),
        _("Value of returned items (yen)"),
        _("Refunded or credited (yen)"),
    ]
    rows = [
        [
            r.resolution,
            str(RESOLUTION_LABELS[r.resolution]),
            r.cases,
            _rate(report.share(r)),
            r.value_yen,
            r.refund_yen,
        ]
        for r in report.rows
    ]
    rows.append(["open", _("Not decided yet"), report.open_cases, "", "", ""])
    return header, rows


def _csv_cycle(filters: q.Filters) -> tuple[list[Any], list[list[Any]]]:
    header = [_("Stage"), _("Cases"), *[_("P%(n)d (hours)", n=int(p * 100)) for p in q.PERCENTILES]]
    rows = [
        [str(STAGE_LABELS[r.stage]), r.count, *[_hours(r.hours[p]) for p in q.PERCENTILES]]
        for r in q.cycle_times(filters)
    ]
    return header, rows


def _csv_sla(filters: q.Filters) -> tuple[list[Any], list[list[Any]]]:
    refresh = latest_refresh()
    as_of = refresh.as_of if refresh else datetime.now(UTC)
    header = [
        _("Queue"),
        _("SLA (hours)"),
        _("Cases"),
        _("Over the SLA"),
        _("Breach rate (%)"),
        _("Still waiting"),
    ]
    rows = [
        [
            str(QUEUES[r.queue].label),
            int(r.sla.total_seconds() // 3600),
            r.entered,
            r.breached,
            _rate(r.rate),
            r.still_open,
        ]
        for r in q.sla_breaches(filters, current_app.config, as_of)
    ]
    return header, rows


def _csv_repairs(filters: q.Filters) -> tuple[list[Any], list[list[Any]]]:
    summary = q.repairs(filters)
    header = [
        _("Kind of repair"),
        _("Handed back"),
        _("Median days"),
        _("90th percentile days"),
        _("On time (%)"),
        _("Quotes approved"),
        _("Quotes declined"),
        _("Approval rate (%)"),
    ]
    rows = []
    for row in [*summary.rows, summary.totals]:
        name = (
            _("Total")
            if row.total
            else str(REPAIR_KIND_LABELS[row.kind])
            if row.kind
            else _("Not diagnosed")
        )
        rows.append(
            [
                name,
                row.count,
                _hours(row.median_days),
                _hours(row.p90_days),
                _rate(row.on_time_share),
                row.quotes_approved,
                row.quotes_declined,
                _rate(row.approval_rate),
            ]
        )
    return header, rows


def _value_rows(report: ValueReport, names: Any) -> tuple[list[Any], list[list[Any]]]:
    header = [
        _("Group"),
        _("Units sold"),
        _("Original price total (yen)"),
        _("Recovered (yen)"),
        _("Recovery rate (%)"),
    ]
    rows = [
        [
            names(r.key) if r is not report.totals else _("Total"),
            r.units_sold,
            r.original_yen,
            r.recovered_yen,
            _rate(r.recovery_rate),
        ]
        for r in [*report.rows, report.totals]
    ]
    return header, rows


def _csv_grade(filters: q.Filters) -> tuple[list[Any], list[list[Any]]]:
    return _value_rows(q.recovered(filters, q.Dimension.GRADE), lambda key: key or "—")


def _csv_disposition(filters: q.Filters) -> tuple[list[Any], list[list[Any]]]:
    return _value_rows(
        q.recovered(filters, q.Dimension.DISPOSITION),
        lambda key: str(_enum_label(DISPOSITION_LABELS, key)) if key else "—",
    )


def _csv_skus(filters: q.Filters) -> tuple[list[Any], list[list[Any]]]:
    header = [_("SKU"), _("Item"), _("Units returned"), _("Cases"), _("Top reasons")]
    rows = [
        [
            r.sku,
            r.name(locale_code()),
            r.returned,
            r.cases,
            " / ".join(f"{REASON_LABELS.get(k, k)} {n}" for k, n in r.reasons),
        ]
        for r in q.top_skus(filters)
    ]
    return header, rows


#: every table of the dashboard and how its CSV is made
TABLES = {
    "trend": _csv_trend,
    "rates": _csv_rates,
    "outcomes": _csv_outcomes,
    "cycle": _csv_cycle,
    "sla": _csv_sla,
    "repairs": _csv_repairs,
    "recovered-grade": _csv_grade,
    "recovered-disposition": _csv_disposition,
    "skus": _csv_skus,
}


@bp.route("/<table>.csv")
@staff_required(*READERS)
def export(table: str):
    make = TABLES.get(table)
    if make is None:
        abort(404)
    _form, filters = _filters()
    if filters is None:
        abort(422)
    if latest_refresh() is None:
        abort(409)
    header, rows = make(filters)
    suffix = f"-{_group().value}" if table == "rates" else ""
    name = f"analytics-{table}{suffix}-{filters.date_from:%Y%m%d}-{filters.date_to:%Y%m%d}.csv"
    return csv_download(excel_csv(header, rows), name)
