"""A labelled synthetic corpus of the dossier's documents, for tests and benches.

Every document type of the shared vocabulary is drawn clean (no scan defects: those are added
by ``bench.defects``) with random but consistent Indonesian data: a NIK whose region and birth
date agree with the person, KK numbers, BNSP certificate numbers, BPJS numbers, an OSS NIB.
A document is described once as drawing operations in points and rendered twice: with Pillow to
an image and, for letters, with reportlab to a PDF with a text layer. Fonts are reportlab's
bundled Vera TTFs, found through ``reportlab.__file__``, so it works on a bare machine.

``python -m bench.corpus OUT_DIR [--per-type N] [--seed S]`` writes the files and labels.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import reportlab
from PIL import Image, ImageDraw, ImageFont

__all__ = ["Sample", "Document", "generate", "render_image", "font_path", "make_nik", "main"]

MM = 72 / 25.4  # points per millimetre
CARD_SIZE = (85.6 * MM, 53.98 * MM)  # ID-1
A4_SIZE = (210 * MM, 297 * MM)
F4_SIZE = (215 * MM, 330 * MM)

#: Pixels per point when rendering: 300 dpi for cards (they are photographed close), 200 dpi
#: for pages (a common scanner setting).
CARD_SCALE = 300 / 72
PAGE_SCALE = 200 / 72

#: Types drawn as letters, which also get a PDF with a text layer.
LETTER_TYPES = (
    "surat_permohonan",
    "surat_tugas",
    "surat_pengangkatan",
    "pkwt",
    "surat_izin",
    "perjanjian_penempatan",
    "surat_sehat",
)


@dataclass(frozen=True)
class Sample:
    """One generated file with its label: type code and the fields printed on it."""

    path: Path
    doc_type: str
    fields: dict[str, str]
    #: The printed text in reading order, the ground truth for OCR accuracy.
    text: str = ""


@dataclass
class Document:
    """A document as drawing operations in points, origin top left."""

    size: tuple[float, float]
    background: tuple[int, int, int] = (255, 255, 255)
    ops: list[tuple] = field(default_factory=list)

    def text(
        self,
        x: float,
        y: float,
        s: str,
        size: float = 10,
        bold: bool = False,
        align: str = "left",
        colour: tuple[int, int, int] = (0, 0, 0),
    ) -> None:
        """Write ``s`` with its top at ``y``; ``align`` is left, centre or right of ``x``."""
        self.ops.append(("text", x, y, s, size, bold, align, colour))

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = 0.8) -> None:
        """Draw a black line."""
        self.ops.append(("line", x1, y1, x2, y2, width))

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        fill: tuple[int, int, int] | None = None,
        outline: tuple[int, int, int] | None = (0, 0, 0),
    ) -> None:
        """Draw a rectangle, filled and/or outlined."""
        self.ops.append(("rect", x, y, w, h, fill, outline))

    def ground_truth(self) -> str:
        """The printed text, lines top to bottom, left to right within a line."""
        items = [(op[2], op[1], op[3]) for op in self.ops if op[0] == "text"]
        items.sort(key=lambda t: (round(t[0] / 4), t[1]))
        lines: list[list[str]] = []
        last_row = None
        for y, _x, s in items:
            row = round(y / 4)
            if last_row is None or row != last_row:
                lines.append([])
                last_row = row
            lines[-1].append(s)
        return "\n".join(" ".join(parts) for parts in lines)


def font_path(bold: bool = False) -> Path:
    """Path of reportlab's bundled Vera font (bold or regular)."""
    base = Path(reportlab.__file__).parent / "fonts"
    return base / ("VeraBd.ttf" if bold else "Vera.ttf")


@lru_cache(maxsize=256)
def _font(bold: bool, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(bold)), px)


def render_image(doc: Document, scale: float) -> Image.Image:
    """Render ``doc`` to an RGB image at ``scale`` pixels per point."""
    w, h = round(doc.size[0] * scale), round(doc.size[1] * scale)
    img = Image.new("RGB", (w, h), doc.background)
    draw = ImageDraw.Draw(img)
    for op in doc.ops:
        kind = op[0]
        if kind == "rect":
            _, x, y, rw, rh, fill, outline = op
            draw.rectangle(
                [x * scale, y * scale, (x + rw) * scale, (y + rh) * scale],
                fill=fill,
                outline=outline,
                width=max(1, round(0.8 * scale)) if outline else 0,
            )
        elif kind == "line":
            _, x1, y1, x2, y2, width = op
            draw.line(
                [x1 * scale, y1 * scale, x2 * scale, y2 * scale],
                fill=(0, 0, 0),
                width=max(1, round(width * scale)),
            )
        else:
            _, x, y, s, size, bold, align, colour = op
            font = _font(bold, max(6, round(size * scale)))
            tw = draw.textlength(s, font=font)
            px = x * scale
            if align == "centre":
                px -= tw / 2
            elif align == "right":
                px -= tw
            draw.text((px, y * scale), s, font=font, fill=colour)
    return img


def render_pdf(doc: Document, path: Path) -> None:
    """Write ``doc`` as a one-page PDF with a text layer (Helvetica, a standard PDF font)."""
    from reportlab.pdfgen import canvas

    w, h = doc.size
    c = canvas.Canvas(str(path), pagesize=(w, h))
    c.setFillColorRGB(*(v / 255 for v in doc.background))
    c.rect(0, 0, w, h, fill=1, stroke=0)
    for op in doc.ops:
        kind = op[0]
        if kind == "rect":
            _, x, y, rw, rh, fill, outline = op
            if fill:
                c.setFillColorRGB(*(v / 255 for v in fill))
            c.rect(x, h - y - rh, rw, rh, fill=1 if fill else 0, stroke=1 if outline else 0)
        elif kind == "line":
            _, x1, y1, x2, y2, width = op
            c.setLineWidth(width)
            c.line(x1, h - y1, x2, h - y2)
        else:
            _, x, y, s, size, bold, align, colour = op
            c.setFillColorRGB(*(v / 255 for v in colour))
            c.setFont("Helvetica-Bold" if bold else "Helvetica", size)
            base = h - y - size * 0.8
            if align == "centre":
                c.drawCentredString(x, base, s)
            elif align == "right":
                c.drawRightString(x, base, s)
            else:
                c.drawString(x, base, s)
    c.showPage()
    c.save()


# --- Random but consistent people ------------------------------------------------------------

