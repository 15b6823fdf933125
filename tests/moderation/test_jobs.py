"""The expiry job runs daily shortly after midnight WIB, and operators can run it by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from backend.jobs import seconds_until_next_run
from tests.app_process import run_in_process


def test_the_next_run_is_ten_past_midnight_in_jakarta():
    # 23:00 WIB on 23 November is 16:00 UTC: the next run is 70 minutes later.
    assert seconds_until_next_run(datetime(2026, 11, 23, 16, 0, tzinfo=UTC)) == 70 * 60
    # 00:10 WIB exactly has just run: the next one is a day later.
    assert seconds_until_next_run(datetime(2026, 11, 23, 17, 10, tzinfo=UTC)) == 24 * 3600


def test_operators_run_the_expiry_job_from_the_command_line(tmp_path, monkeypatch, capsys):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "MEDIA_DIR": str(tmp_path / "media")}
    outputs = [
        run_in_process(monkeypatch, capsys, *command, **env)
        for command in (
            ["migrate"],
            ["load-demo"],
            ["run-expiry", "--date", "2026-11-23"],
            ["run-expiry", "--date", "2026-11-23"],
        )
    ]
    assert "expiry run for 2026-11-23" in outputs[-1]
    assert "0 expired, 0 listings hidden" in outputs[-1]
