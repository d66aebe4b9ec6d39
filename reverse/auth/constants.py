"""Staff roles."""

import enum

from flask_babel import lazy_gettext as _l


class Role(enum.StrEnum):
    ADMIN = "admin"
    SUPPORT = "support"
    WAREHOUSE = "warehouse"
    STORE = "store"
    TECHNICIAN = "technician"


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.SUPPORT: _l("Support"),
    Role.WAREHOUSE: _l("Warehouse"),
    Role.STORE: _l("Store staff"),
    Role.TECHNICIAN: _l("Repair technician"),
}
