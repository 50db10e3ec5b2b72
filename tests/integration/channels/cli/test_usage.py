"""``saldo cdr import`` and ``saldo lines usage`` on SQLite: a file with good, bad and
repeated rows, imported twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from saldo.bootstrap import Saldo
from saldo.channels.cli.main import run
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up

LINE = "+5491155551234"  # movistar-ar

CDRS = """record_id,msisdn,type,start_time,quantity,destination
c1,+5491155551234,voice,2026-11-25T10:00:00-03:00,61,+541143210000
c2,+5491155551234,sms,2026-11-25T10:05:00-03:00,1,+34911234567
bad,+5491155551234,fax,2026-11-25T10:06:00-03:00,1,
c3,+5491155551234,data,2026-11-25T11:00:00,1048576,
c4,+5491155551234,data,2026-11-25T12:00:00-03:00,1048576,
"""


@pytest.fixture
def cli(saldo_sqlite: Saldo, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    now = saldo_sqlite.clock.now()
    add_line(saldo_sqlite.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=now)
    top_up(saldo_sqlite.uow(), msisdn=LINE, amount=Money.of("5000", "ARS"),
           channel=Channel.STORE, idempotency_key="seed", now=now)  # fmt: skip

    def call(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = run(["--database-url", saldo_sqlite.settings.database_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def test_a_file_is_charged_once_and_its_bad_rows_reported(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    file = tmp_path / "cdrs.csv"
    file.write_text(CDRS, encoding="utf-8")

    first = cli("cdr", "import", str(file))
    again = cli("cdr", "import", str(file), "--json")
    code, shown, _ = cli("lines", "usage", LINE, "--json")

    assert first[0] == 3  # some rows were rejected
    # 2 minutes at $150, an SMS abroad at $300, 1 MiB billed as 11 steps of 100 KB at $12/MB
    assert "3 record(s) charged (ARS612.89), 0 already charged, 2 rejected." in first[1]
    assert "row 4: type 'fax' is not voice, sms or data" in first[2]
    assert "row 5: start_time needs its UTC offset" in first[2]
    summary = json.loads(again[1])
    assert (summary["charged"], summary["duplicates"], summary["rejected"]) == (0, 3, 2)
    assert code == 0
    assert {(d["service"], d["events"]) for d in json.loads(shown)} == {
        ("voice", 1), ("sms", 1), ("data", 1),
    }  # fmt: skip


def test_a_file_without_the_columns_is_one_line_on_stderr(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    file = tmp_path / "cdrs.csv"
    file.write_text("id,number\n1,2\n", encoding="utf-8")

    code, out, err = cli("cdr", "import", str(file))

    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "needs the columns" in err


def test_an_absurd_quantity_is_a_bad_row_not_a_crash(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    file = tmp_path / "cdrs.csv"
    file.write_text(
        "record_id,msisdn,type,start_time,quantity,destination\n"
        "x,+5491155551234,data,2026-11-25T12:00:00-03:00,99999999999999999999,\n"
        "y,+5491155551234,data,2026-11-25T12:00:00-03:00,1024,\n",
        encoding="utf-8",
    )

    code, out, err = cli("cdr", "import", str(file))

    assert code == 3
    assert "1 record(s) charged" in out and "row 2: quantity" in err


def test_a_quantity_in_digits_of_another_script_is_a_bad_row(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    file = tmp_path / "cdrs.csv"
    file.write_text(
        "record_id,msisdn,type,start_time,quantity,destination\n"
        "x,+5491155551234,voice,2026-11-25T12:00:00-03:00,٦١,+541143210000\n",
        encoding="utf-8",
    )

    code, out, err = cli("cdr", "import", str(file))

    assert code == 3
    assert "0 record(s) charged" in out and "row 2: quantity" in err
