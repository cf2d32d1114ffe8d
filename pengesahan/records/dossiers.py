"""A CPMI's placement application (dossier), its document slots, the uploads into them and
every review decision."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import peewee

from pengesahan import workflow
from pengesahan.records.base import BaseModel, JSONField, UTCDateTimeField, now
from pengesahan.records.people import Candidate, Company, User
from processing.spec import DEFECT_CHECKS, capture_correction


class Dossier(BaseModel):
    """One CPMI placement application with its P3MI."""

    candidate = peewee.ForeignKeyField(Candidate, backref="dossiers", on_delete="RESTRICT")
    company = peewee.ForeignKeyField(Company, backref="dossiers", on_delete="RESTRICT")
    destination_country = peewee.CharField(max_length=80, default="")
    employer_name = peewee.CharField(max_length=200, default="")
    job_title = peewee.CharField(max_length=120, default="")
    status = peewee.CharField(max_length=20, default=workflow.DossierStatus.DIAJUKAN, choices=list(workflow.DOSSIER_STATUSES.items()))
    cpmi_id = peewee.CharField(max_length=60, null=True, unique=True)
    assigned_to = peewee.ForeignKeyField(User, null=True, backref="assigned_dossiers", on_delete="SET NULL")
    submitted_at = UTCDateTimeField(default=now)
    check_due_at = UTCDateTimeField(null=True)
    service_due_at = UTCDateTimeField(null=True)
    verified_at = UTCDateTimeField(null=True)
    #: The CPMI profile as this dossier's P3MI declared it, when it differs from the profile
    #: the office holds (which another company's dossier or a signed letter uses).
    declared_profile = JSONField(null=True)
    #: Findings for the officers, e.g. a declaration that contradicts the verified identity.
    findings = JSONField(null=True)
    created_at = UTCDateTimeField(default=now)

    class Meta:
        # The review queue: by status, nearest check deadline first.
        indexes = ((("status", "check_due_at"), False), (("check_due_at",), False))

    @property
    def status_label(self) -> str:
        return workflow.DOSSIER_STATUSES.get(self.status, self.status)

    @property
    def profile(self):
        """The CPMI as this dossier's P3MI declared it: the office's profile, unless the company
        declared something else (then its own declaration, never another company's data)."""
        if not self.declared_profile:
            return self.candidate
        values = dict(self.declared_profile)
        for name in ("birth_date", "permit_date", "health_date"):
            if values.get(name):
                values[name] = dt.date.fromisoformat(values[name])
        return SimpleNamespace(**values)

    def __str__(self):
        return f"Berkas #{self.id} — {self.candidate.name}"


class DocumentSlot(BaseModel):
    """A place in the dossier for one required document (from the requirement matrix)."""

    dossier = peewee.ForeignKeyField(Dossier, backref="slots", on_delete="CASCADE")
    doc_type = peewee.CharField(max_length=40)
    label = peewee.CharField(max_length=120)
    owner = peewee.CharField(max_length=10, default="cpmi")
    position = peewee.IntegerField(default=0)
    status = peewee.CharField(max_length=20, default=workflow.SlotStatus.KOSONG, choices=list(workflow.SLOT_STATUSES.items()))
    reason = peewee.TextField(default="", help_text="Alasan penolakan yang dilihat CPMI/P3MI")

    class Meta:
        indexes = ((("dossier", "doc_type", "label"), True),)

    @property
    def status_label(self) -> str:
        return workflow.SLOT_STATUSES.get(self.status, self.status)

    @property
    def current_upload(self) -> Upload | None:
        """The newest upload; as read for a whole page by :func:`with_current_uploads`, if it was."""
        if "_current_upload" in self.__dict__:
            return self.__dict__["_current_upload"]
        return self.uploads.order_by(Upload.id.desc()).first()

    def __str__(self):
        return f"{self.label} (berkas #{self.dossier_id})"


#: Characters of an upload's text kept (a few pages' worth: enough to tell its type).
OCR_TEXT_LIMIT = 20_000


class Upload(BaseModel):
    """One stored file put into a slot; re-uploads add rows, so history stays."""

    slot = peewee.ForeignKeyField(DocumentSlot, backref="uploads", on_delete="CASCADE")
    sha256 = peewee.CharField(max_length=64, index=True)
    media_type = peewee.CharField(max_length=40)
    size = peewee.IntegerField()
    #: Display only; never used to build a path.
    original_name = peewee.CharField(max_length=255, default="")
    uploaded_by = peewee.ForeignKeyField(User, null=True, backref="uploads", on_delete="SET NULL")
    uploaded_at = UTCDateTimeField(default=now)
    state = peewee.CharField(max_length=10, default=workflow.UploadState.QUEUED,
                             choices=list(workflow.UPLOAD_STATES.items()))
    state_reason = peewee.TextField(default="")
    progress = peewee.IntegerField(default=0)
    #: The processing job queued again (reprocessed, reconciled); empty while it is the first
    #: one, named after the row (:func:`processing_job_id`).
    job_id = peewee.CharField(max_length=60, null=True)
    attempts = peewee.IntegerField(default=0)
    #: Runs in a row that started and never finished (their worker died, was killed or lost
    #: the database); back to 0 when one finishes. Schema v14.
    interrupted_runs = peewee.IntegerField(default=0)
    processed_at = UTCDateTimeField(null=True)
    pages = peewee.IntegerField(null=True)
    classified_type = peewee.CharField(max_length=40, null=True)
    confidence = peewee.FloatField(null=True)
    checks = JSONField(null=True)
    fields = JSONField(null=True)
    phash = peewee.CharField(max_length=32, null=True)
    #: Main number read from the document (NIK, KK, certificate...), for duplicate checks.
    doc_number = peewee.CharField(max_length=60, null=True)
    #: Store keys of the derived images (normalised document, thumbnail with outline).
    normalised_key = peewee.CharField(max_length=64, null=True)
    thumbnail_key = peewee.CharField(max_length=64, null=True)
    #: Whether this upload's checks are counted in :class:`CheckTally` (a processed upload's
    #: are, until it is analysed again).
    checks_tallied = peewee.BooleanField(default=False)
    #: The text the worker read (text layer or OCR), at most :data:`OCR_TEXT_LIMIT` characters:
    #: an accepted upload's text is a labelled example for the office's type model.
    ocr_text = peewee.TextField(null=True)
    #: The first page's image numbers (processing.image_features): an upload an officer judged
    #: is an example for the office's defect models. None for born-digital pages and uploads
    #: processed before schema v16.
    quality_features = JSONField(null=True)
    #: How the worker set the capture right before the checks: degrees its content was turned
    #: clockwise, and whether it was a mirror image (flipped before the turn). None for uploads
    #: processed before schema v17.
    capture_rotation = peewee.IntegerField(null=True)
    capture_mirrored = peewee.BooleanField(null=True)
    #: Why the classifier took the document for its type, in words.
    type_reasons = JSONField(null=True)

    class Meta:
        # The dashboard and the reconciler read uploads by state and time.
        indexes = ((("state", "uploaded_at"), False), (("uploaded_at",), False))

    @property
    def state_label(self) -> str:
        return workflow.UPLOAD_STATES.get(self.state, self.state)

    @property
    def capture_note(self) -> str | None:
        return capture_correction(self.capture_rotation, self.capture_mirrored)

    @property
    def processing_job_id(self) -> str:
        return processing_job_id(self.id, self.job_id)

    def __str__(self):
        return f"Unggahan #{self.id} ({self.media_type}, {self.size} B)"


def with_current_uploads(slots) -> list[DocumentSlot]:
    """The slots, each holding its newest upload, read in one query for all of them.

    A dossier's page, its poll and the API's dossier each show every slot with its current
    upload: asked slot by slot, that was a query per slot and per use (the officer's page of 15
    slots cost 41 statements, 30 of them these). Only the instances returned hold it: a slot
    read afresh asks again, so a service that adds an upload never sees the one before.
    """
    slots = list(slots)
    newest = (Upload.select(peewee.fn.MAX(Upload.id))
              .where(Upload.slot.in_([slot.id for slot in slots])).group_by(Upload.slot))
    uploads = {u.slot_id: u for u in Upload.select().where(Upload.id.in_(newest))} if slots else {}
    for slot in slots:
        slot.__dict__["_current_upload"] = uploads.get(slot.id)
    return slots


def attempt_job_id(upload_id: int, attempts: int) -> str:
    """The name of the job that processes an upload after ``attempts`` earlier runs."""
    return f"upload-{upload_id}-{attempts}"


def processing_job_id(upload_id: int, recorded: str | None) -> str:
    """The id of an upload's processing job: the one recorded, else its first job's.

    The first job is named after the row, so recording an upload is one INSERT: its id exists
    only once the row does, and writing the name back would be a second statement."""
    return recorded or attempt_job_id(upload_id, 0)


def tally_week(moment: dt.datetime) -> dt.date:
    """The Monday (UTC) of ``moment``'s week: the weeks the dashboard and the tallies count in."""
    day = moment.date()
    return day - dt.timedelta(days=day.weekday())


class CheckTally(BaseModel):
    """How many processed uploads of one week ran a check, and how many failed it.

    The dashboard reads these few rows instead of the checks of every upload of its weeks; the
    worker keeps them in the transaction that stores an upload's checks (:func:`tally_checks`).
    """

    #: The Monday of the week the uploads were uploaded in.
    week = peewee.DateField()
    #: A check code, or ``""`` for the count of the week's processed uploads themselves.
    check_name = peewee.CharField(max_length=40)
    uploads = peewee.IntegerField(default=0)
    failed = peewee.IntegerField(default=0)

    class Meta:
        indexes = ((("week", "check_name"), True),)

    def __str__(self):
        return f"{self.check_name or 'unggahan'} {self.week}: {self.failed}/{self.uploads}"


#: The row of :class:`CheckTally` counting a week's processed uploads.
ALL_UPLOADS = ""


def _tally_rows(counts: dict[tuple[dt.date, str], list[int]]) -> list[dict]:
    return [{"week": week, "check_name": name, "uploads": n, "failed": failed}
            for (week, name), (n, failed) in counts.items()]


def count_into(counts: dict[tuple[dt.date, str], list[int]], uploaded_at: dt.datetime,
               checks: list[dict] | None, sign: int = 1) -> None:
    """Add (``sign=-1``: take away) one upload's checks to ``counts`` of (week, check)."""
    week = tally_week(uploaded_at)
    counts.setdefault((week, ALL_UPLOADS), [0, 0])[0] += sign
    for check in checks or []:
        entry = counts.setdefault((week, check["name"]), [0, 0])
        entry[0] += sign
        entry[1] += 0 if check.get("ok") else sign


def tally_checks(uploaded_at: dt.datetime, checks: list[dict] | None, *, sign: int = 1) -> None:
    """Count (``sign=-1``: uncount) one processed upload's checks in its week's tallies.

    Call it inside the write transaction that stores (or replaces) the checks; concurrent
    workers add to the same rows without losing a count (one upsert per row).
    """
    counts: dict[tuple[dt.date, str], list[int]] = {}
    count_into(counts, uploaded_at, checks, sign)
    add_to_tallies(counts)


def add_to_tallies(counts: dict[tuple[dt.date, str], list[int]]) -> None:
    """Add ``counts`` (of :func:`count_into`) to the weekly tallies: one upsert statement per
    _TALLY_BATCH rows, so a processed upload's checks cost one round trip, not one each."""
    # In one order for every writer: two workers upserting the same rows lock them in the
    # same sequence and cannot deadlock.
    rows = sorted(_tally_rows(counts), key=lambda row: (row["week"], row["check_name"]))
    for start in range(0, len(rows), _TALLY_BATCH):
        (CheckTally.insert_many(rows[start:start + _TALLY_BATCH])
         .on_conflict(conflict_target=[CheckTally.week, CheckTally.check_name],
                      update={CheckTally.uploads: CheckTally.uploads + peewee.EXCLUDED.uploads,
                              CheckTally.failed: CheckTally.failed + peewee.EXCLUDED.failed})
         .execute())


#: Rows per upsert: four parameters each, under SQLite's oldest limit of 999 per statement.
_TALLY_BATCH = 200


def rebuild_check_tallies(batch: int = 2_000) -> int:
    """Count every processed upload afresh (the upgrade that adds the tallies, bulk imports);
    returns the uploads counted. Run it inside a write transaction."""
    counts: dict[tuple[dt.date, str], list[int]] = {}
    done = (Upload.select(Upload.uploaded_at, Upload.checks)
            .where(Upload.state == workflow.UploadState.DONE).tuples().iterator())
    for uploaded_at, checks in done:
        count_into(counts, uploaded_at, checks)
    CheckTally.delete().execute()
    rows = _tally_rows(counts)
    for start in range(0, len(rows), batch):
        CheckTally.insert_many(rows[start:start + batch]).execute()
    Upload.update(checks_tallied=False).where(Upload.checks_tallied).execute()
    return Upload.update(checks_tallied=True).where(Upload.state == workflow.UploadState.DONE).execute()


class VerdictTally(BaseModel):
    """How one week's officers' verdicts on processed uploads agreed with the automatic checks.

    An accepted upload counts for every check that ran on it (:data:`ACCEPTED`), and as an
    override of each it failed (:data:`OVERRIDDEN`: a false alarm, in the officer's judgement). An
    upload returned with a reason naming a defect counts for that defect (:data:`RETURNED`), and
    as caught when a check meant to see it had failed (:data:`CAUGHT`). Kept in the transaction
    of the verdict (:func:`tally_verdict`), so the dashboard reads a few rows per week.
    """

    #: The Monday of the week of the verdict.
    week = peewee.DateField()
    #: A check code (accepted, overridden) or a defect code (returned, caught).
    subject = peewee.CharField(max_length=40)
    outcome = peewee.CharField(max_length=20)
    verdicts = peewee.IntegerField(default=0)

    class Meta:
        indexes = ((("week", "subject", "outcome"), True),)

    def __str__(self):
        return f"{self.subject} {self.outcome} {self.week}: {self.verdicts}"


ACCEPTED, OVERRIDDEN, RETURNED, CAUGHT = "accepted", "overridden", "returned", "caught"


def tally_verdict(checks: list[dict] | None, *, accepted: bool, defect: str | None,
                  moment: dt.datetime) -> None:
    """Count an officer's verdict on a processed upload with ``checks`` (see :class:`VerdictTally`).

    Call it inside the verdict's write transaction. A return whose reason names no defect is not
    counted: it says nothing of what the checks should have seen.
    """
    counts: dict[tuple[str, str], int] = {}
    if accepted:
        for check in checks or []:
            outcomes = (ACCEPTED,) if check.get("ok") else (ACCEPTED, OVERRIDDEN)
            for outcome in outcomes:
                counts[(check["name"], outcome)] = counts.get((check["name"], outcome), 0) + 1
    elif defect in DEFECT_CHECKS:
        failed = {check["name"] for check in checks or [] if not check.get("ok")}
        counts[(defect, RETURNED)] = 1
        if failed & set(DEFECT_CHECKS[defect]):
            counts[(defect, CAUGHT)] = 1
    week = tally_week(moment)
    # One statement, rows in one order for every writer (no deadlock between two officers).
    rows = [{"week": week, "subject": subject, "outcome": outcome, "verdicts": n}
            for (subject, outcome), n in sorted(counts.items())]
    if rows:
        (VerdictTally.insert_many(rows)
         .on_conflict(conflict_target=[VerdictTally.week, VerdictTally.subject, VerdictTally.outcome],
                      update={VerdictTally.verdicts: VerdictTally.verdicts + peewee.EXCLUDED.verdicts})
         .execute())


class ReviewEvent(BaseModel):
    """A status change of a dossier or slot: who, when, from what to what, and why."""

    dossier = peewee.ForeignKeyField(Dossier, backref="events", on_delete="CASCADE")
    slot = peewee.ForeignKeyField(DocumentSlot, null=True, backref="events", on_delete="CASCADE")
    actor = peewee.ForeignKeyField(User, null=True, backref="review_events", on_delete="SET NULL")
    at = UTCDateTimeField(default=now)
    from_status = peewee.CharField(max_length=20)
    to_status = peewee.CharField(max_length=20)
    reason = peewee.TextField(default="")
    #: The upload an officer accepted or returned (a slot's review; schema v15 on).
    upload = peewee.ForeignKeyField(Upload, null=True, backref="verdicts", on_delete="SET NULL")
    #: The defect the officer returned it for (processing.spec.DEFECT_CHECKS), from the reason
    #: picked; None when the reason was typed only, or the upload was accepted.
    defect = peewee.CharField(max_length=20, null=True)

    def __str__(self):
        return f"{self.from_status} → {self.to_status}"
