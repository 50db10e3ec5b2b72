"""In development, with no Kannel or SMTP configured, the outbox writes each SMS and email to
the outbox folder beside the database, where a newcomer reads what the subscriber would
receive; outside development such messages stay pending, as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from saldo.adapters.clock import FixedClock
from saldo.adapters.db.engine import make_engine
from saldo.adapters.folder import SMS_SUFFIX, read_page
from saldo.bootstrap import Saldo
from saldo.channels.notifications import deliver_notifications
from saldo.config import Settings
from saldo.services.outbox import Delivery
from tests.conftest import load_catalog
from tests.integration.services.test_outbox import (
    NOW,
    PROXIMUS,
    given_line,
    given_reminder,
    stored,
)


def wired(url: str, clock: FixedClock, **settings: str) -> Iterator[Saldo]:
    saldo = Saldo(
        settings=Settings(database_url=url, **settings),  # type: ignore[arg-type]
        engine=make_engine(url),
        clock=clock,
    )
    load_catalog(saldo)
    yield saldo
    saldo.close()


@pytest.fixture
def development(sqlite_url: str, clock: FixedClock) -> Iterator[Saldo]:
    yield from wired(sqlite_url, clock, environment="development")


@pytest.fixture
def production(sqlite_url: str, clock: FixedClock) -> Iterator[Saldo]:
    yield from wired(
        sqlite_url,
        clock,
        environment="production",
        secret_key="a production secret of my own",
        gateway_token="a gateway token",
    )


def test_in_development_an_sms_is_written_to_the_outbox_folder_beside_the_database(
    development: Saldo, tmp_path: Path
) -> None:
    # Given a Proximus line with an expiry reminder queued, and no SMS gateway,
    line = given_line(development, PROXIMUS, "proximus-be", "fr")
    given_reminder(development, line)

    # When the outbox is delivered,
    delivery = deliver_notifications(development, now=NOW)

    # Then the SMS is a file in saldo-outbox/ beside saldo.db, as the subscriber reads it.
    assert delivery == Delivery(sent=1)
    assert stored(development, f"expiry-{line.id}-7").state == "sent"
    [written] = (tmp_path / "saldo-outbox").glob(f"*{SMS_SUFFIX}")
    headers, text = read_page(written)
    assert (headers["To"], headers["From"]) == (PROXIMUS, "6000")
    assert text == (
        "Proximus : votre ligne est valable jusqu'au 22 déc. 2026. Pour la renouveler, "
        "envoyez RENOUVELER mobile-smart-1m au 6000 ou composez *100#."
    )


def test_outside_development_without_a_gateway_the_sms_stays_pending(
    production: Saldo, tmp_path: Path
) -> None:
    line = given_line(production, PROXIMUS, "proximus-be", "fr")
    given_reminder(production, line)

    delivery = deliver_notifications(production, now=NOW)

    assert delivery == Delivery()
    assert stored(production, f"expiry-{line.id}-7").state == "pending"
    assert not (tmp_path / "saldo-outbox").exists()