_MALE = (
    "Budi", "Agus", "Ahmad", "Rizki", "Dedi", "Eko", "Hendra", "Joko", "Slamet", "Wahyu",
    "Yusuf", "Fajar", "Bayu", "Andi", "Rudi", "Hasan", "Iwan", "Teguh", "Arif", "Bambang",
)
_FEMALE = (
    "Siti", "Sri", "Dewi", "Nur", "Rina", "Wati", "Yuliani", "Fitri", "Lestari", "Ani",
    "Putri", "Rahmawati", "Indah", "Ratna", "Sulastri", "Ayu", "Endang", "Nurhayati", "Eka",
    "Kartini",
)
_FAMILY = (
    "Santoso", "Wijaya", "Saputra", "Hidayat", "Kurniawan", "Setiawan", "Pratama", "Nugroho",
    "Susanto", "Hakim", "Rahman", "Maulana", "Suryani", "Handayani", "Wulandari", "Anggraini",
    "Permana", "Siregar", "Nasution", "Lubis",
)
#: (province code, province, regency code, regency, districts)
_REGIONS = (
    ("63", "KALIMANTAN SELATAN", "09", "TABALONG", ("TANJUNG", "MURUNG PUDAK", "KELUA")),
    ("33", "JAWA TENGAH", "01", "CILACAP", ("KROYA", "MAJENANG", "SIDAREJA")),
    ("32", "JAWA BARAT", "12", "INDRAMAYU", ("JATIBARANG", "KANDANGHAUR", "LOSARANG")),
    ("35", "JAWA TIMUR", "09", "JEMBER", ("AMBULU", "BALUNG", "PUGER")),
    ("52", "NUSA TENGGARA BARAT", "03", "LOMBOK TIMUR", ("SELONG", "MASBAGIK", "AIKMEL")),
    ("32", "JAWA BARAT", "03", "CIANJUR", ("CIBEBER", "CILAKU", "KARANGTENGAH")),
)
_VILLAGES = ("SUKAMAJU", "MEKARSARI", "TANJUNGSARI", "KARANGANYAR", "SUMBERREJO", "MAJU JAYA")
_RELIGIONS = ("ISLAM", "ISLAM", "ISLAM", "KRISTEN", "KATOLIK", "HINDU")
_JOBS_ABROAD = ("Caregiver", "Penata Laksana Rumah Tangga", "Operator Produksi", "Pelayan Restoran")
_COUNTRIES = ("TAIWAN", "HONG KONG", "MALAYSIA", "SINGAPURA", "JEPANG", "KOREA SELATAN")
_COMPANIES = (
    "PT. Sumber Karya Mandiri", "PT. Bina Tenaga Nusantara", "PT. Cahaya Abadi Sejahtera",
    "PT. Mitra Kerja Utama", "PT. Duta Putra Bangsa",
)
_MONTHS = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
    "Oktober", "November", "Desember",
)
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


@dataclass(frozen=True)
class _Person:
    name: str
    sex: str  # L or P
    birth_date: dt.date
    region: tuple
    district: str
    nik: str
    religion: str
    village: str

    @property
    def birth_place(self) -> str:
        return self.region[3]


def make_nik(province: str, regency: str, district: int, birth: dt.date, sex: str, serial: int) -> str:
    """A NIK as the civil registry builds it: region, DDMMYY (+40 for women), serial."""
    day = birth.day + (40 if sex == "P" else 0)
    return f"{province}{regency}{district:02d}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def _person(rng: random.Random, sex: str | None = None, min_age: int = 19, max_age: int = 45) -> _Person:
    sex = sex or rng.choice("LP")
    first = rng.choice(_MALE if sex == "L" else _FEMALE)
    name = f"{first} {rng.choice(_FAMILY)}".upper()
    today = dt.date(2026, 1, 1)
    birth = today - dt.timedelta(days=rng.randint(min_age * 365, max_age * 365))
    region = rng.choice(_REGIONS)
    d_index = rng.randrange(len(region[4]))
    nik = make_nik(region[0], region[2], d_index + 1, birth, sex, rng.randint(1, 3999))
    return _Person(
        name=name,
        sex=sex,
        birth_date=birth,
        region=region,
        district=region[4][d_index],
        nik=nik,
        religion=rng.choice(_RELIGIONS),
        village=rng.choice(_VILLAGES),
    )


def _dmy(d: dt.date) -> str:
    return d.strftime("%d-%m-%Y")


def _long_date(d: dt.date) -> str:
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def _letter_no(rng: random.Random, unit: str) -> str:
    return f"{rng.randint(1, 999):03d}/{unit}/{_ROMAN[rng.randrange(12)]}/2026"


def _kk_number(p: _Person, rng: random.Random) -> str:
    issued = dt.date(rng.randint(2010, 2024), rng.randint(1, 12), rng.randint(1, 28))
    return f"{p.region[0]}{p.region[2]}01{issued:%d%m%y}{rng.randint(1, 9999):04d}"


# --- Layout helpers -------------------------------------------------------------------------


def _page(rng: random.Random, landscape: bool = False) -> Document:
    w, h = rng.choice((A4_SIZE, A4_SIZE, F4_SIZE))
    if landscape:
        w, h = h, w
    tint = rng.randint(248, 255)
    return Document(size=(w, h), background=(tint, tint, tint))


def _letterhead(doc: Document, name: str, address: str, y: float = 40) -> float:
    w = doc.size[0]
    doc.rect(55, y, 42, 42, fill=(30, 80, 160), outline=None)
    doc.text(w / 2 + 20, y, name.upper(), 16, True, "centre")
    doc.text(w / 2 + 20, y + 22, address, 9, False, "centre")
    doc.text(w / 2 + 20, y + 34, "Telp. (0526) 2021234  Email: info@perusahaan.co.id", 9, False, "centre")
    doc.line(50, y + 50, w - 50, y + 50, 2)
    return y + 64


def _fields(doc: Document, x: float, y: float, rows: list[tuple[str, str]], size: float = 10.5,
            label_w: float = 130, step: float = 16) -> float:
    for label, value in rows:
        doc.text(x, y, label, size)
        doc.text(x + label_w, y, f": {value}", size)
        y += step
    return y


def _paragraph(doc: Document, x: float, y: float, text: str, width_chars: int = 88,
               size: float = 10.5, step: float = 15) -> float:
    words, line = text.split(), ""
    for word in words:
        if len(line) + len(word) + 1 > width_chars:
            doc.text(x, y, line, size)
            y += step
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        doc.text(x, y, line, size)
        y += step
    return y + 4


def _signature(doc: Document, x: float, y: float, place_date: str, role: str, name: str) -> None:
    doc.text(x, y, place_date, 10.5)
    doc.text(x, y + 15, role, 10.5)
    doc.text(x, y + 75, name, 10.5, True)


def _company_address(rng: random.Random) -> str:
    return f"Jl. {rng.choice(('Jend. Sudirman', 'Ahmad Yani', 'Diponegoro', 'Gatot Subroto'))} No. {rng.randint(1, 200)}, Jakarta Timur"


# --- The documents --------------------------------------------------------------------------

Built = tuple[Document, dict[str, str]]


