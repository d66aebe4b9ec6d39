"""Staff forms: RMA list filters and the status change."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from reverse.catalog.constants import CHANNEL_LABELS
from reverse.rmas.constants import STATUS_LABELS, TYPE_LABELS

#: age filter: at least this many days in the current status
AGE_CHOICES = (0, 1, 3, 7, 14, 30)


class RmaFilterForm(FlaskForm):
    """GET filters of the RMA list; not a state change, so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(_l("RMA number"), validators=[Optional(), Length(max=40)])
    status = SelectField(_l("Status"), validators=[Optional()])
    type = SelectField(_l("Type"), validators=[Optional()])
    channel = SelectField(_l("Channel"), validators=[Optional()])
    location = SelectField(_l("Location"), validators=[Optional()])
    age = SelectField(_l("Waiting"), validators=[Optional()])
    page = IntegerField(validators=[Optional()])

    def fill_choices(self, locations: list[tuple[str, str]]) -> None:
        any_ = ("", _l("All"))
        self.status.choices = [any_, *[(s.value, label) for s, label in STATUS_LABELS.items()]]
        self.type.choices = [any_, *[(t.value, label) for t, label in TYPE_LABELS.items()]]
        self.channel.choices = [any_, *[(c.value, label) for c, label in CHANNEL_LABELS.items()]]
        self.location.choices = [any_, *locations]
        self.age.choices = [
            ("", _l("Any age")),
            *[(str(d), _l("%(n)d+ days", n=d)) for d in AGE_CHOICES if d],
        ]


class StatusChangeForm(FlaskForm):
    to_status = SelectField(_l("Move to"), validators=[DataRequired(_l("Choose a status."))])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    #: the version the page was rendered from: a move based on a stale page is refused
    version = HiddenField(validators=[DataRequired()])
