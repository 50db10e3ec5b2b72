"""Operator account ids are remembered once committed (a top-up does not look its operator's
account up each time), and only then: an account opened in a transaction or savepoint that
was rolled back must not be remembered, or a later movement would post to an id that does
not exist, or that another account took."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from saldo.adapters.db import tables as t
from saldo.bootstrap import Saldo
from saldo.domain.ledger import OperatorAccount


def _operator_id(saldo: Saldo, slug: str = "claro-co") -> int:
    with saldo.uow().reading() as uow:
        operator = uow.operators.get_by_slug(slug)
    assert operator is not None and operator.id is not None
    return operator.id


def _stored(saldo: Saldo, operator_id: int, kind: OperatorAccount) -> list[int]:
    with saldo.engine.connect() as connection:
        rows = connection.execute(
            select(t.accounts.c.id).where(
                t.accounts.c.operator_id == operator_id,
                t.accounts.c.line_id.is_(None),
                t.accounts.c.kind == kind.value,
            )
        )
        return [row[0] for row in rows]


def _open(saldo: Saldo, operator_id: int, kind: OperatorAccount) -> int:
    uow = saldo.uow()
    with uow:
        account = uow.accounts.operator_account(
            operator_id=operator_id, kind=kind, unit="COP", now=saldo.clock.now()
        )
        uow.commit()
    return account


def test_a_committed_account_is_remembered_and_served_again(saldo: Saldo) -> None:
    operator_id = _operator_id(saldo)
    first = _open(saldo, operator_id, OperatorAccount.TOPUPS)
    assert _open(saldo, operator_id, OperatorAccount.TOPUPS) == first
    assert _stored(saldo, operator_id, OperatorAccount.TOPUPS) == [first]


def test_an_account_opened_in_a_rolled_back_transaction_is_forgotten(saldo: Saldo) -> None:
    operator_id = _operator_id(saldo)
    uow = saldo.uow()
    with uow:  # not committed: rolled back on the way out
        uow.accounts.operator_account(
            operator_id=operator_id,
            kind=OperatorAccount.FORFEITS,
            unit="COP",
            now=saldo.clock.now(),
        )
    assert _stored(saldo, operator_id, OperatorAccount.FORFEITS) == []
    account = _open(saldo, operator_id, OperatorAccount.FORFEITS)
    assert _stored(saldo, operator_id, OperatorAccount.FORFEITS) == [account]


def test_an_account_opened_in_a_rolled_back_savepoint_is_forgotten(saldo: Saldo) -> None:
    operator_id = _operator_id(saldo)
    uow = saldo.uow()
    with uow:
        with pytest.raises(RuntimeError), uow.savepoint():
            uow.accounts.operator_account(
                operator_id=operator_id,
                kind=OperatorAccount.USAGE,
                unit="COP",
                now=saldo.clock.now(),
            )
            raise RuntimeError("this record is refused")
        uow.commit()  # the rest of the batch commits
    assert _stored(saldo, operator_id, OperatorAccount.USAGE) == []
    account = _open(saldo, operator_id, OperatorAccount.USAGE)
    assert _stored(saldo, operator_id, OperatorAccount.USAGE) == [account]
    with saldo.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(t.accounts)).scalar_one() > 0