def _ktp(rng: random.Random) -> Built:
    p = _person(rng)
    bg = (rng.randint(150, 175), rng.randint(200, 215), rng.randint(235, 250))
    doc = Document(size=CARD_SIZE, background=bg)
    w, _h = CARD_SIZE
    doc.text(w / 2, 5, f"PROVINSI {p.region[1]}", 7.5, True, "centre")
    doc.text(w / 2, 14, f"KABUPATEN {p.region[3]}", 7.5, True, "centre")
    doc.text(8, 26, "NIK", 9, True)
    doc.text(40, 26, f": {p.nik}", 9, True)
    rt = f"{rng.randint(1, 20):03d}/{rng.randint(1, 10):03d}"
    rows = [
        ("Nama", p.name),
        ("Tempat/Tgl Lahir", f"{p.birth_place}, {_dmy(p.birth_date)}"),
        ("Jenis Kelamin", "LAKI-LAKI" if p.sex == "L" else "PEREMPUAN"),
        ("Alamat", f"JL. {rng.choice(_VILLAGES)} NO. {rng.randint(1, 99)}"),
        ("RT/RW", rt),
        ("Kel/Desa", p.village),
        ("Kecamatan", p.district),
        ("Agama", p.religion),
        ("Status Perkawinan", rng.choice(("BELUM KAWIN", "KAWIN"))),
        ("Pekerjaan", rng.choice(("KARYAWAN SWASTA", "MENGURUS RUMAH TANGGA", "PETANI/PEKEBUN"))),
        ("Kewarganegaraan", "WNI"),
        ("Berlaku Hingga", "SEUMUR HIDUP"),
    ]
    y = 38
    for label, value in rows:
        doc.text(8, y, label, 5.6)
        doc.text(60, y, f": {value}", 5.6)
        if label == "Jenis Kelamin":
            doc.text(125, y, f"Gol. Darah : {rng.choice('ABO')}", 5.6)
        y += 8.2
    doc.rect(w - 62, 28, 52, 66, fill=(200, 40, 40), outline=None)
    doc.rect(w - 48, 40, 24, 26, fill=(235, 200, 170), outline=None)
    doc.rect(w - 54, 68, 36, 26, fill=(40, 40, 40), outline=None)
    doc.text(w - 36, 98, p.region[3], 5.6, False, "centre")
    doc.text(w - 36, 106, _dmy(dt.date(rng.randint(2012, 2024), rng.randint(1, 12), rng.randint(1, 28))), 5.6, False, "centre")
    fields = {
        "nik": p.nik,
        "name": p.name,
        "birth_place": p.birth_place,
        "birth_date": p.birth_date.isoformat(),
        "sex": p.sex,
    }
    return doc, fields


def _bpjs(rng: random.Random) -> Built:
    p = _person(rng)
    bg = (rng.randint(30, 50), rng.randint(140, 165), rng.randint(80, 100))
    doc = Document(size=CARD_SIZE, background=bg)
    w, h = CARD_SIZE
    white = (255, 255, 255)
    doc.rect(0, 0, w, 30, fill=(250, 250, 250), outline=None)
    doc.text(10, 7, "BPJS Ketenagakerjaan", 11, True, colour=(20, 120, 60))
    doc.text(w - 10, 10, "KARTU PESERTA", 7, True, "right", (20, 120, 60))
    kpj = f"{rng.choice((21, 22, 23, 24))}{rng.randint(0, 10**9 - 1):09d}"
    doc.text(12, 42, p.name, 9, True, colour=white)
    doc.text(12, 58, f"No. KPJ : {kpj}", 8, True, colour=white)
    doc.text(12, 72, f"NIK : {p.nik}", 7, colour=white)
    doc.text(12, 84, f"Tgl Lahir : {_dmy(p.birth_date)}", 7, colour=white)
    doc.text(12, 96, "Program : JKK JKM JHT", 7, colour=white)
    doc.text(12, h - 22, "Pekerja Migran Indonesia", 7, True, colour=white)
    doc.rect(w - 70, h - 30, 60, 18, fill=white, outline=None)
    for i in range(28):
        if (i * 7 + len(kpj)) % 3:
            doc.rect(w - 68 + i * 2, h - 28, 1, 14, fill=(0, 0, 0), outline=None)
    fields = {"name": p.name, "bpjs_number": kpj, "nik": p.nik, "birth_date": p.birth_date.isoformat()}
    return doc, fields


def _kartu_keluarga(rng: random.Random) -> Built:
    head = _person(rng, sex="L", min_age=35, max_age=60)
    spouse = _person(rng, sex="P", min_age=30, max_age=55)
    spouse = _Person(spouse.name, "P", spouse.birth_date, head.region, head.district,
                     make_nik(head.region[0], head.region[2], 1, spouse.birth_date, "P", rng.randint(1, 3999)),
                     head.religion, head.village)
    members = [head, spouse]
    for _ in range(rng.randint(1, 3)):
        child = _person(rng, min_age=19, max_age=28)
        members.append(_Person(child.name, child.sex, child.birth_date, head.region, head.district,
                               make_nik(head.region[0], head.region[2], 1, child.birth_date, child.sex, rng.randint(1, 3999)),
                               head.religion, head.village))
    doc = _page(rng, landscape=True)
    w, h = doc.size
    kk = _kk_number(head, rng)
    doc.text(w / 2, 30, "KARTU KELUARGA", 20, True, "centre")
    doc.text(w / 2, 56, f"No. {kk}", 13, True, "centre")
    left = [
        ("Nama Kepala Keluarga", head.name),
        ("Alamat", f"JL. {head.village} NO. {rng.randint(1, 99)}"),
        ("RT/RW", f"{rng.randint(1, 20):03d}/{rng.randint(1, 10):03d}"),
        ("Desa/Kelurahan", head.village),
    ]
    right = [
        ("Kecamatan", head.district),
        ("Kabupaten/Kota", head.region[3]),
        ("Kode Pos", f"{rng.randint(40000, 79999)}"),
        ("Provinsi", head.region[1]),
    ]
    _fields(doc, 40, 84, left, 9.5, 120, 14)
    _fields(doc, w / 2 + 60, 84, right, 9.5, 100, 14)
    cols = [("No", 40), ("Nama Lengkap", 62), ("NIK", 200), ("Jenis Kelamin", 320), ("Tempat Lahir", 410),
            ("Tanggal Lahir", 500), ("Agama", 585), ("Pendidikan", 650), ("Jenis Pekerjaan", 735)]
    y = 150
    doc.line(36, y - 4, w - 36, y - 4)
    for label, x in cols:
        doc.text(x, y, label, 8.5, True)
    y += 16
    doc.line(36, y - 4, w - 36, y - 4)
    for i, m in enumerate(members, 1):
        values = [str(i), m.name, m.nik, "LAKI-LAKI" if m.sex == "L" else "PEREMPUAN", m.birth_place,
                  _dmy(m.birth_date), m.religion, rng.choice(("SLTA/SEDERAJAT", "SLTP/SEDERAJAT", "TAMAT SD")),
                  rng.choice(("WIRASWASTA", "PETANI/PEKEBUN", "BELUM/TIDAK BEKERJA"))]
        for (_label, x), value in zip(cols, values, strict=True):
            doc.text(x, y, value, 8.5)
        y += 15
    doc.line(36, y - 2, w - 36, y - 2)
    doc.text(40, h - 110, f"Dikeluarkan Tanggal : {_dmy(dt.date(2024, rng.randint(1, 12), rng.randint(1, 28)))}", 9)
    doc.text(w - 60, h - 110, "KEPALA DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL", 9, False, "right")
    doc.text(w - 160, h - 96, f"KABUPATEN {head.region[3]}", 9, False, "centre")
    doc.rect(w - 190, h - 80, 50, 50, fill=(20, 20, 20), outline=None)
    doc.text(40, h - 40, "Dokumen ini telah ditandatangani secara elektronik menggunakan sertifikat elektronik yang diterbitkan oleh BSrE", 7.5)
    fields = {"kk_number": kk, "head_name": head.name, "head_nik": head.nik,
              "member_niks": ",".join(m.nik for m in members)}
    return doc, fields


