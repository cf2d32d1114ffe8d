"""Verification of a signed placement agreement by anyone holding the PDF.

The entry point is :func:`verify_pdf` (or :class:`Verifier` when many files are checked with
the same trust roots, as the web page does). For each PAdES signature it reports whether the
signed bytes are intact, whether the signer's certificate chains to the office's trust roots,
who signed and in which capacity (the CAdES claimed role and /Reason written by
:mod:`signing.sign`), whether the SK pendelegasian cited was in force at the trusted signing
time, the PAdES level reached, what changed in the file after the signature (pyHanko's
difference analysis) and an ETSI EN 319 102-1 indication; document timestamps are validated
too, and the file's SHA-256 is looked up in the office's register. The top-level verdict is one
sentence in Bahasa Indonesia for a layperson.

The modules, by concern:

- :mod:`signing.verify.report`: the report dataclasses (:class:`VerificationReport` and its
  parts) and their JSON form;
- :mod:`signing.verify.reading`: opening the PDF, parsing its signatures, the signer's identity
  and claimed role, the DSS;
- :mod:`signing.verify.checks`: the validation itself (:class:`Verifier`, :func:`verify_pdf`):
  trust, proof of existence and long-term validation, coverage, the SK, the AdES indication;
- :mod:`signing.verify.etsi`: the ETSI TS 119 102-2 XML reports (``xml=True``);
- :mod:`signing.verify.render`: the text and JSON output for a terminal, :func:`verify_main`.
"""

import importlib

from signing.verify.report import INDETERMINATE as INDETERMINATE
from signing.verify.report import INVALID as INVALID
from signing.verify.report import VALID as VALID
from signing.verify.report import AdESIndication as AdESIndication
from signing.verify.report import (
    DelegationCheck,
    DelegationInfo,
    Problem,
    RegisteredAgreement,
    RegistryMatch,
    SignatureCheck,
    SignerInfo,
    TimestampCheck,
    VerificationReport,
)

__all__ = [
    "DelegationCheck",
    "DelegationInfo",
    "Problem",
    "RegisteredAgreement",
    "RegistryMatch",
    "SignatureCheck",
    "SignerInfo",
    "TimestampCheck",
    "VerificationReport",
    "Verifier",
    "verify_main",
    "verify_pdf",
]

# ``format_text``, ``AdESIndication`` and the status constants were public names of the single
# module without being in its ``__all__``; they are re-exported above (``X as X``) the same way.

#: Names whose modules load pyHanko's validation stack: resolved on first use (PEP 562), so a
#: process that only reads reports (the web pages, the dashboard) starts without it.
_VALIDATION_NAMES = {
    "Verifier": "signing.verify.checks",
    "verify_pdf": "signing.verify.checks",
    "verify_main": "signing.verify.render",
    "format_text": "signing.verify.render",
}


def __getattr__(name: str):
    module = _VALIDATION_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
