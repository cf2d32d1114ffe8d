"""The analysis of scans against their dossier: what the worker runs on every upload, and what
``flask classify`` runs inline. One definition of what ``processing.pipeline.analyse`` is given."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from peewee import PeeweeException

from pengesahan.config import Settings
from pengesahan.errors import EngineUnavailable, NotFound, StorageError, Unavailable
from pengesahan.records.base import is_sqlite, now, write_transaction
from pengesahan.records.catalogue import DocumentType, load_thresholds
from pengesahan.records.dossiers import OCR_TEXT_LIMIT, DocumentSlot, Dossier, Upload, tally_checks
from pengesahan.services import dossiers, drafts, learning
from pengesahan.storage import file_store
from pengesahan.workflow import UploadState
from processing.pipeline import Analysis, ChecksCallback, analyse
from processing.spec import CheckResult, DocTypeSpec, FormData, KnownDocument, Thresholds

log = logging.getLogger(__name__)

__all__ = ["PROGRESS_INTERVAL", "ScanContext", "analyse_scan", "draft_match", "process_upload", "scan_context"]

#: Seconds between two writes of an analysis's progress. Each write is a commit and a flush to
#: disk on the database the requests use; most files are analysed in less, and the pages that
#: show the progress ask for it every few seconds.
PROGRESS_INTERVAL = 1.0
#: Runs of one upload in a row that may start and never finish before it fails for an officer.
#: A file that kills the analysis (native code crashing on it) would otherwise be queued again
#: by the reconcile for ever, each time taking its worker down with it.
MAX_INTERRUPTED_RUNS = 3
#: Why such an upload failed, as the P3MI and the officer read it.
INTERRUPTED_REASON = ("Analisis otomatis berkas ini terhenti {runs} kali berturut-turut; "
                      "berkas diperiksa petugas secara manual atau diunggah ulang.")
#: Faults of the machine, not of the file: the file store unreadable (a stored file not found
#: too: an unmounted store looks the same), the database unreachable, an OCR engine missing. A
#: run they stop is not counted among the interrupted ones, so an outage of any length fails no
#: upload: RQ's retries and the reconcile run it again once the machine is back. Anything else
#: raised (an OCR that times out on this image included) is the file tripping the analysis,
#: which would trip it again, and counts like a run that died.
MACHINE_FAULTS = (StorageError, NotFound, Unavailable, EngineUnavailable, PeeweeException)


@dataclass
class ScanContext:
    """What a scan is judged against: the office's catalogue, the form, the documents known."""

    thresholds: Thresholds
    doc_types: list[DocTypeSpec]
    form: FormData | None = None
    candidate_id: int | None = None
    known: list[KnownDocument] = field(default_factory=list)

    def remember(self, analysis: Analysis, upload_id: int) -> None:
        """Count ``analysis`` among the known documents (later files of one run)."""
        self.known.append(KnownDocument(upload_id=upload_id, sha256=analysis.sha256, doc_type=analysis.doc_type,
                                        number=analysis.number, candidate_id=self.candidate_id,
                                        phash=analysis.phash))


def scan_context(dossier: Dossier | None = None, *, exclude_upload: int | None = None,
                 with_form: bool = True) -> ScanContext:
    """The context of a scan in ``dossier`` (or of a loose file when None)."""
    context = ScanContext(thresholds=load_thresholds(), doc_types=[t.to_spec() for t in DocumentType.select()])
    if dossier is None:
        return context
    candidate = dossier.candidate
    context.candidate_id = candidate.id
    if with_form:
        # The dossier's own form: what its company declared where that differs from the office's
        # record (Dossier.profile), as the company's pages and its PP draft's check show it.
        profile = dossier.profile
        context.form = FormData(nik=candidate.nik, name=profile.name, birth_date=getattr(profile, "birth_date", None),
                                sex=getattr(profile, "sex", None), kk_number=getattr(profile, "kk_number", None) or None)
    others = (Upload.select(Upload, DocumentSlot).join(DocumentSlot)
              .where((DocumentSlot.dossier == dossier) & (Upload.state == UploadState.DONE)))
    if exclude_upload is not None:
        others = others.where(Upload.id != exclude_upload)
    context.known = [KnownDocument(upload_id=o.id, sha256=o.sha256, doc_type=o.classified_type,
                                   number=o.doc_number, candidate_id=candidate.id, phash=o.phash)
                     for o in others]
    return context


