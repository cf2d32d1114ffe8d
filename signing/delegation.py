"""Who may sign: the Kepala Dinas, or a delegate holding an SK pendelegasian in force.

The SOP rule: a placement agreement is signed by the Kepala Dinas, unless the Kepala Dinas has
delegated signing by decree (SK pendelegasian) to the Sekretaris Dinas or a Kepala Bidang PTK.
A delegate may pass it one level further ("u.b.", untuk beliau) by an SK of their own, which is
only good while the first SK is.

Time: ``authorise(..., at=...)`` must be given the *trusted* time of the signature, i.e. the time
in the RFC 3161 signature timestamp, not the time the signer's machine claims. Before signing the
caller checks with the current time; after signing it checks again with the timestamp's time (see
``signing.sign.sign_document``). All datetimes must be timezone-aware.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from pengesahan.errors import SigningRefused

__all__ = [
    "ACTING",
    "POSITIONS",
    "SCOPES",
    "Delegation",
    "DelegationState",
    "Official",
    "SigningAuthority",
    "authorise",
    "delegation_state",
    "format_date",
]

#: Position codes and their titles as printed under a signature.
POSITIONS: dict[str, str] = {
    "kepala_dinas": "Kepala Dinas",
    "sekretaris_dinas": "Sekretaris Dinas",
    "kepala_bidang_ptk": "Kepala Bidang Penempatan Tenaga Kerja",
}
#: Positions the Kepala Dinas may delegate signing to.
_DELEGABLE = frozenset({"sekretaris_dinas", "kepala_bidang_ptk"})
#: Acting markers: Pelaksana Tugas and Pelaksana Harian.
ACTING = (None, "Plt.", "Plh.")
#: What an SK may cover, with the wording used in messages.
SCOPES: dict[str, str] = {
    "perjanjian_penempatan": "Perjanjian Penempatan",
    "rekomendasi_paspor": "Rekomendasi Paspor",
}

_MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def format_date(day: date) -> str:
    """A date the way Indonesian letters write it: ``2 Januari 2026``."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A programming error, not a user one: comparing naive and aware times is meaningless.
        raise ValueError(f"{what} must be timezone-aware")


@dataclass(frozen=True)
class Official:
    """An official of the office who may hold a signing certificate."""

    #: Full name with academic titles, as printed under the signature.
    name: str
    #: NIP (civil-servant number, 18 digits); identifies the official.
    nip: str
    #: Rank (pangkat/golongan), e.g. "Pembina Utama Muda (IV/c)".
    rank: str
    #: One of :data:`POSITIONS`.
    position: str
    #: None for the definitive holder, "Plt." or "Plh." for an acting one.
    acting: str | None = None

    def __post_init__(self) -> None:
        if self.position not in POSITIONS:
            raise ValueError(f"unknown position {self.position!r}")
        if self.acting not in ACTING:
            raise ValueError(f"acting must be one of {ACTING}, not {self.acting!r}")

    @property
    def title(self) -> str:
        """The position title, prefixed by "Plt."/"Plh." when acting."""
        base = POSITIONS[self.position]
        return f"{self.acting} {base}" if self.acting else base

    def same_person(self, other: Official) -> bool:
        """Whether both records are the same official (the NIP decides, not the name)."""
        return self.nip.replace(" ", "") == other.nip.replace(" ", "")


@dataclass(frozen=True)
class Delegation:
    """An SK pendelegasian: who delegates signing to whom, for what, and for how long."""

    #: SK number, e.g. "800/123/Disnaker/2026".
    number: str
    #: Date the SK was signed.
    date: date
    #: The official delegating (the Kepala Dinas, or for "u.b." the first delegate).
    delegating: Official
    #: The official receiving the authority to sign.
    delegated: Official
    #: Document kinds covered, codes of :data:`SCOPES`.
    scope: frozenset[str]
    #: Start of validity (aware datetime).
    valid_from: datetime
    #: End of validity, inclusive; None when open-ended.
    valid_until: datetime | None = None
    #: When the SK was revoked; it stops covering signatures from that moment on.
    revoked_at: datetime | None = None
    #: The SK this one rests on, for a second-level ("u.b.") delegation.
    parent: Delegation | None = field(default=None, repr=False)
    #: When the delegating official confirmed the SK with their own signature. Until then the
    #: SK is a draft entered by an administrator and authorises nothing.
    confirmed_at: datetime | None = None

    @property
    def reference(self) -> str:
        """``SK Nomor <number> tanggal <date>``, the way the stamp and reason cite it."""
        return f"SK Nomor {self.number} tanggal {format_date(self.date)}"


