"""The hotline dialogue's Prometheus counters, registered on the registry the endpoint
exposes (the endpoint counts calls, answers and call seconds itself)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class HotlineMetrics:
    """Callers verified or not, menu choices and transfers to agents, per operator."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.verified = Counter(
            "saldo_hotline_verifications",
            "Hotline verifications by outcome (passed, failed: a wrong answer; refused: the "
            "last try failed).",
            ["operator", "outcome"],
            registry=registry,
        )
        self.choices = Counter(
            "saldo_hotline_menu_choices",
            "Keys pressed in the hotline's main menu, by what they chose.",
            ["operator", "choice"],
            registry=registry,
        )
        self.transfers = Counter(
            "saldo_hotline_transfers",
            "Transfers to an agent by outcome (requested, accepted, failed, no_agent).",
            ["operator", "outcome"],
            registry=registry,
        )
