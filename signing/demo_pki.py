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

Rollover, as a real PKI does it: the TSA signs with one certificate (valid five years) for at
most a year (:data:`TSA_KEY_PERIOD`); :meth:`DemoPKI.rollover_tsa` then issues a new key and
certificate under the same TSA name and URL, so every new timestamp stays verifiable for four
years at least. A TSA certificate is never allowed to outlive its root: when the current root
would expire first, a new root generation (20 years) is made and the TSA certificate issued
under it. ``root-ca.pem`` holds every root generation, oldest first, so validators keep
trusting the old root for what it vouched for while it was valid. Earlier generations stay in
the configuration unchanged (byte-identical certificates, same serial numbers), and the server
started by :meth:`DemoPKI.serve` picks up a rollover made by another process.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from asn1crypto import algos, cms, core, pem, tsp, x509
from certomancer.crypto_utils import generic_sign
from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import (
    ArchLabel,
    CertLabel,
    CertomancerConfig,
    CertomancerObjectNotFoundError,
    ServiceLabel,
)
from certomancer.services import TimeStamper, get_nonce, simple_cms_attribute
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.exceptions import NotFound
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from pengesahan.errors import SigningError

__all__ = [
    "ARCH",
    "DemoPKI",
    "DemoPKIServer",
    "EXPIRED_ALIAS",
    "Generation",
    "OFFICIAL_ALIASES",
    "REVOKED_ALIAS",
    "ROOT_NAME",
    "TSA_KEY_PERIOD",
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
_LOCK_FILE = "rollover.lock"
_KEY_LABELS = ("root", "issuing-ca", "tsa", *OFFICIAL_ALIASES, *_EXTRA_NAMES)

#: How long the TSA signs with one certificate before a new one is issued.
TSA_KEY_PERIOD = timedelta(days=365)
#: Validity of a TSA certificate (as the first generation's).
_TSA_LIFETIME = timedelta(days=1826)
#: Validity of a root generation made by a rollover.
_ROOT_LIFETIME = timedelta(days=7305)


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


@dataclass(frozen=True)
class Generation:
    """A root or TSA certificate made by a rollover (the first ones are part of the PKI)."""

    #: certomancer label of the certificate, its key and its entity, e.g. "tsa-2", "root-2".
    label: str
    #: When it was issued: its validity starts an hour before.
    issued_at: datetime
    #: Label of the issuing root ("root", "root-2"...); the root's own label for a root.
    issuer: str

    def to_json(self) -> dict:
        return {"label": self.label, "issued_at": self.issued_at.isoformat(), "issuer": self.issuer}

    @classmethod
    def from_json(cls, data: dict) -> Generation:
        return cls(data["label"], datetime.fromisoformat(data["issued_at"]), data["issuer"])


def _root_crl(label: str) -> str:
    return "root-crl" if label == "root" else f"{label}-crl"


def _config(service_url: str, created_at: datetime, roots: tuple[Generation, ...] = (),
            tsas: tuple[Generation, ...] = ()) -> dict:
    """The certomancer configuration, all validity periods relative to ``created_at`` (and the
    rolled-over generations' to their issue). Generations only add certificates after the
    first ones, so these keep their serial numbers and bytes."""

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
    crl_repos = {
        "root-crl": {"for-issuer": "root", "signing-key": "root", "simulated-update-schedule": "P30D"},
        "issuing-crl": {
            "for-issuer": "issuing-ca",
            "signing-key": "issuing-ca",
            "simulated-update-schedule": "P7D",
        },
    }
    ends = {"root": created_at + timedelta(days=3652)}
    for number, root in enumerate(roots, start=2):
        end = root.issued_at + _ROOT_LIFETIME
        ends[root.label] = end
        entities[root.label] = {"common-name": f"{ROOT_NAME} G{number}"}
        certs[root.label] = {
            "subject": root.label,
            "issuer": root.label,
            "validity": {"valid-from": _stamp(root.issued_at - timedelta(hours=1)), "valid-to": _stamp(end)},
            "profiles": [{"id": "simple-ca", "params": {"crl-repo": _root_crl(root.label)}}],
        }
        crl_repos[_root_crl(root.label)] = {"for-issuer": root.label, "signing-key": root.label,
                                            "simulated-update-schedule": "P30D"}
    for tsa in tsas:
        # Same name as the first TSA certificate: one TSA, a new key.
        entities[tsa.label] = {"common-name": TSA_NAME}
        certs[tsa.label] = {
            **certs["tsa"],
            "subject": tsa.label,
            "issuer": tsa.issuer,
            "validity": {"valid-from": _stamp(tsa.issued_at - timedelta(hours=1)),
                         "valid-to": _stamp(min(tsa.issued_at + _TSA_LIFETIME, ends[tsa.issuer]))},
        }
    current_tsa = tsas[-1].label if tsas else "tsa"
    key_labels = (*_KEY_LABELS, *(g.label for g in (*roots, *tsas)))
    return {
        "external-url-prefix": service_url.rstrip("/"),
        "keysets": {
            ARCH: {
                "path-prefix": _KEY_DIR,
                "keys": {label: {"path": f"{label}.key.pem"} for label in key_labels},
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
                    "crl-repo": crl_repos,
                    # One URL whatever the generation: the newest certificate signs.
                    "time-stamping": {
                        "tsa": {"signing-key": current_tsa, "signing-cert": current_tsa},
                    },
                },
            }
        },
    }