@dataclass(frozen=True)
class DelegationState:
    """Whether an SK covered a signature at a given time, and whether it was revoked since."""

    #: True when the SK (and its parent, if any) was in force at the time asked.
    in_force: bool
    #: True when the SK or its parent has been revoked after that time (as of ``now``).
    revoked_since: bool
    #: Explanation in Bahasa Indonesia, fit for the verification page.
    message: str


@dataclass(frozen=True)
class SigningAuthority:
    """The outcome of :func:`authorise`: who signs, in which capacity, on which SK."""

    #: The official who signs.
    signer: Official
    #: The SK used; None when the Kepala Dinas (definitive or acting) signs in person.
    delegation: Delegation | None
    #: Lines printed above the signer's name, e.g. ("a.n. Kepala Dinas", "Sekretaris Dinas").
    capacity_lines: tuple[str, ...]
    #: The /Reason of the PDF signature, naming the SK number and date when delegated.
    reason: str
    #: The document kind authorised (a code of :data:`SCOPES`).
    scope: str
    #: The time the rule was checked against.
    at: datetime

    @property
    def capacity(self) -> str:
        """The capacity on one line, e.g. "a.n. Kepala Dinas u.b. Sekretaris Dinas"."""
        return " ".join(self.capacity_lines)

    @property
    def sk_reference(self) -> str | None:
        """The SK citation, or None when no SK is involved."""
        return self.delegation.reference if self.delegation else None


def _check_one(delegation: Delegation, at: datetime, scope: str) -> str | None:
    """The reason ``delegation`` alone does not cover ``scope`` at ``at``, or None if it does."""
    _require_aware(delegation.valid_from, "Delegation.valid_from")
    sk = delegation.reference
    if delegation.confirmed_at is None:
        return (f"{sk} belum dikonfirmasi oleh {delegation.delegating.title} dengan tanda tangan "
                "elektroniknya; SK yang belum dikonfirmasi tidak memberi wewenang.")
    _require_aware(delegation.confirmed_at, "Delegation.confirmed_at")
    if delegation.confirmed_at > at:
        return (f"{sk} baru dikonfirmasi oleh {delegation.delegating.title} pada "
                f"{format_date(delegation.confirmed_at.date())}, sesudah waktu penandatanganan.")
    if delegation.revoked_at is not None:
        _require_aware(delegation.revoked_at, "Delegation.revoked_at")
        if delegation.revoked_at <= at:
            return f"{sk} telah dicabut sejak {format_date(delegation.revoked_at.date())}."
    if at < delegation.valid_from:
        return f"{sk} belum berlaku: berlaku mulai {format_date(delegation.valid_from.date())}."
    if delegation.valid_until is not None:
        _require_aware(delegation.valid_until, "Delegation.valid_until")
        if at > delegation.valid_until:
            return f"{sk} sudah tidak berlaku sejak {format_date(delegation.valid_until.date())}."
    if scope not in delegation.scope:
        return f"{sk} tidak mencakup penandatanganan {SCOPES.get(scope, scope)}."
    return None


def _check_chain(delegation: Delegation, at: datetime, scope: str) -> str | None:
    """Check an SK and the one it rests on; None when the whole chain covers the signature."""
    problem = _check_one(delegation, at, scope)
    if problem:
        return problem
    parent = delegation.parent
    if parent is None:
        if delegation.delegating.position != "kepala_dinas":
            return (
                f"{delegation.reference} tidak ditetapkan oleh Kepala Dinas, sehingga tidak "
                "dapat menjadi dasar pendelegasian."
            )
        if delegation.delegated.position not in _DELEGABLE:
            return (
                f"{delegation.reference} mendelegasikan kepada {delegation.delegated.title}; "
                "pendelegasian hanya kepada Sekretaris Dinas atau Kepala Bidang PTK."
            )
        return None
    if parent.parent is not None:
        return "Pendelegasian lebih dari dua tingkat (a.n. dan u.b.) tidak diperbolehkan."
    if not parent.delegated.same_person(delegation.delegating):
        return (
            f"{delegation.reference} ditetapkan oleh {delegation.delegating.name}, yang bukan "
            f"penerima {parent.reference}."
        )
    problem = _check_chain(parent, at, scope)
    if problem:
        return f"SK induk tidak berlaku: {problem}"
    return None


