"""Fields read from a document's text (NIK, name, birth, numbers) and the NIK check.

The text is OCR output, so labels and digits are matched loosely: ``NlK`` is a NIK label, an
``O`` inside a long run of digits is a zero. A NIK is 6 digits of region (province, regency,
district), 6 of birth date DDMMYY with 40 added to the day for women, and a 4-digit serial.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from processing.spec import CheckResult, FormData

__all__ = [
    "PROVINCE_CODES",
    "NikInfo",
    "parse_nik",
    "check_nik",
    "check_family_card",
    "extract_fields",
    "region_codes",
    "MIN_NIK_CONFIDENCE",
    "find_numbers",
    "normalise_digits",
    "printed_birth",
]

#: Province codes of the civil registry (Kemendagri), the first two digits of a NIK.
PROVINCE_CODES: dict[str, str] = {
    "11": "Aceh", "12": "Sumatera Utara", "13": "Sumatera Barat", "14": "Riau", "15": "Jambi",
    "16": "Sumatera Selatan", "17": "Bengkulu", "18": "Lampung",
    "19": "Kepulauan Bangka Belitung", "21": "Kepulauan Riau", "31": "DKI Jakarta",
    "32": "Jawa Barat", "33": "Jawa Tengah", "34": "DI Yogyakarta", "35": "Jawa Timur",
    "36": "Banten", "51": "Bali", "52": "Nusa Tenggara Barat", "53": "Nusa Tenggara Timur",
    "61": "Kalimantan Barat", "62": "Kalimantan Tengah", "63": "Kalimantan Selatan",
    "64": "Kalimantan Timur", "65": "Kalimantan Utara", "71": "Sulawesi Utara",
    "72": "Sulawesi Tengah", "73": "Sulawesi Selatan", "74": "Sulawesi Tenggara",
    "75": "Gorontalo", "76": "Sulawesi Barat", "81": "Maluku", "82": "Maluku Utara",
    "91": "Papua", "92": "Papua Barat", "93": "Papua Selatan", "94": "Papua Tengah",
    "95": "Papua Pegunungan", "96": "Papua Barat Daya",
}

#: Least OCR confidence (0-100) of the NIK's digits for the ``nik`` check to pass: below it a
#: 3/8, 6/0 or 2/7 confusion is likely (the digits are read again on their own when possible).
MIN_NIK_CONFIDENCE = 80.0

_REGION_FILE = Path(__file__).with_name("data") / "kode_wilayah.csv"


@lru_cache(maxsize=1)
def region_codes() -> frozenset[str]:
    """Kemendagri kabupaten (4-digit) and kecamatan (6-digit) codes (``data/kode_wilayah.csv``)."""
    with _REGION_FILE.open(encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line[:1].isdigit())


_MONTHS = {
    "januari": 1, "februari": 2, "pebruari": 2, "maret": 3, "april": 4, "mei": 5, "juni": 6,
    "juli": 7, "agustus": 8, "september": 9, "oktober": 10, "november": 11, "nopember": 11,
    "desember": 12,
}

#: Characters OCR confuses with digits, inside a token that is mostly digits.
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1",
                                   "|": "1", "i": "1", "L": "1", "!": "1", "S": "5", "s": "5",
                                   "B": "8", "Z": "2", "z": "2", "G": "6", "b": "6", "T": "7",
                                   "?": "7", "g": "9", "q": "9"})


@dataclass(frozen=True)
class NikInfo:
    """What a well-formed NIK says about its holder."""

    nik: str
    province_code: str
    regency_code: str
    district_code: str
    province: str
    birth_date: dt.date
    #: ``L`` (laki-laki) or ``P`` (perempuan: day of birth + 40).
    sex: str
    serial: str


def normalise_digits(token: str) -> str:
    """``token`` with OCR look-alikes of digits turned into digits (O→0, l→1, S→5, ...)."""
    return token.translate(_DIGIT_LOOKALIKES)


def parse_nik(nik: str | None, today: dt.date | None = None) -> NikInfo:
    """Decode a NIK, or raise ValueError with a message in Bahasa Indonesia.

    The two-digit year is put in the latest century that does not place the birth after
    ``today``.
    """
    raw = (nik or "").strip()
    compact = re.sub(r"[\s.\-]", "", raw)
    if not compact:
        raise ValueError("NIK kosong.")
    if not compact.isdigit() or not compact.isascii():
        raise ValueError(f"NIK hanya boleh berisi angka (terbaca: {raw}).")
    if len(compact) != 16:
        raise ValueError(f"NIK harus 16 digit (terbaca {len(compact)} digit: {compact}).")
    province, regency, district = compact[0:2], compact[2:4], compact[4:6]
    if province not in PROVINCE_CODES:
        raise ValueError(f"Kode provinsi pada NIK ({province}) tidak dikenal.")
    if regency == "00":
        raise ValueError("Kode kabupaten/kota pada NIK (00) tidak valid.")
    if district == "00":
        raise ValueError("Kode kecamatan pada NIK (00) tidak valid.")
    day, month, yy = int(compact[6:8]), int(compact[8:10]), int(compact[10:12])
    sex = "P" if day > 40 else "L"
    if sex == "P":
        day -= 40
    today = today or dt.date.today()
    year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
    try:
        birth = dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(
            f"Tanggal lahir pada NIK tidak valid ({compact[6:12]}; format DDMMYY, "
            "tanggal ditambah 40 untuk perempuan)."
        ) from exc
    if birth > today:
        birth = birth.replace(year=year - 100)
    serial = compact[12:16]
    if serial == "0000":
        raise ValueError("Nomor urut pada NIK tidak boleh 0000.")
    return NikInfo(
        nik=compact,
        province_code=province,
        regency_code=province + regency,
        district_code=province + regency + district,
        province=PROVINCE_CODES[province],
        birth_date=birth,
        sex=sex,
        serial=serial,
    )


def check_nik(nik: str | None, form: FormData, today: dt.date | None = None, *,
              card: Mapping[str, str] | None = None, confidence: float | None = None,
              disagreement: str | None = None,
              printed_birth: tuple[int, int, int] | None = None) -> CheckResult:
    """The ``nik`` check: the NIK read is well formed, real, agrees with itself and the form.

    A misread NIK must never pass, so besides the form it is held against the Kemendagri region
    list, the birth date and sex printed on the same card (``card``: fields read from it;
    ``printed_birth``: the printed birth date's day, month and year as read, see
    :func:`printed_birth`), the OCR ``confidence`` of its digits, and ``disagreement`` (why two
    readings of the NIK line differ, when they do). Anything doubtful reads as "tidak terbaca
    pasti", never as a pass; what to photograph again the pipeline adds, once the capture's
    own checks have judged it (:func:`processing.checks.nik_capture_hint`).
    """
    expected = form.nik
    if not nik:
        return CheckResult("nik", False, None, expected, "NIK tidak terbaca pada dokumen.")
    try:
        info = parse_nik(nik, today)
    except ValueError as exc:
        return CheckResult("nik", False, nik, expected, str(exc))
    problems = []
    if expected and form.nik_digits != info.nik:
        problems.append(f"NIK pada dokumen ({info.nik}) berbeda dengan NIK pada formulir ({expected}).")
    problems += _region_problems(info)
    if form.birth_date is not None and not _same_birth(info, form.birth_date):
        problems.append(
            f"Tanggal lahir pada NIK ({info.birth_date:%d-%m-%Y}) tidak sesuai dengan formulir "
            f"({form.birth_date:%d-%m-%Y})."
        )
    if form.sex in ("L", "P") and form.sex != info.sex:
        problems.append(
            f"Jenis kelamin pada NIK ({_sex_word(info.sex)}) tidak sesuai dengan formulir "
            f"({_sex_word(form.sex)})."
        )
    card = card or {}
    printed = _iso_date(card.get("birth_date"))
    if printed is None and printed_birth is not None and form.birth_date is None:
        day, month, year = printed_birth
        try:
            printed = dt.date(year, month, day)
        except ValueError:
            # The card prints an impossible date (month 99, day 35): the card is not genuine,
            # or its date line was misread; either way nothing on it confirms the NIK's date.
            problems.append(
                f"Tanggal lahir yang tercetak terbaca {day:02d}-{month:02d}-{year}, bukan "
                "tanggal yang sah; NIK tidak dapat dipastikan."
            )
    if printed is not None and form.birth_date is None and not _same_birth(info, printed):
        problems.append(
            f"Tanggal lahir pada NIK ({info.birth_date:%d-%m-%Y}) tidak sesuai dengan tanggal "
            f"lahir yang tercetak ({printed:%d-%m-%Y}); NIK mungkin salah terbaca."
        )
    if card.get("sex") in ("L", "P") and form.sex is None and card["sex"] != info.sex:
        problems.append(
            f"Jenis kelamin pada NIK ({_sex_word(info.sex)}) tidak sesuai dengan yang tercetak "
            f"({_sex_word(card['sex'])}); NIK mungkin salah terbaca."
        )
    if disagreement:
        problems.append(f"NIK tidak terbaca pasti: {disagreement}")
    elif confidence is not None and confidence < MIN_NIK_CONFIDENCE:
        problems.append(
            f"NIK tidak terbaca pasti (keyakinan OCR {confidence:.0f} dari 100, minimal "
            f"{MIN_NIK_CONFIDENCE:.0f})."
        )
    if problems:
        return CheckResult("nik", False, info.nik, expected, " ".join(problems))
    if expected:
        message = "NIK valid dan sama dengan NIK pada formulir."
    else:
        message = "NIK valid; formulir belum berisi NIK untuk dibandingkan."
    return CheckResult("nik", True, info.nik, expected, message)


def _same_birth(info: NikInfo, date: dt.date) -> bool:
    birth = info.birth_date
    return (birth.day, birth.month, birth.year % 100) == (date.day, date.month, date.year % 100)


def _iso_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _region_problems(info: NikInfo) -> list[str]:
    """The region part against the Kemendagri list (a kecamatan split since may be missing)."""
    codes = region_codes()
    if info.regency_code not in codes:
        return [f"Kode kabupaten/kota pada NIK ({info.regency_code}) tidak ada dalam daftar "
                "Kemendagri; NIK mungkin salah terbaca."]
    if info.district_code not in codes:
        return [f"Kode kecamatan pada NIK ({info.district_code}) tidak ada dalam daftar "
                "Kemendagri; perlu diperiksa petugas."]
    return []


def check_family_card(fields: dict[str, str], form: FormData) -> CheckResult:
    """The ``nik`` check of a Kartu Keluarga: the KK number and the applicant's NIK on it.

    A KK carries the NIK of every member, so the applicant's NIK must be among them (read by
    :func:`extract_fields` as ``member_niks``) and the KK number must equal the form's.
    """
    members = [n for n in fields.get("member_niks", "").split(",") if n]
    kk = fields.get("kk_number")
    problems = []
    if not members and not kk:
        return CheckResult("nik", False, None, form.nik, "Nomor KK dan NIK tidak terbaca pada dokumen.")
    if form.kk_number and kk and re.sub(r"\D", "", form.kk_number) != kk:
        # The form's number is not repeated: the message reaches the company that uploaded the
        # scan, and the number on record may be one another company declared.
        problems.append(f"Nomor KK pada dokumen ({kk}) berbeda dengan nomor KK pada formulir.")
    elif form.kk_number and not kk:
        problems.append("Nomor KK tidak terbaca pada dokumen.")
    if form.nik and form.nik_digits not in members:
        problems.append(f"NIK pemohon ({form.nik}) tidak tercantum dalam Kartu Keluarga.")
    if problems:
        return CheckResult("nik", False, kk, form.kk_number, " ".join(problems))
    return CheckResult("nik", True, kk, form.kk_number,
                       "Nomor KK sesuai dan NIK pemohon tercantum dalam Kartu Keluarga.")


def _sex_word(sex: str | None) -> str:
    return {"L": "laki-laki", "P": "perempuan"}.get(sex or "", "-")


# --- Extraction ---------------------------------------------------------------------------

_NIK_LABEL = re.compile(r"\bN[I1l|!]K\b", re.IGNORECASE)
_COLON = r"\s*[:;.]?\s*"
_DATE_NUM = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})")
_DATE_LONG = re.compile(r"(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})")
_BNSP = re.compile(r"\b(\d{5}\s?\d{4}\s?\d\s?\d{7}\s?\d{4})\b")
_AKTA_NO = re.compile(r"\b(\d{4}\s*-\s*LT\s*-\s*\d{8}\s*-\s*\d{4})\b", re.IGNORECASE)


def find_numbers(text: str, length: int) -> list[str]:
    """Runs of exactly ``length`` digits in ``text``, OCR look-alikes mended, in order.

    A token counts when most of it is digits already, so words are never turned into numbers.
    """
    found = []
    for token in re.findall(r"[0-9A-Za-z|!?]+", text):
        if len(token) != length:
            continue
        digits = sum(c.isdigit() for c in token)
        if digits < length - 3:
            continue
        fixed = normalise_digits(token)
        if fixed.isdigit():
            found.append(fixed)
    return found


def _lines(text: str) -> list[str]:
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if line.strip()]


def _value_after(line: str, label: re.Pattern[str]) -> str | None:
    m = label.search(line)
    if not m:
        return None
    rest = line[m.end():]
    rest = re.sub(r"^\s*[:;.]?\s*", "", rest)
    return rest.strip() or None


def _nik_lines(lines: list[str]) -> list[tuple[int, str]]:
    """(line index, NIK) of every NIK, labelled ones on the label's line or the next."""
    out = []
    for i, line in enumerate(lines):
        for nik in find_numbers(line, 16):
            out.append((i, nik))
    return out


