"""A PP kept valid for decades: the daily renewal run at +4, +9, +14, +19 and +24 years, the
demo TSA's certificate rolled over on the way (and its root once that would not outlive it),
the renewed file TOTAL_PASSED offline at +6, +12 and +25 years, in the product's pyHanko
validation and through ``flask verify``; a PP never renewed is left open (INDETERMINATE).

The module has an installation and a demo PKI of its own (rolling the TSA over must not touch
the session's PKI). Time travel: pyHanko's explicit validation time where the code takes one;
``time-machine`` for ``flask ltv renew`` and ``flask verify``, which read the clock as an
operator runs them (the TSA, OCSP and CRLs of the demo PKI answer at the travelled time too).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from pengesahan.records.base import db
from tests.support.agreements import _pki_app, signed_agreement
from tests.support.signing import PASSPHRASE, free_port

time_machine = pytest.importorskip("time_machine", reason="time-machine tidak terpasang (pip install -e '.[test]')")

#: When the daily renewal runs (days after the PKI was made): the TSA certificate lives 1826
#: days, so each run falls inside the renewal window (``--before``) of the one before.
RENEWALS = (1460, 3270, 5080, 6890, 8700)
BEFORE_DAYS = 400
YEAR = timedelta(days=365.25)


@pytest.fixture(scope="module")
def decades(tmp_path_factory, redis_url):
    """An installation with a fresh demo PKI of its own, served from the installation's copy."""
    from signing.demo_pki import DemoPKI

    source = DemoPKI.create(tmp_path_factory.mktemp("pki-src") / "pki", f"http://127.0.0.1:{free_port()}", PASSPHRASE)
    apps = _pki_app(tmp_path_factory.mktemp("ltv-decades"), redis_url, source)
    app = next(apps)
    pki = DemoPKI.open(app.config["SETTINGS"].demo_pki_dir)
    with pki.serve() as server:
        yield app, pki, server
    next(apps, None)




def _verify_at(settings, data: bytes, moment: datetime):
    from pengesahan.services.verification import registered_agreement, sk_pendelegasian, verifier

    return verifier(settings).verify(data, registry_lookup=registered_agreement,
                                     delegation_lookup=sk_pendelegasian, now=moment)


def _cli_verify_at(app, path, moment: datetime) -> tuple[int, dict]:
    from pengesahan.cli.verify import verify_command

    settings = app.config["SETTINGS"]
    # As an operator runs it: from the environment, without the app (see the command's module).
    environment = {"DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url}
    with time_machine.travel(moment):
        result = CliRunner().invoke(verify_command, ["--json", str(path)], env=environment)
    return result.exit_code, json.loads(result.output)


def test_a_pp_renewed_along_the_way_stays_valid_for_25_years(decades, tmp_path):
    from pengesahan.records.agreements import Agreement, SignedVersion
    from pengesahan.storage import file_store

    app, pki, server = decades
    settings = app.config["SETTINGS"]
    store = file_store(settings)
    start = pki.created_at
    with db.connection_context():
        renewed_one, kept_one = signed_agreement(settings), signed_agreement(settings)
        unrenewed = store.read(kept_one.signed_sha256)

    runner = app.test_cli_runner()
    files: dict[int, bytes] = {}
    lapses = [None]
    for days in RENEWALS:
        with time_machine.travel(start + timedelta(days=days)):
            result = runner.invoke(args=["ltv", "renew", "--before", str(BEFORE_DAYS),
                                         "--agreement", str(renewed_one.id)])
        assert result.exit_code == 0, result.output
        assert f"(id {renewed_one.id}): diperbarui" in result.output, result.output
        with db.connection_context():
            current = Agreement.get_by_id(renewed_one.id)
            version = SignedVersion.get(SignedVersion.sha256 == current.signed_sha256)
            files[days] = store.read(current.signed_sha256)
        # Each renewal carries the file further than the one before.
        assert version.lapses_at > start + timedelta(days=days + BEFORE_DAYS), version.lapses_at
        assert lapses[-1] is None or version.lapses_at > lapses[-1]
        lapses.append(version.lapses_at)

    server.stop()  # offline from here on: only what the files carry
    for years, renewed_at in ((6, 1460), (12, 3270), (25, 8700)):
        moment = start + years * YEAR
        report = _verify_at(settings, files[renewed_at], moment)
        assert report.indication.indication == "TOTAL_PASSED", (years, report.verdict, report.timestamps)
        path = tmp_path / f"pp-{years}.pdf"
        path.write_bytes(files[renewed_at])
        code, body = _cli_verify_at(app, path, moment)
        assert code == 0 and body["indication"]["indication"] == "TOTAL_PASSED", (years, body)

    # Never renewed: at +6 years its TSA certificate has expired and nothing proves when it was
    # signed; open, not forged.
    late = _verify_at(settings, unrenewed, start + 6 * YEAR)
    assert late.indication.indication == "INDETERMINATE" and late.status == "indeterminate", late.verdict
    path = tmp_path / "unrenewed.pdf"
    path.write_bytes(unrenewed)
    code, body = _cli_verify_at(app, path, start + 6 * YEAR)
    assert code == 1 and body["indication"]["indication"] == "INDETERMINATE", body
