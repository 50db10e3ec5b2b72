"""The newcomer's journey: ``saldo demo`` on a fresh directory, twice, then the worked
example from the command line, then the server answering on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SALDO = [sys.executable, "-m", "saldo"]


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SALDO_DATABASE_URL": f"sqlite:///{cwd}/saldo.db"}
    return subprocess.run(
        [*SALDO, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def counts(cwd: Path) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(cwd / "saldo.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_the_demo_is_ready_to_use_and_running_it_twice_duplicates_nothing(tmp_path: Path) -> None:
    first = run(tmp_path, "demo", "--no-serve")
    assert first.returncode == 0, first.stderr
    assert "Saldo demo is ready" in first.stdout
    after_first = counts(tmp_path)

    second = run(tmp_path, "demo", "--no-serve")

    assert second.returncode == 0, second.stderr
    assert counts(tmp_path) == after_first
    assert after_first["lines"] == 14 and after_first["operators"] == 7
    with_wal = {p.name for p in tmp_path.iterdir()}
    assert "saldo.db-wal" in with_wal or run(tmp_path, "audit").returncode == 0


def test_the_worked_example_50_plus_30_is_80_from_the_command_line(tmp_path: Path) -> None:
    assert run(tmp_path, "demo", "--no-serve").returncode == 0

    receipt = run(tmp_path, "topup", "+573001234567", "30.000", "--key", "e2e-1", "--json")

    assert receipt.returncode == 0, receipt.stderr
    assert json.loads(receipt.stdout)["balance"] == {
        "amount": "80000.00",
        "currency": "COP",
        "minor": 8000000,
    }
    audit = run(tmp_path, "audit")
    assert audit.returncode == 0 and "Ledger clean" in audit.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_server_answers_health_and_metrics_on_loopback(tmp_path: Path) -> None:
    assert run(tmp_path, "demo", "--no-serve").returncode == 0
    port = _free_port()
    env = {**os.environ, "SALDO_DATABASE_URL": f"sqlite:///{tmp_path}/saldo.db"}
    server = subprocess.Popen(
        [*SALDO, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        health = _get_when_up(f"http://127.0.0.1:{port}/healthz")
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert json.loads(health)["status"] == "ok"
    assert b'saldo_lines{operator="claro-co",state="active"} 2.0' in metrics


def _get_when_up(url: str) -> bytes:
    deadline = time.monotonic() + 30
    while True:
        try:
            return bytes(urllib.request.urlopen(url, timeout=2).read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_the_demo_runs_again_after_a_day_replayed_ahead_recycled_one_of_its_numbers(
    tmp_path: Path,
) -> None:
    # Given the demo, and the README's replay of a day five weeks ahead, which recycles
    # +5491133334444 (set up 100 days ago, never topped up since),
    assert run(tmp_path, "demo", "--no-serve").returncode == 0
    replay = run(tmp_path, "worker", "--once", "--now", "2027-01-10T12:00:00+01:00")
    assert replay.returncode == 0, replay.stderr
    after_replay = counts(tmp_path)

    # When the demo runs again,
    again = run(tmp_path, "demo", "--no-serve")

    # Then it succeeds, adds nothing, leaves the recycled number as it is and says so.
    assert again.returncode == 0, again.stderr
    assert counts(tmp_path) == after_replay
    assert "+5491133334444 was recycled" in again.stdout
    assert "left as it is" in again.stdout
    audit = run(tmp_path, "audit")
    assert audit.returncode == 0, audit.stderr


@pytest.mark.parametrize("command", [["serve"], ["demo"]])
def test_a_busy_port_is_one_line_with_a_hint_and_exit_code_4(
    tmp_path: Path, command: list[str]
) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    with socket.socket() as taken:
        # Given another program listening on the port,
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        # When the server is asked to listen there,
        started = run(tmp_path, *command, "--port", str(port))

    # Then it says so on one line, with what to do, and sets nothing up.
    assert started.returncode == 4
    assert started.stdout == ""
    assert started.stderr == (
        f"saldo: error: cannot listen on 127.0.0.1:{port}: the port is in use; choose another "
        "port with --port or SALDO_PORT\n"
    )
    assert counts(tmp_path)["lines"] == 0


def test_the_demo_serves_on_the_port_it_is_given(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "SALDO_DATABASE_URL": f"sqlite:///{tmp_path}/saldo.db"}
    demo = subprocess.Popen(
        [*SALDO, "demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        health = _get_when_up(f"http://127.0.0.1:{port}/healthz")
    finally:
        demo.terminate()
        shown, _ = demo.communicate(timeout=10)
    assert json.loads(health)["status"] == "ok"
    assert f"curl http://127.0.0.1:{port}/healthz" in shown
