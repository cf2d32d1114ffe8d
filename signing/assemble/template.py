"""The data of an agreement's documents and the sandboxed Jinja2 step of their templates.

A template sees the fields of :func:`template_context` (listed for officers in
:data:`signing.templates.TEMPLATE_FIELDS`). A field that does not exist is an error naming it, a
template cannot reach Python internals, and inserted values are always plain text: they are
marked so that the line markup (:mod:`signing.assemble.markup`) never reads them as markup.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, field
from functools import cache

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from pengesahan.errors import TemplateError
from signing.delegation import format_date

__all__ = ["AgreementData", "template_context"]


@dataclass(frozen=True)
class AgreementData:
    """Everything the office's documents about one placement agreement show."""

    #: Number of the placement agreement (Perjanjian Penempatan).
    agreement_number: str
    #: Identifier of the CPMI's dossier in this service.
    dossier_id: str
    #: CPMI's full name, as on the KTP.
    cpmi_name: str
    #: CPMI's NIK (16 digits).
    cpmi_nik: str
    #: ``"L"`` (laki-laki) or ``"P"`` (perempuan); any other text is shown as is.
    cpmi_sex: str
    #: Place of birth.
    cpmi_birth_place: str
    #: Date of birth.
    cpmi_birth_date: dt.date
    #: Address as on the KTP.
    cpmi_address: str
    #: The CPMI ID issued to the verified dossier (see :mod:`pengesahan.services.cpmi_id`).
    cpmi_id: str
    #: Name of the placement company (P3MI).
    p3mi_name: str
    #: The P3MI's recruitment permit (SIP2MI) number.
    p3mi_licence: str
    #: The P3MI's address.
    p3mi_address: str
    #: Name of the employer abroad.
    employer_name: str
    #: Country of placement.
    employer_country: str
    #: Job title abroad.
    job_title: str
    #: Contract period in months.
    contract_months: int
    #: Name of the officer who verified the dossier and the agreement.
    verifier_name: str
    #: That officer's NIP.
    verifier_nip: str
    #: Date of verification.
    verified_on: dt.date
    #: Date of ratification / issue; also the documents' creation date.
    issue_date: dt.date
    #: Regency of the office, e.g. ``"Tabalong"`` (letterhead, statements).
    regency: str
    #: Lines of the signature block above the box, e.g. ``("a.n. KEPALA DINAS TENAGA KERJA",
    #: "Sekretaris,")``; filled by the caller from the signer and the SK pendelegasian.
    signer_title_lines: tuple[str, ...]
    #: Lines below the box: name (shown bold, underlined), rank, ``"NIP ..."``.
    signer_name_lines: tuple[str, ...]
    #: Office address line of the letterhead.
    office_address: str = ""
    #: Place written before the date above the signature, e.g. ``"Tanjung"``.
    issue_place: str = ""
    #: Number of the passport recommendation letter.
    recommendation_number: str = ""
    #: Addressee of the passport recommendation.
    immigration_office: str = "Kepala Kantor Imigrasi"
    #: Extra fields for officers' templates (``{{ lain.key }}``); values shown as text.
    extra: tuple[tuple[str, str], ...] = field(default=())


# --------------------------------------------------------------------------- dates and context


class _Group(dict):
    """A group of template fields; knows its name so an error can say ``cpmi.namaa``."""

    def __init__(self, label: str, values: dict[str, str]):
        super().__init__(values)
        self.label = label