def _akta_kelahiran(rng: random.Random) -> Built:
    p = _person(rng)
    father, mother = _person(rng, "L", 45, 70), _person(rng, "P", 40, 65)
    doc = _page(rng)
    w, _h = doc.size
    y = 60
    doc.text(w / 2, y, "REPUBLIK INDONESIA", 13, True, "centre")
    doc.text(w / 2, y + 20, "PENCATATAN SIPIL", 12, True, "centre")
    doc.text(60, y + 50, "WARGA NEGARA : INDONESIA", 10.5)
    doc.text(w / 2, y + 80, "KUTIPAN AKTA KELAHIRAN", 16, True, "centre")
    number = f"{p.region[0]}{p.region[2]}-LT-{p.birth_date:%d%m%Y}-{rng.randint(1, 9999):04d}"
    doc.text(w / 2, y + 104, f"Nomor : {number}", 11, False, "centre")
    text = (
        f"Berdasarkan Akta Kelahiran Nomor {number} menurut stelsel Golongan Penduduk "
        f"bahwa di {p.birth_place} pada tanggal {_long_date(p.birth_date)} telah lahir {p.name} "
        f"anak ke-{rng.randint(1, 4)} {'laki-laki' if p.sex == 'L' else 'perempuan'} dari "
        f"ayah {father.name} dan ibu {mother.name}."
    )
    y = _paragraph(doc, 60, y + 140, text, 80, 11, 17)
    issued = dt.date(rng.randint(2000, 2020), rng.randint(1, 12), rng.randint(1, 28))
    _signature(doc, w - 250, y + 40, f"{p.birth_place}, {_long_date(issued)}",
               "Pejabat Pencatatan Sipil", _person(rng).name)
    fields = {"name": p.name, "birth_place": p.birth_place, "birth_date": p.birth_date.isoformat(),
              "sex": p.sex, "certificate_number": number}
    return doc, fields


def _surat_nikah(rng: random.Random) -> Built:
    husband, wife = _person(rng, "L", 25, 45), _person(rng, "P", 20, 40)
    doc = _page(rng)
    w, _h = doc.size
    doc.text(w / 2, 50, "KEMENTERIAN AGAMA REPUBLIK INDONESIA", 12, True, "centre")
    doc.text(w / 2, 68, f"KANTOR URUSAN AGAMA KECAMATAN {husband.district}", 11, True, "centre")
    doc.text(w / 2, 100, "KUTIPAN AKTA NIKAH", 16, True, "centre")
    number = f"{rng.randint(1, 999):04d}/{rng.randint(1, 99):03d}/{_ROMAN[rng.randrange(12)]}/{rng.randint(2010, 2024)}"
    doc.text(w / 2, 122, f"Nomor : {number}", 11, False, "centre")
    married = dt.date(rng.randint(2010, 2024), rng.randint(1, 12), rng.randint(1, 28))
    y = _paragraph(doc, 60, 150, f"Pada tanggal {_long_date(married)} telah dilangsungkan akad nikah "
                   f"di hadapan Pegawai Pencatat Nikah antara:", 85)
    doc.text(60, y, "SUAMI", 10.5, True)
    y = _fields(doc, 80, y + 16, [("Nama", husband.name), ("NIK", husband.nik),
                                   ("Tempat dan Tanggal Lahir", f"{husband.birth_place}, {_dmy(husband.birth_date)}"),
                                   ("Agama", "ISLAM")], label_w=150)
    doc.text(60, y + 6, "ISTRI", 10.5, True)
    y = _fields(doc, 80, y + 22, [("Nama", wife.name), ("NIK", wife.nik),
                                   ("Tempat dan Tanggal Lahir", f"{wife.birth_place}, {_dmy(wife.birth_date)}"),
                                   ("Agama", "ISLAM")], label_w=150)
    y = _fields(doc, 60, y + 10, [("Wali Nikah", _person(rng, "L").name),
                                   ("Mas Kawin", f"Seperangkat alat sholat dan uang Rp {rng.randint(1, 50)}00.000")], label_w=170)
    _signature(doc, w - 250, y + 30, f"{husband.district}, {_long_date(married)}",
               "Kepala KUA / Pegawai Pencatat Nikah", _person(rng, "L").name)
    fields = {"husband_name": husband.name, "husband_nik": husband.nik, "wife_name": wife.name,
              "wife_nik": wife.nik, "certificate_number": number}
    return doc, fields


def _ak1(rng: random.Random) -> Built:
    p = _person(rng)
    doc = _page(rng)
    w, _h = doc.size
    doc.text(w / 2, 50, f"PEMERINTAH KABUPATEN {p.region[3]}", 12, True, "centre")
    doc.text(w / 2, 67, "DINAS TENAGA KERJA", 12, True, "centre")
    doc.line(50, 86, w - 50, 86, 1.5)
    doc.text(w - 60, 96, "AK/I", 14, True, "right")
    doc.text(w / 2, 118, "KARTU TANDA BUKTI PENDAFTARAN PENCARI KERJA", 13, True, "centre")
    reg = f"{p.region[0]}{p.region[2]}{rng.randint(0, 10**10 - 1):010d}"
    doc.rect(60, 150, 85, 110, fill=(210, 210, 210))
    rows = [
        ("No. Pendaftaran Pencari Kerja", reg),
        ("NIK", p.nik),
        ("Nama Lengkap", p.name),
        ("Tempat/Tgl Lahir", f"{p.birth_place}, {_dmy(p.birth_date)}"),
        ("Jenis Kelamin", "Laki-laki" if p.sex == "L" else "Perempuan"),
        ("Status", rng.choice(("Belum Kawin", "Kawin"))),
        ("Agama", p.religion.title()),
        ("Alamat", f"Desa {p.village.title()}, Kec. {p.district.title()}"),
        ("Pendidikan Terakhir", rng.choice(("SMA", "SMP", "SMK"))),
        ("Keterampilan", rng.choice(_JOBS_ABROAD)),
    ]
    y = _fields(doc, 160, 152, rows, 10, 160, 17)
    issued = dt.date(2026, rng.randint(1, 6), rng.randint(1, 28))
    y = _fields(doc, 60, y + 30, [("Tanggal Pendaftaran", _dmy(issued)),
                                   ("Berlaku s/d", _dmy(issued + dt.timedelta(days=730)))], 10, 160)
    doc.text(60, y + 20, "Kartu ini berlaku nasional dan wajib dibawa saat melapor kepada Pengantar Kerja.", 9)
    _signature(doc, w - 230, y + 50, f"{p.region[3].title()}, {_dmy(issued)}", "Pengantar Kerja",
               _person(rng).name)
    fields = {"nik": p.nik, "name": p.name, "birth_place": p.birth_place,
              "birth_date": p.birth_date.isoformat(), "sex": p.sex, "registration_number": reg}
    return doc, fields


