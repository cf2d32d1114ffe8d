"""``pki rollover-tsa``: a new certificate for the demo PKI's time-stamping authority, by hand."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from pengesahan.errors import ServiceError
from pengesahan.records.base import db
from pengesahan.services import pki

__all__ = ["pki_group"]


@click.group("pki", help="PKI demo: sertifikat TSA dan root CA.")
def pki_group():
    pass


@pki_group.command("rollover-tsa", help="Terbitkan kunci dan sertifikat baru untuk TSA PKI demo sekarang "
                   "(dan root CA generasi baru bila root saat ini berakhir lebih dulu). `ltv renew` "
                   "melakukannya sendiri setiap tahun.")
@with_appcontext
def rollover_tsa_command():
    db.connect(reuse_if_open=True)
    try:
        outcome = pki.rollover_tsa(current_app.config["SETTINGS"], "cli")
    except ServiceError as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    click.echo(outcome.message)
