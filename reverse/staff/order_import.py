"""Admin pages: importing a CSV of sales (POS, department-store reports) with a column mapping.

Two steps: the upload is checked and kept in the instance folder under a random name (not in
the session); the mapping page previews its first rows and lets the admin choose a column per
field; importing runs reverse.orders.imports.import_orders and commits once.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.catalog.models import Channel, Location
from reverse.core.db import commit
from reverse.core.templating import locale_code
from reverse.extensions import db
from reverse.orders.imports import (
    FIELD_LABELS,
    FIELDS,
    PRESET_LABELS,
    PRESETS,
    REQUIRED,
    ImportFileError,
    header_key,
    import_orders,
    preset_for,
    sniff,
)

bp = Blueprint("order_import", __name__, url_prefix="/orders")

#: largest file accepted, in bytes
MAX_BYTES = 20 * 1024 * 1024
#: an upload nobody imported is deleted after this long
KEEP_SECONDS = 24 * 3600
PREVIEW_ROWS = 10
_TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
CUSTOM = "custom"


class UploadForm(FlaskForm):
    file = FileField(
        _l("Sales file (CSV)"),
        validators=[FileRequired(_l("Choose the CSV file to import."))],
    )
    channel = SelectField(_l("Channel"))
    preset = SelectField(_l("Layout"))


class MappingForm(FlaskForm):
    channel = HiddenField()
    preset = HiddenField()
    location = SelectField(_l("Store or counter of rows that name none"))


for _name in FIELDS:
    setattr(MappingForm, f"map_{_name}", SelectField(FIELD_LABELS[_name], validate_choice=True))


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "order-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _stored(token: str) -> Path:
    if not _TOKEN_RE.match(token):
        abort(404)
    path = _folder() / f"{token}.csv"
    if not path.is_file():
        abort(404)
    return path


def _forget_old_uploads() -> None:
    limit = time.time() - KEEP_SECONDS
    for path in _folder().glob("*.csv"):
        if path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def _channels() -> list[Channel]:
    return list(db.session.scalars(sa.select(Channel).order_by(Channel.id)))


def _channel_choices(locale: str) -> list[tuple[str, str]]:
    return [(c.code.value, c.name(locale)) for c in _channels()]


def _preset_choices() -> list[tuple[str, Any]]:
    return [*((k, PRESET_LABELS[k]) for k in PRESETS), (CUSTOM, _l("Other: I choose the columns"))]


def _upload_page(form: UploadForm, status: int = 200):  # type: ignore[no-untyped-def]
    return (
        render_template(
            "staff/order_import.html", step="upload", form=form, max_mb=MAX_BYTES // 2**20
        ),
        status,
    )


@bp.route("/import", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def index():
    locale = locale_code()
    form = UploadForm()
    form.channel.choices = _channel_choices(locale)
    form.preset.choices = _preset_choices()
    if request.method == "GET":
        form.channel.data = "department_store"
        form.preset.data = "department_store"
        return _upload_page(form)
    if not form.validate():
        return _upload_page(form, 422)
    data = form.file.data.stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        form.file.errors.append(
            _l(
                "The file is larger than %(mb)s MB. Split it and import the parts.",
                mb=MAX_BYTES // 2**20,
            )
        )
        return _upload_page(form, 422)
    try:
        sniff(data)
    except ImportFileError as exc:
        form.file.errors.append(exc.message)
        return _upload_page(form, 422)
    _forget_old_uploads()
    token = secrets.token_hex(16)
    (_folder() / f"{token}.csv").write_bytes(data)
    return redirect(
        url_for(
            ".mapping",
            token=token,
            channel=form.channel.data,
            preset=form.preset.data,
            name=(form.file.data.filename or "")[:120],
        )
    )


def _mapping_form(header: list[str], preset: str, formdata: Any = None) -> MappingForm:
    form = MappingForm(formdata=formdata)
    columns = [("", "—"), *((h, h) for h in header if h)]
    for name in FIELDS:
        select = getattr(form, f"map_{name}")
        select.choices = columns
        if name in REQUIRED:
            select.label.text = f"{FIELD_LABELS[name]} *"
    locations = db.session.scalars(
        sa.select(Location).where(Location.active).order_by(Location.kind, Location.code)
    )
    locale = locale_code()
    form.location.choices = [("", "—")] + [
        (loc.code, f"{loc.name(locale)} ({loc.code})") for loc in locations
    ]
    if formdata is None:
        for name, column in _guess(header, preset).items():
            getattr(form, f"map_{name}").data = column
    return form


def _guess(header: list[str], preset: str) -> dict[str, str]:
    """The preset's columns; for a custom layout, columns named like a preset's or a field."""
    if preset in PRESETS:
        chosen = preset_for(preset, header)
    else:
        chosen = {}
        for layout in PRESETS.values():
            for name, column in layout.items():
                chosen.setdefault(name, column)
        chosen |= {name: name for name in FIELDS}
    by_key = {header_key(h): h for h in header}
    return {name: by_key[header_key(c)] for name, c in chosen.items() if header_key(c) in by_key}


def _mapping_page(form: MappingForm, token: str, header: list[str], preview: list, **extra: Any):  # type: ignore[no-untyped-def]
    status = extra.pop("status", 200)
    channel = db.session.scalar(sa.select(Channel).where(Channel.code == form.channel.data))
    return (
        render_template(
            "staff/order_import.html",
            step="result" if "result" in extra else "mapping",
            form=form,
            token=token,
            header=header,
            preview=preview,
            channel=channel,
            name=request.args.get("name", ""),
            fields=[(name, getattr(form, f"map_{name}")) for name in FIELDS],
            **extra,
        ),
        status,
    )


@bp.route("/import/<token>", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def mapping(token: str):
    path = _stored(token)
    data = path.read_bytes()
    try:
        header, preview = sniff(data, PREVIEW_ROWS)
    except ImportFileError:
        abort(404)
    preset = request.values.get("preset", CUSTOM)
    if request.method == "GET":
        form = _mapping_form(header, preset)
        form.channel.data = request.args.get("channel", "")
        form.preset.data = preset
        return _mapping_page(form, token, header, preview)

    form = _mapping_form(header, preset, formdata=request.form)
    channel = db.session.scalar(sa.select(Channel).where(Channel.code == form.channel.data))
    if not form.validate() or channel is None:
        if channel is None:
            form.form_errors.append(_l("Choose the channel again: upload the file once more."))
        return _mapping_page(form, token, header, preview, status=422)
    mapping = {
        name: getattr(form, f"map_{name}").data
        for name in FIELDS
        if getattr(form, f"map_{name}").data
    }
    missing = [name for name in REQUIRED if name not in mapping]
    for name in missing:
        getattr(form, f"map_{name}").errors.append(_l("Choose the column of this field."))
    if "sku" not in mapping and "jan" not in mapping:
        missing.append("jan")
        form.map_jan.errors.append(_l("Choose the column of the JAN or of the SKU."))
    if missing:
        return _mapping_page(form, token, header, preview, status=422)
    location = None
    if form.location.data:
        location = db.session.scalar(sa.select(Location).where(Location.code == form.location.data))

    result = import_orders(data, mapping, channel, location=location)
    commit()
    path.unlink(missing_ok=True)
    return _mapping_page(form, token, header, preview, result=result)
