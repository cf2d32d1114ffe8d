"""Default texts of the office's documents and the fields their templates may use.

Officers edit these texts in the admin (low-code); :mod:`signing.assemble` renders them. The
markup is documented in :mod:`signing.assemble`. The texts are formal Bahasa Indonesia in the
style of a regency office letter; the legal basis comes from the SOP (seed 000).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEFAULT_PASSPORT_RECOMMENDATION_TEMPLATE",
    "DEFAULT_RATIFICATION_TEMPLATE",
    "TEMPLATE_FIELDS",
    "TemplateField",
]


@dataclass(frozen=True)
class TemplateField:
    """One field a template may use, for the help text next to the template editor."""

    #: How the field is written in a template, e.g. ``cpmi.nama`` (used as ``{{ cpmi.nama }}``).
    name: str
    #: What it holds, in Bahasa Indonesia, for officers.
    description: str


#: Every field a template may use, in the order the help text lists them.
TEMPLATE_FIELDS: tuple[TemplateField, ...] = (
    TemplateField("kantor.kabupaten", "Nama kabupaten, mis. Tabalong"),
    TemplateField("kantor.alamat", "Alamat kantor Dinas Tenaga Kerja (baris kop surat)"),
    TemplateField("kantor.tempat", "Tempat penerbitan surat, mis. Tanjung"),
    TemplateField("pp.nomor", "Nomor Perjanjian Penempatan"),
    TemplateField("pp.tanggal", "Tanggal pengesahan/penerbitan, mis. 12 Maret 2026"),
    TemplateField("pp.jabatan", "Jabatan/pekerjaan CPMI di negara tujuan"),
    TemplateField(
        "pp.masa_kontrak", "Jangka waktu perjanjian kerja, mis. 24 (dua puluh empat) bulan"
    ),
    TemplateField("berkas.id", "Nomor berkas (dossier) di sistem"),
    TemplateField("cpmi.nama", "Nama lengkap CPMI"),
    TemplateField("cpmi.nik", "NIK CPMI (16 digit)"),
    TemplateField("cpmi.jenis_kelamin", "Jenis kelamin: Laki-laki atau Perempuan"),
    TemplateField("cpmi.tempat_lahir", "Tempat lahir CPMI"),
    TemplateField("cpmi.tanggal_lahir", "Tanggal lahir CPMI, mis. 9 Februari 1996"),
    TemplateField("cpmi.ttl", "Tempat dan tanggal lahir, mis. Tanjung, 9 Februari 1996"),
    TemplateField("cpmi.alamat", "Alamat CPMI sesuai KTP"),
    TemplateField("cpmi.id", "ID CPMI yang diterbitkan"),
    TemplateField("p3mi.nama", "Nama Perusahaan Penempatan PMI (P3MI)"),
    TemplateField("p3mi.nomor_izin", "Nomor SIP2MI perusahaan"),
    TemplateField("p3mi.alamat", "Alamat P3MI"),
    TemplateField("pemberi_kerja.nama", "Nama pemberi kerja (employer) di luar negeri"),
    TemplateField("pemberi_kerja.negara", "Negara tujuan penempatan"),
    TemplateField("verifikasi.nama", "Nama petugas verifikator"),
    TemplateField("verifikasi.nip", "NIP petugas verifikator"),
    TemplateField("verifikasi.tanggal", "Tanggal verifikasi berkas"),
    TemplateField("rekomendasi.nomor", "Nomor surat rekomendasi paspor"),
    TemplateField("rekomendasi.kantor_imigrasi", "Kantor imigrasi tujuan surat rekomendasi paspor"),
)

# The letterhead is shared by both letters; kept in one place so they never drift apart.
_LETTERHEAD = """\
! PEMERINTAH KABUPATEN {{ kantor.kabupaten|upper }}
!! DINAS TENAGA KERJA
!. {{ kantor.alamat }}
"""

_FOOTER = """\
~ Dokumen ini ditandatangani secara elektronik. Keaslian dan keutuhannya dapat diperiksa dengan
~ memindai kode QR pada kotak tanda tangan atau mengunggah berkas PDF ini ke halaman verifikasi.
"""

#: The "Lembar Pengesahan Perjanjian Penempatan": first page of the ratified agreement.
DEFAULT_RATIFICATION_TEMPLATE = (
    _LETTERHEAD
    + """
