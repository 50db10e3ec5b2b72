"""More calls than one process carries: the ``pjsua2-python`` wheel answers at most 4 calls at
once per process (docs/hotline.md), so an operator runs several ``saldo hotline`` processes on
several ports over one database, behind the SBC. Here two of them, each taking 4 SIPp calls
at a time through the real dialogue and speech."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.sipp import free_sip_port, require_sipp, run_sipp

pytestmark = [pytest.mark.slow, pytest.mark.sip]

SALDO = [sys.executable, "-m", "saldo"]


@pytest.fixture
def demo_folder(tmp_path: Path) -> Path:
    require_sipp()
    env = {**os.environ, "SALDO_DATABASE_URL": f"sqlite:///{tmp_path}/saldo.db"}
    done = subprocess.run(
        [*SALDO, "demo", "--no-serve"], cwd=tmp_path, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return tmp_path


def hotline(folder: Path, port: int, rtp_port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "SALDO_DATABASE_URL": f"sqlite:///{folder}/saldo.db",
        "SALDO_HOTLINE_PORT": str(port),
        "SALDO_HOTLINE_RTP_PORT": str(rtp_port),
    }
    return subprocess.Popen(
        [*SALDO, "hotline"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=(folder / f"hotline-{port}.log").open("w"),
        text=True,
    )


@pytest.fixture
def two_hotlines(demo_folder: Path) -> Iterator[list[int]]:
    """Two ``saldo hotline`` processes on the demo database: their SIP ports."""
    ports = [free_sip_port(), free_sip_port()]
    processes = [
        hotline(demo_folder, port, rtp_port)
        for port, rtp_port in zip(ports, (free_sip_port(), free_sip_port()), strict=True)
    ]
    try:
        for process, port in zip(processes, ports, strict=True):
            assert process.stdout is not None
            started = process.stdout.readline()
            assert started == f"Hotline on sip:127.0.0.1:{port} (UDP and TCP); Ctrl-C stops it.\n"
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.communicate(timeout=30)
    # Each stopped cleanly on SIGTERM, its calls hung up.
    assert [process.returncode for process in processes] == [0, 0]


def test_two_hotline_processes_take_eight_calls_at_once(
    two_hotlines: list[int], demo_folder: Path
) -> None:
    # When 20 demo lines' callers call, 10 to each process, 4 at a time on each (8 at once),
    # each pressing 1 for the balance and hanging up a second later
    def callers(port: int, dialled: str, caller: str) -> str:
        folder = demo_folder / f"callers-{port}"
        folder.mkdir()
        return run_sipp(
            "menu",
            port=port,
            folder=folder,
            dialled=dialled,
            keys={"caller": caller},
            pause_ms=1000,
            calls=10,
            at_once=4,
        )

    with ThreadPoolExecutor(2) as pool:
        placed = [
            pool.submit(callers, two_hotlines[0], "123", "+573001234567"),
            pool.submit(callers, two_hotlines[1], "121", "+5491123456789"),
        ]
        messages = [calls.result(timeout=180) for calls in placed]

    # Then every call went through (SIPp exits non-zero when one did not, and run_sipp then
    # fails the test): none turned away busy, each process answered its ten
    for log in messages:
        assert "486 Busy Here" not in log
    for port in two_hotlines:
        answered = (demo_folder / f"hotline-{port}.log").read_text()
        assert len(re.findall(r"hotline call \S+ to \d+ from ", answered)) == 10
