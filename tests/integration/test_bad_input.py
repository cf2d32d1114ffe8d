"""A corpus of bad files, generated here, sent through the admin upload door and the
``classify`` command: each gets a clear message in Bahasa Indonesia, nothing crashes (no 500),
and nothing already stored (files, rows) changes.

Every outcome is written to ``tests/artifacts/bad-input-outcomes.json`` for the record.
"""

from __future__ import annotations

import gc
import io
import json
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

import pytest
from PIL import Image
from rq import Queue

from pengesahan.records.base import db
from tests.support.app import ARTIFACTS
from tests.support.reliability import dossier_with_slots, login_pelaksana, scan_png, snapshot

#: The suite runs on PostgreSQL too (scripts/ci-postgres.sh); some failures are SQLite's or PG's own.
ON_POSTGRES = (os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or "").startswith("postgres")

MSG_NOT_ALLOWED = "bukan JPG, PNG atau PDF yang sah"
MSG_POLYGLOT = "data lain yang tersembunyi"
MSG_TOO_BIG_PIXELS = "Gambar terlalu besar"
MSG_ENCRYPTED = "terkunci kata sandi"
MSG_SCRIPT = "JavaScript atau aksi otomatis"
MSG_EMPTY = "Berkas kosong"
MSG_TOO_LARGE = "terlalu besar"


