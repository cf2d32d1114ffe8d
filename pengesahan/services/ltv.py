"""Long-term upkeep of signed PPs: PAdES-LTA renewal before the newest timestamp lapses.

A signed PP verifies for as long as its newest timestamp proves something: until the TSA
certificate of that timestamp, or a certificate above it, expires. A renewal adds the revocation
data of that timestamp and a new document timestamp over everything; the renewed file is a new
version of the PP (:class:`SignedVersion`), the agreement points to it (downloads serve it) and
every older version stays stored and verifiable.

Each version records when it lapses (``SignedVersion.lapses_at``, set on signing and on each
renewal), so what is due is one query: a run reads only the files it renews, and the dashboard
counts without reading any. A version whose lapse is unknown (recorded before v8) counts as due
and is read once by the next run.

A renewal only carries a PP further if the TSA signs with a newer certificate than the one
that stamped it last. The demo PKI's TSA is rolled over here when its certificate is a year old
(:func:`pengesahan.services.pki.ensure_current_tsa`); with another TSA (TSA_URL) that is its
provider's business, and a renewal that would add nothing is refused and reported, so that
nobody piles up versions that add nothing while the TSA needs a new certificate.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from peewee import JOIN

from pengesahan.config import Settings
from pengesahan.errors import ServiceError
from pengesahan.records import audit
from pengesahan.records.agreements import Agreement, Signature, SignedVersion
from pengesahan.records.base import now, write_transaction
from pengesahan.services.pki import ensure_current_tsa, signing_services
from pengesahan.services.verification import verifier
from pengesahan.storage import file_store

if TYPE_CHECKING:
    from signing.sign import ArchiveState

__all__ = [
    "DEFAULT_BEFORE_DAYS",
    "DUE",
    "FAILED",
    "NOT_DUE",
    "RENEWED",
    "RenewalOutcome",
    "due_count",
    "lapse_of",
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


def _archive_state(settings: Settings, data: bytes) -> ArchiveState:
    # pyHanko loads when a signed file is read, not when a process starts (the dashboard
    # imports this module for its count).
    from signing.sign import archive_state

    return archive_state(data, signing_services(settings).trust_roots)


def lapse_of(settings: Settings, data: bytes) -> datetime | None:
    """When the newest timestamp of the signed file ``data`` lapses; None when unreadable
    (the version then counts as due, and the next renewal run looks at it)."""
    try:
        return _archive_state(settings, data).lapses_at
    except ServiceError as exc:
        log.warning("lapse of a signed file not known: %s", exc.message)
        return None


def _current_versions(agreement_ids: Iterable[int] | None = None):
    """(id, number, lapses_at) of every signed agreement (or those of ``agreement_ids``), with
    the lapse recorded for its current file (None when unknown)."""
    query = (Agreement.select(Agreement.id, Agreement.number, SignedVersion.lapses_at)
             .join(SignedVersion, JOIN.LEFT_OUTER, on=(SignedVersion.sha256 == Agreement.signed_sha256))
             .where(Agreement.signed_sha256.is_null(False)).order_by(Agreement.id))
    if agreement_ids is not None:
        query = query.where(Agreement.id.in_(list(agreement_ids)))
    return list(query.tuples())


def _is_due(lapses_at: datetime | None, deadline: datetime) -> bool:
    return lapses_at is None or lapses_at <= deadline


def _day(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d}"


def _assess(agreement: Agreement, state: ArchiveState, deadline: datetime) -> RenewalOutcome | None:
    """The outcome when ``agreement`` is not to be renewed; None when it is due."""
    if state.lapses_at is None:
        return RenewalOutcome(agreement.id, agreement.number, FAILED,
                              "Berkas bertanda tangan tidak memuat tanda tangan yang dapat dibaca.")
    if state.lapses_at > deadline:
        return _not_due(agreement.id, agreement.number, state.lapses_at)
    if state.previous_lapses_at is not None and state.previous_lapses_at >= state.lapses_at:
        return RenewalOutcome(
            agreement.id, agreement.number, FAILED,
            f"Pembaruan terakhir tidak memperpanjang masa berlaku (sertifikat TSA berakhir "
            f"{_day(state.lapses_at)}); TSA perlu sertifikat baru sebelum PP ini dapat diperbarui lagi.",
            state.lapses_at)
    return None


def _not_due(agreement_id: int, number: str, lapses_at: datetime) -> RenewalOutcome:
    return RenewalOutcome(agreement_id, number, NOT_DUE,
                          f"Belum perlu diperbarui: cap waktu terbaru berlaku sampai {_day(lapses_at)}.",
                          lapses_at)


def renew_agreement(settings: Settings, agreement_id: int, *, before_days: int = DEFAULT_BEFORE_DAYS,
                    dry_run: bool = False) -> RenewalOutcome:
    """Renew one signed PP if its newest timestamp lapses within ``before_days`` (reading the
    file; :func:`renew` reads only the files whose recorded lapse says they are due)."""
    agreement = Agreement.get_by_id(agreement_id)
    old_sha256 = agreement.signed_sha256
    deadline = now() + timedelta(days=before_days)
    try:
        data = file_store(settings).read(old_sha256)
        state = _archive_state(settings, data)
        if not dry_run and state.lapses_at is not None:
            # Known from now on, whatever happens next (a version recorded before v8).
            with write_transaction():
                (SignedVersion.update(lapses_at=state.lapses_at)
                 .where((SignedVersion.sha256 == old_sha256) & SignedVersion.lapses_at.is_null()).execute())
        skipped = _assess(agreement, state, deadline)
        if skipped is not None or dry_run:
            return skipped or RenewalOutcome(
                agreement.id, agreement.number, DUE,
                f"Akan diperbarui: cap waktu terbaru berlaku sampai {_day(state.lapses_at)}.", state.lapses_at)
        # Loaded with the first renewal (see _archive_state).
        from signing.sign import renew_archive_timestamp

        renewed = renew_archive_timestamp(data, signing_services(settings))
        report = verifier(settings).verify(renewed.data)
        if report.status == "invalid":
            raise ServiceError(f"Berkas hasil pembaruan tidak lolos verifikasi: {report.verdict}")
        new_state = _archive_state(settings, renewed.data)
        key = file_store(settings).put(renewed.data)
    except ServiceError as exc:
        log.warning("ltv renewal of agreement %s failed: %s", agreement_id, exc.message)
        return RenewalOutcome(agreement.id, agreement.number, FAILED, exc.message)
    with write_transaction():
        current = Agreement.get_by_id(agreement_id)
        if current.signed_sha256 != old_sha256:
            return RenewalOutcome(agreement.id, agreement.number, NOT_DUE,
                                  "Sudah diperbarui oleh proses lain.", None, current.signed_sha256)
        _record_signed_version(current, state.lapses_at)
        SignedVersion.create(agreement=current, sha256=key, made_at=renewed.timestamp_time or now(),
                             reason="ltv-renewal", level=renewed.level, lapses_at=new_state.lapses_at)
        current.signed_sha256 = key
        current.save()
        audit.record("sistem", "agreement.ltv_renew", f"agreement:{agreement_id}", number=current.number,
                     previous_sha256=old_sha256, sha256=key, level=renewed.level,
                     timestamp=renewed.timestamp_time, lapsed_at=state.lapses_at, lapses_at=new_state.lapses_at)
    message = f"Diperbarui: cap waktu arsip baru, berlaku sampai {_day(new_state.lapses_at)}."
    if new_state.lapses_at is not None and new_state.lapses_at <= state.lapses_at:
        message += " Masa berlaku tidak bertambah: TSA perlu sertifikat baru."
    return RenewalOutcome(agreement.id, agreement.number, RENEWED, message, new_state.lapses_at, key)


def _record_signed_version(agreement: Agreement, lapses_at: datetime | None) -> None:
    """The file as signed, as the first version, if nothing recorded it (signing does since
    v8, and the v6 and v8 migrations did for the agreements signed before)."""
    if SignedVersion.select().where(SignedVersion.sha256 == agreement.signed_sha256).exists():
        return
    signature = (Signature.select().where(Signature.agreement == agreement.id)
                 .order_by(Signature.signed_at.desc()).first())
    SignedVersion.create(agreement=agreement, sha256=agreement.signed_sha256, reason="signed",
                         made_at=agreement.signed_at or (signature.signed_at if signature else now()),
                         level=signature.level if signature else "", lapses_at=lapses_at)


def renew(settings: Settings, *, before_days: int = DEFAULT_BEFORE_DAYS, dry_run: bool = False,
          agreement_ids: Iterable[int] | None = None) -> list[RenewalOutcome]:
    """Renew every signed PP (or those of ``agreement_ids``) whose newest timestamp lapses within
    ``before_days``; one failure does not stop the rest. ``dry_run`` only says which are due.

    Files not due by their recorded lapse are not read. First the demo TSA gets a new
    certificate if its current one is a year old, so that new timestamps last.
    """
    if not dry_run:
        try:
            rolled = ensure_current_tsa(settings)
        except ServiceError as exc:  # renew what can be; the refusals below will say why not
            log.warning("ltv renewal: demo TSA not rolled over: %s", exc.message)
        else:
            if rolled is not None:
                log.info("ltv renewal: %s", rolled.message)
    deadline = now() + timedelta(days=before_days)
    return [renew_agreement(settings, agreement_id, before_days=before_days, dry_run=dry_run)
            if _is_due(lapses_at, deadline) else _not_due(agreement_id, number, lapses_at)
            for agreement_id, number, lapses_at in _current_versions(agreement_ids)]


def due_count(settings: Settings | None = None, before_days: int = DEFAULT_BEFORE_DAYS) -> int:
    """How many signed PPs need renewing within ``before_days`` ("PP perlu diperbarui"): one
    SQL count over the recorded lapses (unknown ones count as due). ``settings`` is unused and
    kept for the callers that pass it."""
    deadline = now() + timedelta(days=before_days)
    return (Agreement.select(Agreement.id)
            .join(SignedVersion, JOIN.LEFT_OUTER, on=(SignedVersion.sha256 == Agreement.signed_sha256))
            .where(Agreement.signed_sha256.is_null(False)
                   & (SignedVersion.lapses_at.is_null() | (SignedVersion.lapses_at <= deadline)))
            .count())


def record_due_count(settings: Settings) -> int:
    """The figure the daily renewal reports; the lapses it recorded are what the dashboard
    counts (kept for the job that calls it)."""
    return due_count(settings)


def recorded_due_count() -> int:
    """What the dashboard shows: PPs due within the default window, counted in SQL."""
    return due_count()
