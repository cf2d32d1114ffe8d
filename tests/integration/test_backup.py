"""Backup and restore: a round trip gives back the same rows, files and keys; the keys are
never in clear in the archive; a tampered archive, a wrong passphrase or a hostile member is
refused before anything is written."""

from __future__ import annotations

import dataclasses
import io
import tarfile
from pathlib import Path

import pytest

from pengesahan.records.base import db
from pengesahan.services import backup
from tests.support.reliability import dossier_with_slots, scan_png, snapshot

PASSPHRASE = "frasa-cadangan-uji-2026"
FAKE_KEY = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nkunci-rahasia-uji-0123456789\n"


@pytest.fixture
def installation(app):
    """An installation with a dossier, a stored upload, audit entries and a key file."""
    from pengesahan import storage
    from pengesahan.services.dossiers import add_upload

    settings = app.config["SETTINGS"]
    dossier = dossier_with_slots()
    data = scan_png(9001)
    key = storage.file_store(settings).put(data)
    with db.connection_context():
        slot = dossier.slots.first()
        add_upload(slot, sha256=key, media_type="image/png", size=len(data), original_name="ktp.png", actor=None)
    settings.keys_dir.mkdir(parents=True, exist_ok=True)
    (settings.keys_dir / "kepala_dinas.p12").write_bytes(FAKE_KEY)
    return settings


def _archive(settings, tmp_path) -> Path:
    return backup.backup(settings, tmp_path / "cadangan", PASSPHRASE).archive


def _rewrite(archive: Path, change) -> Path:
    """A copy of ``archive`` with ``change(name, data) -> data | None`` applied to each member."""
    out = archive.with_name("diubah.tar")
    with tarfile.open(archive) as source, tarfile.open(out, "w") as target:
        for info in source.getmembers():
            data = change(info.name, source.extractfile(info).read())
            if data is None:
                continue
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    return out


def test_round_trip_into_the_same_installation(installation, tmp_path):
    from pengesahan.records.audit import verify_chain
    from pengesahan.records.people import Company

    before = snapshot(installation)
    archive = _archive(installation, tmp_path)
    # Later changes, lost by the restore as they should be.
    with db.connection_context():
        Company.create(name="PT Sesudah Cadangan")
    (installation.keys_dir / "kepala_dinas.p12").write_bytes(b"rusak")
    report = backup.restore(installation, archive, PASSPHRASE, force=True)
    assert report.members == len(before.files) + 2
    assert snapshot(installation) == before
    assert (installation.keys_dir / "kepala_dinas.p12").read_bytes() == FAKE_KEY
    assert (installation.keys_dir / "kepala_dinas.p12").stat().st_mode & 0o077 == 0
    with db.connection_context():
        assert verify_chain().ok


def test_round_trip_into_a_new_installation(installation, tmp_path):
    if not installation.database_url.startswith("sqlite"):
        pytest.skip("a second PostgreSQL database is the operator's to create")
    archive = _archive(installation, tmp_path)
    before = snapshot(installation)
    target_dir = tmp_path / "baru"
    target = dataclasses.replace(installation, data_dir=target_dir,
                                 database_url=f"sqlite:///{target_dir / 'pengesahan.db'}")
    backup.restore(target, archive, PASSPHRASE)
    assert (target_dir / "secret_key").exists() or not (installation.data_dir / "secret_key").exists()
    restored_files = {str(p.relative_to(target.files_dir)) for p in target.files_dir.rglob("*") if p.is_file()}
    assert restored_files == set(before.files)
    import sqlite3

    with sqlite3.connect(target_dir / "pengesahan.db") as connection:
        assert connection.execute("SELECT count(*) FROM upload").fetchone()[0] == len(before.rows["upload"])
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_keys_are_never_in_clear_in_the_archive(installation, tmp_path):
    raw = _archive(installation, tmp_path).read_bytes()
    assert FAKE_KEY not in raw
    assert b"kunci-rahasia-uji" not in raw
    assert PASSPHRASE.encode() not in raw
    secret = installation.data_dir / "secret_key"
    if secret.exists():
        assert secret.read_bytes().strip() not in raw


