"""PDF/A-2b: embedded fonts, XMP metadata, the sRGB output intent, checks of foreign pages.

Fonts are the Bitstream Vera TrueType fonts bundled with reportlab, embedded as subsets. Every
output carries XMP metadata mirroring the document information dictionary, an sRGB output
intent and a file identifier derived from the content. The XMP claims PDF/A-2b only when
:func:`signing.assemble.pdfa_blockers` finds nothing in the P3MI's pages that would contradict
it; the P3MI's pages are never altered to get there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import struct
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape as _xml_escape

import reportlab
from PIL import ImageCms
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

_PRODUCER = "pengesahan-pp (reportlab, pypdf)"

# --------------------------------------------------------------------------- fonts

_FONT = "Vera"
_FONT_BOLD = "Vera-Bold"


@cache
def _register_fonts() -> None:
    """Embed reportlab's bundled Vera TrueType fonts: PDF/A forbids non-embedded base-14."""
    font_dir = Path(reportlab.__file__).parent / "fonts"
    faces = {
        "Vera": "Vera.ttf",
        "Vera-Bold": "VeraBd.ttf",
        "Vera-Italic": "VeraIt.ttf",
        "Vera-BoldItalic": "VeraBI.ttf",
    }
    for name, filename in faces.items():
        pdfmetrics.registerFont(TTFont(name, str(font_dir / filename)))
    pdfmetrics.registerFontFamily(
        "Vera", normal="Vera", bold="Vera-Bold", italic="Vera-Italic", boldItalic="Vera-BoldItalic"
    )


# --------------------------------------------------------------------------- PDF/A parts


def _pdf_date(day: dt.date) -> tuple[str, str]:
    """The (Info, XMP) forms of a date: 00:00 UTC, which is that same day in WIB, WITA and WIT."""
    return f"D:{day:%Y%m%d}000000Z", f"{day:%Y-%m-%d}T00:00:00Z"


@cache
def _srgb_profile() -> bytes:
    """An sRGB ICC profile from Pillow's LittleCMS, made reproducible.

    LittleCMS stamps the creation time into the header and writes version 4.4; the time is fixed
    and the version set to 4.2 (the ICC version ISO 32000-1, hence PDF/A-2, refers to; the tags
    of this profile are the same), then the profile ID (an MD5) is computed again.
    """
    raw = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    raw[8:12] = bytes((4, 0x20, 0, 0))
    raw[24:36] = struct.pack(">6H", 2000, 1, 1, 0, 0, 0)
    raw[84:100] = bytes(16)
    digest_input = bytearray(raw)
    digest_input[44:48] = bytes(4)  # profile flags
    digest_input[64:68] = bytes(4)  # rendering intent
    raw[84:100] = hashlib.md5(bytes(digest_input), usedforsecurity=False).digest()
    return bytes(raw)


_PP_NS = "urn:pengesahan-pp:ns:1.0/"


def _xmp(meta: dict[str, str], dates: str, *, claim_pdfa: bool) -> bytes:
    e = _xml_escape
    pdfa = (
        "<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>"
        if claim_pdfa
        else ""
    )
    custom = ""
    if meta.get("agreement") is not None:
        custom = (
            f"<pp:AgreementNumber>{e(meta['agreement'])}</pp:AgreementNumber>"
            f"<pp:DossierId>{e(meta['dossier'])}</pp:DossierId>"
        )
    # PDF/A allows custom XMP properties only when an extension schema describes them.
    extension = f"""<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>Pengesahan Perjanjian Penempatan</pdfaSchema:schema>
<pdfaSchema:namespaceURI>{_PP_NS}</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>pp</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq>
<rdf:li rdf:parseType="Resource"><pdfaProperty:name>AgreementNumber</pdfaProperty:name>
<pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category>
<pdfaProperty:description>Nomor Perjanjian Penempatan</pdfaProperty:description></rdf:li>
<rdf:li rdf:parseType="Resource"><pdfaProperty:name>DossierId</pdfaProperty:name>
<pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category>
<pdfaProperty:description>Nomor berkas CPMI</pdfaProperty:description></rdf:li>
</rdf:Seq></pdfaSchema:property></rdf:li></rdf:Bag></pdfaExtension:schemas>"""
    xml = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about=""
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
 xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
 xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
 xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
 xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#"
 xmlns:pp="{_PP_NS}">
<dc:format>application/pdf</dc:format>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{e(meta["title"])}</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>{e(meta["author"])}</rdf:li></rdf:Seq></dc:creator>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{e(meta["subject"])}</rdf:li></rdf:Alt></dc:description>
<pdf:Keywords>{e(meta["keywords"])}</pdf:Keywords>
<pdf:Producer>{e(_PRODUCER)}</pdf:Producer>
<xmp:CreatorTool>{e(_PRODUCER)}</xmp:CreatorTool>
<xmp:CreateDate>{dates}</xmp:CreateDate>
<xmp:ModifyDate>{dates}</xmp:ModifyDate>
<xmp:MetadataDate>{dates}</xmp:MetadataDate>
{pdfa}{custom}
{extension}
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return xml.encode("utf-8")


