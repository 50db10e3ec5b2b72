"""``saldo worker`` and the line settings it acts on (``saldo lines email|autotopup``), on
SQLite: one pass as JSON, a replayed day, and bad input as one line on stderr."""

from __future__ import annotations

import json

import pytest

from saldo.bootstrap import Saldo
from saldo.channels.cli.main import run
from saldo.services.lines import NewLine, add_line

LINE = "+32470123456"  # proximus-be, French


@pytest.fixture
def cli(saldo_sqlite: Saldo, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    add_line(
        saldo_sqlite.uow(),
        new_line=NewLine(msisdn=LINE, operator="proximus-be"),
        now=saldo_sqlite.clock.now(),
    )

    def call(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = run(["--database-url", saldo_sqlite.settings.database_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def test_one_pass_reports_each_job_as_json(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli("worker", "--once", "--json")

    assert (code, err) == (0, "")
    report = json.loads(out)
    assert set(report["results"]) == {
        "orders_expired", "charging_sessions_expired", "lifecycle", "reminders_queued",
        "auto_topups", "auto_renewals", "payments", "outbox", "access_forgotten",
    }  # fmt: skip
    assert report["failed"] == []


def test_a_replayed_day_moves_the_line_into_grace(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("worker", "--once", "--json", "--now", "2027-01-10T12:00:00+01:00")

    assert code == 0
    assert json.loads(out)["results"]["lifecycle"]["moved"]["grace"] == 1
    assert json.loads(out)["at"] == "2027-01-10T11:00:00+00:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("worker", "--now", "2027-01-10T12:00:00+01:00"), "use it with --once"),
        (("worker", "--once", "--now", "yesterday"), "not an ISO 8601 time"),
        (("worker", "--once", "--now", "2027-01-10T12:00:00"), "UTC offset"),
        (("worker", "--once", "--now", "9999-12-31T23:59:59+00:00"), "years 2000 to 2199"),
        (("worker", "--once", "--now", "0001-01-01T00:00:00+00:00"), "years 2000 to 2199"),
        (("adjust", LINE, "99999999999999999999", "--bucket", "data", "--reason", "x",
          "--actor", "ana"), "an allowance is at most"),
        (("lines", "email", LINE, "not-an-address"), "is not an email address"),
        (("lines", "alert", LINE, "--below", "0"), "an amount above zero"),
        (("lines", "autotopup", LINE, "--below", "2", "--amount", "10"), "--token"),
        (
            ("lines", "autotopup", LINE, "--below", "2", "--amount", "10", "--token",
             "4242424242424242"),
            "card number",
        ),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_on_stderr(cli, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli(*args)

    assert code != 0 and out == ""
    assert err.count("\n") == 1 and message in err


def test_a_line_chooses_its_low_balance_threshold(cli) -> None:  # type: ignore[no-untyped-def]
    own = cli("lines", "alert", LINE, "--below", "3,50")
    back = cli("lines", "alert", LINE, "--default")

    assert own[0] == 0 and "is warned below 3,50\u00a0€ (its own threshold)" in own[1]
    assert back[0] == 0 and "is warned below 2,00\u00a0€ (the operator's threshold)" in back[1]


def test_a_line_gets_an_email_and_an_auto_top_up(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("lines", "email", LINE, "ana@example.org")
    on = cli("lines", "autotopup", LINE, "--below", "2,00", "--amount", "10",
             "--token", "tok_approve")  # fmt: skip
    off = cli("lines", "autotopup", LINE, "--off")

    assert (code, out.strip()) == (
        0,
        f"{LINE}: a***@example.org (not proven by a code: no sign-in codes go there).",
    )
    assert on[0] == 0
    assert "10,00\u00a0€ whenever main money falls below 2,00\u00a0€" in on[1]
    assert off[0] == 0 and "is off" in off[1]