# LEMBAR PENGESAHAN
# PERJANJIAN PENEMPATAN PEKERJA MIGRAN INDONESIA
## Nomor: {{ pp.nomor }}

Berdasarkan Undang-Undang Nomor 18 Tahun 2017 tentang Pelindungan Pekerja Migran Indonesia dan
Peraturan Pemerintah Nomor 59 Tahun 2021 tentang Pelaksanaan Pelindungan Pekerja Migran
Indonesia, Perjanjian Penempatan dengan data sebagai berikut:

| **A. Calon Pekerja Migran Indonesia (CPMI)** |
| Nama | {{ cpmi.nama }} |
| NIK | {{ cpmi.nik }} |
| ID CPMI | {{ cpmi.id }} |
| Jenis Kelamin | {{ cpmi.jenis_kelamin }} |
| Tempat, Tanggal Lahir | {{ cpmi.ttl }} |
| Alamat | {{ cpmi.alamat }} |
| **B. Perusahaan Penempatan PMI (P3MI)** |
| Nama Perusahaan | {{ p3mi.nama }} |
| Nomor SIP2MI | {{ p3mi.nomor_izin }} |
| Alamat | {{ p3mi.alamat }} |
| **C. Penempatan** |
| Pemberi Kerja | {{ pemberi_kerja.nama }} |
| Negara Tujuan | {{ pemberi_kerja.negara }} |
| Jabatan | {{ pp.jabatan }} |
| Jangka Waktu Perjanjian | {{ pp.masa_kontrak }} |

telah diverifikasi oleh {{ verifikasi.nama }} (NIP {{ verifikasi.nip }}) pada tanggal
{{ verifikasi.tanggal }}, dinyatakan sesuai dengan ketentuan peraturan perundang-undangan, dan
dengan ini **DISAHKAN**. Naskah Perjanjian Penempatan terlampir merupakan bagian yang tidak
terpisahkan dari Lembar Pengesahan ini.

"""
    + _FOOTER
)

#: The "Surat Rekomendasi Paspor" addressed to the immigration office.
DEFAULT_PASSPORT_RECOMMENDATION_TEMPLATE = (
    _LETTERHEAD
    + """
: Nomor | {{ rekomendasi.nomor }}
: Sifat | Penting
: Lampiran | -
: Perihal | **Rekomendasi Penerbitan Paspor bagi Calon Pekerja Migran Indonesia**

> Yth. {{ rekomendasi.kantor_imigrasi }}
> di Tempat

Berdasarkan Undang-Undang Nomor 18 Tahun 2017 tentang Pelindungan Pekerja Migran Indonesia,
Peraturan Pemerintah Nomor 59 Tahun 2021 tentang Pelaksanaan Pelindungan Pekerja Migran
Indonesia, dan Perjanjian Penempatan Nomor {{ pp.nomor }} yang telah disahkan pada tanggal
{{ pp.tanggal }}, Kepala Dinas Tenaga Kerja Kabupaten {{ kantor.kabupaten }} memberikan rekomendasi
penerbitan paspor kepada Calon Pekerja Migran Indonesia:

: Nama | {{ cpmi.nama }}
: NIK | {{ cpmi.nik }}
: ID CPMI | {{ cpmi.id }}
: Jenis Kelamin | {{ cpmi.jenis_kelamin }}
: Tempat, Tanggal Lahir | {{ cpmi.ttl }}
: Alamat | {{ cpmi.alamat }}
: Negara Tujuan | {{ pemberi_kerja.negara }}
: Jabatan | {{ pp.jabatan }}
: Pemberi Kerja | {{ pemberi_kerja.nama }}
: P3MI | {{ p3mi.nama }}

Berkas yang bersangkutan telah diverifikasi oleh Dinas Tenaga Kerja Kabupaten
{{ kantor.kabupaten }}. Rekomendasi ini hanya berlaku untuk penerbitan paspor guna bekerja di
{{ pemberi_kerja.negara }} melalui P3MI tersebut di atas. Demikian rekomendasi ini dibuat untuk
dipergunakan sebagaimana mestinya.

"""
    + _FOOTER
)