def _finish(writer: PdfWriter, meta: dict[str, str], day: dt.date, *, claim_pdfa: bool) -> bytes:
    """Set Info, XMP, output intent and a content-derived file ID; write the bytes."""
    info_date, xmp_date = _pdf_date(day)
    info = {
        "/Title": meta["title"],
        "/Author": meta["author"],
        "/Subject": meta["subject"],
        "/Keywords": meta["keywords"],
        "/Creator": _PRODUCER,
        "/Producer": _PRODUCER,
        "/CreationDate": info_date,
        "/ModDate": info_date,
    }
    if meta.get("agreement") is not None:
        info["/AgreementNumber"] = meta["agreement"]
        info["/DossierId"] = meta["dossier"]
    writer.add_metadata(info)

    root = writer.root_object
    xmp = StreamObject()
    xmp.set_data(_xmp(meta, xmp_date, claim_pdfa=claim_pdfa))  # unfiltered: PDF/A asks so
    xmp[NameObject("/Type")] = NameObject("/Metadata")
    xmp[NameObject("/Subtype")] = NameObject("/XML")
    root[NameObject("/Metadata")] = writer._add_object(xmp)

    icc = DecodedStreamObject()
    icc.set_data(_srgb_profile())
    icc[NameObject("/N")] = NumberObject(3)
    icc = icc.flate_encode()
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/Info"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/RegistryName"): TextStringObject("http://www.color.org"),
            NameObject("/DestOutputProfile"): writer._add_object(icc),
        }
    )
    root[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    root[NameObject("/Lang")] = TextStringObject("id-ID")
    # The P3MI's pages may use PDF 1.5-1.7 features; 1.7 is also the ceiling of PDF/A-2.
    writer.pdf_header = "%PDF-1.7"

    # The file ID is required by PDF/A; derive it from the content so output stays reproducible
    # (pypdf would otherwise draw random bytes).
    writer._ID = None
    probe = io.BytesIO()
    writer.write(probe)
    digest = ByteStringObject(hashlib.md5(probe.getvalue(), usedforsecurity=False).digest())
    writer._ID = ArrayObject([digest, digest])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --------------------------------------------------------------------------- checks of pages


def _resolve(obj):
    return obj.get_object() if obj is not None else None


def _walk_resources(resources, seen: set[int], found: set[str]) -> None:
    """Collect PDF/A blockers from one resource dictionary and the form XObjects below it."""
    resources = _resolve(resources)
    if not isinstance(resources, DictionaryObject):
        return
    fonts = _resolve(resources.get("/Font")) or {}
    for font in fonts.values():
        font = _resolve(font)
        subtype = font.get("/Subtype")
        if subtype == "/Type3":
            continue
        if subtype == "/Type0":
            descendants = _resolve(font.get("/DescendantFonts")) or []
            font = _resolve(descendants[0]) if descendants else font
        descriptor = _resolve(font.get("/FontDescriptor"))
        if not descriptor or not any(
            k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
        ):
            found.add(f"huruf tidak tertanam: {str(font.get('/BaseFont', '?')).lstrip('/')}")
    for cs in (_resolve(resources.get("/ColorSpace")) or {}).values():
        if "DeviceCMYK" in repr(_resolve(cs)):
            found.add("ruang warna CMYK (hanya profil sRGB yang disertakan)")
    if _resolve(resources.get("/Properties")):
        found.add("konten opsional (optional content)")
    for xobj in (_resolve(resources.get("/XObject")) or {}).values():
        ref = getattr(xobj, "idnum", None)
        if ref is not None:
            if ref in seen:
                continue
            seen.add(ref)
        xobj = _resolve(xobj)
        if xobj.get("/Subtype") == "/Image":
            if xobj.get("/ColorSpace") == "/DeviceCMYK":
                found.add("gambar CMYK (hanya profil sRGB yang disertakan)")
            if xobj.get("/Interpolate"):
                found.add("gambar dengan /Interpolate")
            if xobj.get("/Filter") == "/LZWDecode":
                found.add("kompresi LZW")
        elif xobj.get("/Subtype") == "/Form":
            _walk_resources(xobj.get("/Resources"), seen, found)
        else:
            found.add(f"XObject {xobj.get('/Subtype')}")


def _check_page(page, found: set[str]) -> None:
    _walk_resources(page.get("/Resources"), set(), found)
    if "/AA" in page:
        found.add("aksi otomatis halaman")
    for annot in _resolve(page.get("/Annots")) or []:
        annot = _resolve(annot)
        subtype = annot.get("/Subtype")
        action = _resolve(annot.get("/A")) or {}
        if action.get("/S") in ("/JavaScript", "/Launch", "/Sound", "/Movie", "/ImportData"):
            found.add(f"anotasi dengan aksi {action.get('/S')}")
        if subtype == "/Popup":
            continue
        if not int(annot.get("/F", 0)) & 4:
            found.add("anotasi yang tidak tercetak")
        if subtype != "/Link" and "/AP" not in annot:
            found.add("anotasi tanpa tampilan (appearance)")
    contents = page.get_contents()
    if contents is not None:
        data = contents.get_data()
        if re.search(rb"(^|\s)(k|K)(\s|$)", data):
            found.add("warna CMYK pada isi halaman")
