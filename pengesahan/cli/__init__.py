"""Commands of ``flask --app app``: db, audit, demo, up, worker, classify, model, backup, restore,
ltv, pki; and ``verify``, a plugin command that runs without the app (see its module).

Thin: each parses its arguments, calls a service and turns its outcome into text and an exit code.
"""

from __future__ import annotations

from flask import Flask

from pengesahan.cli import database, ltv, maintenance, pki, run, scans

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    for command in (database.db_group, database.audit_group, run.demo_command, run.worker_command,
                    run.up_command, scans.classify_command, scans.model_group,
                    maintenance.backup_command, maintenance.restore_command, ltv.ltv_group,
                    pki.pki_group):
        app.cli.add_command(command)
