"""``saldo lines history`` on SQLite and PostgreSQL: the month's movements as a table, JSON,
the statement's CSV and PDF; a bad month or an unknown number is one line on stderr."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from saldo.bootstrap import Saldo
from saldo.channels.cli.main import run
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.buy_plan import buy_plan
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up

LINE = "+5491155551234"  # movistar-ar


@pytest.fixture
def cli(saldo: Saldo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    now = saldo.clock.now()
    monkeypatch.setenv("SALDO_FROZEN_NOW", now.isoformat())  # "this month" is November 2026
    add_line(saldo.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=now)
    top_up(saldo.uow(), msisdn=LINE, amount=Money.of("10000", "ARS"),
           channel=Channel.STORE, idempotency_key="seed", now=now)  # fmt: skip
    buy_plan(saldo.uow(), msisdn=LINE, plan_code="pack-mensual-1m", channel=Channel.SMS,
             idempotency_key="plan", now=now)  # fmt: skip

    def call(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = run(["--database-url", saldo.settings.database_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def test_the_table_shows_the_month_s_movements_and_balances(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli("lines", "history", LINE, "--month", "2026-11")

    assert (code, err) == (0, "")
    assert "opening ARS0.00, closing ARS1,000.00" in out
    assert "│ 22 12:00 │ topup " in out and "│ 22 12:00 │ plan " in out
    assert "Pack" in out and "ARS1,000.00" in out
    assert "In ARS10,000.00, out -ARS9,000.00" in out


def test_json_and_csv_carry_every_movement(cli) -> None:  # type: ignore[no-untyped-def]
    _, shown, _ = cli("lines", "history", LINE, "--json")
    _, written, _ = cli("lines", "history", LINE, "--csv")

    statement = json.loads(shown)
    rows = list(csv.DictReader(io.StringIO(written)))
    assert [m["kind"] for m in statement["movements"]] == ["topup", "plan"]
    assert statement["closing"]["minor"] == 100_000
    assert statement["movements"][0]["receipt"] == "MOVISTAR-AR-T-000000001"
    assert [(r["kind"], r["amount"], r["channel"]) for r in rows] == [
        ("topup", "10000.00", "store"), ("plan", "-9000.00", "sms"),
    ]  # fmt: skip


def test_the_pdf_is_written_to_the_file_asked(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "statement.pdf"

    code, out, _ = cli("lines", "history", LINE, "--pdf", str(target))

    assert code == 0
    assert f"PDF written to {target}" in out
    assert target.read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--month", "2026-13"), "saldo: error: month '2026-13' has no month 13\n"),
        (("--month", "2027-01"), "saldo: error: month '2027-01' is out of range"),
        (("--json", "--csv"), "choose --json or --csv, not both"),
    ],
)
def test_a_bad_month_or_both_formats_is_one_line_on_stderr(cli, args, message) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli("lines", "history", LINE, *args)

    assert code != 0 and out == ""
    assert err.count("\n") == 1 and message in err


def test_an_unknown_number_is_refused(cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("lines", "history", "+5491199990000")

    assert code == 1
    assert err == "saldo: error: no line with number +5491199990000\n"
