"""The hotline in ``saldo demo``: the SIP endpoint of ``saldo hotline`` beside the server, on a
loopback port, and how to call it. A Python without ``pjsua2`` (no wheel past 3.12), or a SIP
port another program holds, costs the demo its hotline only: it says so in one line."""

from __future__ import annotations

import logging
import threading

from saldo.bootstrap import Saldo
from saldo.catalog.schema import bundled_specs
from saldo.channels.cli.render import out
from saldo.channels.hotline.endpoint import HotlineEndpoint, hotline_endpoint, sip_unavailable
from saldo.domain.errors import SaldoError
from saldo.services.demo import DEMO_LINES

log = logging.getLogger(__name__)

# Not SIP's 5060, which a softphone on the same machine usually takes. SALDO_HOTLINE_PORT,
# when set, wins.
DEMO_HOTLINE_PORT = 5070
# How long the demo waits for the endpoint to listen before it goes on without it.
START_SECONDS = 30.0


def start_demo_hotline(saldo: Saldo, *, stop: threading.Event) -> threading.Thread | None:
    """Start the hotline on a thread of its own until ``stop`` is set, and print how to call
    it; None, after one line saying why, when it cannot start."""
    missing = sip_unavailable()
    if missing is not None:
        _no_hotline(f"{missing} (its wheels stop at Python 3.12)")
        return None
    settings = saldo.settings
    chosen = "hotline_port" in settings.model_fields_set
    endpoint = hotline_endpoint(saldo, port=settings.hotline_port if chosen else DEMO_HOTLINE_PORT)
    ready = threading.Event()
    failed: list[str] = []

    def serve() -> None:
        try:
            endpoint.serve(ready=ready.set, stop=stop)
        except SaldoError as error:  # CannotServeHotline: the port is taken
            failed.append(error.message)
        except Exception as error:  # pragma: no cover - PJSIP failing to start
            log.exception("the demo's hotline stopped")
            failed.append(f"the SIP endpoint failed: {error}")
        finally:
            ready.set()

    thread = threading.Thread(target=serve, name="saldo-hotline", daemon=True)
    thread.start()
    if not ready.wait(START_SECONDS) or failed:
        _no_hotline(failed[0] if failed else "the SIP endpoint did not start in time")
        return None
    _show_hotline(endpoint)
    return thread


def _no_hotline(why: str) -> None:
    out.print(f"No hotline in this demo: {why}; everything else is served.", markup=False)


def _show_hotline(endpoint: HotlineEndpoint) -> None:
    names: dict[str, list[str]] = {}
    for spec in bundled_specs():
        operator = spec.to_operator()
        names.setdefault(operator.hotline.number, []).append(f"{operator.name} {operator.country}")
    numbers = " · ".join(f"{number} {' and '.join(who)}" for number, who in names.items())
    address = f"{endpoint.host}:{endpoint.port}"
    example = next(line.msisdn for line in DEMO_LINES if line.operator == "claro-co")
    out.print(
        f"\nThe hotline answers on sip:{address} (UDP and TCP; docs/hotline.md), each "
        f"operator's number as its switch would route it: {numbers}.\n"
        f"  Call sip:121@{address} from a softphone whose number is a demo line's (From or\n"
        f"  P-Asserted-Identity sip:+5491123456789@127.0.0.1); another caller keys it in.\n"
        f"  Or with SIPp (1 for the balance, 8 seconds, hang up; keys reach Saldo as SIP INFO):\n"
        f"  sipp -sf tests/data/sipp/menu.xml -key caller {example} -s 123 -m 1 -d 8000 "
        f"{address}",
        markup=False,
    )
