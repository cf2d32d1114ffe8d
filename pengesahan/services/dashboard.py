"""Numbers behind the review queue and the dashboard, computed from the records.

Nothing here knows about HTTP or templates: the views pass a moment and filters in and render
the frozen results. Charts are drawn from these numbers by the templates (inline SVG).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import peewee

from pengesahan import workflow
from pengesahan.records.agreements import Agreement
from pengesahan.records.catalogue import sla_days
from pengesahan.records.dossiers import (
    ACCEPTED,
    ALL_UPLOADS,
    CAUGHT,
    OVERRIDDEN,
    RETURNED,
    CheckTally,
    DocumentSlot,
    Dossier,
    Upload,
    VerdictTally,
    tally_week,
)
from pengesahan.records.people import Candidate, Company, User
from pengesahan.workflow import DossierStatus, SlotStatus, UploadState
from processing.spec import CHECK_CODES, DEFECT_CHECKS

#: The officer's words for the check codes of the shared vocabulary.
CHECK_LABELS = {
    "format": "Format berkas",
    "size": "Ukuran berkas",
    "resolution": "Resolusi",
    "blur": "Ketajaman",
    "exposure": "Pencahayaan",
    "skew": "Kemiringan",
    "crop": "Tepi terpotong",
    "blank": "Halaman kosong",
    "duplicate": "Duplikat",
    "text_layer": "Lapisan teks PDF",
    "type_match": "Kesesuaian jenis",
    "nik": "NIK / nomor",
    "legible": "Keterbacaan",
    "pp_match": "Kesesuaian draf PP",
}

#: Filter value of the queue for dossiers no officer has taken.
UNASSIGNED = "none"


# --- the review queue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    """What the officer narrowed the queue to; ``None`` means no narrowing."""

    status: str | None = DossierStatus.DIAJUKAN
    company_id: int | None = None
    #: A user id, :data:`UNASSIGNED`, or None for everyone's.
    officer: int | str | None = None


@dataclass(frozen=True)
class QueueRow:
    """One dossier in the queue with its deadlines as they stand at the moment asked."""

    dossier: Dossier
    check_label: str
    check_overdue: bool
    service_label: str
    service_overdue: bool
    #: Slot counts by slot status, and uploads still being processed or failed.
    slot_counts: dict[str, int]
    processing: int
    failed: int

    @property
    def overdue(self) -> bool:
        return self.check_overdue or self.service_overdue


def is_overdue(due: dt.datetime | None, moment: dt.datetime, done: bool) -> bool:
    """Whether a deadline not yet met has passed."""
    return due is not None and not done and due < moment


def review_queue(filters: QueueFilter, moment: dt.datetime, *, limit: int = 200) -> list[QueueRow]:
    """Dossiers matching ``filters``, the nearest check deadline first."""
    # The CPMI, the company and the officer come in the same query: the queue shows all three,
    # and one query per row made 500 queries of a 200-row page.
    query = (Dossier.select(Dossier, Candidate, Company, User)
             .join(Candidate).switch(Dossier)
             .join(Company).switch(Dossier)
             .join(User, peewee.JOIN.LEFT_OUTER, on=(Dossier.assigned_to == User.id))
             .order_by(Dossier.check_due_at.asc(nulls="LAST"), Dossier.id))
    if filters.status in workflow.DOSSIER_STATUSES:
        query = query.where(Dossier.status == filters.status)
    else:
        # "All" is all the office has received: a P3MI's draft is not submitted yet.
        query = query.where(Dossier.status != DossierStatus.DRAF)
    if filters.company_id:
        query = query.where(Dossier.company == filters.company_id)
    if filters.officer == UNASSIGNED:
        query = query.where(Dossier.assigned_to.is_null())
    elif isinstance(filters.officer, int):
        query = query.where(Dossier.assigned_to == filters.officer)
    dossiers = list(query.limit(limit))
    ids = [d.id for d in dossiers]
    slots: dict[int, Counter] = defaultdict(Counter)
    for dossier_id, status, count in (DocumentSlot.select(DocumentSlot.dossier, DocumentSlot.status,
                                                          peewee.fn.COUNT(DocumentSlot.id))
                                      .where(DocumentSlot.dossier.in_(ids))
                                      .group_by(DocumentSlot.dossier, DocumentSlot.status).tuples()):
        slots[dossier_id][status] = count
    states: dict[int, Counter] = defaultdict(Counter)
    # Counted by the database: a page of Diajukan dossiers has thousands of uploads behind it.
    for dossier_id, state, count in (Upload.select(DocumentSlot.dossier, Upload.state, peewee.fn.COUNT(Upload.id))
                                     .join(DocumentSlot)
                                     .where(DocumentSlot.dossier.in_(ids)
                                            & (DocumentSlot.status == SlotStatus.DIAJUKAN))
                                     .group_by(DocumentSlot.dossier, Upload.state).tuples()):
        states[dossier_id][state] = count
    rows = []
    for d in dossiers:
        verified = d.status == DossierStatus.TERVERIFIKASI
        # Only the current round of a slot matters, but older uploads of a Diajukan slot are
        # done or failed too; counting them all is close enough for a queue hint.
        rows.append(QueueRow(
            dossier=d,
            check_label=workflow.sla_label(d.check_due_at, moment, verified),
            check_overdue=is_overdue(d.check_due_at, moment, verified or d.status == DossierStatus.DITOLAK),
            service_label=workflow.sla_label(d.service_due_at, moment, verified),
            service_overdue=is_overdue(d.service_due_at, moment, verified),
            slot_counts=dict(slots[d.id]),
            processing=states[d.id]["queued"] + states[d.id]["running"],
            failed=states[d.id]["failed"],
        ))
    return rows


# --- dashboard counts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """The numbers on the dashboard's cards."""

    dossiers: dict[str, int]
    overdue: int
    #: Placement agreements (PP) per status; passport recommendations are counted apart.
    agreements: dict[str, int]
    failed_uploads: int
    recommendations: dict[str, int] = field(default_factory=dict)


