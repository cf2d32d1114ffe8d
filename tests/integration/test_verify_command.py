"""``flask verify`` where the office has not set verification up: a message and an exit code,
not a traceback. (Its verdicts on real PPs: test_ratification, on the demo installation.)"""

from __future__ import annotations

from click.testing import CliRunner

from pengesahan.cli.verify import verify_command


def test_verify_command_on_an_installation_without_trust_roots_says_so(app, settings, tmp_path):
    (tmp_path / "pp.pdf").write_bytes(b"%PDF-1.7\n")
    environment = {"DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url}
    result = CliRunner().invoke(verify_command, [str(tmp_path / "pp.pdf")], env=environment)
    assert result.exit_code == 1
    assert "Layanan verifikasi belum dikonfigurasi" in result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
