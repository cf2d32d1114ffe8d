"""Schema creation and upgrades, versioned. ``flask --app app db upgrade`` runs them.

Each migration is a function applied once, in order, inside a transaction; the version
reached is kept in the ``schema_version`` table.
"""

from __future__ import annotations

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from pengesahan.records import audit
from pengesahan.records.agreements import Agreement, Delegation, Signature, SignedVersion
from pengesahan.records.audit import AuditEntry, PendingAuditEntry
from pengesahan.records.base import BaseModel, db, is_sqlite, now
from pengesahan.records.catalogue import (
    CheckThreshold,
    DocumentType,
    LetterTemplate,
    RejectionTemplate,
    Requirement,
    Setting,
    SlaSetting,
)
from pengesahan.records.dossiers import (
    CheckTally,
    DocumentSlot,
    Dossier,
    ReviewEvent,
    Upload,
    VerdictTally,
    rebuild_check_tallies,
)
from pengesahan.records.people import ApiToken, Candidate, Company, Official, User
from pengesahan.records.webhooks import Webhook, WebhookDelivery
from processing.spec import DEFAULT_THRESHOLDS

MODELS = [
    Company, Candidate, Official, User, ApiToken,
    DocumentType, Requirement, CheckThreshold, RejectionTemplate, SlaSetting, LetterTemplate, Setting,
    Dossier, DocumentSlot, Upload, ReviewEvent,
    Delegation, Agreement, Signature,
    AuditEntry,
]

#: Tables added after v3. Kept out of MODELS: v3 adds columns to every table of MODELS, and on
#: an installation upgraded from v2 these tables do not exist yet when v3 runs.
WEBHOOK_MODELS = [Webhook, WebhookDelivery]
#: Tables added by v6, kept out of MODELS for the same reason.
VERSION_MODELS = [SignedVersion]


class SchemaVersion(BaseModel):
    version = peewee.IntegerField()


def _v1_initial() -> None:
    db.create_tables(MODELS)


def _v2_audit_append_only() -> None:
    # The database itself refuses to change or remove audit entries, beside the hash chain
    # that shows it when someone goes around this (e.g. by dropping the trigger).
    if is_sqlite():
        for op in ("UPDATE", "DELETE"):
            db.execute_sql(
                f"CREATE TRIGGER audit_entry_no_{op.lower()} BEFORE {op} ON audit_entry "
                "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
            )
    else:
        db.execute_sql(
            "CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'audit log is append-only'; END; $$ LANGUAGE plpgsql"
        )
        db.execute_sql(
            "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
        )


def _v3_add_missing_columns() -> None:
    # Columns added to the models after the first schema (User.nip, Upload.doc_number,
    # Agreement.short_code and contract_months...). v1 creates tables from the current models,
    # so a new installation has them already; an older one gets exactly what it lacks.
    _add_missing_columns()


def _add_missing_columns() -> None:
    migrator = SchemaMigrator.from_database(db.obj)
    operations = []
    per_row: list[peewee.Field] = []
    for model in MODELS:
        table = model._meta.table_name
        existing = {column.name for column in db.get_columns(table)}
        for field in model._meta.sorted_fields:
            if field.column_name in existing:
                continue
            if field.unique and callable(field.default):
                # A unique value per row (e.g. a random public id): added empty, filled row by
                # row, then indexed; one default for every row would break the unique index.
                plain = peewee.CharField(max_length=field.max_length, null=True)
                operations.append(migrator.add_column(table, field.column_name, plain))
                per_row.append(field)
            else:
                operations.append(migrator.add_column(table, field.column_name, field))
    if operations:
        migrate(*operations)
    for field in per_row:
        model = field.model
        for row in model.select(model._meta.primary_key):
            model.update({field: field.default()}).where(model._meta.primary_key == row._pk).execute()
        migrate(migrator.add_index(model._meta.table_name, (field.column_name,), unique=True))


def _v4_webhooks() -> None:
    # P3MI webhooks and their delivery log (new tables; nothing existing changes).
    db.create_tables(WEBHOOK_MODELS, safe=True)


def _v5_trust_boundary() -> None:
    # Session generations, SK confirmation, frozen verified data and public ids of agreements,
    # declared profiles and findings of dossiers: columns only, with defaults.
    _add_missing_columns()
    # SKs that signatures already rest on were in force under the rules of their day (an SK on
    # record sufficed): they count as confirmed from their entry, so those PPs keep verifying;
    # every other SK stays a draft until its maker confirms it. Each is written in the audit log.
    used = Delegation.select().join(Signature).where(Delegation.confirmed_at.is_null()).distinct()
    for sk in used:
        Delegation.update(confirmed_at=sk.created_at).where(Delegation.id == sk.id).execute()
        audit.record("sistem", "delegation.confirmed_by_upgrade", f"delegation:{sk.id}", number=sk.number)