def counts(moment: dt.datetime, company_id: int | None = None) -> Counts:
    """Dossiers per status, overdue checks, agreements per status, failed processing jobs."""
    dossiers = Dossier.select()
    agreements = Agreement.select()
    uploads = Upload.select().join(DocumentSlot)
    if company_id is not None:
        # The office's figures need no join to the dossiers; a company's do.
        dossiers = dossiers.where(Dossier.company == company_id)
        agreements = agreements.join(Dossier).where(Dossier.company == company_id)
        uploads = uploads.join(Dossier).where(Dossier.company == company_id)
    by_status = {code: 0 for code in workflow.DOSSIER_STATUSES}
    for status, n in dossiers.select(Dossier.status, peewee.fn.COUNT(Dossier.id)).group_by(Dossier.status).tuples():
        by_status[status] = n
    by_kind = {kind: {code: 0 for code in workflow.AGREEMENT_STATUSES}
               for kind in ("perjanjian_penempatan", "rekomendasi_paspor")}
    for kind, status, n in (agreements.select(Agreement.kind, Agreement.status, peewee.fn.COUNT(Agreement.id))
                            .group_by(Agreement.kind, Agreement.status).tuples()):
        by_kind.setdefault(kind, {})[status] = n
    overdue = dossiers.where((Dossier.status == DossierStatus.DIAJUKAN) & (Dossier.check_due_at < moment)).count()
    failed = uploads.where((Upload.state == UploadState.FAILED) & (DocumentSlot.status == SlotStatus.DIAJUKAN)).count()
    return Counts(dossiers=by_status, overdue=overdue, agreements=by_kind["perjanjian_penempatan"],
                  failed_uploads=failed, recommendations=by_kind["rekomendasi_paspor"])


# --- weekly figures ------------------------------------------------------------------------------


def week_start(moment: dt.datetime) -> dt.date:
    """The Monday of ``moment``'s week (UTC), as the tallies of processing count weeks."""
    return tally_week(moment)


