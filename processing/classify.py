"""Which document a scan is: keywords, number patterns and layout, with reasons.

The office configures document types with keywords (``DocTypeSpec.keywords``); the classifier
scores each type by the keywords found in the text, fuzzily because OCR text is noisy
(rapidfuzz), weighs a keyword by how specific it is (a phrase found in one type only counts
more than a word every letter has) and by where it is (titles sit at the top), adds the number
patterns typical of a type (16-digit NIK and KK numbers, BNSP certificate numbers, BPJS numbers,
the OSS NIB, SIP2MI numbers) and the layout (ID-1 card or page, colour).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from processing.fields import find_numbers
from processing.spec import UNKNOWN_TYPE, Classification, DocTypeSpec, Layout, TextReading

__all__ = ["DEFAULT_DOC_TYPES", "MIN_SCORE", "NEGATIVE_CUES", "REQUIRED", "classify",
           "score_types", "vetoed_types"]


def _spec(code: str, name: str, layout: str, *keywords: str) -> DocTypeSpec:
    return DocTypeSpec(code=code, name=name, keywords=tuple(keywords), layout=layout)


#: The document types of the shared vocabulary with the words printed on them. The database
#: seeds the office's configuration from this; officers may edit the keywords in the admin.
DEFAULT_DOC_TYPES: tuple[DocTypeSpec, ...] = (
    _spec("surat_permohonan", "Surat Permohonan", "page",
          "surat permohonan", "permohonan pengesahan", "perihal", "kepada yth", "dengan hormat",
          "mengajukan permohonan", "lampiran", "hormat kami", "atas perhatian"),
    _spec("siup_oss", "SIUP/OSS", "page",
          "nomor induk berusaha", "nib", "perizinan berusaha", "berbasis risiko",
          "online single submission", "oss", "kbli", "pelaku usaha",
          "surat izin usaha perdagangan", "siup", "cipta kerja"),
    _spec("sip2mi", "SIP2MI", "page",
          "surat izin perekrutan pekerja migran indonesia", "sip2mi", "izin perekrutan",
          "sip3mi", "badan pelindungan pekerja migran indonesia", "mitra usaha",
          "jumlah cpmi", "daerah perekrutan"),
    _spec("surat_tugas", "Surat Tugas", "page",
          "surat tugas", "menugaskan", "dengan ini menugaskan", "untuk mengurus",
          "dilaksanakan dengan penuh tanggung jawab"),
    _spec("surat_pengangkatan", "Surat Pengangkatan Karyawan", "page",
          "pengangkatan karyawan", "surat keputusan", "mengangkat", "karyawan tetap",
          "menimbang", "mengingat", "memutuskan", "menetapkan", "ditetapkan di"),
    _spec("pkwt", "PKWT", "page",
          "perjanjian kerja waktu tertentu", "pkwt", "perjanjian kerja", "jangka waktu",
          "upah", "pihak pertama", "pihak kedua", "pengusaha", "diperpanjang"),
    _spec("ktp", "KTP", "card",
          "provinsi", "kabupaten", "nik", "tempat/tgl lahir", "jenis kelamin", "gol. darah",
          "alamat", "rt/rw", "kel/desa", "kecamatan", "agama", "status perkawinan",
          "pekerjaan", "kewarganegaraan", "berlaku hingga", "seumur hidup"),
    _spec("surat_nikah", "Surat Nikah", "page",
          "kutipan akta nikah", "akta nikah", "buku nikah", "kantor urusan agama",
          "kementerian agama", "akad nikah", "wali nikah", "mas kawin",
          "pegawai pencatat nikah", "suami", "istri"),
    _spec("akta_kelahiran", "Akta Kelahiran", "page",
          "kutipan akta kelahiran", "akta kelahiran", "pencatatan sipil", "telah lahir",
          "anak ke", "warga negara", "stelsel", "republik indonesia"),
    _spec("kartu_keluarga", "Kartu Keluarga", "page",
          "kartu keluarga", "no. kk", "nama kepala keluarga", "kepala keluarga",
          "nama lengkap", "status hubungan dalam keluarga", "jenis pekerjaan", "pendidikan",
          "dikeluarkan tanggal", "kependudukan dan pencatatan sipil", "desa/kelurahan",
          "kode pos"),
    _spec("ak1", "AK.1 (Kartu Pencari Kerja)", "any",
          "kartu tanda bukti pendaftaran pencari kerja", "ak/i", "ak.1", "ak1",
          "pencari kerja", "pendaftaran pencari kerja", "pengantar kerja",
          "pendidikan terakhir", "keterampilan", "berlaku s/d"),
    _spec("surat_izin", "Surat Izin Suami/Istri/Orang Tua/Wali", "page",
          "surat izin", "surat izin orang tua", "izin suami", "izin orang tua",
          "memberikan izin", "yang memberi izin", "mengetahui", "kepala desa", "lurah", "wali",
          "bekerja ke luar negeri"),
    _spec("perjanjian_penempatan", "Perjanjian Penempatan", "page",
          "perjanjian penempatan pekerja migran indonesia", "perjanjian penempatan",
          "biaya penempatan", "pihak pertama", "pihak kedua", "p3mi",
          "calon pekerja migran indonesia", "negara tujuan", "pasal"),
    _spec("surat_sehat", "Surat Keterangan Sehat", "page",
          "surat keterangan sehat", "keterangan sehat", "dokter pemeriksa", "dokter",
          "pemeriksaan kesehatan", "tinggi badan", "berat badan", "tekanan darah",
          "dinyatakan sehat", "klinik", "puskesmas"),
    _spec("sertifikat_kompetensi", "Sertifikat Kompetensi BNSP", "page",
          "sertifikat kompetensi", "badan nasional sertifikasi profesi", "bnsp", "lsp",
          "telah kompeten", "kompeten", "kualifikasi", "dengan ini menyatakan bahwa"),
    _spec("bpjs_tk", "Kartu BPJS Ketenagakerjaan", "card",
          "bpjs ketenagakerjaan", "bpjs", "kartu peserta", "kpj", "no. kpj", "jkk", "jkm",
          "jht", "jaminan sosial"),
)

#: Words a look-alike prints and the genuine document never does, by type code: other cards
#: (NPWP, SIM, student cards), diplomas, specimens and fill-in templates, screenshots of OCR
#: demos. One of them takes the type out of the running. Short ones match whole words only.
NEGATIVE_CUES: dict[str, tuple[str, ...]] = {
    "ktp": (
        "npwp", "nomor pokok wajib pajak", "surat izin mengemudi", "driving licence",
        "driving license", "ijazah", "kartu pelajar", "kartu tanda mahasiswa",
        "nisn", "universitas", "madrasah", "sekolah", "kartu identitas anak", "paspor",
        "passport", "contoh", "specimen", "spesimen", "sample", "template", "anda",
        "fulan", "sifulan", "antah berantah", "ocr", "http", "https", "localhost", "json",
        "upload", "insert into",
    ),
}
#: A type is only claimed when one of its title phrases is read or, failing that, at least
#: :data:`_STRONG_COMBINATION` of its keywords: a lone shared label (``alamat``, ``agama``)
#: says nothing.
REQUIRED: dict[str, tuple[str, ...]] = {
    "ktp": ("provinsi", "nik"),
    "kartu_keluarga": ("kartu keluarga", "no. kk"),
    "akta_kelahiran": ("kutipan akta kelahiran", "akta kelahiran", "pencatatan sipil"),
}
_STRONG_COMBINATION = 4
#: Types whose number pattern stands for their title: a list of members' NIKs is a Kartu
#: Keluarga's signature even when its header was cut off or not read.
_PATTERN_TITLES = frozenset({"kartu_keluarga"})
#: Types that print one 16-digit number (the holder's NIK); :data:`_MANY_NUMBERS` distinct
#: ones (a table of family members) rule them out.
_ONE_NUMBER = frozenset({"ktp"})
_MANY_NUMBERS = 3
#: A quoted key and a colon (``"nik": ...``): a screenshot of data (an API response, a JSON
#: file), which no printed card shows.
_DATA_KEY = re.compile(r"[\"'“”]\s*[A-Za-z_]+\s*[\"'“”]\s*:")

#: Below this score no type is claimed (``unknown``).
MIN_SCORE = 1.5
#: Fuzzy match cut-off (0-100) for keywords of at least :data:`_FUZZY_MIN_LEN` characters;
#: shorter ones (nik, kpj, oss) must appear as whole words, or noise would match them.
FUZZY_CUTOFF = 86.0
_FUZZY_MIN_LEN = 7
#: Share of the text counted as its head, where titles are; a match there counts double.
_HEAD_SHARE = 0.3
_HEAD_FACTOR = 2.0


@dataclass(frozen=True)
class _Keyword:
    text: str
    weight: float
    pattern: re.Pattern[str] | None


@lru_cache(maxsize=32)
def _keywords(doc_types: tuple[DocTypeSpec, ...]) -> dict[str, tuple[_Keyword, ...]]:
    """Keywords of each type with a weight: longer phrases and rarer keywords weigh more."""
    normalised = {t.code: [_normalise(k) for k in t.keywords if _normalise(k)] for t in doc_types}
    df: dict[str, int] = {}
    for words in normalised.values():
        for kw in set(words):
            df[kw] = df.get(kw, 0) + 1
    out = {}
    for code, words in normalised.items():
        kws = []
        for kw in dict.fromkeys(words):
            n_words = len(kw.split())
            weight = (1.0 + 0.5 * min(n_words - 1, 4)) / df[kw]
            pattern = None
            if len(kw) < _FUZZY_MIN_LEN:
                pattern = re.compile(r"(?<![a-z0-9])" + re.escape(kw) + r"(?![a-z0-9])")
            kws.append(_Keyword(kw, weight, pattern))
        out[code] = tuple(kws)
    return out


def _normalise(text: str) -> str:
    """Lower case, OCR punctuation noise folded to spaces; ``/`` and ``.`` kept (rt/rw, no. kk)."""
    text = text.lower()
    text = re.sub(r"[^a-z0-9/.\n]+", " ", text)
    text = re.sub(r"\s*([/.])\s*", r"\1 ", text).replace("/ ", "/")
    return re.sub(r"[ \t]+", " ", text).strip()


def _find(kw: _Keyword, text: str) -> int | None:
    """Position of ``kw`` in ``text`` (exact, then fuzzy), or None."""
    if kw.pattern is not None:
        m = kw.pattern.search(text)
        return m.start() if m else None
    pos = text.find(kw.text)
    if pos >= 0:
        return pos
    alignment = fuzz.partial_ratio_alignment(kw.text, text, score_cutoff=FUZZY_CUTOFF)
    return alignment.dest_start if alignment is not None else None


def _has_cue(cue: str, flat: str) -> bool:
    """Whether a negative cue is in the text: whole words, exactly (no fuzzy guesses)."""
    return re.search(r"(?<![a-z0-9])" + re.escape(cue) + r"(?![a-z0-9])", flat) is not None


def _pattern_evidence(raw: str, flat: str) -> dict[str, tuple[float, str]]:
    """Number patterns typical of a type: code -> (score, reason)."""
    out: dict[str, tuple[float, str]] = {}
    sixteen = list(dict.fromkeys(find_numbers(raw, 16)))
    if re.search(r"\bn[i1l|]k\b\W{0,3}\d{6}", flat):
        out["ktp"] = (0.5, "ada NIK berlabel")
    if len(sixteen) >= 3:
        out["kartu_keluarga"] = (2.0, f"{len(sixteen)} nomor 16 digit (NIK anggota keluarga)")
    if re.search(r"\b\d{5} ?\d{4} ?\d ?\d{7} ?\d{4}\b", flat):
        out["sertifikat_kompetensi"] = (2.0, "nomor sertifikat BNSP")
    if re.search(r"\b(kpj|peserta)\W{0,4}\d{11}\b", flat):
        out["bpjs_tk"] = (2.0, "nomor KPJ 11 digit")
    if find_numbers(raw, 13) and re.search(r"induk berusaha|\bnib\b", flat):
        out["siup_oss"] = (1.5, "NIB 13 digit")
    if re.search(r"/sip2mi/", flat.replace(" ", "")):
        out["sip2mi"] = (1.5, "nomor SIP2MI")
    if re.search(r"\d{4}-lt-\d{8}", flat.replace(" ", "")):
        out["akta_kelahiran"] = (2.0, "nomor akta kelahiran (LT)")
    return out


def score_types(
    reading: TextReading, layout: Layout, doc_types: Sequence[DocTypeSpec]
) -> dict[str, tuple[float, list[str]]]:
    """Score of every type (higher is likelier) with the reasons behind it."""
    types = tuple(doc_types)
    keywords = _keywords(types)
    flat = _normalise(reading.text)
    head_end = max(200, int(len(flat) * _HEAD_SHARE))
    patterns = _pattern_evidence(reading.text, flat)
    sixteen = set(find_numbers(reading.text, 16))
    scores: dict[str, tuple[float, list[str]]] = {}
    for spec in types:
        score, found = 0.0, []
        for kw in keywords.get(spec.code, ()):
            pos = _find(kw, flat)
            if pos is None:
                continue
            score += kw.weight * (_HEAD_FACTOR if pos < head_end else 1.0)
            found.append(kw.text)
        reasons = []
        if found:
            reasons.append("kata kunci: " + ", ".join(f"'{k}'" for k in found[:6]))
        if spec.code in patterns:
            bonus, why = patterns[spec.code]
            score += bonus
            reasons.append(why)
        score *= _layout_factor(spec, layout, reasons)
        required = REQUIRED.get(spec.code)
        if required and not any(_normalise(k) in found for k in required) and (
                len(found) < _STRONG_COMBINATION) and spec.code not in _PATTERN_TITLES.intersection(
                    patterns):
            score = min(score, MIN_SCORE * 0.9)
            reasons.append("judul/label utama tidak terbaca")
        cues = [cue for cue in NEGATIVE_CUES.get(spec.code, ()) if _has_cue(cue, flat)]
        if spec.code in _ONE_NUMBER and len(sixteen) >= _MANY_NUMBERS:
            cues.append(f"{len(sixteen)} nomor 16 digit")
        if spec.layout == "card" and len(_DATA_KEY.findall(reading.text)) >= _MANY_NUMBERS:
            cues.append("teks data berformat JSON")
        if cues:
            score = min(score * 0.1, MIN_SCORE * 0.5)
            reasons.append("tanda dokumen lain: " + ", ".join(f"'{c}'" for c in cues[:3]))
        scores[spec.code] = (score, reasons)
    return scores


def _layout_factor(spec: DocTypeSpec, layout: Layout, reasons: list[str]) -> float:
    # Layout is a hint, never decisive: outlines of photographed cards are not always found.
    if spec.layout == "card":
        if layout.is_card:
            reasons.append(f"tata letak kartu (rasio {layout.aspect_ratio:.2f})")
            return 1.3 if layout.colourfulness >= 0.1 else 1.15
        return 0.75
    if spec.layout == "page" and layout.is_card:
        return 0.6
    return 1.0


def vetoed_types(text: str) -> tuple[str, ...]:
    """The type codes whose look-alike cues are in ``text`` (an NPWP's, a template's words...):
    types the text cannot be, whatever else resembles them."""
    flat = _normalise(text)
    return tuple(code for code, cues in NEGATIVE_CUES.items() if any(_has_cue(cue, flat) for cue in cues))


def classify(
    reading: TextReading, layout: Layout, doc_types: Sequence[DocTypeSpec] = DEFAULT_DOC_TYPES
) -> Classification:
    """The likeliest type code (or ``unknown``) with a confidence 0-1 and reasons."""
    scores = score_types(reading, layout, doc_types)
    if not scores:
        return Classification(UNKNOWN_TYPE, 0.0, ("tidak ada jenis dokumen yang dikonfigurasi",))
    ranked = sorted(scores.items(), key=lambda item: item[1][0], reverse=True)
    best_code, (best, reasons) = ranked[0]
    second = ranked[1][1][0] if len(ranked) > 1 else 0.0
    if best < MIN_SCORE:
        why = "teks terlalu sedikit atau tidak cocok dengan jenis mana pun"
        if reading.word_count < 5:
            why = "hampir tidak ada teks terbaca"
        confidence = round(1.0 - best / MIN_SCORE, 3)
        return Classification(UNKNOWN_TYPE, confidence, (why, f"skor tertinggi {best:.2f} ({best_code})"))
    # Strength saturates with the score; the margin over the runner-up says how sure we are.
    strength = 1.0 - math.exp(-best / 4.0)
    margin = (best - second) / best
    confidence = round(max(0.0, min(1.0, strength * (0.4 + 0.6 * margin))), 3)
    reasons = [*reasons, f"skor {best:.2f}, berikutnya {second:.2f} ({ranked[1][0] if len(ranked) > 1 else '-'})"]
    return Classification(best_code, confidence, tuple(reasons))
