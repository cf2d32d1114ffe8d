"""``verify FILE``: the public verification, from the command line.

Scripts run it on every PP they receive, so it starts without the web application: it is a
Flask plugin command (``flask.commands`` entry point in pyproject.toml), which ``flask`` finds
without building the app, and it loads only the settings, the register of issued PPs, the SKs
and the trust roots.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pengesahan import records
from pengesahan.config import load_settings
from pengesahan.errors import ServiceError
from pengesahan.records.base import db
from pengesahan.services.verification import registered_agreement, sk_pendelegasian, verifier

__all__ = ["verify_command"]


@click.command("verify", help="Verifikasi tanda tangan PDF Perjanjian Penempatan. "
               "Keluar 0 bila sah, 1 bila ada yang gagal, 2 bila berkas bukan PDF.")
@click.option("--json", "as_json", is_flag=True, help="Laporan sebagai JSON.")
@click.argument("file", type=click.Path(path_type=Path))
def verify_command(as_json: bool, file: Path):
    # pyHanko's validation stack loads only for this command, not for every `flask` call.
    from signing.verify import verify_main

    settings = load_settings()
    records.bind(settings)
    db.connect(reuse_if_open=True)
    try:
        code, text = verify_main(file, as_json=as_json, trust_roots=verifier(settings).trust_roots,
                                 registry_lookup=registered_agreement, delegation_lookup=sk_pendelegasian)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        db.close()
    click.echo(text)
    sys.exit(code)
