"""``saldo serve --workers 2`` as real processes, on SQLite and PostgreSQL: two server
processes share the one socket (either answers alone while the other is stopped), a network
element's key revoked by ``saldo charging revoke`` is refused by each of them at its next
request, SIGTERM stops them all, and a server process that dies stops the server with one
line and exit 1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import quote

import pytest

from saldo.bootstrap import Saldo
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.lines import NewLine, add_line
from saldo.services.network_elements import register_element
from saldo.services.top_up import top_up
from tests.serving import free_port

SALDO = [sys.executable, "-m", "saldo"]
LINES = [f"+54926150{i:05d}" for i in range(8)]  # Personal Argentina, Mendoza
KEY = "ne_msc_one"


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str

    def children(self) -> list[int]:
        found = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        return [int(pid) for pid in found.split()]


@pytest.fixture
def lines(saldo: Saldo) -> Saldo:
    for number in LINES:
        add_line(
            saldo.uow(),
            new_line=NewLine(msisdn=number, operator="personal-ar"),
            now=saldo.clock.now(),
        )
        top_up(
            saldo.uow(),
            msisdn=number,
            amount=Money.of("1000", "ARS"),
            channel=Channel.STORE,
            idempotency_key=f"t-{number}",
            now=saldo.clock.now(),
        )
    register_element(
        saldo.uow(),
        operator_slug="personal-ar",
        name="msc-1",
        key_hash=saldo.element_key_hash(KEY),
        now=saldo.clock.now(),
    )
    return saldo


@contextmanager
def serving(saldo: Saldo, tmp_path: Path, *, workers: int) -> Iterator[Server]:
    port = free_port()
    env = {
        **os.environ,
        "SALDO_DATABASE_URL": saldo.settings.database_url,
        "SALDO_ENVIRONMENT": "test",
        "SALDO_LOG_LEVEL": "warning",
        # the lines' day, whatever today is
        "SALDO_FROZEN_NOW": saldo.clock.now().isoformat(),
    }
    process = subprocess.Popen(
        [*SALDO, "serve", "--port", str(port), "--workers", str(workers)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = Server(process, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while len(server.children()) < workers or not _answers(server.url + "/healthz"):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status) == 200
    except OSError:
        return False


def inquire(url: str, number: str) -> str:
    query = f"/channels/sms/inbound?from={quote(number)}&to=100&text=SALDO"
    with urllib.request.urlopen(url + query, timeout=10) as response:
        return str(response.read().decode())


def test_two_server_processes_share_the_port_and_sigterm_stops_them_all(
    lines: Saldo, tmp_path: Path
) -> None:
    with serving(lines, tmp_path, workers=2) as server:
        # Given two server processes, one of them stopped (it accepts nothing),
        first, second = server.children()
        os.kill(first, signal.SIGSTOP)
        try:
            # when inquiries arrive on fresh connections, the other answers every one;
            with ThreadPoolExecutor(4) as pool:
                alone = list(pool.map(lambda n: inquire(server.url, n), LINES * 2))
        finally:
            os.kill(first, signal.SIGCONT)
        os.kill(second, signal.SIGSTOP)
        try:
            with ThreadPoolExecutor(4) as pool:
                other = list(pool.map(lambda n: inquire(server.url, n), LINES * 2))
        finally:
            os.kill(second, signal.SIGCONT)

        # and SIGTERM to the server stops both processes, with exit code 0.
        server.process.send_signal(signal.SIGTERM)
        _, err = server.process.communicate(timeout=30)

    # (every line has the same balance and validity: one reply, a balance.)
    assert len(set(alone + other)) == 1 and "saldo" in alone[0].lower(), alone[:1]
    assert server.process.returncode == 0, err
    for pid in (first, second):
        assert not Path(f"/proc/{pid}").exists() or _zombie(pid)


def opens_a_session(url: str, session: str) -> int:
    """The status of a charging session opened with the element's key."""
    request = urllib.request.Request(
        url + "/api/v1/charging/sessions",
        method="POST",
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        data=(
            f'{{"session_id": "{session}", "msisdn": "{LINES[0]}", "service": "voice", '
            '"destination": "+541143210000", "requested": 60}'
        ).encode(),
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def alone(server: Server, pid: int, ask: Callable[[], int]) -> int:
    """``ask``, answered by the server process ``pid``: its sibling is stopped meanwhile."""
    (other,) = [child for child in server.children() if child != pid]
    os.kill(other, signal.SIGSTOP)
    try:
        return ask()
    finally:
        os.kill(other, signal.SIGCONT)


def test_a_revoked_key_is_refused_by_each_server_process_at_its_next_request(
    lines: Saldo, tmp_path: Path
) -> None:
    with serving(lines, tmp_path, workers=2) as server:
        first, second = server.children()
        # Given a key each server process has accepted,
        before = [
            alone(server, pid, partial(opens_a_session, server.url, f"b{pid}"))
            for pid in (first, second)
        ]

        # when the operator revokes it (another process: the CLI),
        revoked = subprocess.run(
            [
                *SALDO,
                "--database-url",
                lines.settings.database_url,
                "charging",
                "revoke",
                "--operator",
                "personal-ar",
                "--name",
                "msc-1",
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={
                **os.environ,
                "SALDO_ENVIRONMENT": "test",
                "SALDO_FROZEN_NOW": lines.clock.now().isoformat(),
            },
        )

        # then each process refuses it from its next request.
        after = [
            alone(server, pid, partial(opens_a_session, server.url, f"a{pid}"))
            for pid in (first, second)
        ]

    assert revoked.returncode == 0, revoked.stderr
    assert before == [201, 201]
    assert after == [401, 401]


def test_a_server_process_that_dies_stops_the_server_with_one_line(
    lines: Saldo, tmp_path: Path
) -> None:
    with serving(lines, tmp_path, workers=2) as server:
        first, second = server.children()

        os.kill(first, signal.SIGKILL)
        _, err = server.process.communicate(timeout=30)

    assert server.process.returncode == 1
    assert err.strip().splitlines()[-1] == (
        f"saldo: error: server process {first} was killed by SIGKILL; "
        "the other processes were stopped"
    )
    assert not Path(f"/proc/{second}").exists() or _zombie(second)


def _zombie(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
