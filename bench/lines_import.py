"""``saldo lines import`` of a CSV file beside the raw database inserting the same rows, on
the same machine in the same run, on SQLite.

    .venv/bin/python bench/lines_import.py                  # 20,000 and 200,000 lines, 3 rounds
    .venv/bin/python bench/lines_import.py --lines 100000 --rounds 5

The file holds N Personal Argentina mobile numbers in E.164 (``+549261…``, up to seven
million), as an operator's migration would; the database is the seven demo operators'
catalog and nothing else, copied afresh for every run.

- Saldo: the command itself, ``saldo lines import FILE --json``, in its own process: the CSV
  read, every number checked against the operator's country, every row's duplicate,
  quarantine and ICCID rules, the lines and their main buckets written in chunks.
- raw: a Python process with the standard library's ``sqlite3`` (Saldo's connection
  settings: WAL, synchronous=FULL, foreign keys) reading the same file with ``csv`` and, per
  chunk of as many rows as Saldo's, in one transaction: one ``executemany`` of the lines,
  their ids read back by number, one ``executemany`` of their buckets. No checks at all.

The two sides alternate (which goes first alternates too) and each keeps its best round.
The machine is shared, so the figure to compare is CPU time (user + system, of the process
and its children), printed beside wall time; the command's own start (the same command on a
file with no rows) is printed too, and the rate without it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from saldo.adapters.clock import FixedClock
from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.migrate import upgrade
from saldo.bootstrap import Saldo
from saldo.catalog.schema import bundled_specs
from saldo.config import Settings
from saldo.services.operators import register_operator

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
OPERATOR = "personal-ar"
CHUNK = 1000  # rows per transaction on both sides (Saldo's import_lines default)
SALDO = Path(sys.executable).with_name("saldo")

RAW = r"""
import csv, sqlite3, sys
database, file, chunk, valid_until, now = sys.argv[1:6]
chunk = int(chunk)
connection = sqlite3.connect(database, isolation_level=None)
for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
    connection.execute("PRAGMA " + pragma)
operators = {
    slug: (operator_id, currency, language)
    for operator_id, slug, currency, language in connection.execute(
        "SELECT id, slug, currency, 'es' FROM operators"
    )
}
add_lines = (
    "INSERT INTO lines (operator_id, msisdn, iccid, sim_kind, language, state, activated_at, "
    "valid_until, state_changed_at, created_at) VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?, ?)"
)
add_buckets = (
    "INSERT INTO accounts (operator_id, line_id, kind, unit, balance, created_at) "
    "VALUES (?, ?, 'main', ?, 0, ?)"
)
with open(file, newline="", encoding="utf-8") as handle:
    reader = csv.reader(handle)
    next(reader)
    rows = []
    def flush(rows):
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(add_lines, [
            (operators[slug][0], msisdn, None, "physical", operators[slug][2], now, valid_until,
             now, now)
            for msisdn, slug in rows
        ])
        numbers = [msisdn for msisdn, _ in rows]
        marks = ",".join("?" * len(numbers))
        ids = dict(connection.execute(
            f"SELECT msisdn, id FROM lines WHERE msisdn IN ({marks}) AND state <> 'recycled'",
            numbers,
        ))
        connection.executemany(add_buckets, [
            (operators[slug][0], ids[msisdn], operators[slug][1], now) for msisdn, slug in rows
        ])
        connection.execute("COMMIT")
    for msisdn, slug in reader:
        rows.append((msisdn, slug))
        if len(rows) == chunk:
            flush(rows)
            rows = []
    if rows:
        flush(rows)
