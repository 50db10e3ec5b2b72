"""``saldo demo``: a ready-to-use instance with the seven demo operators and a few lines each.

Every write goes through the ordinary use cases with fixed idempotency keys, so running the
demo again duplicates nothing.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from saldo.bootstrap import Saldo
from saldo.catalog.schema import bundled_specs
from saldo.channels.cli.render import local_time, money, new_table, out, phone_column
from saldo.channels.cli.vouchers import export_pins
from saldo.channels.cli.worker import log_to_stderr
from saldo.domain.buckets import BucketKind
from saldo.domain.fx import ExchangeRate
from saldo.domain.lifecycle import LineState
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.operator import SimKind
from saldo.services.adjust_balance import adjust_balance
from saldo.services.exchange_rates import list_rates, load_rates
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import LineNotFound, NewLine, add_line, find_line
from saldo.services.operators import register_operator
from saldo.services.top_up import top_up
from saldo.services.vouchers import generate_vouchers, list_batches

MB = 1024 * 1024
DEMO_VOUCHERS = Path("demo-vouchers.csv")


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


def run_demo(saldo: Saldo, *, serve: bool, port: int) -> None:
    """Set the demo up (again), print it, then serve it on ``port`` with the worker beside
    the server. Raises CannotListen, before anything is set up, when the port is taken."""
    listening = None
    if serve:
        from saldo.channels.api.server import listen

        listening = listen(host=saldo.settings.host, port=port)
    saldo.migrate()
    now = saldo.clock.now()
    specs = bundled_specs()
    currencies: dict[str, str] = {}
    for spec in specs:
        operator = saldo.run(
            register_operator,
            operator=spec.to_operator(),
            spec=spec.model_dump(mode="json"),
            now=now,
        )
        currencies[operator.slug] = operator.currency
    recycled = [
        demo.msisdn
        for demo in DEMO_LINES
        if not _set_up(saldo, demo, currency=currencies[demo.operator], now=now)
    ]
    _vouchers(saldo, now=now)
    _rates(saldo, now=now)
    _show(saldo, recycled=recycled, port=port, now=now)
    if listening is not None:
        from saldo.channels.api.server import serve as serve_http
        from saldo.channels.worker import run_forever

        # The lifecycle worker runs beside the server: a pass a minute, its log on stderr.
        log_to_stderr(level=logging.INFO)
        stop = threading.Event()
        worker = threading.Thread(
            target=run_forever,
            args=(saldo,),
            kwargs={"interval": timedelta(minutes=1), "stop": stop},
            name="saldo-worker",
            daemon=True,
        )
        worker.start()
        try:
            serve_http(saldo, listening=listening)
        finally:
            stop.set()


def _set_up(saldo: Saldo, demo: DemoLine, *, currency: str, now: datetime) -> bool:
    """Set the demo line up, or replay its setting up; False (and nothing done) when the
    worker has recycled its number since: the demo leaves a recycled number as it is, as an
    operator would, rather than give it to a new line (it could not during the quarantine,
    and a new line would not be the demo's line any more)."""
    # Everything is anchored on the line's activation, so a second run asks for exactly the
    # same movements with the same keys, and each replays instead of applying again.
    try:
        line = saldo.run(find_line, msisdn=demo.msisdn)
    except LineNotFound:
        line = saldo.run(
            add_line,
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
        saldo.run(
            top_up,
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
            saldo.run(
                adjust_balance,
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


def _vouchers(saldo: Saldo, *, now: datetime) -> None:
    """A small batch of Claro Colombia vouchers, once; its PINs go to demo-vouchers.csv."""
    if DEMO_VOUCHERS.exists() or any(
        batch.count for batch in saldo.run(list_batches, operator="claro-co", now=now)
    ):
        return
    expires_at = now + timedelta(days=365)
    value = Money.of("10000", "COP")
    saldo.run(
        generate_vouchers,
        operator="claro-co",
        value=value,
        count=10,
        expires_at=expires_at,
        created_by="saldo demo",
        pin_key=saldo.pin_key,
        now=now,
        deliver=lambda batch: export_pins(
            DEMO_VOUCHERS, batch.vouchers, value=value, expires=expires_at.date().isoformat()
        ),
    )


# Illustrative rates so that quotes in another currency work in the demo; stamped with the
# time the demo runs, and loaded again only once they would be too old to quote with. Not
# market data.
DEMO_RATES = (("USD", "ARS", "1450.25"), ("USD", "COP", "3875.50"), ("EUR", "USD", "1.0876"))


def _rates(saldo: Saldo, *, now: datetime) -> None:
    max_age = timedelta(hours=saldo.settings.fx_max_age_hours) / 2
    fresh = {
        (rate.base, rate.quote)
        for rate in saldo.run(list_rates)
        if rate.source == "demo" and now - rate.fetched_at < max_age
    }
    rates = [
        ExchangeRate(base=base, quote=quote, rate=Decimal(rate), source="demo", fetched_at=now)
        for base, quote, rate in DEMO_RATES
        if (base, quote) not in fresh
    ]
    if rates:
        saldo.run(load_rates, rates=rates, now=now)


def _show(saldo: Saldo, *, recycled: list[str], port: int, now: datetime) -> None:
    table = new_table(
        "operator", phone_column("number"), "language", "state", "main balance", "valid until"
    )
    for demo in DEMO_LINES:
        if demo.msisdn in recycled:
            table.add_row(demo.operator, demo.msisdn, demo.language, "recycled", "—", "—")
            continue
        view = saldo.run(inquire_balance, msisdn=demo.msisdn, now=now)
        table.add_row(
            view.operator,
            view.msisdn,
            demo.language,
            view.state.value,
            money(view.main, view.locale),
            local_time(view.valid_until, view.timezone),
        )
    out.print(table)
    for msisdn in recycled:
        out.print(
            f"{msisdn} was recycled by a worker pass since the demo was made: left as it is "
            f"(`saldo lines show {msisdn}`; `make clean && make demo` starts afresh)."
        )
    url = f"http://{saldo.settings.host}:{port}"
    out.print(
        "\nSaldo demo is ready. Try, in another terminal (with .venv/bin on your PATH):\n"
        "  saldo balance +573001234567\n"
        "  saldo topup +573001234567 30.000 --key my-first-topup   # 50.000 → 80.000 COP\n"
        "  saldo topup +573001234567 30.000 --key my-first-topup   # replay: same receipt\n"
        "  saldo topup +5491187654321 2.000                       # brings a lapsed line back\n"
        "  saldo sms --from +5492614445566 --to 100 SALDO        # the SMS keyword service\n"
        "  saldo sms --from +573001234567 --to 123 RECARGA <PIN>  # a PIN from demo-vouchers.csv\n"
        "  saldo ussd --from +573109876543 '*611#'              # the USSD menu\n"
        "  saldo orders quote +5491123456789 pack-mensual-1m --pay-in USD   # rate, spread, fee\n"
        "  saldo orders create +32470123456 mobile-smart-3m --email you@example.org\n"
        "  saldo orders pay 1 --card 4242424242424242   # sandbox cards: docs/orders.md\n"
        "  saldo orders show 1 --receipt\n"
        "  saldo outbox list                 # SMS and emails to subscribers, sent or waiting\n"
        "  saldo outbox show 1               # what one of them says\n"
        "  saldo lines list --operator proximus-be --json\n"
        "  saldo operators list\n"
        "  saldo audit\n"
        f"  curl '{url}/channels/sms/inbound?from=%2B5492614445566&to=100&text=SALDO'\n"
        f"  curl {url}/healthz   ·   {url}/metrics   ·   {url}/docs\n"
    )
    folder = saldo.outbox_folder()
    unsent = [
        (what, missing)
        for what, missing, gateway in (
            ("SMS", "no SMS gateway", saldo.settings.kannel_sendsms_url),
            ("emails", "no SMTP server", saldo.settings.smtp_url),
        )
        if not gateway
    ]
    if folder is not None and unsent:
        out.print(
            f"{' and '.join(what for what, _ in unsent)} to subscribers are written to "
            f"{folder.resolve()}/, one file per message, as there is "
            f"{' and '.join(missing for _, missing in unsent)} (docs/configuration.md).",
            markup=False,
        )
