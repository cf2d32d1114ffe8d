"""``ltv renew``: the long-term upkeep of signed PPs (PAdES-LTA renewal), by hand; it also rolls
the demo TSA over when its certificate is a year old, and says so."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from pengesahan.errors import ServiceError
from pengesahan.records.base import db
from pengesahan.services import ltv, pki

__all__ = ["ltv_group"]

_LABELS = {ltv.RENEWED: "diperbarui", ltv.NOT_DUE: "belum perlu", ltv.DUE: "akan diperbarui",
           ltv.FAILED: "GAGAL"}


@click.group("ltv", help="Pemeliharaan jangka panjang PP bertanda tangan (PAdES-LTA).")
def ltv_group():
    pass


@ltv_group.command("renew", help="Tambahkan data pencabutan baru dan cap waktu arsip pada setiap PP "
                   "yang cap waktu terbarunya berakhir dalam DAYS hari. TSA PKI demo yang sertifikatnya sudah "
                   "setahun dipakai lebih dulu diberi sertifikat baru. Keluar 0 bila tidak ada yang gagal, "
                   "1 bila ada.")
@click.option("--before", "before_days", type=click.IntRange(min=0), default=ltv.DEFAULT_BEFORE_DAYS,
              show_default=True, metavar="DAYS", help="Perbarui PP yang cap waktunya berakhir dalam sekian hari.")
@click.option("--dry-run", is_flag=True, help="Hanya tampilkan PP yang akan diperbarui.")
@click.option("--agreement", "agreement_ids", type=int, multiple=True, help="Hanya PP dengan id ini (boleh berulang).")
@with_appcontext
def renew_command(before_days: int, dry_run: bool, agreement_ids: tuple[int, ...]):
    db.connect(reuse_if_open=True)
    settings = current_app.config["SETTINGS"]
    if not dry_run:
        # The renewal would do it too; done here first so that the operator is told.
        try:
            rolled = pki.ensure_current_tsa(settings)
        except ServiceError as exc:
            click.echo(f"Sertifikat TSA tidak dapat diperbarui: {exc.message}", err=True)
        else:
            if rolled is not None:
                click.echo(rolled.message)
    outcomes = ltv.renew(settings, before_days=before_days, dry_run=dry_run,
                         agreement_ids=agreement_ids or None)
    for outcome in outcomes:
        click.echo(f"{outcome.number} (id {outcome.agreement_id}): {_LABELS[outcome.state]}. {outcome.message}")
    counts = {label: sum(o.state == state for o in outcomes) for state, label in _LABELS.items()}
    click.echo(f"{len(outcomes)} PP diperiksa"
               + "".join(f", {count} {label}" for label, count in counts.items() if count) + ".")
    sys.exit(0 if all(o.ok for o in outcomes) else 1)
