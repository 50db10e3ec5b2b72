"""Migration 0011 moves every payment taken at a processor (orders' and auto top-ups') into
one ``payments`` table without losing one, and a payment pending across it still settles
once; a downgrade waits until no auto top-up charge is pending. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

import saldo.adapters.db.migrate as migrate
from saldo.adapters.db import tables as t
from saldo.adapters.db.migrate import upgrade
from saldo.adapters.payments import sandbox as cards
from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.domain.buckets import BucketKind
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.orders import OrderState
from saldo.services.adjust_balance import adjust_balance
from saldo.services.audit import audit_ledger
from saldo.services.auto_topup import run_auto_topups
from saldo.services.lines import NewLine, add_line
from saldo.services.orders import order_details
from saldo.services.payment_flow import installation_id
from saldo.services.top_up import top_up
from tests.integration.services import test_auto_topup as topups
from tests.integration.services.test_orders import LINE, order, pay


@pytest.fixture
def shop(saldo: Saldo) -> Iterator[Saldo]:
    """Saldo with an Argentine line and a Belgian one whose main money is under its auto
    top-up threshold; left at the newest revision whatever the test does to the schema."""
    now = saldo.clock.now()
    add_line(saldo.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=now)
    add_line(saldo.uow(), new_line=NewLine(msisdn=topups.LINE, operator="proximus-be"), now=now)
    yield saldo
    upgrade(saldo.engine)


def auto_topup(saldo: Saldo, token: str) -> None:
    top_up(saldo.uow(), msisdn=topups.LINE, amount=Money.of("5", "EUR"), channel=Channel.STORE,
           idempotency_key="seed", now=saldo.clock.now())  # fmt: skip
    topups.enable(saldo, token)
    topups.spend(saldo, 400, "s1")  # 1 € left, under 2 €
    run_auto_topups(saldo.uow(), saldo.payment_providers(), now=saldo.clock.now())


def downgrade_to(saldo: Saldo, revision: str) -> None:
    migrate.downgrade(saldo.engine, revision=revision)


def lost_attempt_before_0011(saldo: Saldo, *, revision: str) -> int:
    """Take the database back to ``revision`` and record there, as the code of the day did,
    a pending 10 € auto top-up charge of the Belgian line (its answer lost); its id."""
    with saldo.uow().reading() as uow:
        found = uow.lines.get_by_msisdn(topups.LINE)
        assert found is not None and found.operator.id is not None
        line_id, operator_id = found.line.id, found.operator.id
    downgrade_to(saldo, revision)
    with saldo.engine.begin() as connection:
        attempt_id: int = connection.execute(
            text(
                "INSERT INTO auto_topup_attempts (operator_id, line_id, provider, "
                "idempotency_key, status, amount, currency, created_at, updated_at) VALUES "
                "(:operator, :line, 'sandbox', 'auto-topup-lost', 'pending', 1000, 'EUR', "
                ":now, :now) RETURNING id"
            ),
            {"operator": operator_id, "line": line_id, "now": saldo.clock.now()},
        ).scalar_one()
    return attempt_id


def payments(saldo: Saldo) -> list[dict[str, Any]]:
    with saldo.engine.connect() as connection:
        rows = connection.execute(select(t.payments).order_by(t.payments.c.id))
        return [dict(row._mapping) for row in rows]


def test_every_payment_survives_the_migration_and_a_pending_one_settles_once(
    shop: Saldo,
) -> None:
    # given an order paid with the "settles later" card and an auto top-up charged
    pending = order(shop).id
    pay(shop, pending, cards.SETTLE_LATER)
    auto_topup(shop, "tok_approve")
    before = payments(shop)
    installation = installation_id(shop.uow())

    # when the database goes back to 0010 and up again
    downgrade_to(shop, "0010")
    upgrade(shop.engine)

    # then the order's payment is as it was, the auto top-up's kept with the key it was
    # sent with, and the pending payment is settled by its webhook, once
    after = payments(shop)
    by_purpose = {row["purpose"]: row for row in after}
    assert [row["purpose"] for row in before] == ["order", "auto_topup"]
    assert by_purpose["order"] == before[0]
    moved = {
        **before[1],
        "id": by_purpose["auto_topup"]["id"],
        "processor_key": f"saldo-{installation}-topup-{before[1]['id']}",
        "next_check_at": None,
        "card_last4": None,
    }  # fmt: skip  (0010 kept no digits)
    assert by_purpose["auto_topup"] == moved
    shop.clock.advance(timedelta(minutes=3))
    reference = before[0]["reference"]
    sandbox = shop.payment_providers()["sandbox"]
    assert isinstance(sandbox, cards.SandboxProvider)
    body, headers = sandbox.webhook_for(reference, event_id="evt_after_0011")
    client = TestClient(create_app(shop))
    first = client.post("/webhooks/payments/sandbox", content=body, headers=headers)
    again = client.post("/webhooks/payments/sandbox", content=body, headers=headers)
    assert (first.json(), again.json()) == ({"status": "applied"}, {"status": "duplicate"})
    assert order_details(shop.uow(), order_id=pending).order.state is OrderState.FULFILLED
    assert audit_ledger(shop.uow()).clean


def test_a_downgrade_waits_until_no_auto_top_up_charge_is_pending(shop: Saldo) -> None:
    # given an auto top-up charge the processor settles later
    auto_topup(shop, "tok_settle_later")

    # when the database is taken back to 0010
    with pytest.raises(RuntimeError, match="still pending"):
        downgrade_to(shop, "0010")

    # then nothing changed
    assert [row["status"] for row in payments(shop)] == ["pending"]


def test_an_auto_top_up_charge_pending_across_the_migration_is_found_by_its_old_key(
    shop: Saldo,
) -> None:
    # given, before 0011, a charge taken at the processor whose answer was lost
    installation = installation_id(shop.uow())
    topups.enable(shop, "tok_approve")
    adjust_balance(
        shop.uow(),
        msisdn=topups.LINE,
        kind=BucketKind.MAIN,
        amount=100,
        reason="seed",
        actor="test",
        idempotency_key="s1",
        now=shop.clock.now(),
    )  # fmt: skip  (1 €: under 2 €)
    now = shop.clock.now()
    attempt_id = lost_attempt_before_0011(shop, revision="0010")
    old_key = f"saldo-{installation}-topup-{attempt_id}"
    sandbox = shop.payment_providers()["sandbox"]
    assert isinstance(sandbox, cards.SandboxProvider)
    sandbox.create_payment(amount=Money.of("10", "EUR"), source="tok_approve",
                           description="auto top-up", order_reference=old_key,
                           idempotency_key=old_key)  # fmt: skip

    # when the database is upgraded and the worker passes, twice
    upgrade(shop.engine)
    first = run_auto_topups(shop.uow(), shop.payment_providers(), now=now)
    second = run_auto_topups(shop.uow(), shop.payment_providers(), now=now)

    # then the charge is found at the processor and credited once, with no second charge
    assert (first.topped_up, second.topped_up) == (1, 0)
    assert topups.main_balance(shop) == 100 + 1000
    assert [row["status"] for row in payments(shop)] == ["succeeded"]
    assert audit_ledger(shop.uow()).clean


def test_payments_sent_before_there_was_an_installation_id_keep_the_keys_they_were_sent_with(
    shop: Saldo,
) -> None:
    # given an order payment pending at the processor and, in a database from before
    # installation ids (0009), an auto top-up charge whose answer was lost
    pending = order(shop).id
    pay(shop, pending, cards.SETTLE_LATER)
    order_payment = payments(shop)[0]
    attempt_id = lost_attempt_before_0011(shop, revision="0009")

    # when the database is upgraded to the newest revision
    upgrade(shop.engine)

    # then each is asked about under the key Saldo sent before installation ids
    by_purpose = {row["purpose"]: row for row in payments(shop)}
    assert by_purpose["order"]["id"] == order_payment["id"]
    assert by_purpose["order"]["processor_key"] == f"saldo-payment-{order_payment['id']}"
    assert by_purpose["auto_topup"]["processor_key"] == f"saldo-topup-{attempt_id}"