def _labelled_nik(lines: list[str]) -> list[tuple[int, str]]:
    out = []
    for i, line in enumerate(lines):
        if _NIK_LABEL.search(line):
            niks = find_numbers(line, 16) or (find_numbers(lines[i + 1], 16) if i + 1 < len(lines) else [])
            if niks:
                out.append((i, niks[0]))
    return out


_NAME_LABEL = re.compile(r"^\s*Nama(?:\s+Lengkap)?\b(?!\s+(?:Kepala|P3MI|Pelaku|Perusahaan|Ayah|Ibu))",
                         re.IGNORECASE)


def _clean_name(value: str) -> str:
    value = re.split(r"\s{2,}|[,;]", value)[0]
    value = re.sub(r"[^A-Za-z.' \-]", "", value)
    return re.sub(r"\s+", " ", value).strip(" .-").upper()


def _name_near(lines: list[str], index: int, after: bool) -> str | None:
    order = range(index + 1, len(lines)) if after else range(index, -1, -1)
    for i in order:
        value = _value_after(lines[i], _NAME_LABEL)
        if value:
            name = _clean_name(value)
            if name:
                return name
    return None


def _parse_date(text: str) -> dt.date | None:
    m = _DATE_NUM.search(text)
    if m:
        try:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            return None
    m = _DATE_LONG.search(text)
    if m and m.group(2).lower() in _MONTHS:
        try:
            return dt.date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
        except ValueError:
            return None
    return None


