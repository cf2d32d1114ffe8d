"""Logins: passwords worth the name, sessions that end when they should, and throttling that
slows a guesser down without letting anyone lock another person out of their account."""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from dataclasses import dataclass

import redis
from argon2 import PasswordHasher
from zxcvbn import zxcvbn

from pengesahan.errors import ServiceError, Unauthorized, ValidationFailed
from pengesahan.jobs.queue import redis_connection
from pengesahan.records import audit
from pengesahan.records.base import write_transaction
from pengesahan.records.people import User

log = logging.getLogger(__name__)

__all__ = ["TooManyAttempts", "authenticate", "change_password", "end_sessions", "password_problem"]

MIN_PASSWORD_LENGTH = 10
#: zxcvbn's score (0-4) a password needs: 3 is "safely unguessable" against online attacks.
MIN_PASSWORD_SCORE = 3
#: Failures from one address for one user name before each attempt must wait; and for all
#: user names together (someone trying many accounts).
FREE_FAILURES_PER_USER = 5
FREE_FAILURES_PER_ADDRESS = 20
#: The first wait, doubled with each further failure, capped.
FIRST_DELAY_SECONDS = 15
MAX_DELAY_SECONDS = 15 * 60
_KEY = "pengesahan:login"
#: Words anyone guessing an officer's password tries first.
_OFFICE_WORDS = ("disnaker", "dinas", "tenaga", "kerja", "naker", "pengesahan", "perjanjian", "penempatan",
                 "cpmi", "pmi", "p3mi", "kadin", "kabid", "sekdis", "pelaksana", "admin", "indonesia",
                 "tabalong", "kalsel", "bismillah", "rahasia", "sandi")
# Verifying against this hash costs what verifying a real one costs: an unknown user name
# takes as long to refuse as a wrong password.
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    # Made on first use: hashing costs a quarter of a second every process need not pay at start.
    return _hasher.hash("tidak-ada-pengguna-dengan-nama-ini")


class TooManyAttempts(ServiceError):
    """Too many failed logins from this address; the message says how long to wait."""

    status = 429
    code = "too_many_attempts"


def password_problem(password: str, *, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why ``password`` is not good enough, in words for the user; None when it is."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Kata sandi minimal {MIN_PASSWORD_LENGTH} karakter."
    result = zxcvbn(password[:100], user_inputs=[*(u for u in user_inputs if u), *_OFFICE_WORDS])
    if result["score"] < MIN_PASSWORD_SCORE:
        return ("Kata sandi terlalu mudah ditebak (mis. kata umum, pola keyboard, pengulangan, nama atau "
                "tanggal). Gunakan beberapa kata acak atau campuran yang panjang.")
    return None


def change_password(user: User, password: str, *, actor: User | None) -> None:
    """Set ``user``'s password after checking it; every existing session of theirs ends."""
    problem = password_problem(password, user_inputs=(user.username, user.full_name))
    if problem:
        raise ValidationFailed(problem, details={"password": [problem]})
    with write_transaction():
        user.set_password(password)
        if user.id is not None:
            User.update(password_hash=user.password_hash, session_generation=user.session_generation).where(
                User.id == user.id).execute()
            audit.record(actor.username if actor else "sistem", "user.password", f"user:{user.id}")


def end_sessions(user: User, *, actor: User | None, reason: str = "user.end_sessions") -> None:
    """End every session of ``user`` at once (logout everywhere, deactivation, an admin's order)."""
    with write_transaction():
        User.update(session_generation=User.session_generation + 1).where(User.id == user.id).execute()
        audit.record(actor.username if actor else user.username, reason, f"user:{user.id}")


def session_user(session_id: str) -> User | None:
    """The active user a session id (``<id>.<generation>``) belongs to, if still current."""
    user_id, _, generation = session_id.partition(".")
    if not (user_id.isdigit() and generation.isdigit()) or len(user_id) > 18:
        return None
    user = User.get_or_none(User.id == int(user_id))
    if user is None or not user.active or user.session_generation != int(generation):
        return None
    return user


@dataclass(frozen=True)
class _Counter:
    key: str
    free: int


def _counters(username: str, address: str) -> list[_Counter]:
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [_Counter(f"{_KEY}:user:{name}:{address}", FREE_FAILURES_PER_USER),
            _Counter(f"{_KEY}:address:{address}", FREE_FAILURES_PER_ADDRESS)]


def _delay(failures: int, free: int) -> int:
    if failures < free:
        return 0
    return min(FIRST_DELAY_SECONDS * 2 ** (failures - free), MAX_DELAY_SECONDS)


def _wait_seconds(counters: list[_Counter]) -> int:
    connection = redis_connection()
    moment = time.time()
    wait = 0
    for counter in counters:
        failures, last = connection.hmget(counter.key, "failures", "last")
        if failures is None:
            continue
        remaining = float(last or 0) + _delay(int(failures), counter.free) - moment
        wait = max(wait, int(remaining) + 1 if remaining > 0 else 0)
    return wait


def _record_failure(counters: list[_Counter]) -> None:
    connection = redis_connection()
    with connection.pipeline() as pipe:
        for counter in counters:
            pipe.hincrby(counter.key, "failures", 1)
            pipe.hset(counter.key, "last", time.time())
            pipe.expire(counter.key, 24 * 3600)
        pipe.execute()


def authenticate(username: str, password: str, address: str) -> User:
    """The user whose password this is; Unauthorized or TooManyAttempts otherwise.

    Throttling is per address (per user name from that address, and overall), with delays that
    grow with each failure; an account is never locked, so nobody can lock the Kepala Dinas out.
    """
    counters = _counters(username, address or "-")
    try:
        wait = _wait_seconds(counters)
    except redis.exceptions.RedisError:
        log.warning("login throttling unavailable (Redis); continuing without it", exc_info=True)
        wait, counters = 0, []
    if wait:
        raise TooManyAttempts(f"Terlalu banyak percobaan masuk yang gagal dari alamat ini. Coba lagi dalam "
                              f"{_duration(wait)}.", details={"retry_after": wait})
    user = User.get_or_none(User.username == username.strip())
    if user is None:
        _verify_dummy(password)
    elif user.active and user.check_password(password):
        if counters:
            redis_connection().delete(counters[0].key)
        audit.record(user.username, "auth.login", f"user:{user.id}")
        return user
    if counters:
        try:
            _record_failure(counters)
        except redis.exceptions.RedisError:
            log.warning("login failure not counted (Redis)", exc_info=True)
    raise Unauthorized("Nama pengguna atau kata sandi salah.")


def _verify_dummy(password: str) -> None:
    try:
        _hasher.verify(_dummy_hash(), password)
    except Exception:  # noqa: BLE001 - always a mismatch; only the time spent matters
        pass


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} detik"
    minutes = (seconds + 59) // 60
    return f"{minutes} menit"
