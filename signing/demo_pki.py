"""A demo PKI for the labour office, built locally with certomancer.

The PKI lives in one directory: RSA keys (generated once with ``cryptography``), a certomancer
YAML config, the trust root as PEM and one PKCS#12 file per official. Opening the directory again
reuses everything; nothing is regenerated. Certificates are issued by certomancer from the config
on every load; RSA PKCS#1 v1.5 signatures are deterministic, so the same config and keys give
byte-identical certificates each time, which keeps the exported PKCS#12 files and the trust root
in step with what the OCSP responder and CRLs describe.

``DemoPKI.serve()`` runs certomancer's Animator (OCSP, CRL, time-stamping) on 127.0.0.1 at the
port fixed in ``service_url`` when the PKI was created, since the URLs are inside the
certificates.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from asn1crypto import pem
from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import WSGIRequestHandler, make_server

from pengesahan.errors import SigningError

__all__ = [
    "ARCH",
    "DemoPKI",
    "DemoPKIServer",
    "EXPIRED_ALIAS",
    "OFFICIAL_ALIASES",
    "REVOKED_ALIAS",
    "ROOT_NAME",
]

#: certomancer architecture label; it is also the first path segment of every service URL.
ARCH = "dinas"
ROOT_NAME = "Root CA Demo Dinas Tenaga Kerja Kabupaten"
ISSUING_NAME = "CA Penandatanganan Demo Dinas Tenaga Kerja Kabupaten"
TSA_NAME = "TSA Demo Dinas Tenaga Kerja Kabupaten"
ORGANISATION = "Dinas Tenaga Kerja Kabupaten (Demo)"

#: Officials who may sign, by alias: demo common names for their certificates.
OFFICIAL_ALIASES: dict[str, str] = {
    "kepala-dinas": "Drs. Bambang Sutrisno, M.Si.",
    "sekretaris-dinas": "Sri Wahyuni, S.H., M.H.",
    "kabid-ptk": "Agus Priyanto, S.E.",
}
#: An official whose certificate was revoked right after issue (for negative tests and demos).
REVOKED_ALIAS = "pejabat-dicabut"
#: An official whose certificate expired before the PKI was created.
EXPIRED_ALIAS = "pejabat-kedaluwarsa"
_EXTRA_NAMES = {
    REVOKED_ALIAS: "Pejabat Sertifikat Dicabut (Demo)",
    EXPIRED_ALIAS: "Pejabat Sertifikat Kedaluwarsa (Demo)",
}

_STATE_FILE = "pki.json"
_CONFIG_FILE = "certomancer.yml"
_KEY_DIR = "keys"
_ROOT_PEM = "root-ca.pem"
_KEY_LABELS = ("root", "issuing-ca", "tsa", *OFFICIAL_ALIASES, *_EXTRA_NAMES)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _write_private(path: Path, data: bytes) -> None:
    """Write a secret file readable by its owner only, without a window of wider permissions."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def _generate_key(path: Path) -> None:
    # RSA rather than ECDSA: certificate signatures must be deterministic (see module docstring).
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_private(path, pem)


