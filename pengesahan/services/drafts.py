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
from dataclasses import dataclass

from pengesahan.errors import ProcessingError
from processing.fields import parse_nik

__all__ = ["DRAFT_CHECK", "DRAFT_TYPE", "DraftFacts", "Person", "draft_facts", "draft_mismatches", "read_draft_text",
           "same_country", "same_name"]

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


@dataclass(frozen=True)
class Person:
    """A name and the NIK labelled beside it (either may be empty)."""

    name: str
    nik: str
    #: True when the label itself says the name is the CPMI's ("Nama CPMI : …").
    is_cpmi: bool = False


@dataclass(frozen=True)
class DraftFacts:
    """The identities and destination a draft states in labelled lines."""

    people: tuple[Person, ...]
    countries: tuple[str, ...]
    #: Whether the PDF has a text layer at all (a scanned draft has none).
    has_text: bool

    @property
    def niks(self) -> tuple[str, ...]:
        return tuple(p.nik for p in self.people if p.nik)


#: Fewer non-blank characters than this in the text layer and the draft is a scan (as
#: processing.pdf.MIN_TEXT_CHARS judges a page).
_MIN_TEXT_CHARS = 20
#: How many scanned drafts' OCR text a process keeps, by content: a draft is compared on each
#: view of its dossier and on submission, and OCR takes seconds where a text layer takes
#: milliseconds.
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
    return DraftFacts(people=tuple(people), countries=tuple(countries), has_text=bool(text.strip()))


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


def draft_mismatches(facts: DraftFacts, *, nik: str, name: str, country: str) -> list[str]:
    """What the draft states that contradicts the dossier, one sentence each ([] when nothing).

    The NIK contradicts when the draft labels NIKs and none is the CPMI's; the name when the
    person labelled with the CPMI's NIK (or labelled as the CPMI) has another name; the
    country when the draft labels a destination and it is not the dossier's.
    """
    problems = []
    if facts.niks and nik not in facts.niks:
        problems.append(f"NIK pada draf ({', '.join(dict.fromkeys(facts.niks))}) bukan NIK CPMI pada berkas ({nik}).")
    cpmi_names = [p.name for p in facts.people if p.name and (p.nik == nik or (p.is_cpmi and not p.nik))]
    other = [n for n in dict.fromkeys(cpmi_names) if not same_name(n, name)]
    if other:
        problems.append(f"Nama CPMI pada draf ({', '.join(other)}) berbeda dengan nama pada berkas ({name}).")
    if country and facts.countries and not any(same_country(c, country) for c in facts.countries):
        problems.append(f"Negara penempatan pada draf ({', '.join(dict.fromkeys(facts.countries))}) "
                        f"berbeda dengan negara pada berkas ({country}).")
    return problems
