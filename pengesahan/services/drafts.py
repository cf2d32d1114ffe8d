"""What a P3MI's draft placement agreement says about its CPMI, and whether that contradicts the
dossier: pure functions over the PDF's text (no Flask, no database).

The text is the PDF's text layer; a scanned draft without one is read by OCR, with the engine
the uploads are read with (processing.text.read_text). The draft is read where it labels the
parties' identities ("Nama : …", "NIK : …", "Negara Penempatan : …"). Only a contradiction
counts: a draft that names nobody (an unreadable scan, free prose) is left to the officer, who
reads every draft anyway.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from pengesahan.errors import ProcessingError
from processing.fields import parse_nik

__all__ = ["DRAFT_CHECK", "DRAFT_TYPE", "DraftFacts", "Expected", "Person", "draft_facts", "draft_fields",
           "draft_mismatches", "read_draft_text", "same_company", "same_country", "same_name", "same_party", "same_term"]

#: The slot type of a placement agreement's draft, and the check of its text against the dossier
#: that the worker adds to the draft's results (services.scans.draft_match).
DRAFT_TYPE = "perjanjian_penempatan"
DRAFT_CHECK = "pp_match"

log = logging.getLogger(__name__)

#: How many lines apart a "Nama" label and a "NIK" label may be to describe the same person.
_BLOCK_LINES = 3

_LABEL_SEP = r"\s*[:：]\s*"
_NIK_LINE = re.compile(
    r"^\s*(?:NIK|No(?:mor|\.)?\s*(?:KTP|Induk\s+Kependudukan)|Nomor\s+Induk\s+Kependudukan)"
    + _LABEL_SEP + r"(?P<value>[0-9][0-9 .\-]{14,24}[0-9])\b", re.IGNORECASE)
_NAME_LINE = re.compile(
    r"^\s*Nama(?P<qualifier>(?:\s+(?:Lengkap|CPMI|PMI|Calon\s+Pekerja\s+Migran(?:\s+Indonesia)?|"
    r"Pekerja\s+Migran(?:\s+Indonesia)?))*)" + _LABEL_SEP + r"(?P<value>\S.*)$", re.IGNORECASE)
_COUNTRY_LINE = re.compile(
    r"^\s*Negara(?:\s+(?:Tujuan|Penempatan|Tempat\s+Bekerja))+" + _LABEL_SEP + r"(?P<value>\S.*)$",
    re.IGNORECASE)
#: The agreement's terms, each where the draft labels it. "Jabatan" alone is the signatory's
#: office ("Jabatan : Direktur"), so the CPMI's position needs a qualifier.
_TERM_LINES = {name: re.compile(r"^\s*(?:" + label + r")" + _LABEL_SEP + r"(?P<value>\S.*)$", re.IGNORECASE)
               for name, label in {
                   "p3mi_name": r"Nama\s+(?:P3MI|PPPMI|Perusahaan(?:\s+Penempatan)?(?:\s+Pekerja\s+Migran"
                                r"(?:\s+Indonesia)?)?)",
                   "sip2mi_number": r"(?:No(?:mor|\.)?\s*)?SIP2MI|Nomor\s+Surat\s+Izin\s+Perusahaan\s+Penempatan"
                                    r"(?:\s+Pekerja\s+Migran(?:\s+Indonesia)?)?",
                   "employer_name": r"(?:Nama\s+)?(?:Pemberi\s+Kerja|Majikan|Pengguna)",
                   "job_title": r"Jabatan\s+(?:C?PMI|Pekerjaan|di\s+Negara\s+Tujuan)|Posisi(?:\s+Pekerjaan)?|"
                                r"Jenis\s+Pekerjaan",
                   "contract_months": r"Jangka\s+Waktu(?:\s+Perjanjian)?(?:\s+Kerja)?|Masa\s+(?:Kontrak|Kerja)|"
                                      r"Lama\s+Kontrak",
                   "salary": r"(?:Gaji|Upah)(?:\s+(?:Pokok|per\s+Bulan|Bulanan))?",
               }.items()}
_DURATION = re.compile(r"(\d{1,3})\s*(?:\([^)]*\)\s*)?(bulan|tahun)", re.IGNORECASE)
#: Words that say what kind of party a name is, not which one.
_PARTY_WORDS = {"pt", "cv", "mr", "mrs", "ms", "tuan", "nyonya", "bapak", "ibu", "family", "keluarga"}


@dataclass(frozen=True)
class Person:
    """A name and the NIK labelled beside it (either may be empty)."""

    name: str
    nik: str
    #: True when the label itself says the name is the CPMI's ("Nama CPMI : …").
    is_cpmi: bool = False


@dataclass(frozen=True)
class DraftFacts:
    """The identities, destination and terms a draft states in labelled lines."""

    people: tuple[Person, ...]
    countries: tuple[str, ...]
    #: Whether the PDF has a text layer at all (a scanned draft has none).
    has_text: bool
    #: The first labelled value of each term of ``_TERM_LINES`` the draft states.
    terms: dict[str, str] = field(default_factory=dict)

    @property
    def niks(self) -> tuple[str, ...]:
        return tuple(p.nik for p in self.people if p.nik)

    @property
    def contract_months(self) -> int | None:
        """The labelled duration in months ("24 (dua puluh empat) bulan", "2 tahun")."""
        match = _DURATION.search(self.terms.get("contract_months", ""))
        if match is None:
            return None
        return int(match[1]) * (12 if match[2].casefold() == "tahun" else 1)


@dataclass(frozen=True)
class Expected:
    """What a PP draft must agree with: the dossier's CPMI and placement, the company's record
    and, once the agreement is submitted, its terms. An empty value is not compared."""

    nik: str
    name: str
    country: str = ""
    company_name: str = ""
    sip2mi_number: str = ""
    employer_name: str = ""
    job_title: str = ""
    contract_months: int | None = None


#: Fewer non-blank characters than this in the text layer and the draft is a scan (as
#: processing.pdf.MIN_TEXT_CHARS judges a page).
_MIN_TEXT_CHARS = 20
#: How many scanned drafts' OCR text a process keeps, by content: a draft the worker has not
#: read yet (or read nothing from) may be compared more than once, and OCR takes seconds where a
#: text layer takes milliseconds.
_OCR_CACHE_SIZE = 32
_ocr_cache: OrderedDict[str, str] = OrderedDict()
_ocr_lock = threading.Lock()


def read_draft_text(data: bytes, *, ocr_engine: str | None = "auto", scanned_text: str | None = None) -> str:
    """The text of a PDF, pages joined by form feeds: its text layer, or OCR of its pages when it
    has none (a scanned draft); "" when the PDF cannot be read.

    ``scanned_text`` is what the worker already read from the upload (Upload.ocr_text): a
    scanned draft with it is not OCR'd again in a web request.
    """
    text = _text_layer(data)
    if sum(not ch.isspace() for ch in text) >= _MIN_TEXT_CHARS:
        return text
    if scanned_text and scanned_text.strip():
        return scanned_text
    key = f"{hashlib.sha256(data).hexdigest()}:{ocr_engine}"
    with _ocr_lock:
        if key in _ocr_cache:
            _ocr_cache.move_to_end(key)
            return _ocr_cache[key]
    scanned = _ocr_pages(data, ocr_engine)
    with _ocr_lock:
        _ocr_cache[key] = scanned
        while len(_ocr_cache) > _OCR_CACHE_SIZE:
            _ocr_cache.popitem(last=False)
    return scanned or text


def _ocr_pages(data: bytes, engine: str | None) -> str:
    """OCR of every page of an image-only PDF, as the worker reads a scan; "" when it cannot."""
    # The image and OCR stacks load when a scanned draft is first read, like pdfium below.
    import cv2

    from processing.pdf import render_pdf  # (as cv2: only once a scan is read)
    from processing.text import read_text

    try:
        pages = render_pdf(data)
        return "\f".join(read_text(cv2.cvtColor(page.bgr, cv2.COLOR_BGR2GRAY), engine).text for page in pages)
    except ProcessingError as exc:
        log.warning("scanned draft not read (%s); nothing to compare", exc.message)
        return ""


def _text_layer(data: bytes) -> str:
    """The text layer of a PDF, pages joined by form feeds; "" when the PDF cannot be read."""
    # pdfium (and OpenCV with it) loads when a draft is first read, not when a process starts.
    from processing.pdf import text_layer

    try:
        return text_layer(data)
    except ProcessingError as exc:
        log.warning("draft text layer not read (%s); nothing to compare", exc.message)
        return ""


def _valid_nik(raw: str) -> str | None:
    try:
        return parse_nik(raw).nik
    except ValueError:
        return None


def draft_facts(text: str) -> DraftFacts:
    """The people (name with the NIK beside it) and destination countries labelled in ``text``."""
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    names: list[tuple[int, str, bool]] = []
    niks: list[tuple[int, str]] = []
    countries: list[str] = []
    terms: dict[str, str] = {}
    for index, line in enumerate(lines):
        if match := _NIK_LINE.match(line):
            nik = _valid_nik(match["value"])
            if nik:
                niks.append((index, nik))
        elif match := _NAME_LINE.match(line):
            qualifier = match["qualifier"].casefold()
            names.append((index, match["value"].strip(), "pmi" in qualifier or "migran" in qualifier))
        elif match := _COUNTRY_LINE.match(line):
            countries.append(match["value"].strip())
        else:
            for name, pattern in _TERM_LINES.items():
                if name not in terms and (match := pattern.match(line)):
                    terms[name] = match["value"].strip()
                    break
    people = []
    paired: set[int] = set()
    for nik_line, nik in niks:
        # Identity blocks list the name first; take the nearest name above, else just below.
        near = [n for n in names if n[0] not in paired and abs(n[0] - nik_line) <= _BLOCK_LINES]
        near.sort(key=lambda n: (n[0] > nik_line, abs(n[0] - nik_line)))
        if near:
            paired.add(near[0][0])
            people.append(Person(near[0][1], nik, near[0][2]))
        else:
            people.append(Person("", nik))
    people.extend(Person(name, "", True) for line, name, is_cpmi in names if is_cpmi and line not in paired)
    return DraftFacts(people=tuple(people), countries=tuple(countries), has_text=bool(text.strip()), terms=terms)


def _words(value: str) -> list[str]:
    return "".join(ch if ch.isalnum() else " " for ch in value.casefold()).split()


def same_name(a: str, b: str) -> bool:
    """Whether two spellings name the same person: equal up to case, spacing and punctuation,
    or one the other with more names ("Siti Aminah" and "Siti Aminah binti Ahmad")."""
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return False
    if "".join(wa) == "".join(wb):
        return True
    shorter, longer = sorted((wa, wb), key=len)
    return len(shorter) >= 2 and longer[:len(shorter)] == shorter


def same_country(a: str, b: str) -> bool:
    """Whether two spellings name the same country ("Hong Kong", "Hongkong SAR", "TAIWAN (R.O.C.)")."""
    ca, cb = "".join(_words(re.sub(r"\(.*?\)", "", a))), "".join(_words(re.sub(r"\(.*?\)", "", b)))
    if not ca or not cb:
        return False
    return ca == cb or ca.startswith(cb) or cb.startswith(ca)


def same_party(a: str, b: str) -> bool:
    """Whether two spellings name the same employer or position: the words of one (without
    "Mr.", "Family", "PT"...) all among the other's ("Mr. Chen Wei" and "CHEN WEI";
    "Pengasuh lansia" and "Pengasuh lansia (caregiver)")."""
    wa, wb = set(_words(a)) - _PARTY_WORDS, set(_words(b)) - _PARTY_WORDS
    if not wa or not wb:
        return _same_number(a, b)
    return wa == wb or (min(len(wa), len(wb)) >= 2 and (wa <= wb or wb <= wa))


def same_company(a: str, b: str) -> bool:
    """Whether two spellings name the same company: the same words but for "PT"/"CV" and
    punctuation ("PT. Maju Jaya" and "MAJU JAYA, PT"; not "PT Maju Jaya Abadi", another firm)."""
    wa, wb = set(_words(a)) - _PARTY_WORDS, set(_words(b)) - _PARTY_WORDS
    return wa == wb if wa and wb else _same_number(a, b)


def _same_number(a: str, b: str) -> bool:
    return "".join(_words(a)) == "".join(_words(b))


def same_term(key: str, read: str, expected: str) -> bool:
    """Whether the draft's value of ``key`` (a field of :func:`draft_fields`) agrees with the
    dossier's, judged as :func:`draft_mismatches` judges it."""
    same = {"name": same_name, "destination_country": same_country, "p3mi_name": same_company,
            "employer_name": same_party, "job_title": same_party}.get(key, _same_number)
    return same(str(read), str(expected))