def _v6_signed_versions() -> None:
    # Every signed file of an agreement is kept as a version (long-term renewals add new ones);
    # an agreement signed before v6 gets its one version, the file as signed.
    db.create_tables(VERSION_MODELS, safe=True)
    recorded = SignedVersion.select(SignedVersion.id).where(SignedVersion.agreement == Agreement.id)
    signed = Agreement.select().where(Agreement.signed_sha256.is_null(False), ~peewee.fn.EXISTS(recorded))
    for agreement in signed:
        signature = (Signature.select().where(Signature.agreement == agreement.id)
                     .order_by(Signature.signed_at.desc()).first())
        SignedVersion.create(agreement=agreement, sha256=agreement.signed_sha256, reason="signed",
                             made_at=agreement.signed_at or (signature.signed_at if signature else now()),
                             level=signature.level if signature else "")


def _v7_indexes() -> None:
    # What a province's volume needs: uploads by state and time (dashboard, reconciler) and
    # dossiers by status and deadline (review queue). The models declare them for new tables.
    for table, name, columns in (("upload", "upload_state_uploaded_at", "state, uploaded_at"),
                                 ("upload", "upload_uploaded_at", "uploaded_at"),
                                 ("dossier", "dossier_status_check_due_at", "status, check_due_at"),
                                 ("dossier", "dossier_check_due_at", "check_due_at")):
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({columns})')


def _v8_signed_version_lapse() -> None:
    # When each signed file's newest timestamp lapses, so that renewal and the dashboard find
    # what is due with one query. The column starts empty and NULL counts as due: the next
    # `ltv renew` (daily on the worker) reads each such file once and fills it in. Files are not
    # read here: records/ reaches neither the file store nor the settings, and reading every PP
    # of an office inside one migration transaction would hold the write lock for minutes.
    table = SignedVersion._meta.table_name
    if "lapses_at" not in {column.name for column in db.get_columns(table)}:
        migrator = SchemaMigrator.from_database(db.obj)
        migrate(migrator.add_column(table, "lapses_at", SignedVersion.lapses_at))
    # Agreements signed after v6 have no version (signing recorded none until v8): record the
    # file as signed, as v6 did, so that every signed agreement's current file has its row.
    _v6_signed_versions()


def _v9_dashboard_tallies() -> None:
    # The dashboard's weekly check figures are kept as uploads are processed (CheckTally)
    # instead of parsed from every upload's checks on each load; the uploads processed so far
    # are counted here once. Its verification chart reads dossiers by verification time.
    db.create_tables([CheckTally], safe=True)
    if "checks_tallied" not in {column.name for column in db.get_columns("upload")}:
        migrate(SchemaMigrator.from_database(db.obj).add_column("upload", "checks_tallied", Upload.checks_tallied))
    rebuild_check_tallies()
    db.execute_sql('CREATE INDEX IF NOT EXISTS "dossier_verified_at" ON "dossier" (verified_at)')


def _v10_upload_text() -> None:
    # The text the worker reads from each upload is kept from now on, so that accepted uploads
    # teach the office's document-type model (services/learning.py); older uploads have none.
    if "ocr_text" not in {column.name for column in db.get_columns("upload")}:
        migrate(SchemaMigrator.from_database(db.obj).add_column("upload", "ocr_text", Upload.ocr_text))


def _v11_failed_upload_indexes() -> None:
    # The dashboard counts failed uploads in slots still awaiting a check. At a province's
    # volume (1.5 million uploads) the join read every slot (190 ms on PostgreSQL); with the
    # failed uploads' slots and the slots by status both in an index, it merges two index-only
    # scans (65 ms). The partial index holds the few failed uploads only.
    db.execute_sql('CREATE INDEX IF NOT EXISTS "upload_failed_slot_id" ON "upload" (slot_id) '
                   "WHERE state = 'failed'")
    db.execute_sql('CREATE INDEX IF NOT EXISTS "document_slot_status_id" ON "document_slot" (status, id)')


#: The washed-out limit before processing measured the print's black on its darkest percent
#: (it was the low decile of the marks, which the grey edges of thin strokes lifted).
_EXPOSURE_INK_BEFORE_V12 = 70.0


