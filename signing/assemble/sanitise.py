"""What the office signs contains nothing active: the P3MI's draft is normalised before its pages
join the ratification page. Visible annotations and form fields are flattened into the page
content (the printed page stays the same); then every action, script, link, attachment, form,
rich media and outline is removed, and what was removed is listed for the officer."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass

import pikepdf

from pengesahan.errors import IntakeError

__all__ = ["Sanitised", "sanitise"]

#: Document-level entries that act on opening or carry content of their own.
_ROOT_ENTRIES = {
    "/OpenAction": "aksi saat dokumen dibuka (OpenAction)",
    "/AA": "aksi otomatis dokumen (AA)",
    "/AcroForm": "formulir isian (AcroForm/XFA)",
    "/Names": "JavaScript atau lampiran tersemat di kamus Names",
    "/Outlines": "penanda (bookmark) dan aksinya",
    "/URI": "alamat dasar tautan (URI)",
    "/Collection": "portofolio PDF",
}
_ANNOTATION_LABELS = {
    "/Link": "tautan",
    "/FileAttachment": "lampiran berkas",
    "/Widget": "isian formulir (diratakan ke halaman)",
    "/RichMedia": "media kaya (RichMedia)",
    "/Screen": "media (Screen)",
    "/Movie": "video",
    "/Sound": "suara",
}
#: Keys that mean active content wherever they are found after sanitising.
_ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/AA", "/OpenAction", "/EmbeddedFiles", "/EmbeddedFile",
                          "/XFA", "/RichMediaContent", "/Annots", "/URI"})
_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE",
                             "/URI", "/RichMediaExecute", "/Rendition"})


@dataclass(frozen=True)
class Sanitised:
    """The normalised PDF and what was taken out of it, in Bahasa Indonesia."""

    pdf: bytes
    removed: tuple[str, ...]


def sanitise(pdf: bytes) -> Sanitised:
    """The P3MI's PDF with every active element removed; IntakeError when it cannot be read."""
    try:
        document = pikepdf.open(io.BytesIO(pdf))
    except (pikepdf.PdfError, pikepdf.PasswordError, ValueError, OSError) as exc:
        raise IntakeError("Berkas Perjanjian Penempatan dari P3MI tidak dapat dibaca sebagai PDF yang utuh. "
                          "Mohon P3MI mengunggah ulang berkas PDF yang benar.") from exc
    with document:
        removed: list[str] = []
        annotations: Counter[str] = Counter()
        page_actions = 0
        for page in document.pages:
            for annot in page.obj.get("/Annots", pikepdf.Array()):
                if isinstance(annot, pikepdf.Dictionary):
                    annotations[str(annot.get("/Subtype", "/Annot"))] += 1
            if "/AA" in page.obj:
                page_actions += 1
        # Appearances of widgets and other visible annotations become page content first, so
        # that removing the annotations does not change what is printed.
        document.flatten_annotations(mode="all")
        for page in document.pages:
            for key in ("/Annots", "/AA"):
                if key in page.obj:
                    del page.obj[key]
        for subtype, count in sorted(annotations.items()):
            removed.append(f"{count} {_ANNOTATION_LABELS.get(subtype, 'anotasi ' + subtype.lstrip('/'))}")
        if page_actions:
            removed.append(f"aksi otomatis pada {page_actions} halaman")
        root = document.Root
        for key, label in _ROOT_ENTRIES.items():
            if key in root:
                del root[key]
                removed.append(label)
        out = io.BytesIO()
        # qpdf writes only what is reachable from the trailer: detached scripts and attachments go.
        # Streams are written as they came (no re-compression): the content bytes stay the same.
        document.save(out, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none,
                      object_stream_mode=pikepdf.ObjectStreamMode.preserve)
    data = out.getvalue()
    leftover = active_content(data)
    if leftover:
        raise IntakeError("Perjanjian Penempatan dari P3MI memuat konten aktif yang tidak dapat dibersihkan ("
                          + ", ".join(leftover) + "). Mohon P3MI mencetak ulang ke PDF biasa.")
    return Sanitised(data, tuple(removed))


def active_content(pdf: bytes) -> tuple[str, ...]:
    """Names of the active entries anywhere in ``pdf`` (every object, names decoded)."""
    found: set[str] = set()
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for root in document.objects:
            stack = [root]
            while stack:
                obj = stack.pop()
                if isinstance(obj, pikepdf.Stream):
                    obj = obj.stream_dict
                if isinstance(obj, pikepdf.Dictionary):
                    found.update(k for k in obj.keys() if k in _ACTIVE_KEYS)
                    action = str(obj.get("/S", ""))
                    if action in _ACTIVE_ACTIONS and str(obj.get("/Type", "/Action")) == "/Action":
                        found.add(action)
                    stack.extend(v for v in obj.values() if _direct(v))
                elif isinstance(obj, pikepdf.Array):
                    stack.extend(v for v in obj if _direct(v))
    return tuple(sorted(found))


def _direct(value) -> bool:
    return isinstance(value, pikepdf.Dictionary | pikepdf.Array | pikepdf.Stream) and not value.is_indirect