_BIRTH_LABEL = re.compile(r"Tempat\s*(?:/|dan)?\s*T[gqa][\w!|]{0,6}\.?\s*Lah[il1|]r", re.IGNORECASE)
_DOB_LABEL = re.compile(r"T(?:gl|anggal)\.?\s*Lahir", re.IGNORECASE)
_SEX_LABEL = re.compile(r"Jenis\s*Kelamin", re.IGNORECASE)


#: A KTP's birth line by its shape when its label is not read: ``PLACE, DD-MM-YYYY``.
_PLACE_DATE = re.compile(r"^(?:.*[:;]\s*)?[A-Z][A-Z .'\-]+,\s*(\d{1,2}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{4})")


def printed_birth(text: str) -> tuple[int, int, int] | None:
    """Day, month and year of the birth date printed on a KTP, as read, even when they make no
    date (the ``nik`` check refuses a NIK whose card prints an impossible one).

    The birth line is the one labelled "Tempat/Tgl Lahir" within a few lines of the NIK, or,
    when OCR garbled the label, the line just below the NIK shaped ``PLACE, DD-MM-YYYY``.
    """
    lines = _lines(text)
    niks = _labelled_nik(lines) or _nik_lines(lines)
    index = niks[0][0] if niks else -1
    start = max(0, index - 2)
    for line in lines[start:start + 6] if index >= 0 else lines:
        value = _value_after(line, _BIRTH_LABEL) or _value_after(line, _DOB_LABEL)
        if value:
            m = _DATE_NUM.search(value)
            return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    if index < 0:
        return None
    for line in lines[index + 1:index + 4]:
        m = _PLACE_DATE.search(line)
        if m:
            day, month, year = (int(part) for part in re.split(r"\s*[-/.]\s*", m.group(1)))
            return day, month, year
    return None