def _v12_exposure_ink_on_the_darkest_print() -> None:
    # The office's own limit stays; the shipped one follows the new measure.
    CheckThreshold.update(value=DEFAULT_THRESHOLDS["exposure_ink"]).where(
        (CheckThreshold.check == "exposure_ink") & (CheckThreshold.doc_type == "")
        & (CheckThreshold.value == _EXPOSURE_INK_BEFORE_V12)).execute()


def _v13_pending_audit_entries() -> None:
    # Uploads and refused files write their audit entries unlinked, linked in batches later
    # (records/audit.py). The table itself is made before any migration (see upgrade); a
    # pending entry is deleted when linked, never changed.
    if is_sqlite():
        db.execute_sql("CREATE TRIGGER IF NOT EXISTS audit_pending_no_update BEFORE UPDATE ON audit_pending "
                       "BEGIN SELECT RAISE(ABORT, 'pending audit entries are not changed'); END")
    else:
        db.execute_sql(
            "CREATE OR REPLACE FUNCTION audit_pending_unchanged() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'pending audit entries are not changed'; END; $$ LANGUAGE plpgsql"
        )
        db.execute_sql("DROP TRIGGER IF EXISTS audit_pending_unchanged ON audit_pending")
        db.execute_sql("CREATE TRIGGER audit_pending_unchanged BEFORE UPDATE ON audit_pending "
                       "FOR EACH ROW EXECUTE FUNCTION audit_pending_unchanged()")


def _v14_interrupted_runs() -> None:
    # The scans worker stops analysing a file whose runs keep dying (services/scans.py).
    if "interrupted_runs" not in {column.name for column in db.get_columns("upload")}:
        migrate(SchemaMigrator.from_database(db.obj).add_column("upload", "interrupted_runs", Upload.interrupted_runs))


#: The defects the reasons shipped before v15 name (the ones added since come with theirs).
_SHIPPED_REASON_DEFECTS = {"buram": "blur", "terpotong": "cropped", "salah_jenis": "wrong_type",
                           "nik_beda": "nik_mismatch"}


def _v15_officers_verdicts() -> None:
    # The checks are measured against the officers' verdicts: each slot review keeps the upload
    # it judged and the defect its reason names, counted weekly (VerdictTally). Verdicts given
    # before have no upload on record and are not counted.
    _add_missing_columns()
    db.execute_sql('CREATE INDEX IF NOT EXISTS "review_event_upload_id" ON "review_event" (upload_id)')
    db.create_tables([VerdictTally], safe=True)
    for code, defect in _SHIPPED_REASON_DEFECTS.items():
        RejectionTemplate.update(defect=defect).where(
            (RejectionTemplate.code == code) & RejectionTemplate.defect.is_null()).execute()


def _v16_upload_image_numbers() -> None:
    # Each processed upload keeps the numbers its image was described by, so that an officer's
    # verdict on it teaches the office's defect models (services/learning.py). Older uploads have
    # none: their image would have to be analysed again.
    _add_missing_columns()


def _v17_capture_set_right() -> None:
    # The officer and the P3MI are told when a capture was a mirror image or upside down, and the
    # officer why its type was taken; older uploads say nothing (None).
    _add_missing_columns()


MIGRATIONS = [
    (1, _v1_initial),
    (2, _v2_audit_append_only),
    (3, _v3_add_missing_columns),
    (4, _v4_webhooks),
    (5, _v5_trust_boundary),
    (6, _v6_signed_versions),
    (7, _v7_indexes),
    (8, _v8_signed_version_lapse),
    (9, _v9_dashboard_tallies),
    (10, _v10_upload_text),
    (11, _v11_failed_upload_indexes),
    (12, _v12_exposure_ink_on_the_darkest_print),
    (13, _v13_pending_audit_entries),
    (14, _v14_interrupted_runs),
    (15, _v15_officers_verdicts),
    (16, _v16_upload_image_numbers),
    (17, _v17_capture_set_right),
]

LATEST = MIGRATIONS[-1][0]


def current_version() -> int:
    if not SchemaVersion.table_exists():
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def upgrade() -> list[int]:
    """Apply the pending migrations; returns the versions applied."""
    # Migrations write audit entries (v5), and an entry is linked after the pending ones: their
    # table is there before any migration runs, on an installation upgraded from any version.
    db.create_tables([SchemaVersion, PendingAuditEntry], safe=True)
    applied = []
    for version, apply in MIGRATIONS:
        if version <= current_version():
            continue
        with db.atomic():
            apply()
            SchemaVersion.create(version=version)
        applied.append(version)
    return applied