# --- the corpus -----------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_declaring(width: int, height: int) -> bytes:
    """A PNG header declaring a huge image, followed by a tiny compressed stream (a pixel bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _jpeg(size=(120, 80), comment: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, (200, 180, 160))
    kwargs = {"comment": comment} if comment else {}
    image.save(buffer, "JPEG", quality=80, **kwargs)
    return buffer.getvalue()


def _jpeg_declaring(width: int, height: int) -> bytes:
    """A JPEG whose frame header (SOF0) claims ``width``×``height``."""
    data = bytearray(_jpeg())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 7] = height.to_bytes(2, "big")
    data[sof + 7 : sof + 9] = width.to_bytes(2, "big")
    return bytes(data)


def _zip(name: str = "payload.txt", content: bytes = b"isi tersembunyi") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def _pdf(js: str | None = None, password: str | None = None, pages: int = 1, launch: str | None = None) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if js or launch:
        from pypdf.generic import DictionaryObject, NameObject, TextStringObject

        if js:
            action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                       NameObject("/JS"): TextStringObject(js)})
        else:
            action = DictionaryObject({NameObject("/S"): NameObject("/Launch"),
                                       NameObject("/F"): TextStringObject(launch)})
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    if password:
        writer.encrypt(password, algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class BadFile:
    """One bad upload: its bytes, the name it is sent under and what the refusal must say."""

    case: str
    data: bytes
    filename: str
    message: str


def corpus() -> list[BadFile]:
    """Every kind of bad file the doors must refuse, generated (no fixtures on disk)."""
    png = scan_png(1)
    jpeg = _jpeg()
    pdf = _pdf()
    return [
        BadFile("zero_bytes", b"", "kosong.png", MSG_EMPTY),
        BadFile("wrong_magic_exe", b"MZ\x90\x00\x03" + b"\x00" * 200, "ktp.jpg", MSG_NOT_ALLOWED),
        BadFile("wrong_magic_text", b"Ini bukan gambar, hanya teks." * 20, "ktp.png", MSG_NOT_ALLOWED),
        BadFile("gif_named_png", b"GIF89a" + b"\x01\x00\x01\x00" + b"\x00" * 40, "ktp.png", MSG_NOT_ALLOWED),
        BadFile("svg_script", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                "ktp.png", MSG_NOT_ALLOWED),
        BadFile("polyglot_png_zip", png + _zip(), "ktp.png", MSG_POLYGLOT),
        BadFile("polyglot_jpeg_zip", jpeg + _zip(), "ktp.jpg", MSG_POLYGLOT),
        BadFile("polyglot_pdf_zip", pdf + _zip(), "pp.pdf", MSG_POLYGLOT),
        BadFile("polyglot_png_html", png[:-12] + _png_chunk(b"tEXt", b"c\x00<html><script>x()</script>")
                + png[-12:], "ktp.png", MSG_POLYGLOT),
        BadFile("polyglot_jpeg_pdf", _jpeg(comment=b"%PDF-1.4 1 0 obj<<>>"), "ktp.jpg", MSG_POLYGLOT),
        BadFile("truncated_png", png[: len(png) // 2], "ktp.png", MSG_NOT_ALLOWED),
        BadFile("truncated_jpeg", jpeg[: len(jpeg) // 2], "ktp.jpg", MSG_NOT_ALLOWED),
        BadFile("png_header_only", png[:33], "ktp.png", MSG_NOT_ALLOWED),
        BadFile("bomb_png_100k_square", _png_declaring(100_000, 100_000), "ktp.png", MSG_TOO_BIG_PIXELS),
        BadFile("bomb_png_max_width", _png_declaring(2**31 - 1, 1), "ktp.png", MSG_TOO_BIG_PIXELS),
        BadFile("bomb_jpeg_65k_square", _jpeg_declaring(65_000, 65_000), "ktp.jpg", MSG_TOO_BIG_PIXELS),
        BadFile("png_zero_width", _png_declaring(0, 10), "ktp.png", MSG_NOT_ALLOWED),
        BadFile("pdf_malformed", b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R\n" + b"\xff" * 300,
                "pp.pdf", MSG_NOT_ALLOWED),
        BadFile("pdf_header_only", b"%PDF-1.7\n", "pp.pdf", MSG_NOT_ALLOWED),
        BadFile("pdf_encrypted", _pdf(password="rahasia"), "pp.pdf", MSG_ENCRYPTED),
        BadFile("pdf_javascript", _pdf(js="app.alert('x');"), "pp.pdf", MSG_SCRIPT),
        BadFile("pdf_launch_action", _pdf(launch="cmd.exe"), "pp.pdf", MSG_SCRIPT),
        BadFile("pdf_too_many_pages", _pdf(pages=51), "pp.pdf", "terlalu banyak halaman"),
        # 6 000 000 bytes: under the request limit (6 MiB), over the 5 MB file limit.
        BadFile("six_mb_png_prefix", png[:8] + b"\x00" * (6_000_000 - 8), "besar.png", MSG_TOO_LARGE),
    ]


CORPUS = corpus()


# --- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture
def door(app, client, make_user):
    """A logged-in pelaksana, a dossier, and an app that answers 500 instead of raising."""
    # TESTING propagates exceptions to the test; a real server answers 500, which we look for.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    login_pelaksana(client, make_user)
    dossier = dossier_with_slots()
    with db.connection_context():
        slot = dossier.slots.first()
    yield app, client, dossier, slot
    _empty_queues()
    # Werkzeug's test client spools large bodies to temporary files it never closes; collect
    # them here, where the tests that sent them ignore the warning, not in the next test.
    gc.collect()


#: For tests sending bodies large enough to be spooled to a temporary file (see ``door``).
SPOOLED = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def _empty_queues():
    from pengesahan.jobs import queue

    # Jobs left in the session's Redis would run later against another test's database.
    for name in queue.QUEUES:
        Queue(name, connection=queue.redis_connection()).empty()


def _flashes(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def _record(outcomes: list[dict], name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_text(json.dumps(outcomes, ensure_ascii=False, indent=2))


# --- the admin upload door ----------------------------------------------------------------------


@SPOOLED
def test_every_bad_file_is_refused_clearly_and_changes_nothing(door):
    app, client, dossier, slot = door
    settings = app.config["SETTINGS"]
    # Something already stored that must survive the whole corpus untouched.
    good = client.post(f"/admin/pemeriksaan/slot/{slot.id}/unggah",
                       data={"file": (io.BytesIO(scan_png(42)), "ktp.png")}, content_type="multipart/form-data")
    assert good.status_code == 302
    outcomes = []
    for bad in CORPUS:
        before = snapshot(settings)
        response = client.post(f"/admin/pemeriksaan/slot/{slot.id}/unggah",
                               data={"file": (io.BytesIO(bad.data), bad.filename)},
                               content_type="multipart/form-data", follow_redirects=True)
        html = _flashes(response.get_data(as_text=True))
        outcomes.append({"door": "admin", "case": bad.case, "status": response.status_code,
                         "message_found": bad.message in html})
        assert response.status_code in (200, 413, 422), (bad.case, response.status_code)
        assert bad.message in html, (bad.case, html[:2000])
        # Nothing stored changes; the refusal itself is written to the audit log, pending until
        # the worker links it into the chain.
        after = snapshot(settings)
        before.assert_unchanged_by(after, allow_appended=frozenset({"audit_pending"}))
        if response.status_code != 413:  # a body past the request limit never reaches the app
            refusal = after.rows["audit_pending"][-1]
            assert "upload.refused" in refusal and f"slot:{slot.id}" in refusal, (bad.case, refusal)
    _record(outcomes, "bad-input-outcomes-admin.json")


@SPOOLED
def test_request_over_the_size_limit_gets_413_and_changes_nothing(door):
    app, client, _, slot = door
    before = snapshot(app.config["SETTINGS"])
    body = b"\x89PNG\r\n\x1a\n" + b"\x00" * (6 * 1024 * 1024)
    response = client.post(f"/admin/pemeriksaan/slot/{slot.id}/unggah",
                           data={"file": (io.BytesIO(body), "besar.png")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "5 MB" in response.get_data(as_text=True)
    before.assert_unchanged_by(snapshot(app.config["SETTINGS"]))


@SPOOLED
@pytest.mark.parametrize("fields", [
    pytest.param({"keterangan": "x" * (600 * 1024)}, id="one_600kB_text_field"),
    pytest.param({f"f{i}": "x" for i in range(1500)}, id="1500_fields"),
    pytest.param({"x" * 100_000: "nama field 100 kB"}, id="100kB_field_name"),
])
def test_huge_form_fields_are_refused_without_a_crash(door, fields):
    app, client, _, slot = door
    before = snapshot(app.config["SETTINGS"])
    data = dict(fields)
    data["file"] = (io.BytesIO(scan_png(7)), "ktp.png")
    response = client.post(f"/admin/pemeriksaan/slot/{slot.id}/unggah", data=data,
                           content_type="multipart/form-data")
    # Werkzeug's form limits (500 kB of non-file fields, 1000 parts) answer 413; a smaller
    # field is simply ignored and the file accepted. Never a 500.
    assert response.status_code in (302, 413), response.status_code
    if response.status_code == 413:
        before.assert_unchanged_by(snapshot(app.config["SETTINGS"]))


@SPOOLED
def test_huge_review_reason_and_login_fields_are_refused_cleanly(door):
    app, client, _, slot = door
    response = client.post(f"/admin/pemeriksaan/slot/{slot.id}/tinjau",
                           data={"decision": "tolak", "reason": "alasan " * 50_000}, follow_redirects=True)
    assert response.status_code in (200, 413)
    anonymous = app.test_client()
    response = anonymous.post("/masuk", data={"username": "u" * 100_000, "password": "p" * 100_000})
    assert response.status_code in (400, 401, 413)


def test_missing_or_nameless_file_is_asked_for_again(door):
    app, client, _, slot = door
    before = snapshot(app.config["SETTINGS"])
    for data in ({}, {"file": (io.BytesIO(b""), "")}, {"file": "bukan berkas"}):
        response = client.post(f"/admin/pemeriksaan/slot/{slot.id}/unggah", data=data,
                               content_type="multipart/form-data", follow_redirects=True)
        assert response.status_code == 200
        assert "Pilih berkas untuk diunggah" in response.get_data(as_text=True)
    before.assert_unchanged_by(snapshot(app.config["SETTINGS"]))


def test_unknown_slot_ids_are_refused_not_crashed(door):
    app, client, _, _ = door
    for slot_id in ("999999", "0"):
        response = client.post(f"/admin/pemeriksaan/slot/{slot_id}/unggah",
                               data={"file": (io.BytesIO(scan_png(3)), "ktp.png")},
                               content_type="multipart/form-data")
        assert response.status_code in (403, 404)


def test_slot_id_beyond_64_bits_is_refused_not_crashed(door):
    app, client, _, _ = door
    response = client.post("/admin/pemeriksaan/slot/99999999999999999999/unggah",
                           data={"file": (io.BytesIO(scan_png(3)), "ktp.png")}, content_type="multipart/form-data")
    assert response.status_code in (403, 404)


@pytest.mark.parametrize("path", ["/admin/dossier/?page=99999999999999999999",
                                  "/admin/upload/?page=99999999999999999999"])
def test_a_list_page_beyond_64_bits_is_an_empty_page_not_a_crash(door, path):
    _, client, _, _ = door
    response = client.get(path)
    assert response.status_code == 200


@pytest.mark.parametrize("filename", [
    pytest.param("../../../../etc/passwd.png", id="traversal_posix"),
    pytest.param("..\\..\\windows\\system32\\ktp.png", id="traversal_windows"),
    pytest.param("/absolute/ktp.png", id="absolute"),
    pytest.param("ktp\x00.exe.png", id="nul_byte"),
    pytest.param("ktp\u202egnp.exe", id="rtl_override"),
    pytest.param("K" * 3 + "\u00e9\u6587\U0001f4c4" * 700 + ".png", id="long_unicode_2100_chars"),
    pytest.param("con.png", id="windows_device"),
])
def test_hostile_file_names_never_reach_the_store(door, filename):
    from pengesahan.records.dossiers import Upload

    app, client, _, slot = door
    settings = app.config["SETTINGS"]
    data = scan_png(100 + len(filename))
    response = client.post(f"/admin/pemeriksaan/slot/{slot.id}/unggah",
                           data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")
    assert response.status_code == 302
    with db.connection_context():
        upload = Upload.select().order_by(Upload.id.desc()).get()
    assert len(upload.original_name) <= 255
    # The only new file is the content-addressed one; no part of the name is a path anywhere.
    stored = [p for p in settings.data_dir.rglob("*") if p.is_file() and p.parent.parent.parent == settings.files_dir]
    assert [p.name for p in stored] == [upload.sha256]
    assert settings.files_dir.joinpath(upload.sha256[:2], upload.sha256[2:4], upload.sha256).read_bytes() == data
    for path in settings.data_dir.parent.rglob("*"):
        assert "passwd" not in path.name and "system32" not in path.name and "\u202e" not in path.name


# --- the classify command ---------------------------------------------------------------------------


def test_classify_command_answers_every_bad_file_with_an_error(app, tmp_path):
    settings = app.config["SETTINGS"]
    paths = []
    for index, bad in enumerate(CORPUS):
        path = tmp_path / f"{index:02d}-{bad.case}.bin"
        path.write_bytes(bad.data)
        paths.append(path)
    missing = tmp_path / ".." / ".." / "tidak-ada" / "ktp.png"
    runner = app.test_cli_runner()
    before = snapshot(settings)
    result = runner.invoke(args=["classify", "--json", "--slot", "ktp", *map(str, paths), str(missing)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert len(lines) == len(CORPUS) + 1, result.output[-2000:]
    outcomes = []
    for bad, line in zip([*CORPUS, None], lines, strict=True):
        format_check = next((c for c in line["checks"] if c["name"] == "format"), None)
        refused = bool(line["error"]) or (format_check is not None and not format_check["ok"])
        outcomes.append({"door": "classify", "case": bad.case if bad else "missing_path",
                         "error": line["error"]})
        assert refused, line
        assert line["error"], line
        if bad is not None:
            assert bad.message.lower() in line["error"].lower(), (bad.case, line["error"])
        else:
            assert "tidak dapat dibaca" in line["error"]
    before.assert_unchanged_by(snapshot(settings))
    _record(outcomes, "bad-input-outcomes-classify.json")
