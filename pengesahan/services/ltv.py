"""Long-term upkeep of signed PPs: PAdES-LTA renewal before the newest timestamp lapses.

A signed PP verifies for as long as its newest timestamp proves something: until the TSA
certificate of that timestamp, or a certificate above it, expires. A renewal adds the revocation
data of that timestamp and a new document timestamp over everything; the renewed file is a new
version of the PP (:class:`SignedVersion`), the agreement points to it (downloads serve it) and
every older version stays stored and verifiable.

One renewal cannot carry a PP past the expiry of the TSA certificate it was stamped with: when the
last renewal did not extend the file's life (the TSA still signs with the same certificate), a
further one is refused and reported, so that nobody piles up versions that add nothing while
the TSA needs a new certificate.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

from pengesahan.config import Settings
from pengesahan.errors import ServiceError
from pengesahan.jobs.queue import redis_connection
from pengesahan.records import audit
from pengesahan.records.agreements import Agreement, Signature, SignedVersion
from pengesahan.records.base import now, write_transaction
from pengesahan.services.pki import signing_services
from pengesahan.services.verification import verifier
from pengesahan.storage import file_store
from signing.sign import ArchiveState, archive_state, renew_archive_timestamp

__all__ = [
    "DEFAULT_BEFORE_DAYS",
    "DUE",
    "FAILED",
    "NOT_DUE",
    "RENEWED",
    "RenewalOutcome",
    "due_count",
    "record_due_count",
    "recorded_due_count",
    "renew",
    "renew_agreement",
]

log = logging.getLogger(__name__)

#: Renew PPs whose newest timestamp lapses within this many days.
DEFAULT_BEFORE_DAYS = 180

RENEWED = "renewed"
NOT_DUE = "not_due"
#: Would be renewed (a dry run).
DUE = "due"
FAILED = "failed"


@dataclass(frozen=True)
class RenewalOutcome:
    """What became of one signed PP in a renewal run."""

    agreement_id: int
    number: str
    #: RENEWED, NOT_DUE, DUE (dry run) or FAILED.
    state: str
    #: One sentence in Bahasa Indonesia: why, or what was done.
    message: str
    #: When the newest timestamp of the (renewed) file lapses.
    lapses_at: datetime | None = None
    #: Store key of the renewed file.
    sha256: str | None = None

    @property
    def ok(self) -> bool:
        return self.state != FAILED


# Files are content-addressed and never change, so what a file says about its timestamps holds
# for good: the dashboard's count parses each file once per process.
_states: dict[str, ArchiveState] = {}
_states_lock = threading.Lock()


def _archive_state(settings: Settings, sha256: str, data: bytes | None = None) -> ArchiveState:
    with _states_lock:
        known = _states.get(sha256)
    if known is not None:
        return known
    data = file_store(settings).read(sha256) if data is None else data
    state = archive_state(data, signing_services(settings).trust_roots)
    with _states_lock:
        _states[sha256] = state
    return state


def _signed_agreements(agreement_ids: Iterable[int] | None = None):
    query = Agreement.select().where(Agreement.signed_sha256.is_null(False)).order_by(Agreement.id)
    if agreement_ids is not None:
        query = query.where(Agreement.id.in_(list(agreement_ids)))
    return query


def _day(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d}"


def _assess(agreement: Agreement, state: ArchiveState, deadline: datetime) -> RenewalOutcome | None:
    """The outcome when ``agreement`` is not to be renewed; None when it is due."""
    if state.lapses_at is None:
        return RenewalOutcome(agreement.id, agreement.number, FAILED,
                              "Berkas bertanda tangan tidak memuat tanda tangan yang dapat dibaca.")
    if state.lapses_at > deadline:
        return RenewalOutcome(agreement.id, agreement.number, NOT_DUE,
                              f"Belum perlu diperbarui: cap waktu terbaru berlaku sampai {_day(state.lapses_at)}.",
                              state.lapses_at)
    if state.previous_lapses_at is not None and state.previous_lapses_at >= state.lapses_at:
        return RenewalOutcome(
            agreement.id, agreement.number, FAILED,
            f"Pembaruan terakhir tidak memperpanjang masa berlaku (sertifikat TSA berakhir "
            f"{_day(state.lapses_at)}); TSA perlu sertifikat baru sebelum PP ini dapat diperbarui lagi.",
            state.lapses_at)
    return None


def renew_agreement(settings: Settings, agreement_id: int, *, before_days: int = DEFAULT_BEFORE_DAYS,
                    dry_run: bool = False) -> RenewalOutcome:
    """Renew one signed PP if its newest timestamp lapses within ``before_days``."""
    agreement = Agreement.get_by_id(agreement_id)
    old_sha256 = agreement.signed_sha256
    deadline = now() + timedelta(days=before_days)
    try:
        data = file_store(settings).read(old_sha256)
        state = _archive_state(settings, old_sha256, data)
        skipped = _assess(agreement, state, deadline)
        if skipped is not None or dry_run:
            return skipped or RenewalOutcome(
                agreement.id, agreement.number, DUE,
                f"Akan diperbarui: cap waktu terbaru berlaku sampai {_day(state.lapses_at)}.", state.lapses_at)
        renewed = renew_archive_timestamp(data, signing_services(settings))
        report = verifier(settings).verify(renewed.data)
        if report.status == "invalid":
            raise ServiceError(f"Berkas hasil pembaruan tidak lolos verifikasi: {report.verdict}")
        new_state = _archive_state(settings, renewed.sha256, renewed.data)
        key = file_store(settings).put(renewed.data)
    except ServiceError as exc:
        log.warning("ltv renewal of agreement %s failed: %s", agreement_id, exc.message)
        return RenewalOutcome(agreement.id, agreement.number, FAILED, exc.message)
    with write_transaction():
        current = Agreement.get_by_id(agreement_id)
        if current.signed_sha256 != old_sha256:
            return RenewalOutcome(agreement.id, agreement.number, NOT_DUE,
                                  "Sudah diperbarui oleh proses lain.", None, current.signed_sha256)
        _record_signed_version(current)
        SignedVersion.create(agreement=current, sha256=key, made_at=renewed.timestamp_time or now(),
                             reason="ltv-renewal", level=renewed.level)
        current.signed_sha256 = key
        current.save()
        audit.record("sistem", "agreement.ltv_renew", f"agreement:{agreement_id}", number=current.number,
                     previous_sha256=old_sha256, sha256=key, level=renewed.level,
                     timestamp=renewed.timestamp_time, lapsed_at=state.lapses_at, lapses_at=new_state.lapses_at)
    message = f"Diperbarui: cap waktu arsip baru, berlaku sampai {_day(new_state.lapses_at)}."
    if new_state.lapses_at is not None and new_state.lapses_at <= state.lapses_at:
        message += " Masa berlaku tidak bertambah: TSA perlu sertifikat baru."
    return RenewalOutcome(agreement.id, agreement.number, RENEWED, message, new_state.lapses_at, key)


def _record_signed_version(agreement: Agreement) -> None:
    """The file as signed, as the first version, if signing did not record it (before v6 the
    migration did; ``sign_agreement`` records none)."""
    if SignedVersion.select().where(SignedVersion.sha256 == agreement.signed_sha256).exists():
        return
    signature = (Signature.select().where(Signature.agreement == agreement.id)
                 .order_by(Signature.signed_at.desc()).first())
    SignedVersion.create(agreement=agreement, sha256=agreement.signed_sha256, reason="signed",
                         made_at=agreement.signed_at or (signature.signed_at if signature else now()),
                         level=signature.level if signature else "")


def renew(settings: Settings, *, before_days: int = DEFAULT_BEFORE_DAYS, dry_run: bool = False,
          agreement_ids: Iterable[int] | None = None) -> list[RenewalOutcome]:
    """Renew every signed PP (or those of ``agreement_ids``) whose newest timestamp lapses within
    ``before_days``; one failure does not stop the rest. ``dry_run`` only says which are due."""
    ids = [a.id for a in _signed_agreements(agreement_ids)]
    return [renew_agreement(settings, agreement_id, before_days=before_days, dry_run=dry_run)
            for agreement_id in ids]


def due_count(settings: Settings, before_days: int = DEFAULT_BEFORE_DAYS) -> int:
    """How many signed PPs need renewing within ``before_days`` ("PP perlu diperbarui")."""
    deadline = now() + timedelta(days=before_days)
    count = 0
    for agreement in _signed_agreements():
        try:
            state = _archive_state(settings, agreement.signed_sha256)
        except ServiceError:
            count += 1  # unreadable or missing: someone must look at it
            continue
        if state.lapses_at is None or state.lapses_at <= deadline:
            count += 1
    return count


_DUE_KEY = "pengesahan:ltv:due"


def record_due_count(settings: Settings) -> int:
    """Count the PPs due (reading each signed file) and keep the figure for the dashboard.

    Run by the daily renewal, where the files are read anyway: the dashboard only reads the
    figure, so opening it never parses every signed PP of the office.
    """
    count = due_count(settings)
    redis_connection().set(_DUE_KEY, count, ex=2 * 24 * 3600)
    return count


def recorded_due_count() -> int | None:
    """The figure of the last daily renewal; None when none ran in the last two days."""
    try:
        value = redis_connection().get(_DUE_KEY)
    except redis.exceptions.RedisError:
        return None
    return int(value) if value is not None else None
