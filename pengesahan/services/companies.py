"""A P3MI's own administration: its logins, its API tokens and its webhook.

Who may do this: every active P3MI user of the company (there is no "company admin" flag on
User, and the office trusts each of them with the company's dossiers and agreements already,
just as every API token carries the whole company). Each use case takes the company it acts
for and looks the record up inside it: another company's user or token is NotFound, never
Forbidden. Every change is audited with the acting user.
"""

from __future__ import annotations

import peewee

from pengesahan.config import Settings
from pengesahan.errors import Conflict, NotFound, ValidationFailed
from pengesahan.records import audit
from pengesahan.records.base import now, write_transaction
from pengesahan.records.people import ApiToken, Company, User
from pengesahan.records.webhooks import Webhook
from pengesahan.services import accounts, webhooks

__all__ = [
    "TOKEN_USER_PREFIX",
    "add_user",
    "company_tokens",
    "company_users",
    "company_webhook",
    "deactivate_user",
    "issue_token",
    "register_webhook",
    "remove_webhook",
    "revoke_token",
]

#: The technical users the API records as authors of a token's actions are named so
#: (pengesahan/web/api/auth.py, ``current_actor``); they are not logins and not listed here.
TOKEN_USER_PREFIX = "api-token-"


def _people(company: Company):
    return User.select().where((User.company == company) & (User.role == "p3mi")
                               & ~User.username.startswith(TOKEN_USER_PREFIX))


def company_users(company: Company) -> list[User]:
    """The company's P3MI logins, active first, then by name."""
    return list(_people(company).order_by(User.active.desc(), User.username))


def add_user(company: Company, *, username: str, full_name: str, password: str, actor: User) -> User:
    """A new P3MI login of ``company``; the password must pass ``accounts.password_problem``."""
    username = (username or "").strip()
    if username.lower().startswith(TOKEN_USER_PREFIX):
        raise ValidationFailed("Nama pengguna ini dicadangkan untuk sistem.",
                               details={"username": ["Nama pengguna ini dicadangkan untuk sistem."]})
    problem = accounts.password_problem(password, user_inputs=(username, full_name, company.name))
    if problem:
        raise ValidationFailed(problem, details={"password": [problem]})
    user = User(username=username, full_name=(full_name or "").strip(), role="p3mi", company=company)
    user.set_password(password)
    taken = f"Nama pengguna {username} sudah dipakai; pilih nama lain."
    try:
        with write_transaction():
            if User.select().where(User.username == username).exists():
                raise Conflict(taken, details={"username": [taken]})
            user.save()
            audit.record(actor.username, "user.create", f"user:{user.id}", role="p3mi", company=company.id)
    except peewee.IntegrityError as exc:  # a concurrent request took the name in between
        raise Conflict(taken, details={"username": [taken]}) from exc
    return user


def deactivate_user(company: Company, user_id: int, *, actor: User) -> User:
    """Deactivate one of the company's logins and end every session of it at once."""
    user = _people(company).where(User.id == user_id).first()
    if user is None:
        raise NotFound("Pengguna tidak ditemukan.")
    if user.id == actor.id:
        raise Conflict("Anda tidak dapat menonaktifkan akun Anda sendiri; minta rekan lain atau petugas dinas.")
    if not user.active:
        return user
    with write_transaction():
        User.update(active=False).where(User.id == user.id).execute()
        accounts.end_sessions(user, actor=actor, reason="user.deactivate")
    return User.get_by_id(user.id)


def company_tokens(company: Company) -> list[ApiToken]:
    """The company's API tokens, newest first (revoked ones stay listed, marked)."""
    return list(ApiToken.select().where(ApiToken.company == company).order_by(ApiToken.id.desc()))


def issue_token(company: Company, name: str, *, actor: User) -> tuple[ApiToken, str]:
    """A new API token of the company; returns it and the clear token, to be shown once."""
    with write_transaction():
        record, token = ApiToken.issue(company, (name or "").strip() or "Token API")
        audit.record(actor.username, "token.issue", f"token:{record.id}", company=company.id)
    return record, token


def revoke_token(company: Company, token_id: int, *, actor: User) -> ApiToken:
    """Revoke one of the company's tokens; a system still using it is refused from now on."""
    token = ApiToken.get_or_none((ApiToken.id == token_id) & (ApiToken.company == company))
    if token is None:
        raise NotFound("Token API tidak ditemukan.")
    if token.revoked_at is not None:
        return token
    with write_transaction():
        ApiToken.update(revoked_at=now()).where((ApiToken.id == token.id) & ApiToken.revoked_at.is_null()).execute()
        audit.record(actor.username, "token.revoke", f"token:{token.id}", company=company.id)
    return ApiToken.get_by_id(token.id)


def company_webhook(company: Company) -> Webhook | None:
    """The company's webhook, if it registered one."""
    return Webhook.get_or_none(Webhook.company == company)


def register_webhook(settings: Settings, company: Company, url: str, *, actor: User) -> tuple[Webhook, str, bool]:
    """Register or replace the company's webhook (``webhooks.register``); returns it, its new
    secret (to be shown once) and whether it is new."""
    return webhooks.register(settings, company, url, actor=actor)


def remove_webhook(company: Company, *, actor: User) -> None:
    """Delete the company's webhook; deliveries still pending are cancelled."""
    webhook = company_webhook(company)
    if webhook is None:
        raise NotFound("Perusahaan ini belum mendaftarkan webhook.")
    webhooks.unregister(webhook, actor=actor)
