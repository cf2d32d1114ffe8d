"""ETSI TS 119 102-2 XML validation reports, one per signature.

The reports are built with pyHanko's incubating report module from the results of
:mod:`signing.verify.checks`; they need pyHanko's ``etsi`` extra (xsdata).
"""

from __future__ import annotations

from collections.abc import Sequence

from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESPassed, AdESSubIndic
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus

from signing.verify.report import AdESIndication, SignatureCheck


def _xml_reports(
    regular: Sequence[EmbeddedPdfSignature],
    checks: Sequence[SignatureCheck],
    statuses: Sequence[PdfSignatureStatus | None],
) -> tuple[str, ...]:
    """One TS 119 102-2 report per signature, from the results of :mod:`signing.verify.checks`."""
    # Imported here rather than at the top: these need pyHanko's optional "etsi" extra (xsdata),
    # and verification without XML reports must work without it.
    try:
        from pyhanko.sign.validation.ades import (
            AdESWithTimeValidationResult,
            ValidationObjectSet,
        )
        from pyhanko.sign.validation.report.tools import generate_report
        from pyhanko_certvalidator.ltv.poe import ValidationObject, ValidationObjectType
    except ImportError:  # pyHanko's "etsi" extra (xsdata) is not installed
        return ()
    reports = []
    for sig, check, status in zip(regular, checks, statuses, strict=True):
        if status is None:
            continue
        path = status.validation_path
        certs = list(path) if path is not None else [status.signing_cert]
        objects = ValidationObjectSet(
            ValidationObject(ValidationObjectType.CERTIFICATE, cert) for cert in certs
        )
        result = AdESWithTimeValidationResult(
            ades_subindic=_subindic(check.ades),
            api_status=status,
            failure_msg="; ".join(p.message for p in check.problems) or None,
            validation_objects=objects,
            best_signature_time=check.signing_time or status.validation_time,
            signature_not_before_time=None,
        )
        reports.append(generate_report(sig, result))
    return tuple(reports)


def _subindic(indication: AdESIndication) -> AdESSubIndic:
    if indication.sub_indication is None:
        return AdESPassed.OK
    for enum_type in (AdESFailure, AdESIndeterminate):
        if indication.sub_indication in enum_type.__members__:
            return enum_type[indication.sub_indication]
    return AdESIndeterminate.GENERIC
