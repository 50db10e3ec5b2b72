"""The SIP endpoint's Prometheus metrics (the dialogue counts verifications, menu choices and
transfers itself, on the same registry: channels/hotline/metrics.py)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

# A hotline call lasts from a few seconds (a balance) to a few minutes (a top-up, a wait
# for an agent).
CALL_SECONDS_BUCKETS = (5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, float("inf"))


class EndpointMetrics:
    """``saldo_hotline_calls_total`` (INVITEs taken from a peer), ``saldo_hotline_answered_total``
    (calls set up, the caller's ACK received) and ``saldo_hotline_call_seconds`` (from answer
    to hang-up), in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "saldo_hotline_calls", "Calls that reached the hotline", registry=registry
        )
        self.answered = Counter(
            "saldo_hotline_answered", "Hotline calls answered and set up", registry=registry
        )
        self.call_seconds = Histogram(
            "saldo_hotline_call_seconds",
            "How long answered hotline calls lasted",
            buckets=CALL_SECONDS_BUCKETS,
            registry=registry,
        )
