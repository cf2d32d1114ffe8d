"""The statuses of dossiers, document slots and agreements, and the service-level clock.

Pure rules, no database: the records layer asks here before it changes a status.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pengesahan.errors import Conflict


class DossierStatus(StrEnum):
    #: Being filled in by its P3MI in the portal: no officer sees it and no clock runs yet.
    DRAF = "draf"
    DIAJUKAN = "diajukan"
    DITOLAK = "ditolak"
    TERVERIFIKASI = "terverifikasi"


class SlotStatus(StrEnum):
    KOSONG = "kosong"
    DIAJUKAN = "diajukan"
    DITOLAK = "ditolak"
    TERVERIFIKASI = "terverifikasi"


class AgreementStatus(StrEnum):
    MENUNGGU_VERIFIKASI = "menunggu_verifikasi"
    DIKEMBALIKAN = "dikembalikan"
    TERVERIFIKASI = "terverifikasi"
    DITANDATANGANI = "ditandatangani"


class UploadState(StrEnum):
    """Where the worker's analysis of an upload stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


UPLOAD_STATES = {
    UploadState.QUEUED: "Dalam antrean",
    UploadState.RUNNING: "Sedang diproses",
    UploadState.DONE: "Selesai",
    UploadState.FAILED: "Gagal",
}

# Dossier (SIAPkerja): (Draf, while the P3MI fills it in) -> Diajukan -> Ditolak (reason) ->
# revised, Diajukan again -> Terverifikasi.
DOSSIER_STATUSES = {
    "draf": "Draf (belum diajukan)",
    "diajukan": "Diajukan",
    "ditolak": "Ditolak",
    "terverifikasi": "Terverifikasi",
}
SLOT_STATUSES = {
    "kosong": "Belum diunggah",
    "diajukan": "Diajukan",
    "ditolak": "Ditolak",
    "terverifikasi": "Terverifikasi",
}
AGREEMENT_STATUSES = {
    "menunggu_verifikasi": "Menunggu Verifikasi PP",
    "dikembalikan": "Dikembalikan",
    "terverifikasi": "Terverifikasi, menunggu tanda tangan",
    "ditandatangani": "PP Telah Diverifikasi",
}

_TRANSITIONS = {
    "dossier": {
        "draf": {"diajukan"},
        "diajukan": {"ditolak", "terverifikasi"},
        "ditolak": {"diajukan"},
        "terverifikasi": set(),
    },
    "slot": {
        "kosong": {"diajukan"},
        "diajukan": {"diajukan", "ditolak", "terverifikasi"},
        "ditolak": {"diajukan"},
        "terverifikasi": set(),
    },
    "agreement": {
        "menunggu_verifikasi": {"terverifikasi", "dikembalikan"},
        "dikembalikan": {"menunggu_verifikasi"},
        "terverifikasi": {"ditandatangani"},
        "ditandatangani": set(),
    },
}
_LABELS = {"dossier": DOSSIER_STATUSES, "slot": SLOT_STATUSES, "agreement": AGREEMENT_STATUSES}


def check_transition(kind: str, current: str, target: str) -> None:
    """Raise Conflict unless ``kind`` may move from ``current`` to ``target``."""
    if target not in _TRANSITIONS[kind].get(current, set()):
        labels = _LABELS[kind]
        raise Conflict(
            f"Status tidak dapat diubah dari '{labels.get(current, current)}' "
            f"ke '{labels.get(target, target)}'."
        )


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """``start`` plus ``days`` working days (Monday to Friday), same time of day.

    Public holidays are not known to the product; an office that needs them can lengthen the
    SLA setting. A start on a weekend counts from the next Monday.
    """
    current = start
    while current.weekday() >= 5:
        current = (current + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    added = 0
    while added < days:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            added += 1
    return current


def sla_label(due: dt.datetime | None, now: dt.datetime, done: bool = False) -> str:
    """How a deadline stands, in words for the officer."""
    if due is None:
        return "-"
    if done:
        return "Selesai"
    remaining = due - now
    if remaining.total_seconds() < 0:
        hours = int(-remaining.total_seconds() // 3600)
        return f"Terlambat {hours} jam"
    hours = int(remaining.total_seconds() // 3600)
    return f"Sisa {hours} jam"
