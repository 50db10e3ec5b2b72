"""The line import benchmark's sides do the work they claim (no timing is asserted): Saldo's
side imports every row through the command, the raw side writes as many lines, each with its
main bucket in the operator's currency."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench import lines_import as bench


def test_both_sides_write_every_line_with_its_main_bucket(tmp_path: Path) -> None:
    template = tmp_path / "template.db"
    bench.build_template(template)
    file = tmp_path / "lines.csv"
    bench.write_csv(file, 30)

    bench.saldo_import(template, tmp_path, file)
    bench.raw_import(template, tmp_path, file, lines=30)

    written = {}
    for side in ("saldo", "raw"):
        with sqlite3.connect(tmp_path / f"{side}.db") as connection:
            written[side] = connection.execute(
                "SELECT l.msisdn, l.state, l.sim_kind, a.kind, a.unit, a.balance "
                "FROM lines l JOIN accounts a ON a.line_id = l.id ORDER BY l.msisdn"
            ).fetchall()
    assert len(written["saldo"]) == 30
    assert written["saldo"] == written["raw"]
    assert written["saldo"][0] == (bench.number(0), "active", "physical", "main", "ARS", 0)
