"""``verify FILE``: the public verification, from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from pengesahan.records.base import db
from pengesahan.services.verification import registered_agreement, sk_pendelegasian, verifier

__all__ = ["verify_command"]


@click.command("verify", help="Verifikasi tanda tangan PDF Perjanjian Penempatan. "
               "Keluar 0 bila sah, 1 bila ada yang gagal, 2 bila berkas bukan PDF.")
@click.option("--json", "as_json", is_flag=True, help="Laporan sebagai JSON.")
@click.argument("file", type=click.Path(path_type=Path))
@with_appcontext
def verify_command(as_json: bool, file: Path):
    # pyHanko's validation stack loads only for this command, not for every `flask` call.
    from signing.verify import verify_main

    db.connect(reuse_if_open=True)
    code, text = verify_main(file, as_json=as_json, trust_roots=verifier(current_app.config["SETTINGS"]).trust_roots,
                             registry_lookup=registered_agreement, delegation_lookup=sk_pendelegasian)
    click.echo(text)
    sys.exit(code)
