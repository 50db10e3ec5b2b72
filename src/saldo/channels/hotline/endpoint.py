"""The hotline as ``saldo hotline`` and ``saldo demo`` run it: the endpoint of ``sip`` with the
dialogue of ``dialogue``, its speech, metrics and settings wired once (docs/hotline.md).

``hotline_endpoint(saldo)`` builds it from the settings; ``HotlineEndpoint.serve`` answers calls
until stopped. Nothing here imports PJSIP until ``serve`` runs, so a Python without the
``pjsua2`` wheel can still build it and say why it cannot serve (``sip_unavailable``).
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from saldo.channels.hotline.call import DialogueFactory
from saldo.channels.hotline.dialogue import new_dialogue
from saldo.channels.hotline.speech import Speech
from saldo.channels.hotline.warm_up import warm_up
from saldo.config import hotline_networks

if TYPE_CHECKING:
    from saldo.bootstrap import Saldo


@dataclass(frozen=True, slots=True)
class HotlineEndpoint:
    """What one hotline process serves: where, with which dialogues and speech."""

    saldo: Saldo
    host: str
    port: int
    speech: Speech
    registry: CollectorRegistry
    new_dialogue: DialogueFactory

    @property
    def address(self) -> str:
        return f"sip:{self.host}:{self.port}"

    def serve(
        self, *, ready: Callable[[], None] | None = None, stop: threading.Event | None = None
    ) -> None:
        """Answer calls until ``stop`` is set (without it, until SIGTERM or SIGINT, on the main
        thread). Once everything listens, ``ready`` is called and every fixed prompt is made in
        a thread of its own while the first calls are answered (``warm_up``). Raises
        CannotServeHotline when the address is taken, ImportError without ``pjsua2``."""
        from saldo.channels.hotline.sip import serve_hotline

        settings = self.saldo.settings

        def started() -> None:
            threading.Thread(
                target=warm_up,
                args=(self.saldo,),
                kwargs={"speech": self.speech},
                name="hotline-warm-up",
                daemon=True,
            ).start()
            if ready is not None:
                ready()

        serve_hotline(
            self.host,
            self.port,
            self.new_dialogue,
            peers=hotline_networks(settings.hotline_peers),
            rtp_port=settings.hotline_rtp_port,
            registry=self.registry,
            metrics_port=settings.hotline_metrics_port,
            ready=started,
            stop=stop,
        )


def hotline_endpoint(
    saldo: Saldo, *, host: str | None = None, port: int | None = None
) -> HotlineEndpoint:
    """The hotline of ``saldo``'s settings (SALDO_HOTLINE_*), ``host`` and ``port`` overriding
    SALDO_HOTLINE_HOST and SALDO_HOTLINE_PORT; one registry for the endpoint's and the
    dialogue's metrics, one speech cache for every call."""
    settings = saldo.settings
    registry = CollectorRegistry()
    speech = Speech(
        cache=saldo.beside_database(settings.hotline_speech_cache),
        prompts=saldo.beside_database(settings.hotline_prompts_folder),
    )
    return HotlineEndpoint(
        saldo=saldo,
        host=host or settings.hotline_host,
        port=port or settings.hotline_port,
        speech=speech,
        registry=registry,
        new_dialogue=new_dialogue(saldo, registry=registry, speech=speech),
    )


def sip_unavailable() -> str | None:
    """Why this Python cannot run the SIP endpoint, or None when it can: the ``pjsua2-python``
    wheels stop at Python 3.12."""
    if importlib.util.find_spec("pjsua2") is None:
        return "the pjsua2 module (pjsua2-python) is not installed for this Python"
    return None
