"""``saldo charging keys`` and ``saldo charging revoke`` on SQLite and PostgreSQL: an operator
sees its network elements' keys (made, last used, revoked) and revokes one, which every
server refuses from its next request: two applications, each with its own Saldo and
connection pool on the one database, stand for two server processes (neither caches a key)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from saldo.adapters.clock import FixedClock
from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.lines import NewLine, add_line
from saldo.services.network_elements import register_element
from saldo.services.top_up import top_up
from tests.cli import Cli
from tests.conftest import wire

LINE = "+5491155551234"
OPENING = {"msisdn": LINE, "service": "voice", "destination": "+541143210000", "requested": 60}


@pytest.fixture
def cli(saldo: Saldo, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(saldo, capsys)


@pytest.fixture
def elements(saldo: Saldo, clock: FixedClock) -> Saldo:
    add_line(saldo.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=clock.now())
    top_up(
        saldo.uow(),
        msisdn=LINE,
        amount=Money.of("5000", "ARS"),
        channel=Channel.STORE,
        idempotency_key="seed",
        now=clock.now(),
    )
    for name, key in (("msc-1", "ne_one"), ("pgw-1", "ne_two")):
        register_element(
            saldo.uow(),
            operator_slug="movistar-ar",
            name=name,
            key_hash=saldo.element_key_hash(key),
            now=clock.now(),
        )
    return saldo


def opened(client: TestClient, key: str, session: str) -> int:
    return client.post(
        "/api/v1/charging/sessions",
        headers={"Authorization": f"Bearer {key}"},
        json={"session_id": session, **OPENING},
    ).status_code


def test_keys_show_when_each_was_made_and_last_used(elements: Saldo, cli: Cli) -> None:
    client = TestClient(create_app(elements))
    opened(client, "ne_one", "a")

    keys = cli.json("charging", "keys", "--operator", "movistar-ar")
    table = cli.ok("charging", "keys", "--operator", "movistar-ar")

    assert isinstance(keys, list)
    assert [(key["name"], key["revoked_at"]) for key in keys] == [("msc-1", None), ("pgw-1", None)]
    assert keys[0]["last_used_at"] is not None and keys[1]["last_used_at"] is None
    assert "msc-1" in table and "never" in table and "active" in table


def test_a_key_s_use_is_noted_once_a_minute_not_on_every_request(
    elements: Saldo, clock: FixedClock
) -> None:
    client = TestClient(create_app(elements))

    def last_used() -> object:
        with elements.uow().reading() as uow:
            operator = uow.operators.get_by_slug("movistar-ar")
            assert operator is not None and operator.id is not None
            return uow.charging.element_keys(operator.id)[0].last_used_at

    opened(client, "ne_one", "a")
    first = last_used()
    clock.advance(timedelta(seconds=30))
    opened(client, "ne_one", "b")
    within_the_minute = last_used()
    clock.advance(timedelta(seconds=31))
    opened(client, "ne_one", "c")

    assert first == within_the_minute
    assert last_used() == clock.now()


def test_a_revoked_key_is_refused_by_every_server_at_once(
    elements: Saldo, cli: Cli, database_url: str, clock: FixedClock
) -> None:
    other = wire(database_url, clock)  # a second server process's own Saldo
    try:
        here, there = TestClient(create_app(elements)), TestClient(create_app(other))
        before = (opened(here, "ne_one", "a"), opened(there, "ne_one", "b"))

        said = cli.ok("charging", "revoke", "--operator", "movistar-ar", "--name", "msc-1")
        after = (opened(here, "ne_one", "c"), opened(there, "ne_one", "d"))
        still = opened(there, "ne_two", "e")
    finally:
        other.close()

    assert before == (201, 201)
    assert said.startswith("Key of msc-1 (movistar-ar) revoked at ") and said.endswith("-03.\n")
    assert after == (401, 401)
    assert still == 201  # the operator's other element keeps charging
    states = cli.json("charging", "keys", "--operator", "movistar-ar")
    assert isinstance(states, list) and states[0]["revoked_at"] is not None


def test_revoking_twice_keeps_the_first_moment(elements: Saldo, cli: Cli) -> None:
    first = cli.ok("charging", "revoke", "--operator", "movistar-ar", "--name", "msc-1")
    again = cli.ok("charging", "revoke", "--operator", "movistar-ar", "--name", "msc-1")

    assert first == again


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ("revoke", "--operator", "movistar-ar", "--name", "nope"),
            "Movistar has no network element 'nope'",
        ),
        (
            ("revoke", "--operator", "claro-ar", "--name", "msc-1"),
            "Claro has no network element 'msc-1'",
        ),
        (("keys", "--operator", "nope"), "no operator 'nope'"),
    ],
)
def test_an_unknown_operator_or_element_is_one_line_and_exit_1(
    elements: Saldo, cli: Cli, args: tuple[str, ...], said: str
) -> None:
    assert cli.refused("charging", *args) == said
