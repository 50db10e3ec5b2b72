"""The demo: the seven demo operators and a few lines each, set up through the ordinary use
cases with fixed idempotency keys, so that setting it up again duplicates nothing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from saldo.domain.buckets import BucketKind
from saldo.domain.fx import ExchangeRate
from saldo.domain.lifecycle import LineState
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.operator import Operator, SimKind
from saldo.services.adjust_balance import adjust_balance
from saldo.services.exchange_rates import list_rates, load_rates
from saldo.services.inquire_balance import BalanceView, inquire_balance
from saldo.services.lines import LineNotFound, NewLine, add_line, find_line
from saldo.services.operators import register_operator
from saldo.services.ports import UnitOfWork
from saldo.services.top_up import top_up
from saldo.services.vouchers import GeneratedBatch, generate_vouchers, list_batches

MB = 1024 * 1024


@dataclass(frozen=True)
class DemoLine:
    operator: str
    msisdn: str
    language: str
    topups: tuple[str, ...]
    sim_kind: SimKind = SimKind.PHYSICAL
    # Days ago the line was set up; a line set up long ago without a top-up since is now in
    # grace or suspension, to show the lifecycle.
    age_days: int = 0
    voice_minutes: int = 0
    data_mb: int = 0
    sms: int = 0


DEMO_LINES = (
    DemoLine("movistar-ar", "+5491123456789", "es", ("5000",), voice_minutes=100, data_mb=2048),
    DemoLine("movistar-ar", "+5491145678901", "zh", ("2000",), sim_kind=SimKind.ESIM),
    DemoLine("claro-ar", "+5493515550123", "es", ("10000",), sms=50),
    DemoLine("claro-ar", "+5491187654321", "en", ("1000",), age_days=50),
    DemoLine("personal-ar", "+5492614445566", "es", ("3000",), data_mb=1024),
    DemoLine("personal-ar", "+5491133334444", "es", ("1000",), age_days=100),
    # The worked example from the design: a Claro Colombia balance of 50 (thousand pesos);
    # `saldo topup +573001234567 30.000` brings it to 80.
    DemoLine("claro-co", "+573001234567", "es", ("50000",), voice_minutes=200),
    DemoLine("claro-co", "+573109876543", "en", ("10000",), sim_kind=SimKind.ESIM),
    DemoLine("movistar-co", "+573155550000", "es", ("20000",), data_mb=3072),
    DemoLine("tigo-co", "+573201112233", "es", ("5000",), age_days=45),
    DemoLine("tigo-co", "+573004445566", "es", ("10000",)),
    DemoLine("proximus-be", "+32470123456", "fr", ("15",), data_mb=5120),
    DemoLine("proximus-be", "+32475987654", "nl", ("10",), sim_kind=SimKind.ESIM),
    DemoLine("proximus-be", "+32496112233", "en", ("5",), age_days=40),
)


@dataclass(frozen=True, slots=True)
class DemoRow:
    """One demo line as it is now: its balance, or None when a worker recycled it."""

    line: DemoLine
    balance: BalanceView | None


@dataclass(frozen=True, slots=True)
class DemoReport:
    rows: list[DemoRow]

    @property
    def recycled(self) -> list[str]:
        return [row.line.msisdn for row in self.rows if row.balance is None]


def set_up_demo(
    uow: UnitOfWork,
    *,
    operators: Sequence[tuple[Operator, dict[str, Any]]],
    pin_key: bytes,
    deliver_pins: Callable[[GeneratedBatch], None] | None,
    rate_max_age: timedelta,
    now: datetime,
) -> DemoReport:
    """Set the demo up, or replay its setting up: ``operators`` (each with the catalog spec
    it was made from), the demo lines with their top-ups and welcome packs, a batch of ten
    Claro Colombia vouchers when there is none and ``deliver_pins`` takes their PINs, and
    illustrative exchange rates when the last ones are older than half ``rate_max_age``."""
    currencies: dict[str, str] = {}
    for operator, spec in operators:
        made = register_operator(uow, operator=operator, spec=spec, now=now)
        currencies[made.slug] = made.currency
    rows = []
    for demo in DEMO_LINES:
        kept = _set_up(uow, demo, currency=currencies[demo.operator], now=now)
        balance = inquire_balance(uow, msisdn=demo.msisdn, now=now) if kept else None
        rows.append(DemoRow(line=demo, balance=balance))
    if deliver_pins is not None:
        _vouchers(uow, pin_key=pin_key, deliver=deliver_pins, now=now)
    _rates(uow, max_age=rate_max_age / 2, now=now)
    return DemoReport(rows=rows)


def _set_up(uow: UnitOfWork, demo: DemoLine, *, currency: str, now: datetime) -> bool:
    """Set the demo line up, or replay its setting up; False (and nothing done) when the
    worker has recycled its number since: the demo leaves a recycled number as it is, as an
    operator would, rather than give it to a new line (it could not during the quarantine,
    and a new line would not be the demo's line any more)."""
    # Everything is anchored on the line's activation, so a second run asks for exactly the
    # same movements with the same keys, and each replays instead of applying again.
    try:
        line = find_line(uow, msisdn=demo.msisdn)
    except LineNotFound:
        line = add_line(
            uow,
            new_line=NewLine(
                msisdn=demo.msisdn,
                operator=demo.operator,
                sim_kind=demo.sim_kind,
                language=demo.language,
            ),
            now=now - timedelta(days=demo.age_days),
        )
    if line.state is LineState.RECYCLED:
        return False
    started = line.activated_at
    for number, amount in enumerate(demo.topups):
        top_up(
            uow,
            msisdn=demo.msisdn,
            amount=Money.of(amount, currency),
            channel=Channel.STORE,
            idempotency_key=f"demo-{demo.msisdn}-topup-{number}",
            now=started,
        )
    allowances = (
        (BucketKind.VOICE, demo.voice_minutes * 60),
        (BucketKind.DATA, demo.data_mb * MB),
        (BucketKind.SMS, demo.sms),
    )
    for kind, units in allowances:
        if units:
            adjust_balance(
                uow,
                msisdn=demo.msisdn,
                kind=kind,
                amount=units,
                reason="demo welcome pack",
                actor="saldo demo",
                idempotency_key=f"demo-{demo.msisdn}-{kind.value}",
                expires_at=started + timedelta(days=30),
                now=started,
            )
    return True


def _vouchers(
    uow: UnitOfWork, *, pin_key: bytes, deliver: Callable[[GeneratedBatch], None], now: datetime
) -> None:
    """A small batch of Claro Colombia vouchers, once."""
    if any(batch.count for batch in list_batches(uow, operator="claro-co", now=now)):
        return
    generate_vouchers(
        uow,
        operator="claro-co",
        value=Money.of("10000", "COP"),
        count=10,
        expires_at=now + timedelta(days=365),
        created_by="saldo demo",
        pin_key=pin_key,
        now=now,
        deliver=deliver,
    )


# Illustrative rates so that quotes in another currency work in the demo; stamped with the
# time the demo runs, and loaded again only once they would be too old to quote with. Not
# market data.
DEMO_RATES = (("USD", "ARS", "1450.25"), ("USD", "COP", "3875.50"), ("EUR", "USD", "1.0876"))


def _rates(uow: UnitOfWork, *, max_age: timedelta, now: datetime) -> None:
    fresh = {
        (rate.base, rate.quote)
        for rate in list_rates(uow)
        if rate.source == "demo" and now - rate.fetched_at < max_age
    }
    rates = [
        ExchangeRate(base=base, quote=quote, rate=Decimal(rate), source="demo", fetched_at=now)
        for base, quote, rate in DEMO_RATES
        if (base, quote) not in fresh
    ]
    if rates:
        load_rates(uow, rates=rates, now=now)
