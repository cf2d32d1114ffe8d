"""The Flask extensions, created once and bound to the app by the factory (``init_app``)."""

from __future__ import annotations

from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

__all__ = ["csrf", "login_manager"]

csrf = CSRFProtect()
login_manager = LoginManager()
