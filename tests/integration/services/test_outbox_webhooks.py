"""Operators' events through the outbox, on SQLite and PostgreSQL with the in-memory
gateways: posted to the operator's webhook URL as JSON signed with its own secret, skipped
for an operator without one, retried with a fresh signature."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from saldo.adapters.db import tables as t
from saldo.bootstrap import Saldo
from saldo.catalog.schema import bundled_specs
from saldo.channels.notifications import deliver_notifications
from saldo.domain.lines import Line
from saldo.services.operators import register_operator
from saldo.services.outbox import Delivery
from saldo.services.ports.webhooks import verify_signature
from tests.integration.services.test_outbox import (
    NOW,
    PROXIMUS,
    Gateways,
    deliver,
    gateways,
    given_line,
    given_queued,
    given_reminder,
    stored,
)

__all__ = ["gateways"]  # the fixture, used by name


def with_webhook_url(saldo: Saldo, slug: str, url: str) -> None:
    spec = next(spec for spec in bundled_specs() if spec.slug == slug)
    spec = spec.model_copy(update={"webhook_url": url})
    register_operator(
        saldo.uow(), operator=spec.to_operator(), spec=spec.model_dump(mode="json"), now=NOW
    )


def state_changed(line: Line) -> dict[str, Any]:
    return {
        "kind": "line_state_changed",
        "line_id": line.id,
        "msisdn": line.msisdn,
        "from": "active",
        "to": "grace",
        "effective_at": line.valid_until.isoformat(),
    }


def test_a_line_state_change_is_posted_to_the_operator_signed_with_its_own_secret(
    saldo: Saldo, gateways: Gateways
) -> None:
    with_webhook_url(saldo, "proximus-be", "https://hooks.proximus.example/saldo")
    line = given_line(saldo, PROXIMUS, "proximus-be", "fr")
    key = f"line-{line.id}-grace"
    url = "https://hooks.proximus.example/saldo"
    given_queued(
        saldo, line, key=key, payload=state_changed(line), channel="webhook", recipient=url
    )
    at = NOW + timedelta(minutes=2)

    delivery = deliver(saldo, gateways.senders, at=at)

    assert delivery == Delivery(sent=1)
    (request,) = gateways.webhooks.sent
    assert request.url == url
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Saldo-Event-Id"] == key
    own = saldo.webhook_secret("proximus-be")
    header = request.headers["Saldo-Signature"]
    assert verify_signature(header, request.body, secret=own, now=at)
    assert not verify_signature(
        header, request.body, secret=saldo.webhook_secret("tigo-co"), now=at
    )
    event = json.loads(request.body)
    assert event == {
        "id": key,
        "type": "line_state_changed",
        "operator": "proximus-be",
        "created_at": NOW.isoformat(),
        "data": {k: v for k, v in state_changed(line).items() if k != "kind"},
    }


def test_an_event_for_an_operator_without_a_webhook_url_is_skipped(
    saldo: Saldo, gateways: Gateways
) -> None:
    line = given_line(saldo, PROXIMUS, "proximus-be", "fr")
    key = f"line-{line.id}-grace"
    given_queued(
        saldo, line, key=key, payload=state_changed(line), channel="webhook", recipient="-"
    )

    assert deliver(saldo, gateways.senders, at=NOW) == Delivery(skipped=1)
    assert gateways.webhooks.sent == []


def test_a_refused_event_is_retried_with_a_fresh_signature(
    saldo: Saldo, gateways: Gateways
) -> None:
    with_webhook_url(saldo, "proximus-be", "https://hooks.proximus.example/saldo")
    line = given_line(saldo, PROXIMUS, "proximus-be", "fr")
    given_queued(
        saldo, line, key="ev-1", payload=state_changed(line), channel="webhook", recipient="-"
    )
    gateways.webhooks.fail_with("HTTP 503")

    first = deliver(saldo, gateways.senders, at=NOW)
    gateways.webhooks.stop_failing()
    second = deliver(saldo, gateways.senders, at=NOW + timedelta(minutes=1))

    assert (first, second) == (Delivery(failed=1), Delivery(sent=1))
    (request,) = gateways.webhooks.sent
    assert request.headers["Saldo-Signature"].startswith(
        f"t={int((NOW + timedelta(minutes=1)).timestamp())},"
    )
    with saldo.engine.connect() as connection:
        attempts = connection.execute(select(t.outbox.c.attempts)).scalar_one()
    assert attempts == 2


def test_an_instance_without_kannel_or_smtp_delivers_only_webhooks(saldo: Saldo) -> None:
    line = given_line(saldo, PROXIMUS, "proximus-be", "fr")
    given_reminder(saldo, line)
    given_queued(
        saldo, line, key="ev-1", payload=state_changed(line), channel="webhook", recipient="-"
    )

    delivery = deliver_notifications(saldo, now=NOW)

    assert saldo.notification_senders().channels == ("webhook",)
    assert delivery == Delivery(skipped=1)  # Proximus has no webhook_url
    assert stored(saldo, f"expiry-{line.id}-7").state == "pending"