def _birth_near(lines: list[str], index: int, fields: dict[str, str]) -> None:
    for line in lines[index:index + 6] if index >= 0 else lines:
        value = _value_after(line, _BIRTH_LABEL)
        if value:
            place, _, rest = value.partition(",")
            date = _parse_date(rest or value)
            if place and rest:
                fields["birth_place"] = _clean_name(place)
            if date:
                fields["birth_date"] = date.isoformat()
            return
        value = _value_after(line, _DOB_LABEL)
        if value and (date := _parse_date(value)):
            fields["birth_date"] = date.isoformat()
            return


def _sex_near(lines: list[str], index: int, fields: dict[str, str]) -> None:
    for line in lines[index:index + 6] if index >= 0 else lines:
        value = _value_after(line, _SEX_LABEL)
        if value:
            upper = value.upper()
            if "PEREM" in upper or "WANITA" in upper:
                fields["sex"] = "P"
            elif "LAKI" in upper or "PRIA" in upper:
                fields["sex"] = "L"
            return


def _letter_number(lines: list[str]) -> str | None:
    for line in lines[:25]:
        m = re.match(r"^\s*No(?:mor|\.)?\s*[:;]\s*(\S+)", line, re.IGNORECASE)
        if m:
            return m.group(1)
    return None


def extract_fields(text: str, doc_type: str) -> dict[str, str]:
    """The fields a document of ``doc_type`` carries, read from its text.

    Keys (when found): ``nik``, ``name``, ``birth_place``, ``birth_date`` (ISO), ``sex`` (L/P),
    ``kk_number``, ``head_nik``, ``head_name``, ``member_niks`` (comma separated),
    ``certificate_number``, ``bpjs_number``, ``nib``, ``sip2mi_number``, ``letter_number``,
    ``registration_number``, ``giver_nik``, ``husband_nik``, ``wife_nik``.
    """
    lines = _lines(text)
    fields: dict[str, str] = {}
    if doc_type == "kartu_keluarga":
        _extract_kk(lines, fields)
        return fields
    if doc_type == "surat_nikah":
        niks = _labelled_nik(lines) or _nik_lines(lines)
        if niks:
            fields["husband_nik"] = niks[0][1]
        if len(niks) > 1:
            fields["wife_nik"] = niks[1][1]
    elif doc_type == "akta_kelahiran":
        _extract_akta(text, fields)
    else:
        _extract_person(lines, doc_type, fields)

    joined = " ".join(lines)
    if doc_type == "bpjs_tk":
        m = re.search(r"(?:KPJ|Peserta)\W{0,4}([0-9OoIlSB]{11})\b", joined, re.IGNORECASE)
        numbers = [normalise_digits(m.group(1))] if m else find_numbers(joined, 11)
        if numbers and numbers[0].isdigit():
            fields["bpjs_number"] = numbers[0]
    elif doc_type == "sertifikat_kompetensi":
        m = _BNSP.search(joined)
        if m:
            fields["certificate_number"] = re.sub(r"\s+", " ", m.group(1))
    elif doc_type == "siup_oss":
        numbers = find_numbers(joined, 13)
        if numbers:
            fields["nib"] = numbers[0]
    elif doc_type == "sip2mi":
        m = re.search(r"(\S*SIP2MI/\S+)", joined, re.IGNORECASE)
        if m:
            fields["sip2mi_number"] = m.group(1)
    elif doc_type == "ak1":
        for line in lines:
            m = re.search(r"Pendaftaran\D{0,30}?(\d{8,20})\b", line, re.IGNORECASE)
            if m:
                fields["registration_number"] = m.group(1)
                break
    elif doc_type == "surat_nikah":
        number = _letter_number(lines)
        if number:
            fields["certificate_number"] = number
    elif doc_type == "surat_izin":
        m = re.search(r"Registrasi\s*Desa\s*[:;]?\s*(\S+)", joined, re.IGNORECASE)
        if m:
            fields["registration_number"] = m.group(1)
    if doc_type in ("surat_permohonan", "surat_tugas", "surat_pengangkatan", "pkwt",
                    "perjanjian_penempatan", "surat_sehat"):
        number = _letter_number(lines)
        if number:
            fields["letter_number"] = number
    return fields