def draft_mismatches(facts: DraftFacts, expected: Expected) -> list[str]:
    """What the draft states that contradicts ``expected``, one sentence each ([] when nothing).

    The NIK contradicts when the draft labels NIKs and none is the CPMI's; the name when the
    person labelled with the CPMI's NIK (or labelled as the CPMI) has another name; every other
    term when the draft labels it and it differs. What the draft does not state is left to the
    officer, who reads every draft anyway.
    """
    nik, name = expected.nik, expected.name
    problems = []
    if facts.niks and nik not in facts.niks:
        problems.append(f"NIK pada draf ({', '.join(dict.fromkeys(facts.niks))}) bukan NIK CPMI pada berkas ({nik}).")
    cpmi_names = [p.name for p in facts.people if p.name and (p.nik == nik or (p.is_cpmi and not p.nik))]
    other = [n for n in dict.fromkeys(cpmi_names) if not same_name(n, name)]
    if other:
        problems.append(f"Nama CPMI pada draf ({', '.join(other)}) berbeda dengan nama pada berkas ({name}).")
    country = expected.country
    if country and facts.countries and not any(same_country(c, country) for c in facts.countries):
        problems.append(f"Negara penempatan pada draf ({', '.join(dict.fromkeys(facts.countries))}) "
                        f"berbeda dengan negara pada berkas ({country}).")
    terms = facts.terms
    for term, wanted, what in (
            ("p3mi_name", expected.company_name, "Nama P3MI"),
            ("sip2mi_number", expected.sip2mi_number, "Nomor SIP2MI"),
            ("employer_name", expected.employer_name, "Pemberi kerja"),
            ("job_title", expected.job_title, "Jabatan")):
        if wanted and terms.get(term) and not same_term(term, terms[term], wanted):
            problems.append(f"{what} pada draf ({terms[term]}) berbeda dengan data berkas ({wanted}).")
    months = facts.contract_months
    if expected.contract_months and months and months != expected.contract_months:
        problems.append(f"Masa kontrak pada draf ({months} bulan) berbeda dengan masa kontrak yang diajukan "
                        f"({expected.contract_months} bulan).")
    return problems


def draft_fields(facts: DraftFacts, nik: str) -> dict[str, str]:
    """What the draft states, as the officer reads it beside the dossier (Upload.fields)."""
    person = next((p for p in facts.people if p.nik == nik), None) or next(
        (p for p in facts.people if p.is_cpmi or p.nik), None)
    fields = {"nik": person.nik if person else "", "name": person.name if person else "",
              "destination_country": facts.countries[0] if facts.countries else "", **facts.terms}
    if facts.contract_months:
        fields["contract_months"] = str(facts.contract_months)
    return {key: value for key, value in fields.items() if value}
