"""One error hierarchy for the whole product.

Every message is fit to show a user (Bahasa Indonesia); the web layer turns these into an HTTP
status with that message, the CLI into an exit code. Third-party exceptions are translated into
these at the boundary of the package that calls the library (``raise ... from exc``).
"""


class ServiceError(Exception):
    """Base of every error this product raises on purpose."""

    #: HTTP status the web layer answers with.
    status = 400
    #: Stable machine code for APIs and logs.
    code = "error"

    def __init__(self, message: str, *, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class Unauthorized(ServiceError):
    """No credentials, unknown ones or revoked ones (API tokens)."""

    status = 401
    code = "unauthorized"


class ValidationFailed(ServiceError):
    """The request body or query is not valid; ``details`` holds messages per field."""

    status = 422
    code = "validation_failed"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    """The request contradicts the current state (e.g. a status transition not allowed)."""

    status = 409
    code = "conflict"


class IntakeError(ServiceError):
    """An uploaded file is refused: wrong format, unreadable, dangerous."""

    status = 422
    code = "intake_rejected"


class TemplateError(ServiceError):
    """An officer's letter template cannot be rendered (unknown field, forbidden access)."""

    code = "template_invalid"


class FileTooLarge(IntakeError):
    status = 413
    code = "file_too_large"


class ProcessingError(ServiceError):
    """A scan could not be analysed (decoding failed, a PDF is broken or encrypted, ...)."""

    status = 422
    code = "processing_failed"


class EngineUnavailable(ProcessingError):
    """The machine lacks an OCR engine the analysis needs: a fault of the installation, not of
    the file."""

    status = 503
    code = "engine_unavailable"


class SigningError(ServiceError):
    """Signing failed for a technical reason (key, passphrase, timestamp authority)."""

    status = 422
    code = "signing_failed"


class SigningRefused(SigningError):
    """The signer is not entitled to sign this document (no SK in force, wrong status, ...)."""

    status = 403
    code = "signing_refused"


class WrongPassphrase(SigningError):
    status = 403
    code = "wrong_passphrase"


class VerificationError(ServiceError):
    """A file offered for verification cannot be read as a PDF."""

    status = 422
    code = "not_a_pdf"


class Unavailable(ServiceError):
    """The system is briefly unable to answer (database locked, queue unreachable)."""

    status = 503
    code = "unavailable"


class StorageError(ServiceError):
    """The file store could not keep a file (disk full, permissions)."""

    status = 507
    code = "storage_failed"