def _sertifikat(rng: random.Random) -> Built:
    p = _person(rng)
    doc = _page(rng, landscape=True)
    w, h = doc.size
    gold = (rng.randint(170, 200), rng.randint(130, 150), 40)
    doc.rect(18, 18, w - 36, h - 36, fill=gold, outline=None)
    doc.rect(30, 30, w - 60, h - 60, fill=(252, 250, 240), outline=None)
    doc.text(w / 2, 60, "BADAN NASIONAL SERTIFIKASI PROFESI", 14, True, "centre", (20, 50, 120))
    doc.text(w / 2, 96, "SERTIFIKAT KOMPETENSI", 24, True, "centre", (20, 50, 120))
    number = f"{rng.choice(('62090', '78102', '56101', '88101'))} {rng.randint(1000, 9999)} {rng.randint(1, 9)} {rng.randint(0, 9999999):07d} {rng.randint(2020, 2025)}"
    doc.text(w / 2, 130, f"No. {number}", 11, False, "centre")
    doc.text(w / 2, 160, "Dengan ini menyatakan bahwa,", 11, False, "centre")
    doc.text(w / 2, 184, p.name, 18, True, "centre")
    job = rng.choice(_JOBS_ABROAD)
    doc.text(w / 2, 216, "Telah kompeten pada bidang:", 11, False, "centre")
    doc.text(w / 2, 236, job, 14, True, "centre")
    doc.text(w / 2, 258, f"Dengan Kualifikasi / Kompetensi: {job}", 10, False, "centre")
    doc.text(w / 2, 274, "Sertifikat ini berlaku untuk: 3 (tiga) tahun", 10, False, "centre")
    lsp = rng.choice(("LSP Migran Indonesia", "LSP Pariwisata Nusantara", "LSP Caregiver Indonesia"))
    doc.text(w / 2, h - 110, f"Atas nama Badan Nasional Sertifikasi Profesi, {lsp}", 10, False, "centre")
    doc.text(w / 2, h - 60, _person(rng).name, 11, True, "centre")
    fields = {"name": p.name, "certificate_number": number}
    return doc, fields


def _siup_oss(rng: random.Random) -> Built:
    company = rng.choice(_COMPANIES)
    doc = _page(rng)
    w, _h = doc.size
    nib = f"{rng.choice((8120, 9120, 1234))}{rng.randint(0, 10**9 - 1):09d}"
    doc.text(w / 2, 50, "PEMERINTAH REPUBLIK INDONESIA", 13, True, "centre")
    doc.text(w / 2, 80, "PERIZINAN BERUSAHA BERBASIS RISIKO", 14, True, "centre")
    doc.text(w / 2, 100, f"NOMOR INDUK BERUSAHA: {nib}", 12, True, "centre")
    y = _paragraph(doc, 60, 130, "Berdasarkan Undang-Undang Nomor 6 Tahun 2023 tentang Penetapan Peraturan "
                   "Pemerintah Pengganti Undang-Undang Nomor 2 Tahun 2022 tentang Cipta Kerja, Pemerintah "
                   "Republik Indonesia menerbitkan Nomor Induk Berusaha (NIB) kepada:", 85)
    y = _fields(doc, 70, y + 6, [
        ("Nama Pelaku Usaha", company.upper()),
        ("Alamat Kantor", _company_address(rng)),
        ("Status Penanaman Modal", "PMDN"),
        ("Kode KBLI", "78102"),
        ("Judul KBLI", "Aktivitas Penempatan Tenaga Kerja Luar Negeri"),
        ("Skala Usaha", "Usaha Besar"),
    ], label_w=150)
    y = _paragraph(doc, 60, y + 10, "NIB ini berlaku sebagai identitas berusaha, angka pengenal impor, hak akses "
                   "kepabeanan dan pendaftaran kepesertaan jaminan sosial kesehatan dan ketenagakerjaan.", 85)
    _signature(doc, w - 260, y + 30, f"Diterbitkan di Jakarta, tanggal {_long_date(dt.date(rng.randint(2019, 2025), rng.randint(1, 12), rng.randint(1, 28)))}",
               "Menteri Investasi/Kepala BKPM", "Lembaga OSS (Online Single Submission)")
    return doc, {"nib": nib, "company": company.upper()}


def _sip2mi(rng: random.Random) -> Built:
    company = rng.choice(_COMPANIES)
    doc = _page(rng)
    w, _h = doc.size
    doc.text(w / 2, 50, "KEMENTERIAN PELINDUNGAN PEKERJA MIGRAN INDONESIA /", 11, True, "centre")
    doc.text(w / 2, 66, "BADAN PELINDUNGAN PEKERJA MIGRAN INDONESIA", 11, True, "centre")
    doc.line(50, 84, w - 50, 84, 1.5)
    doc.text(w / 2, 100, "SURAT IZIN PEREKRUTAN PEKERJA MIGRAN INDONESIA", 13, True, "centre")
    doc.text(w / 2, 118, "(SIP2MI)", 13, True, "centre")
    number = f"B.{rng.randint(100, 9999)}/SIP2MI/{_ROMAN[rng.randrange(12)]}/2026"
    doc.text(w / 2, 138, f"Nomor : {number}", 11, False, "centre")
    y = _paragraph(doc, 60, 166, "Berdasarkan permohonan dan Surat Izin Perusahaan Penempatan Pekerja Migran "
                   "Indonesia (SIP3MI), dengan ini diberikan izin perekrutan kepada:", 85)
    y = _fields(doc, 70, y + 6, [
        ("Nama P3MI", company.upper()),
        ("Nomor SIP3MI", f"KEP.{rng.randint(10, 999)}/MEN/2024"),
        ("Negara Tujuan", rng.choice(_COUNTRIES)),
        ("Mitra Usaha", f"{rng.choice(('Golden', 'Sunrise', 'Harmony'))} Manpower Agency Ltd."),
        ("Jabatan", rng.choice(_JOBS_ABROAD)),
        ("Jumlah CPMI", f"{rng.randint(10, 300)} orang"),
        ("Daerah Perekrutan", f"Kabupaten {rng.choice(_REGIONS)[3].title()}"),
        ("Berlaku Sampai", _long_date(dt.date(2026, rng.randint(7, 12), rng.randint(1, 28)))),
    ], label_w=150)
    _signature(doc, w - 260, y + 30, "Jakarta, " + _long_date(dt.date(2026, rng.randint(1, 6), rng.randint(1, 28))),
               "Direktur Penempatan", _person(rng).name)
    return doc, {"sip2mi_number": number, "company": company.upper()}


