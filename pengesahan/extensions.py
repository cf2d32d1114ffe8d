"""The Flask extensions, created once and bound to the app by the factory (``init_app``)."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

__all__ = ["babel", "csrf", "login_manager"]

csrf = CSRFProtect()
login_manager = LoginManager()
# Only the officers' screens translate (Flask-Admin's ``admin`` domain); the product's own
# templates are written in Indonesian, so Jinja's i18n extension is not installed on them.
babel = Babel(configure_jinja=False)
