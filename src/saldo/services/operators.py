"""Adding and updating operators from the catalog, and reading them back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.operator import Operator
from saldo.domain.periods import require_aware
from saldo.services.ports import UnitOfWork


class UnknownOperator(SaldoError):
    code = "unknown_operator"


class OperatorInUse(SaldoError):
    """The update would change what an operator's lines are kept in."""

    code = "operator_in_use"


# What an operator's lines depend on: their numbers are in the country's plan, their money
# and the ledger in the currency.
_SETTLED = ("country", "currency")


def register_operator(
    uow: UnitOfWork, *, operator: Operator, spec: dict[str, Any], now: datetime
) -> Operator:
    """Add the operator, or update it when its slug exists; return it with its id. Raise
    OperatorInUse when an update would change the country or the currency of an operator
    that has lines."""
    now = require_aware(now)
    with uow:
        # Locked first: a line being added (its foreign key shares the row) is waited for,
        # and is then seen by the check below.
        existing = uow.operators.get_by_slug(operator.slug, for_update=True)
        if existing is not None and existing.id is not None:
            changed = [f for f in _SETTLED if getattr(existing, f) != getattr(operator, f)]
            if changed and _in_use(uow, operator_id=existing.id, now=now):
                field = changed[0]
                raise OperatorInUse(
                    f"{field}: {operator.slug} has lines or vouchers kept in "
                    f"{getattr(existing, field)}, so its {field} cannot change to "
                    f"{getattr(operator, field)}"
                )
        saved = uow.operators.save(operator, spec=spec, now=now)
        uow.commit()
    return saved


def _in_use(uow: UnitOfWork, *, operator_id: int, now: datetime) -> bool:
    """Whether the operator has lines, or vouchers still to redeem (sold in its currency)."""
    if uow.lines.list(operator_id=operator_id, limit=1):
        return True
    return any(
        batch.voided_at is None and batch.redeemed + batch.expired < batch.count
        for batch in uow.vouchers.batches(operator_id=operator_id, now=now)
    )


def list_operators(uow: UnitOfWork) -> list[Operator]:
    with uow.reading():
        return uow.operators.list()


def language_of_code(uow: UnitOfWork, *, code: str, channel: Channel) -> str:
    """The language to answer a number that is no line's in, on the SMS short code or USSD
    code (``channel``) it wrote to: that of the operators behind the code when they agree,
    else English."""
    answers = Operator.answers_ussd_code if channel is Channel.USSD else Operator.answers_short_code
    languages = {
        operator.languages[0] for operator in list_operators(uow) if answers(operator, code)
    }
    return languages.pop() if len(languages) == 1 else "en"


def get_operator(uow: UnitOfWork, *, slug: str) -> Operator:
    """The operator with this slug; raise UnknownOperator otherwise."""
    with uow.reading():
        operator = uow.operators.get_by_slug(slug)
    if operator is None:
        raise UnknownOperator(f"no operator {slug!r}")
    return operator