def _company_letter(rng: random.Random) -> tuple[Document, float, str]:
    company = rng.choice(_COMPANIES)
    doc = _page(rng)
    y = _letterhead(doc, company, _company_address(rng))
    return doc, y, company


def _surat_permohonan(rng: random.Random) -> Built:
    doc, y, company = _company_letter(rng)
    w, _h = doc.size
    p = _person(rng)
    number = _letter_no(rng, "P3MI")
    y = _fields(doc, 60, y, [("Nomor", number), ("Lampiran", "1 (satu) berkas"),
                              ("Perihal", "Permohonan Pengesahan Perjanjian Penempatan")], label_w=70)
    doc.text(60, y + 10, "Kepada Yth.", 10.5)
    doc.text(60, y + 25, "Kepala Dinas Tenaga Kerja Kabupaten Tabalong", 10.5)
    doc.text(60, y + 40, "di Tanjung", 10.5)
    y = _paragraph(doc, 60, y + 70, "Dengan hormat,")
    y = _paragraph(doc, 60, y, f"Bersama ini kami {company} mengajukan permohonan pembuatan ID CPMI dan "
                   "pengesahan Perjanjian Penempatan bagi Calon Pekerja Migran Indonesia berikut:")
    y = _fields(doc, 80, y, [("Nama", p.name), ("NIK", p.nik), ("Negara Tujuan", rng.choice(_COUNTRIES))])
    y = _paragraph(doc, 60, y + 6, "Sebagai bahan pertimbangan, bersama ini kami lampirkan berkas persyaratan. "
                   "Demikian surat permohonan ini kami sampaikan, atas perhatian dan kerja samanya kami ucapkan "
                   "terima kasih.")
    _signature(doc, w - 230, y + 20, f"Jakarta, {_long_date(dt.date(2026, rng.randint(1, 6), rng.randint(1, 28)))}",
               "Hormat kami, Direktur", _person(rng).name)
    return doc, {"letter_number": number, "nik": p.nik, "name": p.name}


def _surat_tugas(rng: random.Random) -> Built:
    doc, y, company = _company_letter(rng)
    w, _h = doc.size
    officer = _person(rng)
    number = _letter_no(rng, "ST")
    doc.text(w / 2, y + 10, "SURAT TUGAS", 15, True, "centre")
    doc.text(w / 2, y + 30, f"Nomor : {number}", 10.5, False, "centre")
    y = _paragraph(doc, 60, y + 60, "Yang bertanda tangan di bawah ini:")
    y = _fields(doc, 80, y, [("Nama", _person(rng).name), ("Jabatan", "Direktur Utama"), ("Perusahaan", company)])
    y = _paragraph(doc, 60, y + 6, "Dengan ini menugaskan kepada:")
    y = _fields(doc, 80, y, [("Nama", officer.name), ("NIK", officer.nik), ("Jabatan", "Staf Dokumen")])
    y = _paragraph(doc, 60, y + 6, "Untuk mengurus pembuatan ID CPMI dan pengesahan Perjanjian Penempatan di "
                   "Dinas Tenaga Kerja Kabupaten Tabalong. Demikian surat tugas ini dibuat untuk dapat "
                   "dilaksanakan dengan penuh tanggung jawab.")
    _signature(doc, w - 230, y + 20, f"Jakarta, {_long_date(dt.date(2026, rng.randint(1, 6), rng.randint(1, 28)))}",
               "Direktur Utama", _person(rng).name)
    return doc, {"letter_number": number, "nik": officer.nik, "name": officer.name}


def _surat_pengangkatan(rng: random.Random) -> Built:
    doc, y, company = _company_letter(rng)
    w, _h = doc.size
    emp = _person(rng)
    number = _letter_no(rng, "SK-DIR")
    doc.text(w / 2, y + 10, "SURAT KEPUTUSAN DIREKSI", 14, True, "centre")
    doc.text(w / 2, y + 28, f"Nomor : {number}", 10.5, False, "centre")
    doc.text(w / 2, y + 46, "TENTANG", 10.5, True, "centre")
    doc.text(w / 2, y + 62, "PENGANGKATAN KARYAWAN TETAP", 12, True, "centre")
    y = _fields(doc, 60, y + 90, [("Menimbang", "bahwa untuk kelancaran kegiatan perusahaan perlu"),
                                   ("", "mengangkat karyawan tetap;"),
                                   ("Mengingat", "Undang-Undang Nomor 13 Tahun 2003 tentang Ketenagakerjaan;")],
                label_w=80)
    doc.text(w / 2, y + 10, "MEMUTUSKAN", 11, True, "centre")
    y = _paragraph(doc, 60, y + 34, f"Menetapkan: Mengangkat Saudara {emp.name}, NIK {emp.nik}, sebagai karyawan "
                   f"tetap {company} pada jabatan Petugas Lapangan terhitung mulai tanggal "
                   f"{_long_date(dt.date(rng.randint(2018, 2025), rng.randint(1, 12), 1))}.")
    y = _paragraph(doc, 60, y, "Keputusan ini berlaku sejak tanggal ditetapkan, dengan ketentuan apabila di "
                   "kemudian hari terdapat kekeliruan akan diperbaiki sebagaimana mestinya.")
    _signature(doc, w - 230, y + 20, f"Ditetapkan di Jakarta, {_long_date(dt.date(2025, rng.randint(1, 12), 1))}",
               "Direktur Utama", _person(rng).name)
    return doc, {"letter_number": number, "nik": emp.nik, "name": emp.name}