def _config(service_url: str, created_at: datetime) -> dict:
    """The certomancer configuration, all validity periods relative to ``created_at``."""

    def period(start: timedelta, end: timedelta) -> dict:
        return {"valid-from": _stamp(created_at + start), "valid-to": _stamp(created_at + end)}

    official_period = period(timedelta(hours=-1), timedelta(days=730))
    certs: dict[str, dict] = {
        "root": {
            "subject": "root",
            "issuer": "root",
            "validity": period(timedelta(days=-730), timedelta(days=3652)),
            "profiles": [{"id": "simple-ca", "params": {"crl-repo": "root-crl"}}],
        },
        "issuing-ca": {
            "subject": "issuing-ca",
            "issuer": "root",
            "validity": period(timedelta(days=-730), timedelta(days=3287)),
            "profiles": [
                {
                    "id": "simple-ca",
                    "params": {
                        "max-path-len": 0,
                        "crl-repo": "issuing-crl",
                        "ocsp-service": "issuing-ocsp",
                    },
                }
            ],
        },
        "tsa": {
            "subject": "tsa",
            "issuer": "root",
            "validity": period(timedelta(days=-1), timedelta(days=1826)),
            "extensions": [
                {
                    "id": "key_usage",
                    "critical": True,
                    "smart-value": {"schema": "key-usage", "params": ["digital_signature"]},
                },
                {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
            ],
        },
    }
    for alias in (*OFFICIAL_ALIASES, REVOKED_ALIAS):
        certs[alias] = {
            "subject": alias,
            "issuer": "issuing-ca",
            "validity": official_period,
            "profiles": ["digsig-commitment"],
        }
    # Revoked well before creation so that the CRL of the current 7-day period lists it too.
    certs[REVOKED_ALIAS]["validity"] = period(timedelta(days=-60), timedelta(days=670))
    certs[REVOKED_ALIAS]["revocation"] = {
        "revoked-since": _stamp(created_at - timedelta(days=20)),
        "reason": "key_compromise",
    }
    certs[EXPIRED_ALIAS] = {
        "subject": EXPIRED_ALIAS,
        "issuer": "issuing-ca",
        "validity": period(timedelta(days=-400), timedelta(days=-35)),
        "profiles": ["digsig-commitment"],
    }
    entities = {
        "root": {"common-name": ROOT_NAME},
        "issuing-ca": {"common-name": ISSUING_NAME},
        "tsa": {"common-name": TSA_NAME},
        **{alias: {"common-name": name} for alias, name in OFFICIAL_ALIASES.items()},
        **{alias: {"common-name": name} for alias, name in _EXTRA_NAMES.items()},
    }
    return {
        "external-url-prefix": service_url.rstrip("/"),
        "keysets": {
            ARCH: {
                "path-prefix": _KEY_DIR,
                "keys": {label: {"path": f"{label}.key.pem"} for label in _KEY_LABELS},
            }
        },
        "pki-architectures": {
            ARCH: {
                "keyset": ARCH,
                "entity-defaults": {"country-name": "ID", "organization-name": ORGANISATION},
                "entities": entities,
                "certs": certs,
                "services": {
                    "ocsp": {
                        "issuing-ocsp": {
                            "for-issuer": "issuing-ca",
                            "responder-cert": "issuing-ca",
                            "signing-key": "issuing-ca",
                        }
                    },
                    "crl-repo": {
                        "root-crl": {
                            "for-issuer": "root",
                            "signing-key": "root",
                            "simulated-update-schedule": "P30D",
                        },
                        "issuing-crl": {
                            "for-issuer": "issuing-ca",
                            "signing-key": "issuing-ca",
                            "simulated-update-schedule": "P7D",
                        },
                    },
                    "time-stamping": {
                        "tsa": {"signing-key": "tsa", "signing-cert": "tsa"},
                    },
                },
            }
        },
    }


@dataclass(frozen=True)
class DemoPKI:
    """A demo PKI on disk: trust root, officials' PKCS#12 files and the service URLs."""

    #: Directory holding keys, config, root PEM and PKCS#12 files.
    directory: Path
    #: Base URL of the OCSP/CRL/TSA service, e.g. ``http://127.0.0.1:8321``; fixed at creation.
    service_url: str
    #: When the PKI was created; every validity period is relative to it.
    created_at: datetime

    @classmethod
    def create(cls, directory: Path, service_url: str, passphrase: str) -> DemoPKI:
        """Create the PKI in ``directory``, or open it unchanged if it already exists there."""
        directory = Path(directory)
        state = directory / _STATE_FILE
        if state.exists():
            pki = cls.open(directory)
            if pki.service_url != service_url.rstrip("/"):
                raise SigningError(
                    f"PKI demo di {directory} sudah dibuat untuk layanan {pki.service_url}; "
                    "alamat layanan tidak dapat diubah tanpa membuat PKI baru."
                )
            return pki
        if not passphrase:
            raise SigningError("Frasa sandi PKCS#12 tidak boleh kosong.")
        urlsplit(service_url).port  # noqa: B018 - fail early on a malformed port
        created_at = datetime.now(UTC).replace(microsecond=0)
        keys = directory / _KEY_DIR
        keys.mkdir(parents=True, exist_ok=True, mode=0o700)
        for label in _KEY_LABELS:
            path = keys / f"{label}.key.pem"
            if not path.exists():  # a half-finished earlier run keeps its keys
                _generate_key(path)
        service_url = service_url.rstrip("/")
        config_path = directory / _CONFIG_FILE
        config_path.write_text(yaml.safe_dump(_config(service_url, created_at), sort_keys=False))
        pki = cls(directory=directory, service_url=service_url, created_at=created_at)
        arch = pki.architecture()
        (directory / _ROOT_PEM).write_bytes(_pem(arch.get_cert(CertLabel("root")).dump()))
        for alias in (*OFFICIAL_ALIASES, *_EXTRA_NAMES):
            p12 = arch.package_pkcs12(CertLabel(alias), password=passphrase.encode("utf-8"))
            _write_private(pki.p12_path(alias), p12)
        # The state file is written last: its presence means the PKI is complete.
        state.write_text(
            json.dumps({"service_url": service_url, "created_at": created_at.isoformat()})
        )
        return pki

    @classmethod
    def open(cls, directory: Path) -> DemoPKI:
        """Open a PKI created earlier by :meth:`create`."""
        directory = Path(directory)
        try:
            state = json.loads((directory / _STATE_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise SigningError(f"PKI demo tidak ditemukan atau rusak di {directory}.") from exc
        return cls(
            directory=directory,
            service_url=state["service_url"],
            created_at=datetime.fromisoformat(state["created_at"]),
        )

    @property
    def trust_root_path(self) -> Path:
        """PEM file of the root CA, the trust anchor validators must use."""
        return self.directory / _ROOT_PEM

    def p12_path(self, alias: str) -> Path:
        """PKCS#12 file (key and chain, passphrase protected) of an official by alias."""
        return self.directory / f"{alias}.p12"

    @property
    def tsa_url(self) -> str:
        """URL of the RFC 3161 time-stamping authority."""
        return f"{self.service_url}/{ARCH}/tsa/tsa"

    @property
    def ocsp_url(self) -> str:
        """URL of the OCSP responder for the officials' certificates."""
        return f"{self.service_url}/{ARCH}/ocsp/issuing-ocsp"

    def crl_url(self, issuer: str = "issuing-ca") -> str:
        """URL of the latest CRL of ``issuer`` ("root" or "issuing-ca")."""
        repo = "root-crl" if issuer == "root" else "issuing-crl"
        return f"{self.service_url}/{ARCH}/crls/{repo}/latest.crl"

    @cached_property
    def _architecture(self):
        # Loading parses every key and issues every certificate: seconds, so do it once.
        config = CertomancerConfig.from_file(
            str(self.directory / _CONFIG_FILE), key_search_dir=str(self.directory)
        )
        return config.get_pki_arch(ArchLabel(ARCH))

    def architecture(self):
        """certomancer's ``PKIArchitecture`` loaded from the on-disk config (cached)."""
        return self._architecture

    def certificate(self, alias: str):
        """The asn1crypto certificate of ``alias`` ("root", "issuing-ca", "tsa" or an official)."""
        return self.architecture().get_cert(CertLabel(alias))

    def serve(self) -> DemoPKIServer:
        """Start OCSP, CRL and time-stamping on 127.0.0.1 at the port of ``service_url``."""
        server = DemoPKIServer(self)
        server.start()
        return server


def _pem(der: bytes) -> bytes:
    return pem.armor("CERTIFICATE", der)


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not log every OCSP/TSA request to stderr."""

    def log_request(self, code="-", size="-") -> None:
        pass


class DemoPKIServer:
    """certomancer's Animator served by werkzeug in a daemon thread; stop it with :meth:`stop`."""

    def __init__(self, pki: DemoPKI):
        self.pki = pki
        parts = urlsplit(pki.service_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind the port and serve in the background."""
        arch = self.pki.architecture()
        app = Animator(AnimatorArchStore({ArchLabel(ARCH): arch}), with_web_ui=False)
        try:
            self._server = make_server(
                self.host, self.port, app, threaded=True, request_handler=_QuietHandler
            )
        except (OSError, SystemExit) as exc:
            # werkzeug reports a port in use by exiting; that must not end the caller.
            raise SigningError(
                f"Layanan PKI demo tidak dapat berjalan di {self.pki.service_url}: "
                "port sudah dipakai atau tidak dapat dibuka."
            ) from exc
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="demo-pki", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> DemoPKIServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