def template_context(data: AgreementData) -> dict[str, _Group]:
    """The fields a template sees, as listed in :data:`signing.templates.TEMPLATE_FIELDS`."""
    sex = {"L": "Laki-laki", "P": "Perempuan"}.get(data.cpmi_sex.upper(), data.cpmi_sex)
    birth = format_date(data.cpmi_birth_date)
    groups = {
        "kantor": {
            "kabupaten": data.regency,
            "alamat": data.office_address,
            "tempat": data.issue_place,
        },
        "pp": {
            "nomor": data.agreement_number,
            "tanggal": format_date(data.issue_date),
            "jabatan": data.job_title,
            "masa_kontrak": f"{data.contract_months} bulan",
        },
        "berkas": {"id": data.dossier_id},
        "cpmi": {
            "nama": data.cpmi_name,
            "nik": data.cpmi_nik,
            "jenis_kelamin": sex,
            "tempat_lahir": data.cpmi_birth_place,
            "tanggal_lahir": birth,
            "ttl": f"{data.cpmi_birth_place}, {birth}",
            "alamat": data.cpmi_address,
            "id": data.cpmi_id,
        },
        "p3mi": {
            "nama": data.p3mi_name,
            "nomor_izin": data.p3mi_licence,
            "alamat": data.p3mi_address,
        },
        "pemberi_kerja": {"nama": data.employer_name, "negara": data.employer_country},
        "verifikasi": {
            "nama": data.verifier_name,
            "nip": data.verifier_nip,
            "tanggal": format_date(data.verified_on),
        },
        "rekomendasi": {
            "nomor": data.recommendation_number,
            "kantor_imigrasi": data.immigration_office,
        },
        "lain": dict(data.extra),
    }
    return {name: _Group(name, values) for name, values in groups.items()}


# --------------------------------------------------------------------------- template rendering

# Private-use characters: an inserted value is marked so the line markup never reads a value's
# characters as markup (a name starting with "#", an address holding "|" or "**").
_VALUE_START = "\ue000"
_PIPE = "\ue001"
_STAR = "\ue002"


class _Undefined(jinja2.StrictUndefined):
    """StrictUndefined with a message that names the field as an officer wrote it."""

    @property
    def _undefined_message(self) -> str:  # type: ignore[override]
        # Read as "Templat memakai isian 'cpmi.namaa' yang tidak dikenal".
        if isinstance(self._undefined_obj, _Group):
            name = f"{self._undefined_obj.label}.{self._undefined_name}"
        elif self._undefined_obj is jinja2.utils.missing:
            name = str(self._undefined_name)
        else:
            name = f"… .{self._undefined_name}"
        return f"isian '{name}' yang tidak dikenal"


def _finalize(value: object) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.split())  # a value is one line of text
    return _VALUE_START + text.replace("|", _PIPE).replace("*", _STAR)


@cache
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        undefined=_Undefined,
        finalize=_finalize,
        autoescape=False,
        keep_trailing_newline=False,
    )


def _template_line(tb: object) -> int | None:
    """Line of the template where a runtime error happened (Jinja rewrites the traceback)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":  # type: ignore[attr-defined]
            line = tb.tb_lineno  # type: ignore[attr-defined]
        tb = tb.tb_next  # type: ignore[attr-defined]
    return line


def _render_template(template: str, data: AgreementData) -> str:
    """Render the Jinja2 step; every failure becomes a TemplateError an officer can act on."""
    try:
        compiled = _environment().from_string(template)
        return compiled.render(template_context(data))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"Templat tidak valid pada baris {exc.lineno}: {exc.message}",
            details={"line": exc.lineno},
        ) from exc
    except jinja2.exceptions.SecurityError as exc:
        line = _template_line(sys.exc_info()[2])
        raise TemplateError(
            "Templat mencoba mengakses bagian internal sistem yang tidak diizinkan"
            + (f" (baris {line})" if line else "")
            + ". Gunakan hanya isian yang tersedia.",
            details={"line": line},
        ) from exc
    except jinja2.UndefinedError as exc:
        line = _template_line(sys.exc_info()[2])
        raise TemplateError(
            f"Templat memakai {exc.message}"
            + (f" pada baris {line}" if line else "")
            + ". Periksa ejaan isian; daftar isian tersedia ada di bantuan templat.",
            details={"line": line},
        ) from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"Templat tidak dapat diproses: {exc}") from exc
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        # An expression in the template failed (e.g. a filter on the wrong kind of value).
        line = _template_line(sys.exc_info()[2])
        raise TemplateError(
            "Templat tidak dapat diproses" + (f" pada baris {line}" if line else "") + f": {exc}",
            details={"line": line},
        ) from exc