@dataclass(frozen=True)
class DemoPKI:
    """A demo PKI on disk: trust roots, officials' PKCS#12 files and the service URLs."""

    #: Directory holding keys, config, root PEM and PKCS#12 files.
    directory: Path
    #: Base URL of the OCSP/CRL/TSA service, e.g. ``http://127.0.0.1:8321``; fixed at creation.
    service_url: str
    #: When the PKI was created; every validity period is relative to it.
    created_at: datetime
    #: Root generations made by rollovers, oldest first (the first root is "root").
    roots: tuple[Generation, ...] = field(default=())
    #: TSA certificates made by rollovers, oldest first (the first one is "tsa"); the newest signs.
    tsas: tuple[Generation, ...] = field(default=())

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
        pki = cls(directory=directory, service_url=service_url.rstrip("/"), created_at=created_at)
        pki._write_derived()
        arch = pki.architecture()
        for alias in (*OFFICIAL_ALIASES, *_EXTRA_NAMES):
            p12 = arch.package_pkcs12(CertLabel(alias), password=passphrase.encode("utf-8"))
            _write_private(pki.p12_path(alias), p12)
        # The state file is written last: its presence means the PKI is complete.
        pki._write_state()
        return pki

    @classmethod
    def open(cls, directory: Path) -> DemoPKI:
        """Open a PKI created earlier by :meth:`create`."""
        directory = Path(directory)
        try:
            state = json.loads((directory / _STATE_FILE).read_text())
            return cls(
                directory=directory,
                service_url=state["service_url"],
                created_at=datetime.fromisoformat(state["created_at"]),
                roots=tuple(Generation.from_json(g) for g in state.get("roots", ())),
                tsas=tuple(Generation.from_json(g) for g in state.get("tsas", ())),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SigningError(f"PKI demo tidak ditemukan atau rusak di {directory}.") from exc

    @property
    def trust_root_path(self) -> Path:
        """PEM file of every root generation, the trust anchors validators must use."""
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
        """URL of the latest CRL of ``issuer`` ("root", "issuing-ca" or a later root)."""
        repo = "issuing-crl" if issuer == "issuing-ca" else _root_crl(issuer)
        return f"{self.service_url}/{ARCH}/crls/{repo}/latest.crl"

    @property
    def root_labels(self) -> tuple[str, ...]:
        """Labels of every root generation, oldest first."""
        return ("root", *(g.label for g in self.roots))

    @property
    def tsa_label(self) -> str:
        """Label of the TSA certificate that signs timestamps now."""
        return self.tsas[-1].label if self.tsas else "tsa"

    def tsa_certificate(self):
        """The certificate the TSA signs with now."""
        return self.certificate(self.tsa_label)

    def tsa_issued_at(self) -> datetime:
        """When the current TSA certificate was issued."""
        return self.tsas[-1].issued_at if self.tsas else self.created_at

    def tsa_rollover_due(self, at: datetime | None = None) -> bool:
        """Whether the TSA has signed with its certificate for :data:`TSA_KEY_PERIOD` by ``at``,
        so that a new one is due (the certificate itself lives years longer)."""
        return (at or datetime.now(UTC)) - self.tsa_issued_at() >= TSA_KEY_PERIOD

    def rollover_tsa(self, at: datetime | None = None, *, if_due: bool = False) -> DemoPKI:
        """Issue a new TSA key and certificate at ``at`` (now by default), under a new root
        generation when the current root would expire before it; returns the PKI reopened.
        With ``if_due``, only when :meth:`tsa_rollover_due` says so.

        Serialised between processes by a lock file (the check included, so two processes
        never roll over twice); the state file is written last, so a run that stops half-way
        leaves the PKI as it was (its new keys are reused next time).
        """
        at = (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        with _locked(self.directory / _LOCK_FILE):
            current = DemoPKI.open(self.directory)
            if if_due and not current.tsa_rollover_due(at):
                return current
            root = current.root_labels[-1]
            root_end = current.certificate(root)["tbs_certificate"]["validity"]["not_after"].native
            roots = current.roots
            if root_end < at + _TSA_LIFETIME:
                root = f"root-{len(roots) + 2}"
                roots = (*roots, Generation(root, at, root))
            tsa = Generation(f"tsa-{len(current.tsas) + 2}", at, root)
            keys = self.directory / _KEY_DIR
            for label in {root, tsa.label}:
                if not (keys / f"{label}.key.pem").exists():
                    _generate_key(keys / f"{label}.key.pem")
            rolled = replace(current, roots=roots, tsas=(*current.tsas, tsa))
            rolled._write_derived()
            rolled._write_state()
        return DemoPKI.open(self.directory)

    @property
    def state_path(self) -> Path:
        """The state file: changes with every rollover (the server reloads when it does)."""
        return self.directory / _STATE_FILE

    def _config(self) -> dict:
        return _config(self.service_url, self.created_at, self.roots, self.tsas)

    def _write_derived(self) -> None:
        """The certomancer YAML (for certomancer's own tools) and the trust-root PEM."""
        _write_atomic(self.directory / _CONFIG_FILE,
                      yaml.safe_dump(self._config(), sort_keys=False).encode("utf-8"))
        arch = self.architecture()
        roots = b"".join(_pem(arch.get_cert(CertLabel(label)).dump()) for label in self.root_labels)
        _write_atomic(self.trust_root_path, roots)

    def _write_state(self) -> None:
        state = {"service_url": self.service_url, "created_at": self.created_at.isoformat()}
        if self.roots:
            state["roots"] = [g.to_json() for g in self.roots]
        if self.tsas:
            state["tsas"] = [g.to_json() for g in self.tsas]
        _write_atomic(self.state_path, json.dumps(state).encode("utf-8"))

    @cached_property
    def _architecture(self):
        # Loading parses every key and issues every certificate: seconds, so do it once. The
        # configuration comes from the state, never from a YAML file a crash left ahead of it.
        config = CertomancerConfig(self._config(), key_search_dir=str(self.directory))
        return config.get_pki_arch(ArchLabel(ARCH))

    def architecture(self):
        """certomancer's ``PKIArchitecture`` of this PKI's state (cached)."""
        return self._architecture

    def certificate(self, alias: str):
        """The asn1crypto certificate of ``alias`` ("root", "issuing-ca", "tsa", a later
        generation such as "tsa-2", or an official)."""
        return self.architecture().get_cert(CertLabel(alias))

    def serve(self) -> DemoPKIServer:
        """Start OCSP, CRL and time-stamping on 127.0.0.1 at the port of ``service_url``."""
        server = DemoPKIServer(self)
        server.start()
        return server


def _write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` in one step: a reader sees the old file or the new one."""
    partial = path.with_name(path.name + ".tmp")
    partial.write_bytes(data)
    os.replace(partial, path)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` between processes, for the time of the block."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pem(der: bytes) -> bytes:
    return pem.armor("CERTIFICATE", der)


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not log every OCSP/TSA request to stderr."""

    def log_request(self, code="-", size="-") -> None:
        pass


class _TimeStamper(TimeStamper):
    """certomancer's TSA, with the CMS signing-time as RFC 5652 (11.3) asks: GeneralizedTime
    from 2050 on. certomancer 0.16 always writes UTCTime, which cannot hold those years, so
    its TSA fails every request from 2050 (and renewed PPs need timestamps then)."""

    def request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        moment = self.fixed_dt or datetime.now(UTC)
        digest_algorithm = algos.DigestAlgorithm({"algorithm": self.md_algorithm})
        tst_info = {
            "version": "v1",
            "policy": self.policy,
            "message_imprint": req["message_imprint"],
            "serial_number": get_nonce(),
            "gen_time": moment,
            "tsa": x509.GeneralName(name="directory_name", value=self.tsa_cert.subject),
        }
        if isinstance(req["nonce"], core.Integer):
            tst_info["nonce"] = req["nonce"]
        tst_info_data = tsp.TSTInfo(tst_info).dump()
        signing_time = cms.Time({"utc_time" if moment.year < 2050 else "generalized_time": moment})
        signed_attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_time", signing_time),
            simple_cms_attribute("signing_certificate", tsp.SigningCertificate(
                {"certs": [tsp.ESSCertID({"cert_hash": hashlib.sha1(self.tsa_cert.dump()).digest()})]})),
            simple_cms_attribute("message_digest", hashlib.new(self.md_algorithm, tst_info_data).digest()),
        ])
        signer_info = cms.SignerInfo({
            "version": "v1",
            "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
                {"issuer": self.tsa_cert.issuer, "serial_number": self.tsa_cert.serial_number})}),
            "digest_algorithm": digest_algorithm,
            "signature_algorithm": self.signature_algo,
            "signed_attrs": signed_attrs,
            "signature": generic_sign(self.tsa_key, signed_attrs.dump(), self.signature_algo),
        })
        signed_data = cms.SignedData({
            "version": "v3",
            "digest_algorithms": cms.DigestAlgorithms((digest_algorithm,)),
            "encap_content_info": cms.EncapsulatedContentInfo(
                {"content_type": "tst_info", "content": cms.ParsableOctetString(tst_info_data)}),
            "certificates": list({c.dump(): c for c in (*self.certs_to_embed, self.tsa_cert)}.values()),
            "signer_infos": [signer_info],
        })
        token = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
        return tsp.TimeStampResp({"status": tsp.PKIStatusInfo({"status": "granted"}),
                                  "time_stamp_token": token})


def _timestamp_response(arch, label: str, body: bytes) -> Response:
    """What the TSA ``label`` of ``arch`` answers to an RFC 3161 request, by :class:`_TimeStamper`."""
    try:
        base = arch.service_registry.summon_timestamper(ServiceLabel(label))
    except CertomancerObjectNotFoundError as exc:
        raise NotFound() from exc
    stamper = _TimeStamper(tsa_cert=base.tsa_cert, tsa_key=base.tsa_key, signature_algo=base.signature_algo,
                           certs_to_embed=base.certs_to_embed, md_algorithm=base.md_algorithm)
    response = stamper.request_tsa_response(tsp.TimeStampReq.load(body))
    return Response(response.dump(), mimetype="application/timestamp-reply")


class _CurrentAnimator:
    """certomancer's Animator for the PKI as it is now: reloaded when a rollover (made by any
    process) changed the state file. One stat per request."""

    def __init__(self, pki: DemoPKI):
        self._lock = threading.Lock()
        self._pki = pki
        # Loaded now, as the server starts (reusing what ``pki`` loaded already when current).
        stamp = pki.state_path.stat().st_mtime_ns
        current = DemoPKI.open(pki.directory)
        self._loaded = self._load(stamp, pki if current == pki else current)

    @staticmethod
    def _load(stamp: int, pki: DemoPKI) -> tuple[int, object, Animator]:
        arch = pki.architecture()
        # Times come from the clock only: a client may not ask for backdated timestamps or
        # revocation data (certomancer's fake-time header).
        animator = Animator(AnimatorArchStore({ArchLabel(ARCH): arch}), with_web_ui=False,
                            allow_time_override=False)
        return stamp, arch, animator

    def _current(self) -> tuple[object, Animator]:
        stamp = self._pki.state_path.stat().st_mtime_ns
        with self._lock:
            if self._loaded[0] != stamp:
                self._loaded = self._load(stamp, DemoPKI.open(self._pki.directory))
            return self._loaded[1], self._loaded[2]

    def __call__(self, environ, start_response):
        arch, animator = self._current()
        request = Request(environ)
        prefix = f"/{ARCH}/tsa/"
        if request.method == "POST" and request.path.startswith(prefix):
            try:
                response = _timestamp_response(arch, request.path[len(prefix):], request.get_data())
            except NotFound as exc:
                return exc(environ, start_response)
            return response(environ, start_response)
        return animator(environ, start_response)


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
        app = _CurrentAnimator(self.pki)
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
