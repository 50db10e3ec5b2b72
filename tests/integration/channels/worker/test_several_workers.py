"""Three ``saldo worker`` processes on one database (PostgreSQL and SQLite), on the real
clock, over a prepared backlog: lines whose validity ended (the sweep moves them into grace
and tells the operator's webhook), lines whose validity ends in two days (expiry reminders by
SMS), and due auto-renewals paid with a sandbox card. Each job's effect happens exactly once
(one event per transition, one order and one charge per renewal, each message delivered
once through a real loopback gateway: Kannel's sendsms interface and an operator's webhook
endpoint), the ledger audits clean, and a worker killed with SIGKILL while it sends has its
claimed messages delivered by another once their lease runs out."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select

from saldo.adapters.clock import FixedClock
from saldo.adapters.db import tables as t
from saldo.adapters.db.engine import make_engine
from saldo.bootstrap import Saldo
from saldo.catalog.schema import bundled_specs
from saldo.config import Settings
from saldo.services.auto_renewal import set_auto_renewal
from saldo.services.lines import NewLine, add_line
from saldo.services.operators import register_operator

SALDO = [sys.executable, "-m", "saldo"]
OPERATOR = "movistar-ar"  # 30 days of validity on activation, reminders 7, 3 and 1 days before
PLAN = "pack-mensual-1m"
ENDED = [f"+54911{55510000 + i}" for i in range(12)]  # activated 31 days ago: into grace
RENEWING = [f"+54911{55520000 + i}" for i in range(12)]  # 28 days ago, auto-renewal on
ENDING = [f"+54911{55530000 + i}" for i in range(12)]  # 28 days ago: a reminder is due
LEASE_SECONDS = 6  # well above what a batch of 10 sends takes on a loaded machine
WORKERS = 3


Identity = tuple[str, str, str]


@dataclass
class Gateway:
    """Kannel's sendsms interface and an operator's webhook endpoint on one loopback port.
    ``hold_first`` keeps the first request waiting until ``release`` is set, then refuses
    it (the gateway never took that message); every other request is taken and recorded."""

    url: str = ""
    received: list[Identity] = field(default_factory=list)
    hold_first: bool = False
    held: tuple[Identity, int] | None = None
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def arrived(self, identity: Identity, client_port: int) -> bool:
        """True when the request is taken; False (after waiting) for the held one."""
        with self.lock:
            hold = self.hold_first and self.held is None
            if hold:
                self.held = (identity, client_port)
        if hold:
            self.release.wait(timeout=60)
            return False
        with self.lock:
            self.received.append(identity)
        return True


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # Kannel's sendsms
            query = dict(parse_qsl(urlsplit(self.path).query))
            taken = gateway.arrived(("sms", query["to"], query["text"]), self.client_address[1])
            self._answer(202 if taken else 503, b"0: Accepted for delivery" if taken else b"")

        def do_POST(self) -> None:  # the operator's webhook
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            identity = ("webhook", self.headers["Saldo-Event-Id"], "")
            taken = gateway.arrived(identity, self.client_address[1])
            self._answer(204 if taken else 503, b"")

        def _answer(self, status: int, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the worker that asked was killed meanwhile
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    found = Gateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield found
    finally:
        found.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def backlog(database_url: str, gateway: Gateway) -> Iterator[Saldo]:
    """The backlog, written as if 28 and 31 days ago, for workers on the real clock."""
    now = datetime.now(UTC)
    clock = FixedClock(now - timedelta(days=31))
    saldo = Saldo(
        settings=Settings(database_url=database_url, environment="test"),
        engine=make_engine(database_url),
        clock=clock,
    )
    for spec in bundled_specs():
        if spec.slug == OPERATOR:
            spec = spec.model_copy(update={"webhook_url": gateway.url + "/hooks"})
        register_operator(
            saldo.uow(),
            operator=spec.to_operator(),
            spec=spec.model_dump(mode="json"),
            now=clock.now(),
        )
    for number in ENDED:
        add_line(saldo.uow(), new_line=NewLine(msisdn=number, operator=OPERATOR), now=clock.now())
    clock.set(now - timedelta(days=28))
    for number in RENEWING + ENDING:
        add_line(saldo.uow(), new_line=NewLine(msisdn=number, operator=OPERATOR), now=clock.now())
    for number in RENEWING:
        set_auto_renewal(
            saldo.uow(),
            msisdn=number,
            plan_code=PLAN,
            provider="sandbox",
            token="tok_approve",
            providers=saldo.payment_providers().keys(),
            fallback_to_balance=False,
            days_before=3,
            email=None,
            enabled=True,
            now=clock.now(),
        )
    yield saldo
    saldo.close()


def start_workers(
    saldo: Saldo, gateway: Gateway, count: int, *, logs: Path
) -> list[subprocess.Popen[str]]:
    """``count`` workers, a pass a second, each logging to a file of its own in ``logs``."""
    env = {
        **os.environ,
        "SALDO_DATABASE_URL": saldo.settings.database_url,
        "SALDO_ENVIRONMENT": "test",
        "SALDO_KANNEL_SENDSMS_URL": gateway.url + "/cgi-bin/sendsms",
        "SALDO_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    workers = []
    for n in range(count):
        with (logs / f"worker-{n}.log").open("w") as log:
            workers.append(
                subprocess.Popen(
                    [*SALDO, "worker", "--interval", "1"],
                    env=env,
                    text=True,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
    return workers


def stop(workers: list[subprocess.Popen[str]], *, logs: Path) -> str:
    """Stop the workers (SIGTERM); their logs."""
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=60)
    return "".join(path.read_text() for path in sorted(logs.glob("worker-*.log")))


def all_done(saldo: Saldo) -> bool:
    """Every line moved, every renewal fulfilled, and no message due or held by a lease
    (an SMS put off until the end of the quiet hours waits for the morning)."""
    later = datetime.now(UTC) + timedelta(minutes=30)
    with saldo.engine.connect() as db:
        waiting = db.execute(
            select(func.count())
            .select_from(t.outbox)
            .where(t.outbox.c.state == "pending", t.outbox.c.next_attempt_at < later)
        ).scalar_one()
        fulfilled = db.execute(
            select(func.count()).select_from(t.orders).where(t.orders.c.state == "fulfilled")
        ).scalar_one()
        in_grace = db.execute(
            select(func.count()).select_from(t.lines).where(t.lines.c.state == "grace")
        ).scalar_one()
    return waiting == 0 and fulfilled == len(RENEWING) and in_grace == len(ENDED)


def wait_until_done(saldo: Saldo, workers: list[subprocess.Popen[str]], *, logs: Path) -> None:
    deadline = time.monotonic() + 180
    while not all_done(saldo):
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            log = stop(workers, logs=logs)
            pytest.fail(f"the workers did not finish the backlog: {log[-3000:]}")
        time.sleep(0.5)


def assert_each_effect_happened_once(saldo: Saldo, gateway: Gateway, tmp_path: Path) -> None:
    with saldo.engine.connect() as db:
        numbers = dict(db.execute(select(t.lines.c.id, t.lines.c.msisdn)).all())
        orders = db.execute(
            select(t.orders.c.line_id, t.orders.c.placed_by, t.orders.c.state)
        ).all()
        payments = db.execute(select(t.payments.c.line_id, t.payments.c.status)).all()
        transactions = Counter(
            numbers[line_id]
            for (line_id,) in db.execute(
                select(t.ledger_transactions.c.line_id).where(
                    t.ledger_transactions.c.line_id.is_not(None)
                )
            ).all()
        )
        events = db.execute(select(t.line_events.c.line_id, t.line_events.c.to_state)).all()
        messages = db.execute(
            select(t.outbox.c.channel, t.outbox.c.state, t.outbox.c.attempts)
        ).all()

    # One order and one charge per renewal, each fulfilled, paid and posted once.
    assert sorted((numbers[o.line_id], o.placed_by, o.state) for o in orders) == [
        (number, "auto_renewal", "fulfilled") for number in sorted(RENEWING)
    ]
    assert sorted((numbers[p.line_id], p.status) for p in payments) == [
        (number, "succeeded") for number in sorted(RENEWING)
    ]
    assert transactions == dict.fromkeys(RENEWING, 1)
    sandbox = sqlite3.connect(os.environ["SALDO_SANDBOX_PATH"])
    try:
        charges = sandbox.execute("SELECT count(*) FROM payments").fetchone()[0]
        refunds = sandbox.execute("SELECT count(*) FROM refunds").fetchone()[0]
    finally:
        sandbox.close()
    assert (charges, refunds) == (len(RENEWING), 0)
    # One transition into grace per line whose validity ended.
    assert sorted((numbers[e.line_id], e.to_state) for e in events) == [
        (number, "grace") for number in sorted(ENDED)
    ]
    # Each message delivered once: as many taken by the gateway as are marked sent, none
    # twice, none dead.
    sent = [m for m in messages if m.state == "sent"]
    assert not [m for m in messages if m.state == "dead"]
    assert len(gateway.received) == len(sent) and len(set(gateway.received)) == len(sent)
    assert Counter(kind for kind, _, _ in gateway.received)["webhook"] == len(ENDED)
    audit = subprocess.run(
        [*SALDO, "--database-url", saldo.settings.database_url, "audit"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert audit.returncode == 0 and "Ledger clean" in audit.stdout, audit.stdout + audit.stderr


def test_three_workers_on_one_backlog_do_each_job_once(
    backlog: Saldo, gateway: Gateway, tmp_path: Path
) -> None:
    workers = start_workers(backlog, gateway, WORKERS, logs=tmp_path)
    try:
        wait_until_done(backlog, workers, logs=tmp_path)
    finally:
        log = stop(workers, logs=tmp_path)

    assert [worker.returncode for worker in workers] == [0] * WORKERS, log[-3000:]
    assert_each_effect_happened_once(backlog, gateway, tmp_path)


def test_a_worker_killed_while_sending_has_its_messages_sent_by_another(
    backlog: Saldo, gateway: Gateway, tmp_path: Path
) -> None:
    # Given three workers, the first message any of them sends held at the gateway,
    gateway.hold_first = True
    workers = start_workers(backlog, gateway, WORKERS, logs=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while gateway.held is None:
            assert time.monotonic() < deadline, "no message reached the gateway"
            time.sleep(0.1)
        held, client_port = gateway.held
        sending = _pid_connected_from(client_port, [w.pid for w in workers])

        # when the worker sending it is killed, the gateway never having taken it,
        os.kill(sending, signal.SIGKILL)
        killed_at = time.monotonic()
        gateway.release.set()

        # then the others finish everything, the held message and the rest of the killed
        # worker's batch once their lease has run out.
        alive = [w for w in workers if w.pid != sending]
        wait_until_done(backlog, alive, logs=tmp_path)
    finally:
        stop(workers, logs=tmp_path)

    assert time.monotonic() - killed_at >= LEASE_SECONDS - 1
    assert gateway.received.count(held) == 1
    with backlog.engine.connect() as db:
        claimed_twice = db.execute(
            select(func.count())
            .select_from(t.outbox)
            .where(t.outbox.c.state == "sent", t.outbox.c.attempts >= 2)
        ).scalar_one()
    assert claimed_twice >= 1  # the held message at least: claimed by the killed worker first
    assert_each_effect_happened_once(backlog, gateway, tmp_path)


def _pid_connected_from(port: int, pids: list[int]) -> int:
    """Which of ``pids`` holds the loopback TCP connection from local ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            columns = row.split()
            if int(columns[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(columns[9])
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return pid
    raise AssertionError(f"no worker holds the connection from port {port}")
