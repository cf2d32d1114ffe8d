"""The web doors (the admin, the portal, the API...) of an app that ``flask`` built only to run
one of its commands are added when that app first serves a request.

``flask --app app <command>`` builds the whole app just to find the command, and most commands
(``--help``, the worker, ``db``, ``ltv``, ``backup``...) never serve a page, while the doors cost
about half a second of imports (Flask-Admin's views, the API's schemas) and memory in every
worker process. An app built by a WSGI server, a test or a built-in ``flask run``/``shell``/
``routes`` gets its doors at once, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import click
from flask import Flask
from flask.cli import FlaskGroup

__all__ = ["building_for_a_command", "defer_doors", "open_doors"]


def building_for_a_command() -> bool:
    """Whether ``flask`` is building the app to find or list the app's own commands.

    Flask loads the app in the ``flask`` group's own context for that, and in the command's
    context for its built-ins (``run``, ``shell``, ``routes``), which need every route."""
    context = click.get_current_context(silent=True)
    return context is not None and context.parent is None and isinstance(context.command, FlaskGroup)


class _DeferredDoors:
    """``app.wsgi_app`` until the doors are added: adds them once, then steps aside."""

    def __init__(self, app: Flask, add_doors: Callable[[Flask], None]):
        self._app = app
        self._add_doors = add_doors
        self._serve = app.wsgi_app
        # Several server threads may take the first requests at once; one adds, the others wait.
        self._lock = threading.Lock()

    def open(self) -> None:
        with self._lock:
            if self._app.wsgi_app is self:
                self._add_doors(self._app)
                self._app.wsgi_app = self._serve

    def __call__(self, environ, start_response):
        self.open()
        return self._serve(environ, start_response)


def defer_doors(app: Flask, add_doors: Callable[[Flask], None]) -> None:
    """Call ``add_doors(app)`` when ``app`` first serves a request (or :func:`open_doors`)."""
    app.wsgi_app = _DeferredDoors(app, add_doors)


def open_doors(app: Flask) -> None:
    """Make sure ``app`` has its doors before it serves: a server that starts should fail at
    start, not at its first request, and not make that request wait. Nothing if it has them."""
    if isinstance(app.wsgi_app, _DeferredDoors):
        app.wsgi_app.open()
