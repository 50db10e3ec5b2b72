"""Outbox workers as real processes, on SQLite and PostgreSQL: two workers delivering at once
send each message exactly once, and a worker killed in the middle of a batch loses nothing
(the one message it was sending when it died may go out twice, under the same id).

Each worker's SMS gateway is a fake that appends "<message id> <pid>" to a shared file with
one ``write`` on a file opened for appending, so that lines of concurrent processes never mix
and a line written just before a kill survives it."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from sqlalchemy import select

from saldo.adapters.db import tables as t
from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.unit_of_work import SqlUnitOfWork
from saldo.bootstrap import Saldo
from saldo.services.notices import Notice, OperatorEvent
from saldo.services.notifications import queue
from saldo.services.outbox import CLAIM_FOR, OutgoingSms, Senders, deliver_outbox
from saldo.services.ports import OutboxMessage, UnitOfWork

pytestmark = pytest.mark.slow

WEBHOOK_URL = "https://127.0.0.1/events"
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)  # 12:00 in Buenos Aires: no quiet hours


class LoggingSmsSender:
    """Appends each message's id to ``log``; pauses ``pause`` seconds after each send, and
    after ``hang_after`` sends hangs forever once the next one is written (the gateway took
    it, the worker never hears back)."""

    def __init__(self, log: Path, *, pause: float = 0.0, hang_after: int | None = None) -> None:
        self._fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._pause = pause
        self._hang_after = hang_after
        self._sent = 0

    def send(self, *, to: str, sender: str, text: str, message_id: str) -> None:
        os.write(self._fd, f"{message_id} {os.getpid()}\n".encode())
        self._sent += 1
        if self._hang_after is not None and self._sent > self._hang_after:
            time.sleep(3600)
        time.sleep(self._pause)


def read_as_is(uow: UnitOfWork, message: OutboxMessage, now: datetime) -> Notice:
    # These messages are about delivery itself: any notice that carries the message will do.
    return OperatorEvent(message=message, operator_slug="movistar-ar", webhook_url=WEBHOOK_URL)


def render_key(notice: Notice, now: datetime) -> OutgoingSms:
    message = notice.message
    return OutgoingSms(to=message.recipient, sender="121", text=message.key)


def deliver_all(uow: UnitOfWork, sender: LoggingSmsSender, *, at: datetime) -> int:
    """Passes until one finds nothing due; the number of messages sent."""
    sent = 0
    while True:
        delivery = deliver_outbox(
            uow, senders=Senders(sms=sender), read=read_as_is, render=render_key, now=at
        )
        sent += delivery.sent
        if delivery.handled == 0:
            return sent


def _worker(
    url: str, log: Path, barrier: Barrier | None, pause: float, hang_after: int | None
) -> None:
    engine = make_engine(url)
    sender = LoggingSmsSender(log, pause=pause, hang_after=hang_after)
    if barrier is not None:
        barrier.wait(timeout=60)
    deliver_all(SqlUnitOfWork(engine), sender, at=NOW)
    engine.dispose()


def given_queued(saldo: Saldo, count: int) -> list[str]:
    keys = [f"msg-{number:04d}" for number in range(count)]
    with saldo.uow() as uow:
        operator = uow.operators.get_by_slug("movistar-ar")
        assert operator is not None and operator.id is not None
        for key in keys:
            queue(
                uow,
                operator_id=operator.id,
                line_id=None,
                channel="sms",
                key=key,
                recipient="+5491155551234",
                payload={"kind": "test"},
                now=NOW,
            )
        uow.commit()
    return keys


def logged(log: Path) -> list[tuple[str, int]]:
    if not log.exists():
        return []
    lines = log.read_text().splitlines()
    return [(key, int(pid)) for key, pid in (line.split() for line in lines)]


def states(saldo: Saldo) -> Counter[str]:
    with saldo.engine.connect() as connection:
        return Counter(connection.execute(select(t.outbox.c.state)).scalars())


def test_two_workers_delivering_at_once_send_each_message_exactly_once(
    saldo: Saldo, tmp_path: Path
) -> None:
    keys = given_queued(saldo, 200)
    log = tmp_path / "sent.log"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [
        context.Process(
            target=_worker, args=(saldo.settings.database_url, log, barrier, 0.005, None)
        )
        for _ in range(2)
    ]

    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0

    sent = logged(log)
    assert Counter(key for key, _ in sent) == Counter(keys)  # every key, each once
    by_worker = Counter(pid for _, pid in sent)
    assert sorted(by_worker) == sorted(worker.pid for worker in workers)  # both took part
    assert states(saldo) == {"sent": 200}
    with saldo.engine.connect() as connection:
        assert set(connection.execute(select(t.outbox.c.attempts)).scalars()) == {1}


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_at_most_the_one_in_flight(
    saldo: Saldo, tmp_path: Path
) -> None:
    keys = given_queued(saldo, 30)
    log = tmp_path / "sent.log"
    context = multiprocessing.get_context("spawn")
    doomed = context.Process(target=_worker, args=(saldo.settings.database_url, log, None, 0.0, 5))
    doomed.start()
    deadline = time.monotonic() + 60
    while len(logged(log)) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    doomed.kill()  # SIGKILL: no cleanup, no rollback message, no outcome recorded
    doomed.join(timeout=30)
    in_flight = logged(log)[5][0]

    # Another worker at once: the dead worker's claimed batch is leased, the rest is due.
    survivor = LoggingSmsSender(log)
    right_away = deliver_all(saldo.uow(), survivor, at=NOW)
    after_the_lease = deliver_all(saldo.uow(), survivor, at=NOW + CLAIM_FOR + timedelta(seconds=1))

    assert doomed.exitcode == -9
    sent = Counter(key for key, _ in logged(log))
    assert set(sent) == set(keys)  # nothing lost
    assert [key for key, times in sent.items() if times > 1] == [in_flight]
    assert sent[in_flight] == 2
    # 5 recorded before the kill; 20 never claimed; the 5 left of the dead worker's batch of
    # 10 (the one in flight among them) once its lease ran out.
    assert (right_away, after_the_lease) == (20, 5)
    assert states(saldo) == {"sent": 30}