"""


@dataclass(frozen=True, slots=True)
class Took:
    cpu_s: float
    wall_s: float


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], *, env: dict[str, str]) -> tuple[Took, str]:
    cpu, wall = children_cpu(), time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    took = Took(children_cpu() - cpu, time.perf_counter() - wall)
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return took, done.stdout


def build_template(path: Path) -> None:
    url = f"sqlite:///{path}"
    saldo = Saldo(
        settings=Settings(database_url=url), engine=make_engine(url), clock=FixedClock(NOW)
    )
    upgrade(saldo.engine)
    for spec in bundled_specs():
        register_operator(
            saldo.uow(), operator=spec.to_operator(), spec=spec.model_dump(mode="json"), now=NOW
        )
    saldo.engine.dispose()


def number(i: int) -> str:
    """The i-th of up to 7,000,000 valid Mendoza mobile numbers (+54 9 261 2xx xxxx to
    8xx xxxx)."""
    return f"+549261{2 + i // 1_000_000}{i % 1_000_000:06d}"


def write_csv(path: Path, lines: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("msisdn,operator\n")
        handle.writelines(f"{number(i)},{OPERATOR}\n" for i in range(lines))


def fresh_copy(template: Path, workdir: Path, name: str) -> Path:
    database = workdir / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, database)
    return database


def count_lines(database: Path) -> int:
    import sqlite3

    with sqlite3.connect(database) as connection:
        found = connection.execute(
            "SELECT count(*) FROM lines JOIN accounts ON accounts.line_id = lines.id"
        ).fetchone()
    return int(found[0])


def saldo_import(template: Path, workdir: Path, file: Path) -> Took:
    database = fresh_copy(template, workdir, "saldo.db")
    env = {**os.environ, "SALDO_DATABASE_URL": f"sqlite:///{database}"}
    took, out = timed([str(SALDO), "lines", "import", str(file), "--json"], env=env)
    report = json.loads(out)
    assert not report["rejected"], report["rejected"][:3]
    assert count_lines(database) == report["imported"]
    return took


def raw_import(template: Path, workdir: Path, file: Path, *, lines: int) -> Took:
    database = fresh_copy(template, workdir, "raw.db")
    moment = f"{NOW:%Y-%m-%d %H:%M:%S.%f}"
    command = [sys.executable, "-c", RAW, str(database), str(file), str(CHUNK), moment, moment]
    took, _ = timed(command, env=dict(os.environ))
    assert count_lines(database) == lines
    return took


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, action="append", help="a size (repeatable)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        workdir = Path(name)
        template = workdir / "template.db"
        build_template(template)
        empty = workdir / "empty.csv"
        write_csv(empty, 0)
        start = min(
            (saldo_import(template, workdir, empty) for _ in range(args.rounds)),
            key=lambda t: t.cpu_s,
        )
        print(f"the command's start (no rows): {start.cpu_s:.2f} s CPU, {start.wall_s:.2f} s wall")
        print(
            "lines       side   CPU s  wall s  lines/s CPU  lines/s wall  "
            "lines/s CPU after start  raw/Saldo (CPU)"
        )
        for lines in sorted(args.lines or [20_000, 200_000]):
            file = workdir / f"lines-{lines}.csv"
            write_csv(file, lines)
            best: dict[str, Took] = {}
            for round_ in range(args.rounds):
                sides = ["saldo", "raw"] if round_ % 2 == 0 else ["raw", "saldo"]
                for side in sides:
                    took = (
                        saldo_import(template, workdir, file)
                        if side == "saldo"
                        else raw_import(template, workdir, file, lines=lines)
                    )
                    if side not in best or took.cpu_s < best[side].cpu_s:
                        best[side] = took
            for side in ("saldo", "raw"):
                took = best[side]
                after = lines / max(took.cpu_s - start.cpu_s, 1e-9) if side == "saldo" else None
                ratio = (
                    f"{best['raw'].cpu_s / best['saldo'].cpu_s:>14.2f}x" if side == "saldo" else ""
                )
                print(
                    f"{lines:>9,}  {side:>5}  {took.cpu_s:>6.2f}  {took.wall_s:>6.2f}  "
                    f"{lines / took.cpu_s:>11,.0f}  {lines / took.wall_s:>12,.0f}  "
                    f"{'' if after is None else f'{after:>23,.0f}':>23}  {ratio}"
                )


if __name__ == "__main__":
    main()