def _pkwt(rng: random.Random) -> Built:
    doc, y, company = _company_letter(rng)
    w, _h = doc.size
    emp = _person(rng)
    number = _letter_no(rng, "PKWT")
    doc.text(w / 2, y + 10, "PERJANJIAN KERJA WAKTU TERTENTU", 14, True, "centre")
    doc.text(w / 2, y + 28, "(PKWT)", 12, True, "centre")
    doc.text(w / 2, y + 46, f"Nomor : {number}", 10.5, False, "centre")
    y = _paragraph(doc, 60, y + 70, "Pada hari ini yang bertanda tangan di bawah ini:")
    y = _fields(doc, 80, y, [("Nama", _person(rng).name), ("Jabatan", f"Direktur {company}")])
    y = _paragraph(doc, 60, y, "selanjutnya disebut PIHAK PERTAMA (pengusaha).")
    y = _fields(doc, 80, y, [("Nama", emp.name), ("NIK", emp.nik),
                              ("Tempat/Tgl Lahir", f"{emp.birth_place}, {_dmy(emp.birth_date)}")])
    y = _paragraph(doc, 60, y, "selanjutnya disebut PIHAK KEDUA (pekerja). Kedua belah pihak sepakat "
                   "mengikatkan diri dalam perjanjian kerja waktu tertentu dengan ketentuan sebagai berikut:")
    doc.text(w / 2, y + 4, "Pasal 1 - Jangka Waktu", 10.5, True, "centre")
    y = _paragraph(doc, 60, y + 24, f"Perjanjian kerja ini berlaku selama {rng.randint(12, 24)} bulan sejak "
                   "tanggal ditandatangani dan dapat diperpanjang sesuai ketentuan peraturan perundang-undangan.")
    doc.text(w / 2, y + 4, "Pasal 2 - Upah", 10.5, True, "centre")
    y = _paragraph(doc, 60, y + 24, f"PIHAK PERTAMA membayar upah sebesar Rp {rng.randint(35, 60)}00.000 per "
                   "bulan kepada PIHAK KEDUA.")
    doc.text(60, y + 20, "PIHAK PERTAMA", 10.5, True)
    doc.text(w - 200, y + 20, "PIHAK KEDUA", 10.5, True)
    return doc, {"letter_number": number, "nik": emp.nik, "name": emp.name,
                 "birth_place": emp.birth_place, "birth_date": emp.birth_date.isoformat()}


def _surat_izin(rng: random.Random) -> Built:
    cpmi = _person(rng)
    giver = _person(rng, rng.choice("LP"), 40, 70)
    relation = rng.choice(("Orang Tua (Ayah)", "Orang Tua (Ibu)", "Suami", "Istri", "Wali"))
    doc = _page(rng)
    w, _h = doc.size
    doc.text(w / 2, 60, "SURAT IZIN ORANG TUA / SUAMI / ISTRI / WALI", 13, True, "centre")
    reg = f"140/{rng.randint(1, 300):03d}/{cpmi.village.title()}/2026"
    doc.text(w / 2, 80, f"Nomor Registrasi Desa : {reg}", 10.5, False, "centre")
    y = _paragraph(doc, 60, 110, "Yang bertanda tangan di bawah ini:")
    y = _fields(doc, 80, y, [("Nama", giver.name), ("NIK", giver.nik),
                              ("Tempat/Tgl Lahir", f"{giver.birth_place}, {_dmy(giver.birth_date)}"),
                              ("Hubungan", relation),
                              ("Alamat", f"Desa {cpmi.village.title()}, Kec. {cpmi.district.title()}")])
    y = _paragraph(doc, 60, y + 6, "Dengan ini memberikan izin kepada:")
    y = _fields(doc, 80, y, [("Nama", cpmi.name), ("NIK", cpmi.nik),
                              ("Tempat/Tgl Lahir", f"{cpmi.birth_place}, {_dmy(cpmi.birth_date)}")])
    y = _paragraph(doc, 60, y + 6, f"untuk bekerja ke luar negeri sebagai Pekerja Migran Indonesia di negara "
                   f"{rng.choice(_COUNTRIES)} sesuai peraturan perundang-undangan. Demikian surat izin ini "
                   "dibuat dengan sebenarnya tanpa paksaan dari pihak mana pun.")
    doc.text(60, y + 20, "Mengetahui,", 10.5)
    doc.text(60, y + 35, f"Kepala Desa {cpmi.village.title()}", 10.5)
    doc.text(60, y + 95, _person(rng, "L").name, 10.5, True)
    doc.text(w - 230, y + 35, "Yang memberi izin,", 10.5)
    doc.text(w - 230, y + 95, giver.name, 10.5, True)
    return doc, {"nik": cpmi.nik, "name": cpmi.name, "giver_nik": giver.nik, "giver_name": giver.name,
                 "registration_number": reg}


def _perjanjian_penempatan(rng: random.Random, placement: Placement | None = None) -> Built:
    if placement is None:
        doc, y, company = _company_letter(rng)
        cpmi = _person(rng)
        name, nik, born = cpmi.name, cpmi.nik, f"{cpmi.birth_place}, {_dmy(cpmi.birth_date)}"
    else:
        company = placement.company
        doc = _page(rng)
        y = _letterhead(doc, company, _company_address(rng))
        name, nik, born = placement.name, placement.nik, placement.born
        country, job = placement.country, placement.job_title
    w, _h = doc.size
    number = _letter_no(rng, "PP")
    doc.text(w / 2, y + 10, "PERJANJIAN PENEMPATAN", 14, True, "centre")
    doc.text(w / 2, y + 28, "PEKERJA MIGRAN INDONESIA", 14, True, "centre")
    doc.text(w / 2, y + 46, f"Nomor : {number}", 10.5, False, "centre")
    y = _paragraph(doc, 60, y + 70, "Perjanjian penempatan ini dibuat antara:")
    y = _fields(doc, 80, y, [("Nama P3MI", company), ("Alamat", _company_address(rng))])
    y = _paragraph(doc, 60, y, "selanjutnya disebut PIHAK PERTAMA (Perusahaan Penempatan Pekerja Migran Indonesia), dan")
    y = _fields(doc, 80, y, [("Nama", name), ("NIK", nik), ("Tempat/Tgl Lahir", born)])
    y = _paragraph(doc, 60, y, "selanjutnya disebut PIHAK KEDUA (Calon Pekerja Migran Indonesia).")
    doc.text(w / 2, y + 4, "Pasal 1 - Negara Tujuan dan Jabatan", 10.5, True, "centre")
    if placement is None:
        # Drawn here, after the person and the number, as the corpus has always drawn them.
        country, job = rng.choice(_COUNTRIES), rng.choice(_JOBS_ABROAD)
    else:
        y = _fields(doc, 80, y + 24, [("Negara Penempatan", country), ("Nama Pemberi Kerja", placement.employer),
                                      ("Jabatan PMI", job), ("Jangka Waktu", f"{placement.months} bulan")],
                    label_w=150) - 24
    y = _paragraph(doc, 60, y + 24, f"PIHAK PERTAMA menempatkan PIHAK KEDUA di negara {country} "
                   f"sebagai {job} pada pemberi kerja yang tercantum dalam perjanjian kerja.")
    doc.text(w / 2, y + 4, "Pasal 2 - Biaya Penempatan", 10.5, True, "centre")
    y = _paragraph(doc, 60, y + 24, "Biaya penempatan ditanggung sesuai ketentuan Badan Pelindungan Pekerja "
                   "Migran Indonesia dan tidak dibebankan kepada PIHAK KEDUA di luar ketentuan tersebut.")
    doc.text(w / 2, y + 10, "Mengetahui, Kepala Dinas Tenaga Kerja Kabupaten Tabalong", 10.5, False, "centre")
    if placement is not None:
        return doc, {"letter_number": number, "nik": nik, "name": name}
    return doc, {"letter_number": number, "nik": cpmi.nik, "name": cpmi.name,
                 "birth_place": cpmi.birth_place, "birth_date": cpmi.birth_date.isoformat()}


