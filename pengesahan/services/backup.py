"""Backup and restore of an installation: the database, the stored files and the keys.

One archive (``pengesahan-YYYYmmddTHHMMSSZ.tar``) holds:

- ``db/pengesahan.db``: a consistent copy of SQLite taken with its online backup API (the
  service may keep running), or ``db/pengesahan.pgdump`` from ``pg_dump -Fc`` for PostgreSQL;
- ``files/...``: the content-addressed file store;
- ``keys.enc``: DATA_DIR/keys and the secret key, as a tar;

every member encrypted with Fernet under a key derived by scrypt from the backup passphrase
(BACKUP_PASSPHRASE or a prompt), the archive itself written with mode 0600: a stolen archive
gives neither a signing key nor a NIK, a name or a scan;
- ``manifest.json``: the SHA-256 of every member, authenticated by an HMAC under the same
  passphrase, so a restore refuses an archive in which anything was changed, added or removed.

``flask --app app backup DIR`` and ``flask --app app restore ARCHIVE`` are the commands.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from pengesahan.config import Settings
from pengesahan.errors import ServiceError
from pengesahan.records.base import bind_database

__all__ = ["BackupError", "BackupReport", "backup", "restore"]

#: 2: every member encrypted (1: only the keys), archive written 0600.
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
KEYS_MEMBER = "keys.enc"
SQLITE_MEMBER = "db/pengesahan.db"
PG_MEMBER = "db/pengesahan.pgdump"
#: scrypt cost: about 0.1 s and 16 MB here; a guessed passphrase costs an attacker the same.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


class BackupError(ServiceError):
    """A backup could not be made or an archive cannot be restored (message for the operator)."""

    code = "backup_failed"


@dataclass(frozen=True)
class BackupReport:
    """What a backup or a restore did."""

    archive: Path
    members: int
    database: str  # "sqlite" or "postgresql"


# --- keys from the passphrase ---------------------------------------------------------------------


def _derive(passphrase: str, salt: bytes) -> tuple[bytes, bytes]:
    """(Fernet key, HMAC key) from the passphrase: one scrypt run, two independent halves."""
    if not passphrase:
        raise BackupError("Frasa sandi cadangan kosong; atur BACKUP_PASSPHRASE atau ketikkan saat diminta.")
    material = Scrypt(salt=salt, length=64, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase.encode())
    return base64.urlsafe_b64encode(material[:32]), material[32:]


def _manifest_mac(mac_key: bytes, body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(mac_key, canonical, hashlib.sha256).hexdigest()


# --- backup -------------------------------------------------------------------------------------------


def _is_sqlite(settings: Settings) -> bool:
    return settings.database_url.startswith("sqlite")


def _sqlite_file(settings: Settings) -> Path:
    return Path(settings.database_url.removeprefix("sqlite:///"))


def _dump_database(settings: Settings, workdir: Path) -> tuple[str, Path]:
    if _is_sqlite(settings):
        source_path = _sqlite_file(settings)
        if not source_path.exists():
            raise BackupError(f"Basis data tidak ditemukan: {source_path}.")
        target = workdir / "pengesahan.db"
        # The backup API copies a consistent snapshot page by page while writers go on.
        source = sqlite3.connect(source_path, timeout=30)
        destination = sqlite3.connect(target)
        try:
            with destination:
                source.backup(destination)
        finally:
            destination.close()
            source.close()
        return SQLITE_MEMBER, target
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump tidak ditemukan; pasang klien PostgreSQL (postgresql-client) untuk mencadangkan.")
    target = workdir / "pengesahan.pgdump"
    result = subprocess.run([pg_dump, "--format=custom", "--no-owner", "--file", str(target),
                             "--dbname", settings.database_url], capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_dump gagal: {result.stderr.strip()[:500]}")
    return PG_MEMBER, target


def _keys_tar(settings: Settings) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        if settings.keys_dir.exists():
            archive.add(settings.keys_dir, arcname="keys")
        secret = settings.data_dir / "secret_key"
        if secret.exists():
            archive.add(secret, arcname="secret_key")
    return buffer.getvalue()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def backup(settings: Settings, out_dir: Path, passphrase: str) -> BackupReport:
    """Write a complete, verifiable archive of the installation into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    salt = os.urandom(16)
    fernet_key, mac_key = _derive(passphrase, salt)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    archive_path = out_dir / f"pengesahan-{stamp}.tar"
    members: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="backup-") as tmp:
        workdir = Path(tmp)
        db_member, db_file = _dump_database(settings, workdir)
        keys_file = workdir / KEYS_MEMBER
        keys_file.write_bytes(Fernet(fernet_key).encrypt(_keys_tar(settings)))
        partial = archive_path.with_suffix(".tar.partial")
        # The archive holds personal data (NIKs, names, scans): readable by its owner only,
        # from the moment it exists, and every member encrypted.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        cipher = Fernet(fernet_key)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as archive:

            def add(name: str, data: bytes) -> None:
                members[name] = hashlib.sha256(data).hexdigest()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
                info.mode = 0o600
                archive.addfile(info, io.BytesIO(data))

            add(db_member, cipher.encrypt(db_file.read_bytes()))
            add(KEYS_MEMBER, keys_file.read_bytes())
            files_root = settings.files_dir
            if files_root.exists():
                for path in sorted(files_root.rglob("*")):
                    if path.is_file() and not path.name.startswith(".tmp-"):
                        add("files/" + path.relative_to(files_root).as_posix(), cipher.encrypt(path.read_bytes()))
            body = {
                "format": FORMAT_VERSION,
                "created_at": dt.datetime.now(dt.UTC).isoformat(),
                "database": "sqlite" if _is_sqlite(settings) else "postgresql",
                "kdf": {"name": "scrypt", "salt": salt.hex(), "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
                "members": members,
            }
            manifest = json.dumps({"body": body, "hmac": _manifest_mac(mac_key, body)}, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(manifest)
            info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
            info.mode = 0o600
            archive.addfile(info, io.BytesIO(manifest))
        # Only a complete archive gets the final name.
        os.replace(partial, archive_path)
    return BackupReport(archive_path, len(members), body["database"])


# --- restore --------------------------------------------------------------------------------------------


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and name not in ("", ".")


def _read_verified(archive_path: Path, passphrase: str) -> tuple[dict, dict[str, bytes], bytes]:
    """Every member's bytes, checked against the authenticated manifest; raises on any doubt."""
    try:
        archive = tarfile.open(archive_path, mode="r")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError("Arsip cadangan tidak dapat dibaca.") from exc
    with archive:
        contents: dict[str, bytes] = {}
        for info in archive.getmembers():
            if not info.isfile() or not _safe_name(info.name):
                raise BackupError(f"Arsip berisi anggota yang tidak diizinkan: {info.name!r}.")
            if info.name in contents:
                raise BackupError(f"Arsip berisi anggota ganda: {info.name!r}.")
            contents[info.name] = archive.extractfile(info).read()
    raw_manifest = contents.pop(MANIFEST, None)
    if raw_manifest is None:
        raise BackupError("Arsip tidak memiliki manifest; bukan cadangan produk ini.")
    try:
        manifest = json.loads(raw_manifest)
        body, mac = manifest["body"], manifest["hmac"]
        salt = bytes.fromhex(body["kdf"]["salt"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError("Manifest arsip rusak.") from exc
    fernet_key, mac_key = _derive(passphrase, salt)
    if not hmac.compare_digest(_manifest_mac(mac_key, body), str(mac)):
        raise BackupError("Manifest tidak sah: frasa sandi salah atau arsip telah diubah.")
    expected = body["members"]
    if set(expected) != set(contents):
        extra = sorted(set(contents) - set(expected))
        missing = sorted(set(expected) - set(contents))
        raise BackupError(f"Isi arsip tidak sesuai manifest (tambahan: {extra[:3]}, hilang: {missing[:3]}).")
    for name, data in contents.items():
        if hashlib.sha256(data).hexdigest() != expected[name]:
            raise BackupError(f"Arsip telah diubah: {name} tidak sesuai SHA-256 di manifest.")
    cipher = Fernet(fernet_key)
    try:
        keys_tar = cipher.decrypt(contents.pop(KEYS_MEMBER))
        if body.get("format", 1) >= 2:
            contents = {name: cipher.decrypt(data) for name, data in contents.items()}
    except InvalidToken as exc:
        raise BackupError("Isi arsip tidak dapat didekripsi.") from exc
    return body, contents, keys_tar


def _restore_keys(settings: Settings, keys_tar: bytes) -> None:
    with tarfile.open(fileobj=io.BytesIO(keys_tar), mode="r") as archive:
        for info in archive.getmembers():
            if not _safe_name(info.name) or not (info.isfile() or info.isdir()):
                raise BackupError(f"Berkas kunci tidak diizinkan: {info.name!r}.")
            target = settings.data_dir / info.name
            if info.isdir():
                target.mkdir(parents=True, exist_ok=True, mode=0o700)
                continue
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
            with os.fdopen(fd, "wb") as fh:
                fh.write(archive.extractfile(info).read())


def _database_has_data(settings: Settings) -> bool:
    if _is_sqlite(settings):
        path = _sqlite_file(settings)
        if not path.exists():
            return False
        with sqlite3.connect(path) as connection:
            return bool(connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='audit_entry'").fetchone()[0])
    database = bind_database(settings.database_url)
    try:
        return "audit_entry" in database.get_tables()
    finally:
        database.close()


def restore(settings: Settings, archive_path: Path, passphrase: str, *, force: bool = False) -> BackupReport:
    """Put an archive back into ``settings``' installation, after verifying all of it.

    Refuses to overwrite a database holding data unless ``force``; nothing is written before
    the whole archive has been verified.
    """
    body, contents, keys_tar = _read_verified(Path(archive_path), passphrase)
    database = body.get("database")
    if (database == "sqlite") != _is_sqlite(settings):
        raise BackupError(f"Arsip berisi basis data {database}, instalasi ini memakai yang lain.")
    if _database_has_data(settings) and not force:
        raise BackupError("Basis data tujuan sudah berisi data; gunakan --force untuk menimpanya.")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        if name.startswith("files/"):
            target = settings.files_dir / PurePosixPath(name).relative_to("files")
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                target.chmod(0o640)
            target.write_bytes(data)
            target.chmod(0o440)
    _restore_keys(settings, keys_tar)
    if database == "sqlite":
        target = _sqlite_file(settings)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".restore")
        tmp.write_bytes(contents[SQLITE_MEMBER])
        for suffix in ("-wal", "-shm"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        os.replace(tmp, target)
    else:
        pg_restore = shutil.which("pg_restore")
        if pg_restore is None:
            raise BackupError("pg_restore tidak ditemukan; pasang klien PostgreSQL (postgresql-client).")
        with tempfile.NamedTemporaryFile(suffix=".pgdump") as dump:
            dump.write(contents[PG_MEMBER])
            dump.flush()
            result = subprocess.run([pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction",
                                     "--dbname", settings.database_url, dump.name], capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupError(f"pg_restore gagal: {result.stderr.strip()[:500]}")
    return BackupReport(Path(archive_path), len(body["members"]), database)
