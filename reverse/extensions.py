"""Flask extensions, created unbound and initialised in the app factory."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from reverse.api.schemas import ErrorSchema
from reverse.core.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


class ReverseApi(Api):
    """flask-smorest, with the app's own error handlers (JSON under /api, HTML pages
    elsewhere) instead of its app-wide JSON handler, and their error body in the document."""

    ERROR_SCHEMA = ErrorSchema
    # No catch-all "default" answer: each operation documents the error statuses it can give
    # (reverse.api.responses), so a client — and schemathesis — can rely on the list.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        pass  # reverse.core.errors.register_error_handlers answers for every route


api = ReverseApi()
