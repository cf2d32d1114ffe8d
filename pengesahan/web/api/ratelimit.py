"""The P3MI API's request budget: per token (per address without one), fixed windows counted in
the queues' Redis by the ``limits`` library, so every web process spends from the same budget.

A token's budget cannot stop a client that makes up a new token for every request: each would
get a fresh budget. So every answer 401 also spends the address's budget of failed
authentications (``API_AUTH_FAILURE_LIMIT``), and an address that has spent it is refused with
429 before its token is looked at, whatever token it sends, until the window ends. The address
is the client's as the trusted proxies report it (``TRUSTED_PROXIES``, app.py), not a header
anyone can write.

``limits`` is what Flask-Limiter counts with; used directly because Flask-Limiter's ``flask
limiter`` plugin command made every ``flask`` process (each worker, each ``flask verify`` a script
runs on a PP) import it and its console library, about a third of ``flask --help``.

Over budget: 429 with ``Retry-After`` and the limit in words. Every answer carries
``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset``. A Redis that does not answer does not stop
the API (the budget is not counted meanwhile, and a warning is logged): uploads are kept and
queued later, as in the portal.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import redis
from flask import Blueprint, Flask, current_app, g, request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

__all__ = ["KEY_PREFIX", "limit_requests", "storage_uri"]

log = logging.getLogger(__name__)

#: The counters' keys in Redis start with this.
KEY_PREFIX = "pengesahan:api:limit"


def storage_uri(redis_url: str | None) -> str:
    """The limits-library URI of the queues' Redis (``unix://`` becomes ``redis+unix://``)."""
    if not redis_url:
        return "memory://"
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def limit_requests(app: Flask, blueprint: Blueprint, key: Callable[[], str]) -> None:
    """Spend one request of ``key()``'s budget (``app.config["API_RATE_LIMIT"]``, read on every
    request, in the limits notation such as ``120/minute``) before each request to ``blueprint``,
    and one of the address's failures (``app.config["API_AUTH_FAILURE_LIMIT"]``) with each 401."""
    uri = storage_uri(app.config["SETTINGS"].redis_url)
    options = {"key_prefix": KEY_PREFIX} if uri != "memory://" else {}
    limiter = FixedWindowRateLimiter(storage_from_string(uri, **options))

    # On the app, not the blueprint: the app's run first, so a request is counted before the
    # blueprint authenticates it, and a client repeating a revoked token spends its budget too.
    @app.before_request
    def spend():
        if blueprint.name not in request.blueprints:
            return
        limit = parse(current_app.config["API_RATE_LIMIT"])
        identity = key()
        failures, address = parse(current_app.config["API_AUTH_FAILURE_LIMIT"]), _failures_of_address()
        try:
            if not limiter.test(failures, address):
                window = limiter.get_window_stats(failures, address)
                raise TooManyRequests(str(failures), retry_after=_seconds_until(window.reset_time))
            allowed = limiter.hit(limit, identity)
            window = limiter.get_window_stats(limit, identity)
        except redis.RedisError as error:
            log.warning("API rate limit not counted, Redis did not answer: %s", error)
            return
        g.api_rate_limit = (limit, window)
        if not allowed:
            raise TooManyRequests(str(limit), retry_after=_seconds_until(window.reset_time))

    @app.after_request
    def tell(response):
        if response.status_code == 401 and blueprint.name in request.blueprints:
            try:
                limiter.hit(parse(current_app.config["API_AUTH_FAILURE_LIMIT"]), _failures_of_address())
            except redis.RedisError as error:
                log.warning("API authentication failure not counted, Redis did not answer: %s", error)
        if "api_rate_limit" in g:
            limit, window = g.api_rate_limit
            response.headers["X-RateLimit-Limit"] = str(limit.amount)
            response.headers["X-RateLimit-Remaining"] = str(window.remaining)
            response.headers["X-RateLimit-Reset"] = str(math.ceil(window.reset_time))
        return response


def _failures_of_address() -> str:
    return f"auth-failed:{request.remote_addr}"


def _seconds_until(moment: float) -> int:
    return max(1, math.ceil(moment - time.time()))
