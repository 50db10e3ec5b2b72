"""The ledger audit: every transaction balances and every cached bucket balance equals the
sum of its ledger entries. ``saldo audit`` runs it and fails loudly on any difference."""

from __future__ import annotations

from dataclasses import dataclass

from saldo.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Unbalanced:
    transaction_id: int
    unit: str
    total: int


@dataclass(frozen=True, slots=True)
class Drift:
    account_id: int
    msisdn: str
    kind: str
    cached: int
    ledger: int


@dataclass(frozen=True, slots=True)
class AuditReport:
    transactions: int
    entries: int
    buckets: int
    unbalanced: tuple[Unbalanced, ...]
    drifted: tuple[Drift, ...]

    @property
    def clean(self) -> bool:
        return not self.unbalanced and not self.drifted


def audit_ledger(uow: UnitOfWork, *, limit: int = 20) -> AuditReport:
    """Recompute every line bucket from the ledger and check every transaction, in one
    consistent read. Lists at most ``limit`` findings of each kind, first ones first."""
    with uow.reading():
        transactions, entries, buckets = uow.ledger.counts()
        unbalanced = tuple(
            Unbalanced(transaction_id=tid, unit=unit, total=total)
            for tid, unit, total in uow.ledger.unbalanced_transactions(limit=limit)
        )
        drifted = tuple(
            Drift(account_id=aid, msisdn=msisdn, kind=kind, cached=cached, ledger=ledger)
            for aid, msisdn, kind, cached, ledger in uow.ledger.drifted_buckets(limit=limit)
        )
    return AuditReport(
        transactions=transactions,
        entries=entries,
        buckets=buckets,
        unbalanced=unbalanced,
        drifted=drifted,
    )
