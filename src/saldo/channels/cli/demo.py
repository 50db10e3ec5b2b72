"""``saldo demo``: a ready-to-use instance with the seven demo operators and a few lines each.

Every write goes through the ordinary use cases with fixed idempotency keys, so running the
demo again duplicates nothing.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

from saldo.bootstrap import Saldo
from saldo.catalog.schema import bundled_specs
from saldo.channels.cli.demo_hotline import start_demo_hotline
from saldo.channels.cli.render import local_time, money, new_table, out, phone_column
from saldo.channels.cli.vouchers import export_pins
from saldo.channels.cli.worker import log_to_stderr
from saldo.services.demo import DemoReport, set_up_demo
from saldo.services.vouchers import GeneratedBatch

DEMO_VOUCHERS = Path("demo-vouchers.csv")
# How long a stopping demo lets the hotline hang up its calls.
HOTLINE_STOP_SECONDS = 10.0


def run_demo(saldo: Saldo, *, serve: bool, port: int) -> None:
    """Set the demo up (again), print it, then serve it on ``port`` with the worker and the
    hotline beside the server. Raises CannotListen, before anything is set up, when the port
    is taken."""
    listening = None
    if serve:
        from saldo.channels.api.server import listen

        listening = listen(host=saldo.settings.host, port=port)
    saldo.migrate()
    now = saldo.clock.now()
    report = saldo.run(
        set_up_demo,
        operators=[(spec.to_operator(), spec.model_dump(mode="json")) for spec in bundled_specs()],
        pin_key=saldo.pin_key,
        # The PINs are written once, to demo-vouchers.csv; `make clean` removes it.
        deliver_pins=None if DEMO_VOUCHERS.exists() else _export_demo_pins,
        rate_max_age=timedelta(hours=saldo.settings.fx_max_age_hours),
        now=now,
    )
    _show(saldo, report, port=port)
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
        # The hotline too, on a loopback SIP port (docs/hotline.md); without it, the rest.
        hotline = start_demo_hotline(saldo, stop=stop)
        try:
            serve_http(saldo, listening=listening)
        finally:
            stop.set()
            if hotline is not None:
                hotline.join(HOTLINE_STOP_SECONDS)


def _export_demo_pins(batch: GeneratedBatch) -> None:
    expires = batch.expires_at.date().isoformat()
    export_pins(DEMO_VOUCHERS, batch.vouchers, value=batch.value, expires=expires)


def _show(saldo: Saldo, report: DemoReport, *, port: int) -> None:
    table = new_table(
        "operator", phone_column("number"), "language", "state", "main balance", "valid until"
    )
    for row in report.rows:
        demo, view = row.line, row.balance
        if view is None:
            table.add_row(demo.operator, demo.msisdn, demo.language, "recycled", "—", "—")
            continue
        table.add_row(
            view.operator,
            view.msisdn,
            demo.language,
            view.state.value,
            money(view.main, view.locale),
            local_time(view.valid_until, view.timezone),
        )
    out.print(table)
    for msisdn in report.recycled:
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
        f"\nThe subscriber portal, My account: {url}/ (docs/portal.md)\n"
        "  Sign in with a demo line, e.g. +573001234567: its 6-digit code comes by SMS at once,\n"
        "  which without an SMS gateway is a file in the outbox folder.\n"
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
