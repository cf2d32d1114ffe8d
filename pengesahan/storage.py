"""The one way files are stored: content-addressed by SHA-256, written once, never changed.

A local directory by default; a shared mount works as is, and an S3-compatible bucket can
replace it by implementing the same four methods. Stored names never come from the user.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from pengesahan.config import Settings
from pengesahan.errors import NotFound, StorageError


class FileStore(Protocol):
    """What the product needs from a file store."""

    def put(self, data: bytes, *, sha256: str | None = None) -> str: ...
    def read(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def path(self, key: str) -> Path: ...


def _check_key(key: str) -> str:
    if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
        raise NotFound("Berkas tidak ditemukan.")
    return key


class LocalFileStore:
    """Files under ``root/ab/cd/<sha256>``, read-only once written."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        key = _check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def put(self, data: bytes, *, sha256: str | None = None) -> str:
        """Store ``data``; returns its key (SHA-256 hex). Storing the same bytes twice is a no-op.

        ``sha256`` is the digest of ``data`` when the caller has already computed it from these
        very bytes (intake does, for the record): a 5 MB file is then not hashed a second time
        (about 3 ms of CPU). It never comes from the user.
        """
        key = sha256 or hashlib.sha256(data).hexdigest()
        target = self.path(key)
        if target.exists():
            return key
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # Write beside the target and rename: a crash or a full disk never leaves a partial
            # file under the final name, so no record can point to a truncated file.
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, 0o440)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageError("Penyimpanan penuh; berkas tidak disimpan. Hubungi administrator.") from exc
            raise StorageError("Berkas tidak dapat disimpan. Hubungi administrator.") from exc
        return key

    def read(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound("Berkas tidak ditemukan.") from exc
        except OSError as exc:
            raise StorageError("Berkas tidak dapat dibaca dari penyimpanan. Hubungi administrator.") from exc


def file_store(settings: Settings) -> FileStore:
    """The product's file store for ``settings``: the one place that chooses it."""
    return LocalFileStore(settings.files_dir)
