"""The P3MI API's request budget: per token (per address without one), fixed windows counted in
the queues' Redis, so every web process spends from the same budget.

A token's budget cannot stop a client that makes up a new token for every request: each would
get a fresh budget. So every answer 401 also spends the address's budget of failed
authentications (``API_AUTH_FAILURE_LIMIT``), and an address that has spent it is refused with
429 before its token is looked at, whatever token it sends, until the window ends. The address
is the client's as the trusted proxies report it (``TRUSTED_PROXIES``, app.py), not a header
anyone can write.

The limits are written in the ``limits`` library's notation (``120/minute``), which parses and
words them. The counting is one Lua script of ours, one round trip a request: the library's
fixed-window strategy asked Redis four times (the address's failures, the spending, the
remaining count, the window's end), a fifth of the API's cost of an upload. A window starts
with its first request and lasts the limit's period, as the library's did.

Over budget: 429 with ``Retry-After`` and the limit in words. Every answer carries
``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset``. A Redis that does not answer does not stop
the API (the budget is not counted meanwhile, and a warning is logged): uploads are kept and
queued later, as in the portal. Without a Redis configured (REDIS_URL) nothing is counted: such
an installation cannot queue anything either.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from flask import Blueprint, Flask, current_app, g, request
from limits import RateLimitItem, parse
from werkzeug.exceptions import TooManyRequests

__all__ = ["KEY_PREFIX", "RATE_LIMIT_EXTENSION", "limit_requests"]

log = logging.getLogger(__name__)

#: The counters' keys in Redis start with this.
KEY_PREFIX = "pengesahan:api:limit"
#: ``app.extensions`` holds the budget's Redis client under this name.
RATE_LIMIT_EXTENSION = "pengesahan.api_rate_limit"
#: A Redis that hangs must not hang the API with it: seconds before the budget goes uncounted.
REDIS_TIMEOUT = 1.0

# KEYS[1] the address's failed authentications, KEYS[2] the budget spent; ARGV[1] the failures
# allowed, ARGV[2] the budget's window in seconds. Returns {-1, ms left} when the address is
# refused (the budget untouched), else {requests spent in the window, ms left in it}. A counter
# found without an expiry gets one: a window must end even if a write was lost half-way.
_SPEND = """
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
if failures >= tonumber(ARGV[1]) then
  return {-1, redis.call('PTTL', KEYS[1])}
end
local spent = redis.call('INCR', KEYS[2])
local left = redis.call('PTTL', KEYS[2])
if left < 0 then
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  left = ARGV[2] * 1000
end
return {spent, left}
"""
# KEYS[1] a counter, ARGV[1] its window in seconds: one more in the window.
_COUNT = """
local count = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


@dataclass(frozen=True)
class Window:
    """What is left of a budget: requests, and when (epoch seconds) the window ends."""

    remaining: int
    reset_time: float


def limit_requests(app: Flask, blueprint: Blueprint, key: Callable[[], str]) -> None:
    """Spend one request of ``key()``'s budget (``app.config["API_RATE_LIMIT"]``, read on every
    request, in the limits notation such as ``120/minute``) before each request to ``blueprint``,
    and one of the address's failures (``app.config["API_AUTH_FAILURE_LIMIT"]``) with each 401."""
    url = app.config["SETTINGS"].redis_url
    if not url:
        return
    connection = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)
    app.extensions[RATE_LIMIT_EXTENSION] = connection
    spend_script, count_script = connection.register_script(_SPEND), connection.register_script(_COUNT)

    # On the app, not the blueprint: the app's run first, so a request is counted before the
    # blueprint authenticates it, and a client repeating a revoked token spends its budget too.
    @app.before_request
    def spend():
        if blueprint.name not in request.blueprints:
            return
        limit = parse(current_app.config["API_RATE_LIMIT"])
        failures = parse(current_app.config["API_AUTH_FAILURE_LIMIT"])
        try:
            spent, ms_left = spend_script(
                keys=[_key(failures, _failures_of_address()), _key(limit, key())],
                args=[failures.amount, limit.get_expiry()])
        except redis.RedisError as error:
            log.warning("API rate limit not counted, Redis did not answer: %s", error)
            return
        if spent < 0:
            raise TooManyRequests(str(failures), retry_after=_seconds_in(ms_left))
        window = Window(max(0, limit.amount - spent), time.time() + max(ms_left, 0) / 1000)
        g.api_rate_limit = (limit, window)
        if spent > limit.amount:
            raise TooManyRequests(str(limit), retry_after=_seconds_in(ms_left))

    @app.after_request
    def tell(response):
        if response.status_code == 401 and blueprint.name in request.blueprints:
            failures = parse(current_app.config["API_AUTH_FAILURE_LIMIT"])
            try:
                count_script(keys=[_key(failures, _failures_of_address())], args=[failures.get_expiry()])
            except redis.RedisError as error:
                log.warning("API authentication failure not counted, Redis did not answer: %s", error)
        if "api_rate_limit" in g:
            limit, window = g.api_rate_limit
            response.headers["X-RateLimit-Limit"] = str(limit.amount)
            response.headers["X-RateLimit-Remaining"] = str(window.remaining)
            response.headers["X-RateLimit-Reset"] = str(math.ceil(window.reset_time))
        return response


def _key(limit: RateLimitItem, identity: str) -> str:
    # The limit is part of the key: a budget changed in the settings starts a window of its own.
    return f"{KEY_PREFIX}:{identity}:{limit.amount}/{limit.multiples}/{limit.GRANULARITY.name}"


def _failures_of_address() -> str:
    return f"auth-failed:{request.remote_addr}"


def _seconds_in(milliseconds: int) -> int:
    return max(1, math.ceil(milliseconds / 1000))
