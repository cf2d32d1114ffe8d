"""The office's starting configuration, seeded once and then edited in the admin.

Seeding never overwrites what an officer already changed: each row is created only when its
key is missing.
"""

from __future__ import annotations

from pengesahan.records.base import write_transaction
from pengesahan.records.catalogue import (
    CheckThreshold,
    DocumentType,
    LetterTemplate,
    RejectionTemplate,
    Requirement,
    Setting,
    SlaSetting,
)
from processing.classify import DEFAULT_DOC_TYPES
from processing.spec import DEFAULT_THRESHOLDS
from signing.templates import (
    DEFAULT_PASSPORT_RECOMMENDATION_TEMPLATE,
    DEFAULT_RATIFICATION_TEMPLATE,
)

# The SOP's 14 documents in its numbering, then the SIAPkerja additions.
# (position, doc_type, slot label, owner, condition)
REQUIREMENTS = [
    (1, "surat_permohonan", "Surat Permohonan", "p3mi", ""),
    (2, "siup_oss", "SIUP/OSS", "p3mi", ""),
    (3, "sip2mi", "SIP2MI", "p3mi", ""),
    (4, "surat_tugas", "Surat Tugas", "p3mi", ""),
    (5, "surat_pengangkatan", "Surat Pengangkatan Karyawan", "p3mi", ""),
    (6, "pkwt", "PKWT", "p3mi", ""),
    (7, "ktp", "KTP Petugas", "p3mi", ""),
    (8, "surat_nikah", "Surat Nikah", "cpmi", "menikah"),
    (9, "ktp", "KTP CPMI", "cpmi", ""),
    (10, "akta_kelahiran", "Akte Kelahiran", "cpmi", ""),
    (11, "kartu_keluarga", "Kartu Keluarga", "cpmi", ""),
    (12, "ak1", "AK.1", "cpmi", ""),
    (13, "surat_izin", "Surat Izin Istri/Suami/Orang Tua diketahui Lurah", "cpmi", ""),
    (14, "perjanjian_penempatan", "Perjanjian Penempatan", "p3mi", ""),
    (15, "surat_sehat", "Surat Keterangan Sehat", "cpmi", ""),
    (16, "sertifikat_kompetensi", "Sertifikat Kompetensi BNSP", "cpmi", ""),
    (17, "bpjs_tk", "Kartu BPJS Ketenagakerjaan", "cpmi", ""),
]

#: (code, text, the defect it names: processing.spec.DEFECT_CHECKS, or None).
REJECTION_TEMPLATES = [
    ("buram", "Dokumen buram atau tidak terbaca. Unggah ulang hasil pindai yang jelas.", "blur"),
    ("silau", "Ada pantulan cahaya (silau) yang menutupi sebagian dokumen. Foto ulang tanpa lampu kilat "
              "dan jauh dari sumber cahaya langsung.", "glare"),
    ("gelap", "Foto terlalu gelap sehingga tulisan sulit dibaca. Foto ulang di tempat yang terang.", "dark"),
    ("terpotong", "Sebagian dokumen terpotong. Pastikan seluruh tepi dokumen terlihat.", "cropped"),
    ("resolusi_rendah", "Gambar terlalu kecil sehingga tulisan tidak terbaca. Foto lebih dekat atau pindai "
                        "dengan resolusi lebih tinggi.", "low_resolution"),
    ("salah_jenis", "Dokumen yang diunggah tidak sesuai dengan jenis yang diminta.", "wrong_type"),
    ("nik_beda", "NIK pada dokumen tidak sama dengan NIK pada formulir.", "nik_mismatch"),
    ("kedaluwarsa", "Dokumen sudah tidak berlaku. Unggah dokumen yang masih berlaku.", None),
    ("tanpa_tanda_tangan", "Dokumen belum ditandatangani atau belum diketahui Lurah/Kepala Desa.", None),
]

LETTER_TEMPLATES = [
    ("lembar_pengesahan", "Lembar Pengesahan Perjanjian Penempatan", DEFAULT_RATIFICATION_TEMPLATE),
    ("rekomendasi_paspor", "Surat Rekomendasi Paspor", DEFAULT_PASSPORT_RECOMMENDATION_TEMPLATE),
]

SLA = [
    ("pemeriksaan", "Pemeriksaan dokumen", 1),
    ("layanan", "Pelayanan pembuatan ID CPMI", 3),
]

SETTINGS = [
    ("office_name", "DINAS TENAGA KERJA", "Nama kantor pada kop surat"),
    ("government_name", "PEMERINTAH KABUPATEN TABALONG", "Nama pemerintah daerah pada kop surat"),
    ("office_address", "Jl. Jend. Basuki Rahmat, Tanjung, Kabupaten Tabalong, Kalimantan Selatan", "Alamat kantor"),
    ("office_city", "Tanjung", "Kota tempat penandatanganan"),
    ("region_code", "6309", "Kode wilayah kabupaten (Kemendagri)"),
    ("cpmi_id_pattern", "CPMI-{region}-{year}-{seq:06d}", "Format ID CPMI"),
    ("agreement_number_pattern", "PP/{seq:05d}/DISNAKER/{year}", "Format nomor pengesahan PP"),
    ("recommendation_number_pattern", "{seq:05d}/REK-PASPOR/DISNAKER/{year}", "Format nomor surat rekomendasi paspor"),
]


def seed_catalogue() -> None:
    """Create the default configuration rows that do not exist yet."""
    with write_transaction():
        types = {}
        for spec in DEFAULT_DOC_TYPES:
            types[spec.code], _ = DocumentType.get_or_create(
                code=spec.code,
                defaults={
                    "name": spec.name,
                    "keywords": "\n".join(spec.keywords),
                    "layout": spec.layout,
                    "allowed_formats": ",".join(spec.allowed_media_types),
                },
            )
        if not Requirement.select().exists():
            for position, code, label, owner, condition in REQUIREMENTS:
                Requirement.create(doc_type=types[code], slot_label=label, owner=owner,
                                   condition=condition, position=position)
        for check, value in DEFAULT_THRESHOLDS.items():
            CheckThreshold.get_or_create(check=check, doc_type="", defaults={"value": value})
        for code, text, defect in REJECTION_TEMPLATES:
            RejectionTemplate.get_or_create(code=code, defaults={"text": text, "defect": defect})
        for code, name, days in SLA:
            SlaSetting.get_or_create(code=code, defaults={"name": name, "working_days": days})
        for code, name, body in LETTER_TEMPLATES:
            LetterTemplate.get_or_create(code=code, defaults={"name": name, "body": body})
        for key, value, description in SETTINGS:
            Setting.get_or_create(key=key, defaults={"value": value, "description": description})