def recent_weeks(moment: dt.datetime, weeks: int) -> list[dt.date]:
    """The Mondays of the last ``weeks`` weeks, oldest first, ending with this week."""
    this = week_start(moment)
    return [this - dt.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile: a value that occurred, as an officer would read it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class VerificationWeek:
    """Time from submission to verification of the dossiers verified in one week."""

    week: dt.date
    count: int
    median_hours: float | None
    p90_hours: float | None
    #: Dossiers verified by their check deadline (working days, as the SLA counts them).
    on_time: int


@dataclass(frozen=True)
class VerificationTimes:
    weeks: list[VerificationWeek]
    #: The check SLA in working days, and its length in hours for the chart's line.
    sla_days: int
    sla_hours: float

    @property
    def max_hours(self) -> float:
        values = [w.p90_hours or 0 for w in self.weeks] + [self.sla_hours]
        return max(values) or 1.0


def verification_times(moment: dt.datetime, weeks: int = 8) -> VerificationTimes:
    """Median and 90th percentile of submission-to-verification time per week of verification."""
    starts = recent_weeks(moment, weeks)
    since = dt.datetime.combine(starts[0], dt.time(), tzinfo=dt.UTC)
    hours: dict[dt.date, list[float]] = defaultdict(list)
    on_time: Counter = Counter()
    # Three columns per dossier, found through the index on verification time (schema v9).
    for submitted_at, verified_at, check_due_at in (
            Dossier.select(Dossier.submitted_at, Dossier.verified_at, Dossier.check_due_at)
            .where(Dossier.verified_at.is_null(False) & (Dossier.verified_at >= since)).tuples()):
        week = week_start(verified_at)
        hours[week].append((verified_at - submitted_at).total_seconds() / 3600)
        if check_due_at is None or verified_at <= check_due_at:
            on_time[week] += 1
    days = sla_days("pemeriksaan", 1)
    return VerificationTimes(
        weeks=[VerificationWeek(week=w, count=len(hours[w]), median_hours=percentile(hours[w], 0.5),
                                p90_hours=percentile(hours[w], 0.9), on_time=on_time[w]) for w in starts],
        sla_days=days,
        # A working day is 24 hours of clock time when no weekend falls inside it.
        sla_hours=24.0 * days,
    )


@dataclass(frozen=True)
class CheckFailures:
    """Share of processed uploads failing each check, per week of upload."""

    weeks: list[dt.date]
    totals: dict[dt.date, int]
    #: check code -> week -> number of uploads failing it.
    failed: dict[str, dict[dt.date, int]] = field(default_factory=dict)

    @property
    def checks(self) -> list[str]:
        return [c for c in CHECK_CODES if c in self.failed] + sorted(set(self.failed) - set(CHECK_CODES))

    def share(self, check: str, week: dt.date) -> float | None:
        total = self.totals.get(week, 0)
        return self.failed.get(check, {}).get(week, 0) / total if total else None

    def overall(self, check: str) -> float | None:
        total = sum(self.totals.values())
        return sum(self.failed.get(check, {}).values()) / total if total else None


def check_failures(moment: dt.datetime, weeks: int = 8) -> CheckFailures:
    """For each check, how many of the week's processed uploads it failed.

    Read from the weekly tallies processing keeps (a few rows per week), not from the checks of
    every upload: at a province's volume that was tens of thousands of JSON documents per load.
    """
    starts = recent_weeks(moment, weeks)
    totals: Counter = Counter()
    failed: dict[str, dict[dt.date, int]] = defaultdict(dict)
    # Later weeks than this one (uploads dated ahead) are counted as they were when every
    # upload since the first week was read: in the checks' overall share, not in the totals.
    for week, name, uploads, n_failed in (CheckTally.select(CheckTally.week, CheckTally.check_name,
                                                            CheckTally.uploads, CheckTally.failed)
                                          .where((CheckTally.week >= starts[0]) & (CheckTally.uploads > 0))
                                          .tuples()):
        if name == ALL_UPLOADS:
            totals[week] += uploads
        else:
            failed[name][week] = n_failed
    return CheckFailures(weeks=starts, totals={w: totals[w] for w in starts}, failed=dict(failed))


@dataclass(frozen=True)
class CheckAgainstOfficers:
    """One check on the uploads officers accepted: how often it had failed them (a false alarm,
    in the officers' judgement, overridden with a reason)."""

    check: str
    accepted: int
    overridden: int

    @property
    def false_alarm_rate(self) -> float:
        return self.overridden / self.accepted


@dataclass(frozen=True)
class DefectAgainstChecks:
    """One defect officers returned uploads for: how many of those a check meant to see it
    had failed already (the check's recall, in the officers' judgement)."""

    defect: str
    checks: tuple[str, ...]
    returned: int
    caught: int

    @property
    def recall(self) -> float:
        return self.caught / self.returned


@dataclass(frozen=True)
class OfficersVerdicts:
    """The automatic checks measured against the officers' verdicts of the last weeks."""

    since: dt.date
    checks: list[CheckAgainstOfficers]
    defects: list[DefectAgainstChecks]


def officers_verdicts(moment: dt.datetime, weeks: int = 8) -> OfficersVerdicts:
    """Per check, its false alarms on the uploads officers accepted; per defect officers named
    when returning uploads, how many a check had caught. Read from the weekly tallies."""
    since = recent_weeks(moment, weeks)[0]
    totals: Counter = Counter()
    for subject, outcome, verdicts in (VerdictTally.select(VerdictTally.subject, VerdictTally.outcome,
                                                           peewee.fn.SUM(VerdictTally.verdicts))
                                       .where(VerdictTally.week >= since)
                                       .group_by(VerdictTally.subject, VerdictTally.outcome).tuples()):
        totals[(subject, outcome)] = int(verdicts)
    return OfficersVerdicts(
        since=since,
        checks=[CheckAgainstOfficers(check=c, accepted=totals[(c, ACCEPTED)], overridden=totals[(c, OVERRIDDEN)])
                for c in CHECK_CODES if totals[(c, ACCEPTED)]],
        defects=[DefectAgainstChecks(defect=d, checks=checks, returned=totals[(d, RETURNED)],
                                     caught=totals[(d, CAUGHT)])
                 for d, checks in DEFECT_CHECKS.items() if totals[(d, RETURNED)]],
    )