def analyse_scan(settings: Settings, data: bytes, *, slot_type: str | None, context: ScanContext,
                 on_progress: Callable[[float, str], None] | None = None,
                 on_checks: ChecksCallback | None = None) -> Analysis:
    """Classify and check ``data`` as an upload into a ``slot_type`` slot, the rules blended with
    the office's models when they have been trained (services/learning.py)."""
    return analyse(data, slot_type=slot_type, form=context.form, known=context.known,
                   thresholds=context.thresholds, doc_types=context.doc_types, on_progress=on_progress,
                   candidate_id=context.candidate_id, ocr_engine=settings.ocr_engine,
                   type_model=learning.current_model(settings), on_checks=on_checks,
                   defect_models=learning.current_defect_models(settings))


def draft_match(dossier: Dossier, facts: drafts.DraftFacts) -> dict:
    """The ``pp_match`` check of a PP draft: whether what it states (CPMI, country, P3MI,
    employer, position) contradicts ``dossier``. Judged when the draft is processed, so that the
    P3MI replaces a wrong draft at once and an officer who accepts one anyway must say why (an
    override); submitting the agreement compares the draft again (services.ratification)."""
    problems = drafts.draft_mismatches(facts, dossiers.draft_expectations(dossier))
    return CheckResult(
        name=drafts.DRAFT_CHECK, ok=not problems, value=problems or None,
        message=" ".join(problems) if problems else "Data pada draf tidak bertentangan dengan berkas.",
    ).as_dict()


def _stored_results(upload_id: int) -> Upload | None:
    """The upload's state and results as stored, locked for the write transaction reading them."""
    return (Upload.select(Upload.state, Upload.uploaded_at, Upload.checks, Upload.checks_tallied)
            .where(Upload.id == upload_id).for_update(not is_sqlite()).get_or_none())


def process_upload(settings: Settings, upload_id: int) -> str:
    """Analyse one stored upload and keep the results on its record; idempotent."""
    upload = Upload.get_or_none(Upload.id == upload_id)
    if upload is None:
        log.warning("upload %s gone; nothing to do", upload_id)
        return "missing"
    if upload.state == UploadState.DONE:
        return UploadState.DONE  # a retried job after success does nothing
    # Still running: the run before this one never finished.
    interrupted = upload.interrupted_runs + 1 if upload.state == UploadState.RUNNING else 0
    if interrupted >= MAX_INTERRUPTED_RUNS:
        log.error("upload %s: %s runs in a row never finished; failed for an officer", upload_id, interrupted)
        with write_transaction():
            # The results of its last run that finished stay for the officer, uncounted as
            # a failed analysis's are.
            stored = _stored_results(upload_id)
            if stored is not None and stored.checks_tallied:
                tally_checks(stored.uploaded_at, stored.checks, sign=-1)
            Upload.update(state=UploadState.FAILED, state_reason=INTERRUPTED_REASON.format(runs=interrupted),
                          interrupted_runs=interrupted, checks_tallied=False, progress=100,
                          processed_at=now()).where(Upload.id == upload_id).execute()
        return UploadState.FAILED
    Upload.update(state=UploadState.RUNNING, attempts=Upload.attempts + 1, progress=0,
                  interrupted_runs=interrupted).where(Upload.id == upload_id).execute()
    try:
        return _run(settings, upload)
    except MACHINE_FAULTS:
        _leave_as_found(upload)
        raise