def test_restore_refuses_a_full_database_without_force(installation, tmp_path):
    archive = _archive(installation, tmp_path)
    with pytest.raises(backup.BackupError, match="--force"):
        backup.restore(installation, archive, PASSPHRASE)


@pytest.mark.parametrize("case", ["file_byte", "database_byte", "manifest_hash", "extra_member",
                                  "missing_member", "traversal_member", "wrong_passphrase", "keys_swapped"])
def test_tampered_archive_is_refused_before_anything_is_written(installation, tmp_path, case):
    archive = _archive(installation, tmp_path)
    passphrase = PASSPHRASE

    def flip(data: bytes) -> bytes:
        return data[:-1] + bytes([data[-1] ^ 1])

    if case == "file_byte":
        archive = _rewrite(archive, lambda n, d: flip(d) if n.startswith("files/") else d)
    elif case == "database_byte":
        archive = _rewrite(archive, lambda n, d: flip(d) if n.startswith("db/") else d)
    elif case == "manifest_hash":
        archive = _rewrite(archive, lambda n, d: d.replace(b'"files/', b'"files/x', 1) if n == "manifest.json" else d)
    elif case == "extra_member":
        out = _rewrite(archive, lambda n, d: d)
        with tarfile.open(out, "a") as target:
            info = tarfile.TarInfo("files/ab/cd/sisipan")
            info.size = 4
            target.addfile(info, io.BytesIO(b"jaha"))
        archive = out
    elif case == "missing_member":
        archive = _rewrite(archive, lambda n, d: None if n.startswith("files/") else d)
    elif case == "traversal_member":
        out = _rewrite(archive, lambda n, d: d)
        with tarfile.open(out, "a") as target:
            info = tarfile.TarInfo("../../luar.txt")
            info.size = 4
            target.addfile(info, io.BytesIO(b"jaha"))
        archive = out
    elif case == "wrong_passphrase":
        passphrase = "bukan-frasa-ini"
    elif case == "keys_swapped":
        other = backup.backup(installation, tmp_path / "lain", PASSPHRASE).archive
        with tarfile.open(other) as source:
            foreign_keys = source.extractfile("keys.enc").read()
        archive = _rewrite(archive, lambda n, d: foreign_keys if n == "keys.enc" else d)
    target_dir = tmp_path / "tujuan"
    target = dataclasses.replace(installation, data_dir=target_dir,
                                 database_url=f"sqlite:///{target_dir / 'pengesahan.db'}"
                                 if installation.database_url.startswith("sqlite") else installation.database_url)
    with pytest.raises(backup.BackupError) as refused:
        backup.restore(target, archive, passphrase, force=True)
    assert refused.value.message
    assert not target_dir.exists() or not any(target_dir.rglob("*"))
    assert not (tmp_path.parent / "luar.txt").exists()


def test_backup_and_restore_commands(app, installation, tmp_path):
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = settings.replace(backup_passphrase=PASSPHRASE)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup"]).exit_code == 2  # no directory: a usage error
    result = runner.invoke(args=["backup", str(tmp_path / "cadangan")])
    assert result.exit_code == 0, result.output
    archive = next((tmp_path / "cadangan").glob("*.tar"))
    assert str(archive) in result.output
    refused = runner.invoke(args=["restore", str(archive)])
    assert refused.exit_code == 1 and "--force" in refused.output
    restored = runner.invoke(args=["restore", "--force", str(archive)])
    assert restored.exit_code == 0, restored.output
    app.config["SETTINGS"] = settings.replace(backup_passphrase="salah")
    wrong = runner.invoke(args=["restore", "--force", str(archive)])
    assert wrong.exit_code == 1 and "frasa sandi salah" in wrong.output
