"""Vouchers redeemed by two real processes at the same moment, on SQLite and PostgreSQL: a PIN
sent for two lines at once pays exactly one of them, and PINs sent for one line from two
processes are each applied exactly once."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier

import pytest
from sqlalchemy import select

from saldo.adapters.db import tables as t
from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.unit_of_work import SqlUnitOfWork
from saldo.bootstrap import Saldo
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.audit import audit_ledger
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import NewLine, add_line
from saldo.services.vouchers import GeneratedBatch, generate_vouchers, redeem_voucher

pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
IN_A_YEAR = datetime(2027, 11, 22, 15, 0, tzinfo=UTC)
CLARO = "+573001234567"
CLARO_OTHER = "+573001234568"
VALUE = Money.of("10000", "COP")

# (msisdn, [(outcome, topup id)]): outcome is "redeemed" or the refusal's class name.
Outcomes = tuple[str, list[tuple[str, int | None]]]


def _redeem_each(
    url: str,
    msisdn: str,
    pins: list[str],
    pin_key: bytes,
    barrier: Barrier,
    results: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    engine = make_engine(url)
    barrier.wait(timeout=60)
    outcomes: list[tuple[str, int | None]] = []
    for pin in pins:
        try:
            receipt = redeem_voucher(
                SqlUnitOfWork(engine),
                msisdn=msisdn,
                pin=pin,
                channel=Channel.VOUCHER,
                pin_key=pin_key,
                now=NOW,
            )
        except Exception as error:  # reported to the parent, which asserts on the name
            outcomes.append((type(error).__name__, None))
        else:
            outcomes.append(("redeemed", receipt.topup_id))
    engine.dispose()
    results.put((msisdn, outcomes))


def run_in_two_processes(
    saldo: Saldo, first: tuple[str, list[str]], second: tuple[str, list[str]]
) -> dict[str, list[tuple[str, int | None]]]:
    """Each process redeems its PINs for its line, both starting at the same moment."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    workers = [
        context.Process(
            target=_redeem_each,
            args=(saldo.settings.database_url, msisdn, pins, saldo.pin_key, barrier, results),
        )
        for msisdn, pins in (first, second)
    ]
    for worker in workers:
        worker.start()
    collected: list[Outcomes] = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    by_process: dict[str, list[tuple[str, int | None]]] = {}
    for msisdn, outcomes in collected:
        by_process.setdefault(msisdn, []).extend(outcomes)
    return by_process


def numbered(first: int) -> Callable[[], str]:
    counter = iter(range(first, first + 1_000))
    return lambda: f"{next(counter):015d}"


def given_line(saldo: Saldo, msisdn: str) -> None:
    add_line(saldo.uow(), new_line=NewLine(msisdn=msisdn, operator="claro-co"), now=NOW)


def given_batch(saldo: Saldo, count: int) -> GeneratedBatch:
    return generate_vouchers(
        saldo.uow(),
        operator="claro-co",
        value=VALUE,
        count=count,
        expires_at=IN_A_YEAR,
        created_by="ops@claro.example",
        pin_key=saldo.pin_key,
        now=NOW,
        random_digits=numbered(4_000_000_000_000),
    )


def main_balance(saldo: Saldo, msisdn: str) -> Money:
    return inquire_balance(saldo.uow(), msisdn=msisdn, now=NOW).main


def test_one_pin_sent_for_two_lines_at_once_pays_exactly_one_of_them(saldo: Saldo) -> None:
    given_line(saldo, CLARO)
    given_line(saldo, CLARO_OTHER)
    pin = given_batch(saldo, 1).vouchers[0].pin

    outcomes = run_in_two_processes(saldo, (CLARO, [pin]), (CLARO_OTHER, [pin]))

    results = sorted(outcome for outcome, _ in outcomes[CLARO] + outcomes[CLARO_OTHER])
    assert results == ["VoucherAlreadyUsed", "redeemed"]
    winner = CLARO if outcomes[CLARO][0][0] == "redeemed" else CLARO_OTHER
    loser = CLARO_OTHER if winner == CLARO else CLARO
    assert main_balance(saldo, winner) == VALUE
    assert main_balance(saldo, loser) == Money.of("0", "COP")
    report = audit_ledger(saldo.uow())
    assert report.clean
    assert report.transactions == 1


def test_ten_pins_sent_for_one_line_from_two_processes_are_each_applied_once(
    saldo: Saldo,
) -> None:
    given_line(saldo, CLARO)
    pins = [voucher.pin for voucher in given_batch(saldo, 10).vouchers]

    outcomes = run_in_two_processes(saldo, (CLARO, pins[0::2]), (CLARO, pins[1::2]))

    assert [outcome for outcome, _ in outcomes[CLARO]] == ["redeemed"] * 10
    topup_ids = {topup_id for _, topup_id in outcomes[CLARO]}
    assert len(topup_ids) == 10
    assert main_balance(saldo, CLARO) == Money(VALUE.minor * 10, "COP")
    with saldo.engine.connect() as connection:
        vouchers = connection.execute(select(t.vouchers.c.state, t.vouchers.c.topup_id)).all()
    assert {state for state, _ in vouchers} == {"redeemed"}
    assert {topup_id for _, topup_id in vouchers} == topup_ids
    report = audit_ledger(saldo.uow())
    assert report.clean
    assert report.transactions == 10
