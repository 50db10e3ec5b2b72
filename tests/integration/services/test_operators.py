"""Updating an operator from its catalog: what its lines are kept in cannot change under
them, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

import pytest

from saldo.bootstrap import Saldo
from saldo.catalog.schema import bundled_specs
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.audit import audit_ledger
from saldo.services.lines import NewLine, add_line, import_lines
from saldo.services.operators import OperatorInUse, get_operator, register_operator
from saldo.services.top_up import top_up
from saldo.services.vouchers import generate_vouchers

TIGO = next(spec for spec in bundled_specs() if spec.slug == "tigo-co")


def _reload(saldo: Saldo, **changes: str) -> object:
    """Tigo's entry loaded again with ``changes`` (past the catalog's own checks, which
    already refuse a currency foreign to the country)."""
    return register_operator(
        saldo.uow(),
        operator=dataclasses.replace(TIGO.to_operator(), **changes),
        spec={**TIGO.model_dump(mode="json"), **changes},
        now=saldo.clock.now(),
    )


def test_an_operator_without_lines_may_change_its_country_and_currency(saldo: Saldo) -> None:
    _reload(saldo, country="EC", currency="USD")

    operator = get_operator(saldo.uow(), slug="tigo-co")
    assert (operator.country, operator.currency) == ("EC", "USD")


@pytest.mark.parametrize(("field", "value"), [("currency", "USD"), ("country", "EC")])
def test_an_operator_with_lines_keeps_its_currency_and_country(
    saldo: Saldo, field: str, value: str
) -> None:
    add_line(
        saldo.uow(),
        new_line=NewLine(msisdn="+573001230000", operator="tigo-co"),
        now=saldo.clock.now(),
    )
    top_up(
        saldo.uow(),
        msisdn="+573001230000",
        amount=Money.of("5000", "COP"),
        channel=Channel.STORE,
        idempotency_key="tigo-1",
        now=saldo.clock.now(),
    )

    with pytest.raises(OperatorInUse, match=f"{field}: tigo-co has lines or vouchers kept in"):
        _reload(saldo, **{field: value})

    operator = get_operator(saldo.uow(), slug="tigo-co")
    assert (operator.country, operator.currency) == ("CO", "COP")
    assert audit_ledger(saldo.uow()).clean


def test_an_operator_with_lines_may_change_anything_else(saldo: Saldo) -> None:
    add_line(
        saldo.uow(),
        new_line=NewLine(msisdn="+573001230000", operator="tigo-co"),
        now=saldo.clock.now(),
    )

    _reload(saldo, name="Tigo Colombia")

    assert get_operator(saldo.uow(), slug="tigo-co").name == "Tigo Colombia"


def test_an_operator_with_vouchers_still_to_redeem_keeps_its_currency_and_country(
    saldo: Saldo,
) -> None:
    _sell_vouchers(saldo, valid_for=timedelta(days=365))

    with pytest.raises(OperatorInUse, match="currency: tigo-co has lines or vouchers kept in"):
        _reload(saldo, currency="USD")


def test_vouchers_that_expired_do_not_hold_the_operator(saldo: Saldo) -> None:
    _sell_vouchers(saldo, valid_for=timedelta(days=1))
    saldo.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]

    _reload(saldo, country="EC", currency="USD")

    assert get_operator(saldo.uow(), slug="tigo-co").currency == "USD"


def _sell_vouchers(saldo: Saldo, *, valid_for: timedelta) -> None:
    """Two Tigo vouchers of 10.000 COP, valid for ``valid_for`` from now."""
    generate_vouchers(
        saldo.uow(),
        operator="tigo-co",
        value=Money.of("10000", "COP"),
        count=2,
        expires_at=saldo.clock.now() + valid_for,
        created_by="ops@tigo.example",
        pin_key=saldo.pin_key,
        now=saldo.clock.now(),
    )


def test_a_line_being_added_holds_back_a_move_to_another_currency(saldo: Saldo) -> None:
    # Two transactions at once (SQLite lets one writer in at a time, so this is about the
    # row locks of PostgreSQL): the move must wait for the line and then see it.
    if saldo.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers")
    adding, release = threading.Event(), threading.Event()
    # An import reads a chunk of rows before its transaction opens: the pause is at the
    # chunk's commit, once the line is written and the operator's row share-locked.
    uow = saldo.uow()
    commit = uow.commit

    def commit_later() -> None:
        adding.set()  # the line is written, its transaction still open
        release.wait(10)
        commit()

    uow.commit = commit_later  # type: ignore[method-assign]
    rows = [(2, NewLine(msisdn="+573001230000", operator="tigo-co"))]
    importer = threading.Thread(target=lambda: import_lines(uow, rows=rows, now=saldo.clock.now()))
    importer.start()
    assert adding.wait(10)
    refused: list[OperatorInUse] = []

    def move() -> None:
        try:
            _reload(saldo, country="EC", currency="USD")
        except OperatorInUse as error:
            refused.append(error)

    mover = threading.Thread(target=move)
    mover.start()
    mover.join(0.5)
    waited = mover.is_alive()
    release.set()
    importer.join(10)
    mover.join(10)

    assert waited  # behind the line's transaction
    assert len(refused) == 1
    operator = get_operator(saldo.uow(), slug="tigo-co")
    assert (operator.country, operator.currency) == ("CO", "COP")
