"""Two real processes topping up the same line at the same moment, on SQLite and
PostgreSQL: every top-up is applied exactly once, and a key sent by both is applied once."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier

import pytest

from saldo.adapters.clock import FixedClock
from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.unit_of_work import SqlUnitOfWork
from saldo.bootstrap import Saldo
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.audit import audit_ledger
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up

pytestmark = pytest.mark.slow

LINE = "+573001234567"
AMOUNT = Money.of("1000", "COP")
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


def _top_up_many(
    url: str, keys: list[str], barrier: Barrier, results: multiprocessing.Queue
) -> None:  # type: ignore[type-arg]
    engine = make_engine(url)
    barrier.wait(timeout=60)
    receipts = []
    for key in keys:
        receipt = top_up(
            SqlUnitOfWork(engine),
            msisdn=LINE,
            amount=AMOUNT,
            channel=Channel.STORE,
            idempotency_key=key,
            now=NOW,
        )
        receipts.append((key, receipt.topup_id, receipt.replayed))
    engine.dispose()
    results.put(receipts)


def run_in_two_processes(
    url: str, keys_a: list[str], keys_b: list[str]
) -> list[list[tuple[str, int, bool]]]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    workers = [
        context.Process(target=_top_up_many, args=(url, keys, barrier, results))
        for keys in (keys_a, keys_b)
    ]
    for worker in workers:
        worker.start()
    collected = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    return collected


@pytest.fixture
def line(saldo: Saldo, clock: FixedClock) -> str:
    add_line(saldo.uow(), new_line=NewLine(msisdn=LINE, operator="claro-co"), now=clock.now())
    return LINE


def test_two_processes_topping_up_one_line_are_both_applied_exactly_once(
    saldo: Saldo, line: str
) -> None:
    keys_a = [f"a-{n}" for n in range(25)]
    keys_b = [f"b-{n}" for n in range(25)]

    run_in_two_processes(saldo.settings.database_url, keys_a, keys_b)

    view = inquire_balance(saldo.uow(), msisdn=line, now=NOW)
    assert view.main == Money(AMOUNT.minor * 50, "COP")
    report = audit_ledger(saldo.uow())
    assert report.clean
    assert report.transactions == 50


def test_the_same_keys_sent_by_two_processes_are_applied_once(saldo: Saldo, line: str) -> None:
    keys = [f"shared-{n}" for n in range(25)]

    first, second = run_in_two_processes(saldo.settings.database_url, keys, keys)

    view = inquire_balance(saldo.uow(), msisdn=line, now=NOW)
    assert view.main == Money(AMOUNT.minor * 25, "COP")
    ids_first = {key: topup_id for key, topup_id, _ in first}
    ids_second = {key: topup_id for key, topup_id, _ in second}
    assert ids_first == ids_second, "both processes got the same receipt for each key"
    replays = [replayed for _, _, replayed in first + second]
    assert replays.count(False) == 25 and replays.count(True) == 25
    report = audit_ledger(saldo.uow())
    assert report.clean and report.transactions == 25