def _capacity_lines(delegation: Delegation) -> tuple[str, ...]:
    if delegation.parent is None:
        return (f"a.n. {delegation.delegating.title}", delegation.delegated.title)
    return (
        f"a.n. {delegation.parent.delegating.title}",
        delegation.delegating.title,
        "u.b.",
        delegation.delegated.title,
    )


def authorise(
    signer: Official, delegations: Sequence[Delegation], at: datetime, scope: str
) -> SigningAuthority:
    """Decide whether ``signer`` may sign a ``scope`` document at the trusted time ``at``.

    Raises :class:`errors.SigningRefused` with the reason in Bahasa Indonesia otherwise.
    """
    _require_aware(at, "at")
    what = SCOPES.get(scope, scope)
    if signer.position == "kepala_dinas":
        # The head of office (or the official acting as such) signs in person; no SK needed.
        reason = f"Disahkan oleh {signer.title}"
        return SigningAuthority(
            signer=signer,
            delegation=None,
            capacity_lines=(signer.title,),
            reason=reason,
            scope=scope,
            at=at,
        )
    own = [d for d in delegations if d.delegated.same_person(signer)]
    if not own:
        others = [d for d in delegations if scope in d.scope]
        if others:
            names = ", ".join(sorted({d.delegated.name for d in others}))
            raise SigningRefused(
                f"{signer.name} ({signer.title}) tidak dapat menandatangani {what}: SK "
                f"pendelegasian yang ada diberikan kepada pejabat lain ({names})."
            )
        raise SigningRefused(
            f"{signer.name} ({signer.title}) tidak dapat menandatangani {what}: tidak ada SK "
            "pendelegasian dari Kepala Dinas. Tanpa SK, hanya Kepala Dinas yang menandatangani."
        )
    problems: list[tuple[date, str]] = []
    for delegation in own:
        problem = _check_chain(delegation, at, scope)
        if problem is None:
            lines = _capacity_lines(delegation)
            reason = (
                f"Disahkan oleh {signer.title} {' '.join(lines[:-1])} berdasarkan "
                f"{delegation.reference}"
            )
            if delegation.parent is not None:
                reason += f" dan {delegation.parent.reference}"
            return SigningAuthority(
                signer=signer,
                delegation=delegation,
                capacity_lines=lines,
                reason=reason,
                scope=scope,
                at=at,
            )
        problems.append((delegation.date, problem))
    # Report the problem of the most recent SK: it is the one the officer expects to apply.
    problems.sort(key=lambda item: item[0], reverse=True)
    raise SigningRefused(
        f"{signer.name} ({signer.title}) tidak dapat menandatangani {what}: {problems[0][1]}"
    )


def delegation_state(
    delegation: Delegation, at: datetime, now: datetime | None = None
) -> DelegationState:
    """Was ``delegation`` in force at ``at`` (any scope), and has it been revoked since?"""
    _require_aware(at, "at")
    now = now or datetime.now(at.tzinfo)
    _require_aware(now, "now")
    # Scope is not the question here: check with one the SK has, so only time and chain count.
    probe_scope = next(iter(sorted(delegation.scope)), "")
    problem = _check_chain(delegation, at, probe_scope)
    revoked = [
        sk.revoked_at
        for sk in (delegation, delegation.parent)
        if sk is not None and sk.revoked_at is not None and at < sk.revoked_at <= now
    ]
    if problem:
        message = problem
    else:
        message = f"{delegation.reference} berlaku pada saat penandatanganan."
        if delegation.confirmed_at is not None:
            message += (f" SK dikonfirmasi {delegation.delegating.title} ({delegation.delegating.name}) dengan "
                        f"tanda tangan elektroniknya pada {format_date(delegation.confirmed_at.date())}.")
    if revoked:
        message += f" SK tersebut kemudian dicabut pada {format_date(min(revoked).date())}."
    return DelegationState(in_force=problem is None, revoked_since=bool(revoked), message=message)