def _extract_person(lines: list[str], doc_type: str, fields: dict[str, str]) -> None:
    """NIK, name, birth and sex of the document's subject."""
    labelled = _labelled_nik(lines)
    if doc_type == "ak1":
        # The registration number is 16 digits too; the NIK is the one labelled NIK.
        labelled = [(i, n) for i, n in labelled if not re.search("Pendaftaran", lines[i], re.I)]
    candidates = labelled or _nik_lines(lines)
    index = -1
    if candidates:
        index, nik = candidates[0]
        if doc_type == "surat_izin":
            # The giver signs first; the CPMI is the person "diberi izin", named after it.
            fields["giver_nik"] = nik
            marker = next((i for i, line in enumerate(lines) if re.search(r"izin\s+kepada", line, re.I)), None)
            later = [c for c in candidates if marker is not None and c[0] > marker]
            index, nik = later[0] if later else candidates[-1]
        elif doc_type in ("surat_tugas", "pkwt") and len(candidates) > 1:
            index, nik = candidates[-1]
        fields["nik"] = nik
    # On a KTP the name follows the NIK; on letters it precedes it.
    name = _name_near(lines, index, after=True) if doc_type in ("ktp", "ak1") else None
    if name is None and index >= 0:
        name = _name_near(lines, index, after=False)
    if name is None and index >= 0:
        name = _name_near(lines, index, after=True)
    if name is None:
        # Decrees name the person inside a sentence: "mengangkat Saudara NAMA, NIK ...".
        m = re.search(r"Saudara(?:i)?\s+([A-Z][A-Z.' ]+?)\s*,", " ".join(lines))
        if m:
            name = _clean_name(m.group(1))
    if name is None and doc_type in ("bpjs_tk", "sertifikat_kompetensi"):
        name = _card_name(lines, doc_type)
    if name:
        fields["name"] = name
    start = max(0, index - 2)
    _birth_near(lines, start, fields)
    _sex_near(lines, start, fields)


