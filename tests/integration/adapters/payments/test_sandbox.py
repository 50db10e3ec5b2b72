"""The sandbox card processor, as the payment port promises: each documented test card,
idempotency keys, saved-method tokens, finding a payment whose answer was lost, refunds and
signed webhooks. (The Stripe and Mercado Pago adapters are held to the same promises in
test_stripe.py and test_mercadopago.py beside this file, against recorded API answers on
loopback.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from saldo.adapters.clock import FixedClock
from saldo.adapters.payments import sandbox as cards
from saldo.adapters.payments.sandbox import SandboxProvider
from saldo.bootstrap import bootstrap
from saldo.config import Settings
from saldo.domain.money import Money
from saldo.services.ports.payments import (
    InvalidWebhook,
    PaymentRefused,
    PaymentStatus,
    PaymentTimedOut,
)

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
AMOUNT = Money.of("9315", "ARS")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def processor(tmp_path: Path, clock: FixedClock) -> SandboxProvider:
    return SandboxProvider(
        path=tmp_path / "sandbox.db",
        webhook_secret=b"test secret",
        clock=clock,
        settle_after=timedelta(minutes=2),
    )


def charge(processor: SandboxProvider, source: str, key: str = "k1"):  # type: ignore[no-untyped-def]
    return processor.create_payment(
        amount=AMOUNT, source=source, description="order 1", order_reference="o-1",
        idempotency_key=key,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("card", "status", "decline_code"),
    [
        (cards.APPROVE, PaymentStatus.SUCCEEDED, None),
        (cards.DECLINE, PaymentStatus.FAILED, "card_declined"),
        (cards.INSUFFICIENT_FUNDS, PaymentStatus.FAILED, "insufficient_funds"),
        (cards.SETTLE_LATER, PaymentStatus.PENDING, None),
        (cards.FAIL_LATER, PaymentStatus.PENDING, None),
        ("4111111111111111", PaymentStatus.FAILED, "card_not_supported"),
        ("4242424242424241", PaymentStatus.FAILED, "incorrect_number"),
    ],
)
def test_each_test_card_answers_as_documented(
    processor: SandboxProvider, card: str, status: PaymentStatus, decline_code: str | None
) -> None:
    result = charge(processor, card)

    assert (result.status, result.decline_code, result.amount) == (status, decline_code, AMOUNT)
    assert result.card_last4 == card[-4:]


@pytest.mark.parametrize(
    ("card", "settled", "decline_code"),
    [
        (cards.SETTLE_LATER, PaymentStatus.SUCCEEDED, None),
        (cards.FAIL_LATER, PaymentStatus.FAILED, "settlement_failed"),
    ],
)
def test_a_pending_card_settles_after_the_delay(
    processor: SandboxProvider,
    clock: FixedClock,
    card: str,
    settled: PaymentStatus,
    decline_code: str | None,
) -> None:
    reference = charge(processor, card).reference

    clock.advance(timedelta(minutes=1))
    early = processor.fetch_payment(reference).status
    clock.advance(timedelta(minutes=1))
    late = processor.fetch_payment(reference)

    assert early is PaymentStatus.PENDING
    assert (late.status, late.decline_code) == (settled, decline_code)


def test_the_time_out_card_takes_the_money_but_loses_the_answer(
    processor: SandboxProvider,
) -> None:
    with pytest.raises(PaymentTimedOut):
        charge(processor, cards.TIME_OUT)

    found = processor.find_payment(idempotency_key="k1", order_reference="o-1")
    again = charge(processor, cards.TIME_OUT)

    assert found is not None and found.status is PaymentStatus.SUCCEEDED
    assert again.reference == found.reference


def test_the_same_key_never_charges_twice(processor: SandboxProvider) -> None:
    first = charge(processor, cards.APPROVE)
    second = charge(processor, cards.APPROVE)

    assert first == second


def test_a_key_reused_for_another_amount_is_refused(processor: SandboxProvider) -> None:
    charge(processor, cards.APPROVE)

    with pytest.raises(PaymentRefused):
        processor.create_payment(
            amount=Money.of("1", "ARS"), source=cards.APPROVE, description="x",
            order_reference="o-1", idempotency_key="k1",
        )  # fmt: skip


def test_a_saved_token_stands_for_its_card(processor: SandboxProvider) -> None:
    assert charge(processor, "tok_decline").decline_code == "card_declined"
    with pytest.raises(PaymentRefused):
        charge(processor, "tok_nope", key="k2")


def test_an_unknown_payment_is_not_found(processor: SandboxProvider) -> None:
    assert processor.find_payment(idempotency_key="nope", order_reference="o-9") is None
    with pytest.raises(PaymentRefused):
        processor.fetch_payment("sbx_nope")


def test_a_refund_is_made_once_per_key_and_never_above_the_payment(
    processor: SandboxProvider,
) -> None:
    reference = charge(processor, cards.APPROVE).reference

    processor.refund(reference, amount=AMOUNT, idempotency_key="r1")
    processor.refund(reference, amount=AMOUNT, idempotency_key="r1")

    assert processor.refunded(reference) == AMOUNT.minor
    with pytest.raises(PaymentRefused):
        processor.refund(reference, amount=AMOUNT + AMOUNT, idempotency_key="r2")


def test_a_failed_payment_cannot_be_refunded(processor: SandboxProvider) -> None:
    reference = charge(processor, cards.DECLINE).reference

    with pytest.raises(PaymentRefused):
        processor.refund(reference, amount=AMOUNT, idempotency_key="r1")


def test_its_webhooks_verify_and_others_do_not(processor: SandboxProvider) -> None:
    reference = charge(processor, cards.APPROVE).reference
    body, headers = processor.webhook_for(reference, event_id="evt_1")

    event = processor.parse_webhook(body=body, headers=headers, now=NOW)

    assert (event.event_id, event.reference, event.status) == (
        "evt_1",
        reference,
        PaymentStatus.SUCCEEDED,
    )
    with pytest.raises(InvalidWebhook):
        processor.parse_webhook(body=body + b" ", headers=headers, now=NOW)
    with pytest.raises(InvalidWebhook):
        processor.parse_webhook(body=body, headers=headers, now=NOW + timedelta(minutes=6))


@pytest.mark.parametrize("created", [10**30, 2**63, -(10**20)])
def test_a_signed_webhook_with_a_time_no_date_can_hold_is_refused(
    processor: SandboxProvider, created: int
) -> None:
    body = json.dumps(
        {"id": "evt_x", "created": created, "data": {"reference": "pay_x", "status": "succeeded"}}
    ).encode()
    headers = {
        cards.SIGNATURE_HEADER: cards.sign(
            body, secret=b"test secret", timestamp=int(NOW.timestamp())
        )
    }

    with pytest.raises(InvalidWebhook, match="creation time is not a date"):
        processor.parse_webhook(body=body, headers=headers, now=NOW)


# -- where the sandbox keeps its file ----------------------------------------------------------


def test_a_relative_sandbox_file_lies_beside_the_database_wherever_the_worker_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the database in one folder and a process started in another,
    (tmp_path / "demo").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'demo' / 'saldo.db'}",
        sandbox_path="./saldo-sandbox.db",
        environment="test",
    )

    # When it wires the sandbox processor,
    saldo = bootstrap(settings)
    saldo.payment_providers()
    saldo.close()

    # Then its file is the one beside the database, not in the working directory.
    assert (tmp_path / "demo" / "saldo-sandbox.db").exists()
    assert not (tmp_path / "elsewhere" / "saldo-sandbox.db").exists()


def test_an_absolute_sandbox_file_is_taken_as_given(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'saldo.db'}",
        sandbox_path=str(tmp_path / "cards" / "sandbox.db"),
        environment="test",
    )
    (tmp_path / "cards").mkdir()

    saldo = bootstrap(settings)
    saldo.payment_providers()
    saldo.close()

    assert (tmp_path / "cards" / "sandbox.db").exists()
