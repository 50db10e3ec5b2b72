"""Keys sent to a payment processor are unique to the installation: two Saldo databases
sharing one processor account (here one sandbox file) never send the same idempotency key,
though each has an order 1 and a payment 1. On SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from saldo.adapters.clock import FixedClock
from saldo.adapters.payments import sandbox as cards
from saldo.bootstrap import Saldo
from saldo.domain.orders import OrderState
from saldo.services.lines import NewLine, add_line
from saldo.services.order_payment import PaymentDeclined
from saldo.services.orders import order_details
from saldo.services.payment_flow import installation_id
from tests.conftest import load_catalog, wire
from tests.integration.services.test_orders import LINE, order, pay


@pytest.fixture
def shop(saldo: Saldo) -> Saldo:
    """Saldo (on SQLite, then PostgreSQL) with one line."""
    add_line(
        saldo.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=saldo.clock.now()
    )
    return saldo


@pytest.fixture
def other_shop(tmp_path: Path, sqlite_template: Path, clock: FixedClock) -> Iterator[Saldo]:
    """A second Saldo database (a SQLite file of its own) with the same line, beside the
    same sandbox file."""
    path = tmp_path / "other.db"
    shutil.copy(sqlite_template, path)
    wired = wire(f"sqlite:///{path}", clock)
    load_catalog(wired)
    add_line(wired.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=clock.now())
    yield wired
    wired.close()


def test_each_database_keeps_an_installation_id_of_its_own(shop: Saldo, other_shop: Saldo) -> None:
    first, again = installation_id(shop.uow()), installation_id(shop.uow())
    other = installation_id(other_shop.uow())

    assert first == again
    assert first != other
    assert len(first) == 16


def test_a_declining_card_is_declined_though_another_database_paid_its_order_1(
    shop: Saldo, other_shop: Saldo
) -> None:
    # Given order 1 paid with an approving card in one database, beside one sandbox…
    paid = pay(shop, order(shop).id, cards.APPROVE)
    # …and order 1 of another database (payment 1 too),
    placed = order(other_shop)

    # When it is paid with the declining card,
    with pytest.raises(PaymentDeclined) as declined:
        pay(other_shop, placed.id, cards.DECLINE)

    # Then the sandbox declines it, and nothing is fulfilled.
    assert paid.state is OrderState.FULFILLED
    assert declined.value.decline_code == "card_declined"
    assert order_details(other_shop.uow(), order_id=placed.id).order.state is not (
        OrderState.FULFILLED
    )
    db = sqlite3.connect(shop.settings.sandbox_path)
    keys = [row[0] for row in db.execute("SELECT idempotency_key FROM payments")]
    db.close()
    assert len(keys) == len(set(keys)) == 2
    assert {key.split("-")[1] for key in keys} == {
        installation_id(shop.uow()),
        installation_id(other_shop.uow()),
    }
