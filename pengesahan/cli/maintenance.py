"""``backup DIR`` and ``restore ARCHIVE``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from pengesahan.errors import ServiceError
from pengesahan.services.backup import backup, restore

__all__ = ["backup_command", "restore_command"]


def _passphrase(confirm: bool) -> str:
    value = current_app.config["SETTINGS"].backup_passphrase
    if value:
        return value
    return click.prompt("Frasa sandi cadangan", hide_input=True, confirmation_prompt=confirm)


@click.command("backup", help="Cadangkan basis data, berkas tersimpan dan kunci (terenkripsi) ke DIR.")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Sama dengan DIR.")
@with_appcontext
def backup_command(directory: Path | None, out_dir: Path | None):
    out_dir = directory or out_dir
    if out_dir is None:
        raise click.UsageError("Sebutkan direktori tujuan: flask --app app backup DIR")
    try:
        report = backup(current_app.config["SETTINGS"], out_dir, _passphrase(confirm=True))
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Cadangan dibuat: {report.archive} ({report.members} anggota, basis data {report.database}).")


@click.command("restore", help="Pulihkan instalasi dari ARSIP cadangan setelah memeriksa keutuhannya.")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Timpa basis data yang sudah berisi data.")
@with_appcontext
def restore_command(archive: Path, force: bool):
    try:
        report = restore(current_app.config["SETTINGS"], archive, _passphrase(confirm=False), force=force)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Dipulihkan dari {report.archive}: {report.members} anggota, basis data {report.database}.")
