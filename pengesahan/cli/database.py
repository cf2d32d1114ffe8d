"""``db upgrade`` and ``audit verify``."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from pengesahan.records.audit import link_pending, verify_chain
from pengesahan.records.base import db
from pengesahan.records.schema import current_version, upgrade
from pengesahan.records.seed import seed_catalogue

__all__ = ["audit_group", "db_group", "prepare_database"]


def prepare_database() -> list[int]:
    """Create/upgrade the schema and seed the default configuration."""
    db.connect(reuse_if_open=True)
    applied = upgrade()
    seed_catalogue()
    return applied


@click.group("db", help="Skema basis data.")
def db_group():
    pass


@db_group.command("upgrade", help="Buat atau perbarui skema dan isi konfigurasi awal.")
@with_appcontext
def db_upgrade():
    applied = prepare_database()
    click.echo(f"Skema versi {current_version()}" + (f" (diterapkan: {applied})" if applied else " (sudah terbaru)"))


@click.group("audit", help="Log audit.")
def audit_group():
    pass


@audit_group.command("verify", help="Periksa rantai hash log audit.")
@with_appcontext
def audit_verify():
    db.connect(reuse_if_open=True)
    linked = link_pending()
    report = verify_chain()
    if report.ok:
        click.echo(f"Rantai audit utuh: {report.entries} entri"
                   + (f" ({linked} entri tertunda baru ditautkan)." if linked else "."))
        return
    click.echo(f"Rantai audit RUSAK pada entri #{report.first_broken_id}: {report.reason}", err=True)
    sys.exit(1)