def _card_name(lines: list[str], doc_type: str) -> str | None:
    # BPJS cards and certificates print the name alone on a line: the first line of capitals
    # after the header (BPJS) or after "menyatakan bahwa" (certificate).
    start = 1
    if doc_type == "sertifikat_kompetensi":
        start = next((i + 1 for i, line in enumerate(lines) if re.search("menyatakan", line, re.I)), 0)
    for line in lines[start:start + 3]:
        if re.fullmatch(r"[A-Z][A-Z.' ]{3,}", line) and "BPJS" not in line and "KARTU" not in line:
            return line.strip()
    return None


def _extract_kk(lines: list[str], fields: dict[str, str]) -> None:
    kk = None
    for i, line in enumerate(lines):
        if re.search(r"\bNo(?:mor)?\b", line, re.IGNORECASE) and not _NIK_LABEL.search(line):
            numbers = find_numbers(line, 16)
            if numbers and (i < 12 or "KELUARGA" in " ".join(lines[max(0, i - 2):i + 1]).upper()):
                kk = numbers[0]
                break
    if kk:
        fields["kk_number"] = kk
    members = [n for _, n in _nik_lines(lines) if n != kk]
    if members:
        fields["head_nik"] = members[0]
        fields["member_niks"] = ",".join(dict.fromkeys(members))
    for line in lines:
        value = _value_after(line, re.compile(r"Nama\s*Kepala\s*Keluarga", re.IGNORECASE))
        if value:
            fields["head_name"] = _clean_name(value)
            break


def _extract_akta(text: str, fields: dict[str, str]) -> None:
    flat = re.sub(r"\s+", " ", text)
    m = _AKTA_NO.search(flat)
    if m:
        fields["certificate_number"] = re.sub(r"\s+", "", m.group(1))
    m = re.search(r"bahwa di (.+?) pada tanggal (\d{1,2} \w+ \d{4})", flat, re.IGNORECASE)
    if m:
        fields["birth_place"] = _clean_name(m.group(1))
        date = _parse_date(m.group(2))
        if date:
            fields["birth_date"] = date.isoformat()
    m = re.search(r"telah lahir (.+?) anak ke\W*\w+ (laki-laki|perempuan)", flat, re.IGNORECASE)
    if m:
        fields["name"] = _clean_name(m.group(1))
        fields["sex"] = "L" if m.group(2).lower().startswith("laki") else "P"
