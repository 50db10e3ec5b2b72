"""``saldo vouchers generate``: PINs reach their file or no voucher exists at all."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from saldo.bootstrap import Saldo
from saldo.channels.cli.main import run
from saldo.services.vouchers import list_batches


def generate(saldo: Saldo, out: Path) -> int:
    return run(
        [
            "--database-url",
            saldo.settings.database_url,
            "vouchers",
            "generate",
            "--operator",
            "claro-co",
            "--value",
            "10.000",
            "--count",
            "3",
            "--expires",
            "2027-06-30",
            "--out",
            str(out),
        ]
    )


def test_the_pins_go_to_a_new_file_only_its_owner_can_read(
    saldo_sqlite: Saldo, tmp_path: Path
) -> None:
    out = tmp_path / "cards.csv"

    assert generate(saldo_sqlite, out) == 0

    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "serial,pin,value,currency,expires"
    assert len(lines) == 4
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert list_batches(saldo_sqlite.uow(), now=saldo_sqlite.clock.now())[0].count == 3


@pytest.mark.parametrize("where", ["exists", "no-such-directory"])
def test_a_file_that_cannot_be_written_leaves_no_voucher_behind(
    saldo_sqlite: Saldo, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    out = tmp_path / "cards.csv"
    if where == "exists":
        out.write_text("keep me", encoding="utf-8")
    else:
        out = tmp_path / "missing" / "cards.csv"

    code = generate(saldo_sqlite, out)

    errors = capsys.readouterr().err.splitlines()
    assert code == 1
    assert len(errors) == 1 and errors[0].startswith("saldo: error: ")
    assert list_batches(saldo_sqlite.uow(), now=saldo_sqlite.clock.now()) == []
    if where == "exists":
        assert out.read_text(encoding="utf-8") == "keep me"


def test_a_clerk_redeeming_a_pin_the_line_already_used_is_told_nothing_was_credited(
    saldo_sqlite: Saldo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cards.csv"
    assert generate(saldo_sqlite, out) == 0
    pin = out.read_text(encoding="utf-8").splitlines()[1].split(",")[1]
    url = ["--database-url", saldo_sqlite.settings.database_url]
    assert run([*url, "lines", "add", "+573001234567", "--operator", "claro-co"]) == 0
    assert run([*url, "vouchers", "redeem", "+573001234567", pin]) == 0
    capsys.readouterr()

    code = run([*url, "vouchers", "redeem", "+573001234567", pin])

    shown = capsys.readouterr().out
    assert code == 0
    assert "(already applied to this line: no new credit)" in shown
    assert run([*url, "balance", "+573001234567", "--json"]) == 0
    assert '"minor": 1000000' in capsys.readouterr().out