def _leave_as_found(upload: Upload) -> None:
    """Put back the state and count of interrupted runs ``upload`` had before a run that a
    fault of the machine stopped; the fault is what the caller reports."""
    try:
        Upload.update(state=upload.state, interrupted_runs=upload.interrupted_runs).where(
            Upload.id == upload.id).execute()
    except PeeweeException:
        # The database is the fault: the upload stays running, and the next run that reads it
        # counts this one, as it would a run whose process died.
        log.warning("upload %s: state not put back after a fault of the machine", upload.id)


def _run(settings: Settings, upload: Upload) -> str:
    """Analyse ``upload``, now marked running, and store the results."""
    upload_id = upload.id
    store = file_store(settings)
    slot = upload.slot
    context = scan_context(slot.dossier, exclude_upload=upload.id, with_form=slot.owner == "cpmi")

    progress_written = time.monotonic()  # with the state above, at 0

    def on_progress(fraction: float, stage: str) -> None:
        nonlocal progress_written
        if time.monotonic() - progress_written < PROGRESS_INTERVAL:
            return
        progress_written = time.monotonic()
        Upload.update(progress=int(100 * fraction)).where(Upload.id == upload_id).execute()

    def on_checks(results) -> None:
        # The P3MI reads "retake the photo" while the text is still being read; the final
        # results below replace these. Only final results are counted in the dashboard's
        # tallies: results counted before (an upload analysed again) are taken out first.
        with write_transaction():
            stored = _stored_results(upload_id)
            if stored is None or stored.state != UploadState.RUNNING:
                return
            if stored.checks_tallied:
                tally_checks(stored.uploaded_at, stored.checks, sign=-1)
            Upload.update(checks=[c.as_dict() for c in results], checks_tallied=False).where(
                Upload.id == upload_id).execute()

    data = store.read(upload.sha256)
    analysis = analyse_scan(settings, data, slot_type=slot.doc_type, context=context, on_progress=on_progress,
                            on_checks=on_checks)
    normalised_key = store.put(analysis.normalised_png) if analysis.normalised_png else None
    thumbnail_key = store.put(analysis.thumbnail_png) if analysis.thumbnail_png else None
    state = UploadState.FAILED if analysis.error else UploadState.DONE
    checks = [c.as_dict() for c in analysis.checks]
    fields = analysis.fields
    if state == UploadState.DONE and slot.doc_type == drafts.DRAFT_TYPE and upload.media_type == "application/pdf":
        facts = drafts.draft_facts(drafts.read_draft_text(data, ocr_engine=settings.ocr_engine,
                                                          scanned_text=analysis.text))
        checks.append(draft_match(slot.dossier, facts))
        # The officer reads the draft's parties and terms beside the dossier's.
        fields = {**fields, **drafts.draft_fields(facts, slot.dossier.candidate.nik)}
    with write_transaction():
        # Read again under the write lock: the dashboard's tallies count each stored result once
        # (a job run twice at once, an upload analysed again after it was counted).
        stored = _stored_results(upload_id)
        if stored is None:
            return "missing"
        if stored.state == UploadState.DONE:
            return UploadState.DONE
        if stored.checks_tallied:
            tally_checks(stored.uploaded_at, stored.checks, sign=-1)
        if state == UploadState.DONE:
            tally_checks(stored.uploaded_at, checks)
        Upload.update(
            state=state,
            state_reason=analysis.error or "",
            interrupted_runs=0,
            progress=100,
            processed_at=now(),
            pages=analysis.pages,
            classified_type=analysis.doc_type,
            confidence=analysis.confidence,
            checks=checks,
            checks_tallied=state == UploadState.DONE,
            fields=fields,
            phash=analysis.phash,
            doc_number=analysis.number,
            ocr_text=analysis.text[:OCR_TEXT_LIMIT] if analysis.text else None,
            quality_features=analysis.quality_features,
            capture_rotation=analysis.rotation,
            capture_mirrored=analysis.mirrored,
            type_reasons=list(analysis.reasons) or None,
            normalised_key=normalised_key,
            thumbnail_key=thumbnail_key,
        ).where(Upload.id == upload_id).execute()
    return state
