"""The P3MI API, ``/api/v1``: token-authenticated JSON for placement companies.

The OpenAPI document (``/api/v1/openapi.json``) and its browsable page (``/api/v1/docs``) are
generated from the code by flask-smorest, the page's Swagger UI served from the swagger-ui-bundle
package under ``/api/v1/docs/static/`` (no CDN: the office network may not reach one); requests are
limited per token on the queues' Redis (``ratelimit``). ``init_app`` wires both; the blueprint
must be exempt from CSRF (no cookies).
"""

from __future__ import annotations

from flask import Blueprint, Flask, request
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path

from pengesahan.extensions import csrf
from pengesahan.records.people import hash_token
from pengesahan.web.api import webhooks  # noqa: F401 - registers /webhook on the blueprint
from pengesahan.web.api.auth import bearer_token
from pengesahan.web.api.errors import handle_http_exception
from pengesahan.web.api.ratelimit import limit_requests
from pengesahan.web.api.schemas import ErrorSchema
from pengesahan.web.api.views import bp

__all__ = ["DEFAULT_RATE_LIMIT", "bp", "init_app"]

#: Requests per token unless API_RATE_LIMIT says otherwise (the limits library's notation).
DEFAULT_RATE_LIMIT = "120/minute"

#: Where the Swagger UI's own files (JS, CSS) are served, from the installed package.
SWAGGER_UI_STATIC = "/api/v1/docs/static"

swagger_ui = Blueprint("swagger_ui", __name__, static_folder=str(swagger_ui_path),
                       static_url_path=SWAGGER_UI_STATIC)


class _Api(Api):
    """flask-smorest's Api with this product's error body (documented and returned)."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return handle_http_exception(error)


def _rate_key() -> str:
    # Runs before authentication: key on the token's hash, or the address when there is none.
    token = bearer_token()
    return f"token:{hash_token(token)}" if token else f"ip:{request.remote_addr}"


def init_app(app: Flask) -> Api:
    """Register the API blueprint, its OpenAPI document and its rate limit on ``app``."""
    settings = app.config["SETTINGS"]
    app.config.setdefault("API_RATE_LIMIT", settings.api_rate_limit or DEFAULT_RATE_LIMIT)
    app.config.update(
        API_TITLE="Pengesahan PP — API P3MI",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=f"{SWAGGER_UI_STATIC}/",
        # Swagger UI would otherwise fetch a badge from validator.swagger.io on every visit.
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
    )
    app.register_blueprint(swagger_ui)
    api = _Api(app, spec_kwargs={
        "info": {"description": "Berkas CPMI, dokumen P3MI dan Perjanjian Penempatan. Autentikasi: "
                                "`Authorization: Bearer <token>` (token API perusahaan)."},
        "security": [{"bearerAuth": []}],
    })
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.register_blueprint(bp)
    csrf.exempt(bp)  # bearer tokens, no cookies: nothing for CSRF to protect

    limit_requests(app, bp, _rate_key)
    return api
