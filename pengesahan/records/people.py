"""Who the product knows: P3MI companies, CPMI candidates, officials, users and API tokens."""

from __future__ import annotations

import hashlib
import secrets

import peewee
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from pengesahan.records.base import BaseModel, UTCDateTimeField, now
from signing.delegation import POSITIONS
from signing.delegation import Official as Signer

ROLES = {
    "admin": "Administrator",
    "pelaksana": "Pelaksana / Pengantar Kerja",
    "kabid": "Kepala Bidang PTK",
    "sekdis": "Sekretaris Dinas",
    "kadin": "Kepala Dinas",
    "p3mi": "P3MI",
}

_hasher = PasswordHasher()


class Company(BaseModel):
    """A P3MI (Perusahaan Penempatan Pekerja Migran Indonesia)."""

    name = peewee.CharField(max_length=200)
    nib = peewee.CharField(max_length=40, null=True, help_text="NIB / OSS")
    sip2mi_number = peewee.CharField(max_length=80, null=True)
    address = peewee.TextField(default="")
    email = peewee.CharField(max_length=200, null=True)
    phone = peewee.CharField(max_length=40, null=True)
    created_at = UTCDateTimeField(default=now)

    def __str__(self):
        return self.name


class Candidate(BaseModel):
    """A CPMI with the SIAPkerja profile fields."""

    nik = peewee.CharField(max_length=16, unique=True)
    name = peewee.CharField(max_length=200)
    sex = peewee.CharField(max_length=1, choices=[("L", "Laki-laki"), ("P", "Perempuan")])
    birth_place = peewee.CharField(max_length=100, default="")
    birth_date = peewee.DateField()
    religion = peewee.CharField(max_length=40, default="")
    marital_status = peewee.CharField(
        max_length=20,
        default="belum_kawin",
        choices=[("belum_kawin", "Belum kawin"), ("kawin", "Kawin"), ("cerai", "Cerai")],
    )
    address = peewee.TextField(default="")
    phone = peewee.CharField(max_length=40, default="")
    kk_number = peewee.CharField(max_length=16, default="")
    kk_head_nik = peewee.CharField(max_length=16, default="")
    father_name = peewee.CharField(max_length=200, default="")
    mother_name = peewee.CharField(max_length=200, default="")
    guardian_name = peewee.CharField(max_length=200, default="")
    emergency_name = peewee.CharField(max_length=200, default="")
    emergency_relation = peewee.CharField(max_length=60, default="")
    emergency_phone = peewee.CharField(max_length=40, default="")
    emergency_address = peewee.TextField(default="")
    # Surat izin (permission of spouse/parents acknowledged by the village head).
    permit_village_number = peewee.CharField(max_length=80, default="")
    permit_date = peewee.DateField(null=True)
    permit_village_head = peewee.CharField(max_length=200, default="")
    permit_giver_nik = peewee.CharField(max_length=16, default="")
    permit_giver_name = peewee.CharField(max_length=200, default="")
    # SIAPkerja additions.
    health_cert_number = peewee.CharField(max_length=80, default="")
    health_clinic = peewee.CharField(max_length=200, default="")
    health_doctor = peewee.CharField(max_length=200, default="")
    health_date = peewee.DateField(null=True)
    bnsp_number = peewee.CharField(max_length=80, default="")
    bpjs_number = peewee.CharField(max_length=40, default="")
    created_at = UTCDateTimeField(default=now)

    @property
    def is_married(self) -> bool:
        return self.marital_status == "kawin"

    def __str__(self):
        return f"{self.name} ({self.nik})"


class Official(BaseModel):
    """An official who may sign: Kepala Dinas, Sekretaris Dinas, Kepala Bidang PTK."""

    name = peewee.CharField(max_length=200)
    nip = peewee.CharField(max_length=18, unique=True)
    rank = peewee.CharField(max_length=100, help_text="Pangkat / golongan")
    position = peewee.CharField(max_length=40, choices=list(POSITIONS.items()))
    acting = peewee.CharField(
        max_length=4, default="", choices=[("", "Definitif"), ("Plt.", "Plt."), ("Plh.", "Plh.")]
    )
    #: Name of the key file under DATA_DIR/keys (PKCS#12); the key itself is never in the DB.
    key_alias = peewee.CharField(max_length=60, default="")
    active = peewee.BooleanField(default=True)

    @property
    def position_label(self) -> str:
        return POSITIONS.get(self.position, self.position)

    def to_signer(self):
        """This official as the signing rules see them."""
        return Signer(name=self.name, nip=self.nip, rank=self.rank, position=self.position,
                      acting=self.acting or None)

    def __str__(self):
        return f"{self.name} — {self.acting + ' ' if self.acting else ''}{self.position_label}"


class User(BaseModel):
    """A login of an officer, an official or a P3MI staff member."""

    username = peewee.CharField(max_length=80, unique=True)
    password_hash = peewee.CharField(max_length=200)
    full_name = peewee.CharField(max_length=200, default="")
    #: Civil-servant number of an officer, printed where the officer's verification is cited.
    nip = peewee.CharField(max_length=18, default="")
    role = peewee.CharField(max_length=20, choices=list(ROLES.items()))
    company = peewee.ForeignKeyField(Company, null=True, backref="users", on_delete="RESTRICT")
    official = peewee.ForeignKeyField(Official, null=True, backref="users", on_delete="RESTRICT")
    active = peewee.BooleanField(default=True)
    failed_logins = peewee.IntegerField(default=0)
    locked_until = UTCDateTimeField(null=True)
    #: Part of every session's id: raising it ends every session of this user at once
    #: (logout, password change, deactivation, "end all sessions").
    session_generation = peewee.IntegerField(default=0)
    created_at = UTCDateTimeField(default=now)

    # flask-login's protocol, kept here so the web layer needs no adapter class.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # The generation is in the session: a session made before it was raised no longer loads.
        return f"{self.id}.{self.session_generation}"

    def set_password(self, password: str) -> None:
        """Set a new password; every existing session of the user ends with the old one."""
        self.password_hash = _hasher.hash(password)
        self.session_generation = (self.session_generation or 0) + 1

    def check_password(self, password: str) -> bool:
        try:
            ok = _hasher.verify(self.password_hash, password)
        except (VerifyMismatchError, InvalidHashError):
            return False
        if ok and _hasher.check_needs_rehash(self.password_hash):
            # Same password, stronger hash: sessions stay.
            self.password_hash = _hasher.hash(password)
            self.save(only=[User.password_hash])
        return ok

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    def __str__(self):
        return f"{self.full_name or self.username} ({self.role_label})"


def hash_token(token: str) -> str:
    """SHA-256 of an API token: tokens are long random strings, a fast hash is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(BaseModel):
    """A P3MI's API token; only its hash is stored, the token is shown once."""

    company = peewee.ForeignKeyField(Company, backref="tokens", on_delete="CASCADE")
    name = peewee.CharField(max_length=100)
    prefix = peewee.CharField(max_length=12)
    token_hash = peewee.CharField(max_length=64, unique=True)
    created_at = UTCDateTimeField(default=now)
    revoked_at = UTCDateTimeField(null=True)
    last_used_at = UTCDateTimeField(null=True)

    @classmethod
    def issue(cls, company: Company, name: str) -> tuple[ApiToken, str]:
        """Create a token; returns the record and the clear token (to show once)."""
        token = "pp_" + secrets.token_urlsafe(32)
        record = cls.create(company=company, name=name, prefix=token[:10], token_hash=hash_token(token))
        return record, token

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
