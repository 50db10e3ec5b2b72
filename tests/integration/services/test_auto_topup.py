"""Auto top-up on SQLite and PostgreSQL (Proximus offers it): a line whose main money falls
below its threshold is topped up with its saved method; a declining card is told to the
subscriber and retried by the rule, an approving one tops up once; a worker dying mid-charge
neither loses the charge nor charges twice."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from saldo.adapters.clock import FixedClock
from saldo.adapters.db import tables as t
from saldo.adapters.payments import sandbox as cards
from saldo.bootstrap import Saldo
from saldo.catalog.schema import OperatorSpec, bundled_specs
from saldo.channels.api.app import create_app
from saldo.domain.buckets import BucketKind
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.adjust_balance import adjust_balance
from saldo.services.audit import audit_ledger
from saldo.services.auto_topup import UnableToSetAutoTopUp, run_auto_topups, set_auto_topup
from saldo.services.lines import NewLine, add_line
from saldo.services.operators import register_operator
from saldo.services.ports.payments import PaymentProvider
from saldo.services.top_up import top_up
from tests.payments import Flaky

LINE = "+32470123456"  # proximus-be: auto top-up offered


@pytest.fixture
def line(saldo: Saldo, clock: FixedClock) -> Saldo:
    add_line(saldo.uow(), new_line=NewLine(msisdn=LINE, operator="proximus-be"), now=clock.now())
    top_up(
        saldo.uow(), msisdn=LINE, amount=Money.of("5", "EUR"), channel=Channel.STORE,
        idempotency_key="seed", now=clock.now(),
    )  # fmt: skip
    return saldo


def enable(saldo: Saldo, token: str) -> None:
    set_auto_topup(
        saldo.uow(), msisdn=LINE, threshold=Money.of("2", "EUR"), amount=Money.of("10", "EUR"),
        provider="sandbox", token=token, providers=saldo.payment_providers().keys(),
        enabled=True, now=saldo.clock.now(),
    )  # fmt: skip


def spend(saldo: Saldo, cents: int, key: str) -> None:
    adjust_balance(
        saldo.uow(), msisdn=LINE, kind=BucketKind.MAIN, amount=-cents, reason="usage",
        actor="test", idempotency_key=key, now=saldo.clock.now(),
    )  # fmt: skip


def main_balance(saldo: Saldo) -> int:
    with saldo.uow().reading() as uow:
        found = uow.lines.get_with_buckets(LINE)
        assert found is not None
        return sum(b.balance for b in found.buckets if b.kind is BucketKind.MAIN)


def told(saldo: Saldo) -> list[str]:
    with saldo.engine.connect() as connection:
        payloads = connection.execute(select(t.outbox.c.payload).order_by(t.outbox.c.id))
        return [p["kind"] for (p,) in payloads if p["kind"].startswith("auto_topup")]


def test_nothing_happens_above_the_threshold(line: Saldo, clock: FixedClock) -> None:
    enable(line, "tok_approve")

    report = run_auto_topups(line.uow(), line.payment_providers(), now=clock.now())

    assert report.topped_up == 0 and main_balance(line) == 500


def test_a_declining_then_approving_card(line: Saldo, clock: FixedClock) -> None:
    enable(line, "tok_decline")
    spend(line, 400, "s1")  # 1 € left, under 2 €

    first = run_auto_topups(line.uow(), line.payment_providers(), now=clock.now())
    again = run_auto_topups(line.uow(), line.payment_providers(), now=clock.now())
    enable(line, "tok_approve")  # the subscriber saves another card
    approved = run_auto_topups(line.uow(), line.payment_providers(), now=clock.now())

    assert (first.failed, again.failed, again.topped_up) == (1, 0, 0)  # retried tomorrow
    assert approved.topped_up == 1
    assert main_balance(line) == 100 + 1000
    assert told(line) == ["auto_topup_failed", "auto_topup_done"]
    assert audit_ledger(line.uow()).clean


def test_a_declining_card_is_retried_after_a_day_then_three_then_stops(
    line: Saldo, clock: FixedClock
) -> None:
    enable(line, "tok_insufficient_funds")
    spend(line, 400, "s1")

    failed = []
    for wait in (timedelta(0), timedelta(days=1), timedelta(days=3), timedelta(days=10)):
        clock.advance(wait)
        failed.append(run_auto_topups(line.uow(), line.payment_providers(), now=clock.now()).failed)

    assert failed == [1, 1, 1, 0]  # then off until the subscriber changes it
    assert told(line) == ["auto_topup_failed"] * 3


def test_a_worker_dying_mid_charge_neither_loses_nor_repeats_it(
    line: Saldo, clock: FixedClock
) -> None:
    enable(line, "tok_approve")
    spend(line, 400, "s1")
    real = line.payment_providers()["sandbox"]
    assert isinstance(real, cards.SandboxProvider)
    dying: dict[str, PaymentProvider] = {"sandbox": Flaky(real, [RuntimeError("killed")])}

    first = run_auto_topups(line.uow(), dying, now=clock.now())  # the charge is taken, then…
    second = run_auto_topups(line.uow(), dying, now=clock.now())

    assert (first.topped_up, second.topped_up) == (0, 1)
    assert main_balance(line) == 100 + 1000
    db = sqlite3.connect(line.settings.sandbox_path)
    assert db.execute("SELECT COUNT(*) FROM payments").fetchone() == (1,)
    db.close()
    assert audit_ledger(line.uow()).clean


def test_an_operator_that_does_not_offer_it_refuses(saldo: Saldo, clock: FixedClock) -> None:
    add_line(
        saldo.uow(), new_line=NewLine(msisdn="+5491155551234", operator="movistar-ar"),
        now=clock.now(),
    )  # fmt: skip

    with pytest.raises(UnableToSetAutoTopUp, match="does not offer"):
        set_auto_topup(
            saldo.uow(), msisdn="+5491155551234", threshold=Money.of("500", "ARS"),
            amount=Money.of("1000", "ARS"), provider="sandbox", token="tok_approve",
            providers=["sandbox"], enabled=True, now=clock.now(),
        )  # fmt: skip


def test_a_card_number_is_never_kept(line: Saldo) -> None:
    with pytest.raises(UnableToSetAutoTopUp, match="card number"):
        enable(line, "4242424242424242")


def test_a_charge_whose_answer_was_lost_is_credited_even_after_a_manual_top_up(
    line: Saldo, clock: FixedClock
) -> None:
    enable(line, "tok_time_out")
    spend(line, 400, "s1")

    lost = run_auto_topups(line.uow(), line.payment_providers(), now=clock.now())
    top_up(
        line.uow(),
        msisdn=LINE,
        amount=Money.of("5", "EUR"),
        channel=Channel.STORE,
        idempotency_key="by-hand",
        now=clock.now(),
    )  # fmt: skip  (now above the threshold: the line is no longer "due")
    found = run_auto_topups(line.uow(), line.payment_providers(), now=clock.now())

    assert (lost.pending, found.topped_up) == (1, 1)
    assert main_balance(line) == 100 + 500 + 1000
    assert audit_ledger(line.uow()).clean


def test_two_workers_at_once_charge_a_line_once(line: Saldo, clock: FixedClock) -> None:
    enable(line, "tok_approve")
    spend(line, 400, "s1")
    providers = line.payment_providers()
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        run_auto_topups(line.uow(), providers, now=clock.now())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert main_balance(line) == 100 + 1000
    db = sqlite3.connect(line.settings.sandbox_path)
    assert db.execute("SELECT COUNT(*) FROM payments").fetchone() == (1,)
    db.close()


def test_an_amount_below_the_threshold_is_refused(line: Saldo) -> None:
    with pytest.raises(UnableToSetAutoTopUp, match="at least the threshold"):
        set_auto_topup(
            line.uow(), msisdn=LINE, threshold=Money.of("20", "EUR"),
            amount=Money.of("10", "EUR"), provider="sandbox", token="tok_approve",
            providers=["sandbox"], enabled=True, now=line.clock.now(),
        )  # fmt: skip


@pytest.mark.parametrize(
    ("amount", "refusal"),
    [("1", "the minimum top-up is 5.00 EUR"), ("150.01", "the maximum top-up is 150.00 EUR")],
)
def test_an_amount_outside_the_operators_top_up_bounds_is_refused(
    line: Saldo, amount: str, refusal: str
) -> None:
    with pytest.raises(UnableToSetAutoTopUp, match=refusal):
        set_auto_topup(
            line.uow(), msisdn=LINE, threshold=Money.of("1", "EUR"),
            amount=Money.of(amount, "EUR"), provider="sandbox", token="tok_approve",
            providers=["sandbox"], enabled=True, now=line.clock.now(),
        )  # fmt: skip


def test_a_saved_amount_the_operator_no_longer_takes_is_never_charged(
    line: Saldo, clock: FixedClock
) -> None:
    enable(line, "tok_approve")  # 10 € at every top-up
    spend(line, 400, "s1")
    # then Proximus takes no top-up under 15 € any more
    spec = next(s for s in bundled_specs() if s.slug == "proximus-be").model_dump(mode="json")
    spec["topup"] = {
        "minimum": "15",
        "online_minimum": "15",
        "maximum": "150",
        "denominations": [
            {"amount": "15", "validity_days": 60},
            {"amount": "50", "validity_days": 365},
        ],
    }
    changed = OperatorSpec.model_validate(spec)
    register_operator(line.uow(), operator=changed.to_operator(), spec=spec, now=clock.now())

    report = run_auto_topups(line.uow(), line.payment_providers(), now=clock.now())
    later = run_auto_topups(
        line.uow(), line.payment_providers(), now=clock.now() + timedelta(days=2)
    )

    assert (report.failed, report.topped_up, later.failed) == (1, 0, 0)
    db = sqlite3.connect(line.settings.sandbox_path)
    assert db.execute("SELECT COUNT(*) FROM payments").fetchone() == (0,)  # no card charged
    db.close()
    assert main_balance(line) == 100
    assert told(line) == ["auto_topup_failed"]
    with line.uow().reading() as uow:
        setting = uow.auto_topups.get(_line_id(line))
        assert setting is not None and not setting.enabled


def _line_id(saldo: Saldo) -> int:
    with saldo.uow().reading() as uow:
        found = uow.lines.get_by_msisdn(LINE)
        assert found is not None
        return found.line.id


def test_a_signed_webhook_for_an_auto_top_up_charge_settles_it_once(
    line: Saldo, clock: FixedClock
) -> None:
    # given a charge the processor settles later, settled there since
    enable(line, "tok_settle_later")
    spend(line, 400, "s1")
    pending = run_auto_topups(line.uow(), line.payment_providers(), now=clock.now())
    db = sqlite3.connect(line.settings.sandbox_path)
    ((reference,),) = db.execute("SELECT reference FROM payments").fetchall()
    db.close()
    clock.advance(timedelta(minutes=3))
    sandbox = line.payment_providers()["sandbox"]
    assert isinstance(sandbox, cards.SandboxProvider)
    body, headers = sandbox.webhook_for(reference, event_id="evt_topup_1")
    client = TestClient(create_app(line))

    # when the processor's signed webhook arrives, twice, and the worker passes again
    first = client.post("/webhooks/payments/sandbox", content=body, headers=headers)
    replayed = client.post("/webhooks/payments/sandbox", content=body, headers=headers)
    after = run_auto_topups(line.uow(), line.payment_providers(), now=clock.now())

    # then the line is topped up once, and the subscriber told once
    assert pending.pending == 1
    assert (first.status_code, first.json()) == (200, {"status": "applied"})
    assert (replayed.status_code, replayed.json()) == (200, {"status": "duplicate"})
    assert (after.topped_up, after.pending) == (0, 0)
    assert main_balance(line) == 100 + 1000
    assert told(line) == ["auto_topup_done"]
    assert audit_ledger(line.uow()).clean


def test_a_charge_settled_after_the_operator_raised_its_minimum_is_given_back(
    line: Saldo, clock: FixedClock
) -> None:
    # given a charge of 10 € the processor settles later, and then a minimum top-up of 15 €
    enable(line, "tok_settle_later")
    spend(line, 400, "s1")
    run_auto_topups(line.uow(), line.payment_providers(), now=clock.now())
    spec = next(s for s in bundled_specs() if s.slug == "proximus-be").model_dump(mode="json")
    spec["topup"] = {**spec["topup"], "minimum": "15", "online_minimum": "15"}
    spec["topup"]["denominations"] = [{"amount": "15", "validity_days": 60}]
    changed = OperatorSpec.model_validate(spec)
    register_operator(line.uow(), operator=changed.to_operator(), spec=spec, now=clock.now())
    clock.advance(timedelta(minutes=3))

    # when the worker finds the charge settled at the processor
    report = run_auto_topups(line.uow(), line.payment_providers(), now=clock.now())

    # then the money goes back, the line is not credited, and the subscriber is told
    sandbox = line.payment_providers()["sandbox"]
    assert isinstance(sandbox, cards.SandboxProvider)
    db = sqlite3.connect(line.settings.sandbox_path)
    ((reference,),) = db.execute("SELECT reference FROM payments").fetchall()
    db.close()
    assert (report.topped_up, report.failed) == (0, 1)
    assert sandbox.refunded(reference) == 1000
    assert main_balance(line) == 100
    assert told(line) == ["auto_topup_failed"]
    assert audit_ledger(line.uow()).clean
