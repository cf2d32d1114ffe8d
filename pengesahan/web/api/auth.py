"""Bearer-token authentication of P3MI API clients.

A token belongs to one company; every query of the API is scoped to ``current_company()``.
"""

from __future__ import annotations

import datetime as dt

import peewee
from flask import g, request

from pengesahan.errors import Unauthorized
from pengesahan.records.base import PreparedSelect, now
from pengesahan.records.people import ApiToken, Company, User, hash_token

__all__ = ["Unauthorized", "authenticate", "bearer_token", "current_actor", "current_company", "current_token"]

#: The technical user of token N is ``api-token-N`` (see current_actor).
_ACTOR_PREFIX = peewee.Value("api-token-")
#: The token's technical user, joined to the token. One alias for the process: an alias makes a
#: class for each field it is asked for and keeps them, so a new one per request cost 0.7 ms.
_ACTOR = User.alias()
#: A token with its company and its technical user (current_actor), in one query: every view
#: scopes by the company, every write names the user. Prepared: every request runs it.
_TOKEN_BY_HASH = PreparedSelect(lambda token_hash: (
    ApiToken.select(ApiToken, Company, _ACTOR).join(Company).switch(ApiToken)
    .join(_ACTOR, peewee.JOIN.LEFT_OUTER, on=(_ACTOR.username == _ACTOR_PREFIX.concat(peewee.Cast(ApiToken.id, "TEXT"))),
          attr="actor")
    .where(ApiToken.token_hash == token_hash)))
#: last_used_at is written at most this often per token (one UPDATE a minute, not per request).
_TOUCH_EVERY = dt.timedelta(minutes=1)


def bearer_token() -> str | None:
    """The token of ``Authorization: Bearer <token>``, if the header has that form."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate() -> None:
    """Resolve the request's token into ``g.api_token``; raise Unauthorized otherwise."""
    token = bearer_token()
    if token is None:
        raise Unauthorized("Sertakan token API pada header 'Authorization: Bearer <token>'.")
    record = _TOKEN_BY_HASH.first(hash_token(token))
    if record is None or record.revoked_at is not None:
        # One message for both: a revoked token tells nothing more than an unknown one.
        raise Unauthorized("Token API tidak dikenal atau sudah dicabut.")
    moment = now()
    if record.last_used_at is None or moment - record.last_used_at >= _TOUCH_EVERY:
        ApiToken.update(last_used_at=moment).where(ApiToken.id == record.id).execute()
    g.api_token = record


def current_token() -> ApiToken:
    return g.api_token


def current_company() -> Company:
    return g.api_token.company


def current_actor() -> User:
    """The user recorded as the author of what this token does (uploads, audit entries).

    ApiToken has no user of its own, so each token gets an inactive technical user of its
    company, ``api-token-<id>``, that cannot log in (no usable password).
    """
    token = current_token()
    user = getattr(token, "actor", None)
    if user is not None and user.id is not None:
        return user
    user, _ = User.get_or_create(
        username=f"api-token-{token.id}",
        defaults={"password_hash": "!", "role": "p3mi", "company": token.company_id, "active": False,
                  "full_name": f"Token API {token.name} ({token.prefix}…)"},
    )
    token.actor = user
    return user