@dataclass(frozen=True)
class Placement:
    """The parties and terms a PP draft of :func:`placement_agreement` states."""

    name: str
    nik: str
    #: "Tanjung, 17-08-1998"
    born: str
    company: str
    country: str
    employer: str
    job_title: str
    months: int = 24


def placement_agreement(placement: Placement, seed: int = 0) -> Document:
    """A PP draft for a given CPMI, company and placement, its terms labelled as real drafts
    label them (for demo data and journeys that need a draft agreeing with a dossier)."""
    return _perjanjian_penempatan(random.Random(f"placement:{seed}"), placement)[0]


def _surat_sehat(rng: random.Random) -> Built:
    p = _person(rng)
    clinic = rng.choice(("Klinik Utama Medika Sehat", "RSUD H. Badaruddin Kasim", "Klinik Pratama Husada"))
    doc = _page(rng)
    w, _h = doc.size
    y = _letterhead(doc, clinic, f"Jl. {rng.choice(('Pahlawan', 'Basuki Rahmat', 'Merdeka'))} No. {rng.randint(1, 99)}, Tanjung")
    number = f"445/{rng.randint(1, 999):03d}/KES/{_ROMAN[rng.randrange(12)]}/2026"
    doc.text(w / 2, y + 10, "SURAT KETERANGAN SEHAT", 15, True, "centre")
    doc.text(w / 2, y + 30, f"Nomor : {number}", 10.5, False, "centre")
    doctor = f"dr. {_person(rng).name.title()}"
    y = _paragraph(doc, 60, y + 60, f"Yang bertanda tangan di bawah ini, {doctor}, dokter pemeriksa pada "
                   f"{clinic}, menerangkan bahwa:")
    y = _fields(doc, 80, y, [("Nama", p.name), ("NIK", p.nik),
                              ("Tempat/Tgl Lahir", f"{p.birth_place}, {_dmy(p.birth_date)}"),
                              ("Jenis Kelamin", "Laki-laki" if p.sex == "L" else "Perempuan")])
    y = _fields(doc, 80, y + 8, [("Tinggi Badan", f"{rng.randint(150, 180)} cm"),
                                  ("Berat Badan", f"{rng.randint(45, 80)} kg"),
                                  ("Tekanan Darah", f"{rng.randint(110, 130)}/{rng.randint(70, 85)} mmHg")])
    y = _paragraph(doc, 60, y + 6, "Berdasarkan hasil pemeriksaan kesehatan, yang bersangkutan dinyatakan SEHAT "
                   "dan layak untuk bekerja sebagai Pekerja Migran Indonesia.")
    _signature(doc, w - 230, y + 20, f"Tanjung, {_long_date(dt.date(2026, rng.randint(1, 6), rng.randint(1, 28)))}",
               "Dokter Pemeriksa", doctor)
    doc.text(w - 230, y + 110, f"SIP: 503/{rng.randint(100, 999)}/DINKES/2025", 9)
    return doc, {"letter_number": number, "nik": p.nik, "name": p.name, "birth_place": p.birth_place,
                 "birth_date": p.birth_date.isoformat(), "sex": p.sex, "doctor": doctor, "clinic": clinic}


#: Builders per type code; every code of the shared vocabulary except ``unknown``.
BUILDERS: dict[str, Callable[[random.Random], Built]] = {
    "surat_permohonan": _surat_permohonan,
    "siup_oss": _siup_oss,
    "sip2mi": _sip2mi,
    "surat_tugas": _surat_tugas,
    "surat_pengangkatan": _surat_pengangkatan,
    "pkwt": _pkwt,
    "ktp": _ktp,
    "surat_nikah": _surat_nikah,
    "akta_kelahiran": _akta_kelahiran,
    "kartu_keluarga": _kartu_keluarga,
    "ak1": _ak1,
    "surat_izin": _surat_izin,
    "perjanjian_penempatan": _perjanjian_penempatan,
    "surat_sehat": _surat_sehat,
    "sertifikat_kompetensi": _sertifikat,
    "bpjs_tk": _bpjs,
}

CARD_TYPES = ("ktp", "bpjs_tk")


def build(doc_type: str, seed: int) -> Built:
    """The document and its fields for one type and seed, without writing anything."""
    return BUILDERS[doc_type](random.Random(f"{doc_type}:{seed}"))


def generate(out_dir: Path, per_type: int, seed: int, pdf_per_type: int = 1,
             types: tuple[str, ...] | None = None) -> list[Sample]:
    """Write ``per_type`` PNG images of every type (and ``pdf_per_type`` PDFs of each letter type).

    Files are named ``<type>_<n>.png|pdf``; the same ``seed`` gives the same files.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    samples: list[Sample] = []
    for doc_type in types or tuple(BUILDERS):
        for i in range(per_type):
            doc, fields = build(doc_type, seed * 1000 + i)
            scale = CARD_SCALE if doc_type in CARD_TYPES else PAGE_SCALE
            path = out_dir / f"{doc_type}_{i:03d}.png"
            render_image(doc, scale).save(path)
            samples.append(Sample(path, doc_type, fields, doc.ground_truth()))
        if doc_type in LETTER_TYPES:
            for i in range(pdf_per_type):
                doc, fields = build(doc_type, seed * 1000 + 500 + i)
                path = out_dir / f"{doc_type}_{i:03d}.pdf"
                render_pdf(doc, path)
                samples.append(Sample(path, doc_type, fields, doc.ground_truth()))
    return samples


def write_labels(samples: list[Sample], out_dir: Path) -> Path:
    """Write labels.json (paths relative to ``out_dir``) and return its path."""
    out = Path(out_dir) / "labels.json"
    rows = []
    for s in samples:
        row = asdict(s)
        row["path"] = str(Path(s.path).relative_to(out_dir))
        rows.append(row)
    out.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: write the corpus and labels.json into OUT_DIR."""
    parser = argparse.ArgumentParser(description="Tulis korpus sintetis dokumen CPMI berlabel.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--per-type", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    samples = generate(args.out_dir, args.per_type, args.seed)
    labels = write_labels(samples, args.out_dir)
    print(f"{len(samples)} dokumen ditulis; label: {labels}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
