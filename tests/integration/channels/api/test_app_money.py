"""The app API's money routes over HTTP, on SQLite and PostgreSQL: a card top-up paid at once,
declined then paid with another card, pending then settled by the worker's poll and by a
signed webhook, replayed under the same key (credited once); vouchers, quotes, orders and
their payments, a line's settings; another account's line or order is a 404, bad input
changes nothing, and the ledger audits clean after every money movement."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from saldo.adapters.clock import FixedClock
from saldo.adapters.email.fake import FakeMailer
from saldo.adapters.payments import sandbox as cards
from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.channels.notifications import notification_renderer
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.audit import audit_ledger
from saldo.services.lines import NewLine, add_line, set_line_email
from saldo.services.outbox import Senders, deliver_outbox, outbox_messages
from saldo.services.reconciliation import reconcile_payments
from saldo.services.reminders import queue_expiry_reminders
from saldo.services.top_up import top_up
from saldo.services.vouchers import generate_vouchers
from tests.integration.channels.api.test_app_api import sign_in

MOVISTAR = "+5491123456789"  # movistar-ar: online minimum 2000 ARS
STRANGER = "+5491155554444"
TOPUPS = f"/api/v1/lines/{MOVISTAR}/topups"


@pytest.fixture
def app(saldo: Saldo) -> TestClient:
    now = saldo.clock.now()
    for msisdn in (MOVISTAR, STRANGER):
        add_line(saldo.uow(), new_line=NewLine(msisdn=msisdn, operator="movistar-ar"), now=now)
    top_up(
        saldo.uow(),
        msisdn=MOVISTAR,
        amount=Money.of("1500", "ARS"),
        channel=Channel.STORE,
        idempotency_key="seed",
        now=now,
    )
    return TestClient(create_app(saldo))


@pytest.fixture
def signed(app: TestClient, saldo: Saldo) -> dict[str, str]:
    return sign_in(app, saldo, MOVISTAR)


def card(token: str, amount: str = "2000") -> dict[str, object]:
    return {"amount": amount, "payment": {"method": "card", "token": token}}


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def balance(app: TestClient, headers: dict[str, str]) -> str:
    shown = app.get(f"/api/v1/lines/{MOVISTAR}", headers=headers)
    assert shown.status_code == 200, shown.text
    return str(shown.json()["main"]["amount"])


def test_a_card_top_up_is_paid_and_credited_at_once(
    app: TestClient, saldo: Saldo, signed: dict[str, str]
) -> None:
    paid = app.post(TOPUPS, json=card("tok_approve"), headers=keyed(signed, "t-1"))

    assert paid.status_code == 201, paid.text
    body = paid.json()
    assert body["status"] == "succeeded"
    assert body["card_last4"] == "4242"
    assert body["receipt"]["balance"] == {"amount": "3500.00", "currency": "ARS", "minor": 350000}
    assert body["receipt"]["receipt_number"].startswith("MOVISTAR-AR-T-")
    assert body["receipt"]["channel"] == "app"
    assert balance(app, signed) == "3500.00"
    assert audit_ledger(saldo.uow()).clean


def test_a_paid_top_up_s_receipt_is_emailed_once_in_the_line_s_language(
    app: TestClient, saldo: Saldo, clock: FixedClock, signed: dict[str, str]
) -> None:
    set_line_email(saldo.uow(), msisdn=MOVISTAR, email="ana@example.com")
    pending = app.post(TOPUPS, json=card("tok_settle_later"), headers=keyed(signed, "t-1"))
    clock.advance(timedelta(minutes=3))
    reconcile_payments(saldo.uow(), saldo.payment_providers(), now=clock.now())
    mailer = FakeMailer()
    render = notification_renderer(webhook_secret=saldo.webhook_secret)

    for _ in range(2):
        deliver_outbox(saldo.uow(), senders=Senders(email=mailer), render=render, now=clock.now())

    assert pending.status_code == 202
    [email] = mailer.sent
    receipt = app.get(pending.headers["Location"], headers=signed).json()["receipt"]
    assert email.to == "ana@example.com"
    assert email.subject.startswith(f"Recibo {receipt['receipt_number']}: recarga de $")
    assert "Saldo: $3.500,00" in email.text
    assert email.language == "es-AR"


def test_the_same_key_replays_the_first_answer_and_credits_once(
    app: TestClient, saldo: Saldo, signed: dict[str, str]
) -> None:
    first = app.post(TOPUPS, json=card("tok_approve"), headers=keyed(signed, "t-1"))
    again = app.post(TOPUPS, json=card("tok_approve"), headers=keyed(signed, "t-1"))
    other = app.post(TOPUPS, json=card("tok_approve", "5000"), headers=keyed(signed, "t-1"))

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["replayed"] is True
    assert again.json()["receipt"]["receipt_number"] == first.json()["receipt"]["receipt_number"]
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert balance(app, signed) == "3500.00"
    assert audit_ledger(saldo.uow()).clean


def test_a_key_is_the_account_s_for_one_request_whichever_money_call_it_came_with(
    app: TestClient, saldo: Saldo, signed: dict[str, str]
) -> None:
    first = app.post(TOPUPS, json=card("tok_decline"), headers=keyed(signed, "k-1"))
    other_card = app.post(TOPUPS, json=card("tok_approve"), headers=keyed(signed, "k-1"))
    voucher = app.post(
        f"/api/v1/lines/{MOVISTAR}/vouchers", json={"pin": "1234"}, headers=keyed(signed, "k-1")
    )
    stranger = sign_in(app, saldo, STRANGER)
    theirs = app.post(
        f"/api/v1/lines/{STRANGER}/topups", json=card("tok_approve"), headers=keyed(stranger, "k-1")
    )

    assert first.status_code == 402
    assert [r.status_code for r in (other_card, voucher)] == [409, 409]
    assert voucher.json()["error"]["code"] == "idempotency_key_reused"
    assert theirs.status_code == 201  # another account's key is its own
    assert balance(app, signed) == "1500.00"
    assert audit_ledger(saldo.uow()).clean


def test_a_declined_card_credits_nothing_and_another_card_pays(
    app: TestClient, saldo: Saldo, signed: dict[str, str]
) -> None:
    declined = app.post(TOPUPS, json=card("tok_decline"), headers=keyed(signed, "t-1"))
    replayed = app.post(TOPUPS, json=card("tok_decline"), headers=keyed(signed, "t-1"))
    paid = app.post(TOPUPS, json=card("tok_approve"), headers=keyed(signed, "t-2"))

    assert declined.status_code == 402
    assert declined.json()["error"]["code"] == "payment_declined"
    assert "card_declined" in declined.json()["error"]["message"]
    assert replayed.status_code == 402
    assert paid.status_code == 201
    assert balance(app, signed) == "3500.00"
    assert audit_ledger(saldo.uow()).clean


def test_a_pending_top_up_is_credited_when_the_worker_s_poll_finds_it_settled(
    app: TestClient, saldo: Saldo, clock: FixedClock, signed: dict[str, str]
) -> None:
    pending = app.post(TOPUPS, json=card("tok_settle_later"), headers=keyed(signed, "t-1"))
    location = pending.headers["Location"]
    before = app.get(location, headers=signed).json()
    clock.advance(timedelta(minutes=3))

    reconcile_payments(saldo.uow(), saldo.payment_providers(), now=clock.now())
    reconcile_payments(saldo.uow(), saldo.payment_providers(), now=clock.now())
    after = app.get(location, headers=signed)

    assert pending.status_code == 202
    assert location == f"{TOPUPS}/{pending.json()['id']}"
    assert (pending.json()["status"], pending.json()["receipt"]) == ("pending", None)
    assert before["status"] == "pending"
    assert after.status_code == 200
    assert after.json()["status"] == "succeeded"
    assert after.json()["receipt"]["balance"]["amount"] == "3500.00"
    assert balance(app, signed) == "3500.00"
    assert audit_ledger(saldo.uow()).clean


def test_a_pending_top_up_is_credited_once_by_a_signed_webhook(
    app: TestClient, saldo: Saldo, clock: FixedClock, signed: dict[str, str]
) -> None:
    pending = app.post(TOPUPS, json=card("tok_settle_later"), headers=keyed(signed, "t-1"))
    provider = saldo.payment_providers()["sandbox"]
    assert isinstance(provider, cards.SandboxProvider)
    clock.advance(timedelta(minutes=3))
    topup_id = pending.json()["id"]
    shown = app.get(f"{TOPUPS}/{topup_id}", headers=signed).json()
    uow = saldo.uow()
    with uow.reading():
        stored = uow.payments.get(topup_id)
    assert stored is not None and stored.reference is not None
    body, headers = provider.webhook_for(stored.reference)
    first = app.post("/webhooks/payments/sandbox", content=body, headers=headers)
    again = app.post("/webhooks/payments/sandbox", content=body, headers=headers)
    replayed = app.post(TOPUPS, json=card("tok_settle_later"), headers=keyed(signed, "t-1"))

    assert shown["status"] == "pending"
    assert first.status_code == 200
    assert again.status_code == 200
    assert replayed.status_code == 201
    assert replayed.json()["status"] == "succeeded"
    assert balance(app, signed) == "3500.00"
    assert audit_ledger(saldo.uow()).clean


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (card("tok_approve"), {}, 400, "idempotency_key_required"),
        (card("tok_approve", "1500"), {"Idempotency-Key": "k"}, 422, "amount_below_minimum"),
        (card("tok_approve", "200000"), {"Idempotency-Key": "k"}, 422, "amount_above_maximum"),
        (card("tok_approve", "2000.001"), {"Idempotency-Key": "k"}, 422, "invalid_amount"),
        (card("tok_approve", "-5"), {"Idempotency-Key": "k"}, 422, "invalid_request"),
        (
            {**card("tok_approve"), "currency": "USD"},
            {"Idempotency-Key": "k"},
            422,
            "wrong_currency",
        ),
        (card("4242424242424242"), {"Idempotency-Key": "k"}, 400, "card_number_refused"),
        (
            {"amount": "2000", "payment": {"method": "card"}},
            {"Idempotency-Key": "k"},
            400,
            "payment_token_required",
        ),
        (
            {"amount": "2000", "payment": {"method": "card", "provider": "x", "token": "t"}},
            {"Idempotency-Key": "k"},
            400,
            "unknown_payment_provider",
        ),
        (card("tok_approve"), {"Idempotency-Key": "~mine:1"}, 400, "invalid_idempotency_key"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    app: TestClient,
    saldo: Saldo,
    signed: dict[str, str],
    body: dict[str, object],
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    refused = app.post(TOPUPS, json=body, headers={**signed, **headers})

    assert refused.status_code == status, refused.text
    assert refused.json()["error"]["code"] == code
    assert balance(app, signed) == "1500.00"
    assert audit_ledger(saldo.uow()).clean


def test_another_account_s_line_and_order_are_not_found(
    app: TestClient, saldo: Saldo, signed: dict[str, str]
) -> None:
    stranger = sign_in(app, saldo, STRANGER)
    placed = app.post(
        "/api/v1/orders",
        json={"msisdn": MOVISTAR, "plan": "pack-mensual-1m", "pay_in": "ARS"},
        headers=keyed(signed, "o-1"),
    )
    order_id = placed.json()["id"]

    topped = app.post(TOPUPS, json=card("tok_approve"), headers=keyed(stranger, "t-1"))
    ordered = app.post(
        "/api/v1/orders",
        json={"msisdn": MOVISTAR, "plan": "pack-mensual-1m"},
        headers=keyed(stranger, "o-2"),
    )
    shown = app.get(f"/api/v1/orders/{order_id}", headers=stranger)
    paid = app.post(
        f"/api/v1/orders/{order_id}/payments",
        json={"method": "card", "token": "tok_approve"},
        headers=keyed(stranger, "p-1"),
    )
    settings = app.get(f"/api/v1/lines/{MOVISTAR}/settings", headers=stranger)

    assert placed.status_code == 201, placed.text
    assert [r.status_code for r in (topped, ordered, shown, paid, settings)] == [404] * 5
    assert shown.json()["error"]["code"] == "order_not_found"
    assert balance(app, signed) == "1500.00"


def test_an_order_declined_stays_payable_then_another_card_fulfils_it(
    app: TestClient, saldo: Saldo, signed: dict[str, str]
) -> None:
    renewal = {"plan": "pack-mensual-1m", "months": 1, "add_ons": ["datos-5gb"], "pay_in": "ARS"}
    quoted = app.post(f"/api/v1/lines/{MOVISTAR}/quotes", json=renewal, headers=signed)
    placed = app.post(
        "/api/v1/orders", json={"msisdn": MOVISTAR, **renewal}, headers=keyed(signed, "o-1")
    )
    order = placed.json()["id"]
    pay = f"/api/v1/orders/{order}/payments"

    declined = app.post(
        pay, json={"method": "card", "token": "tok_decline"}, headers=keyed(signed, "p-1")
    )
    paid = app.post(
        pay, json={"method": "card", "token": "tok_approve"}, headers=keyed(signed, "p-2")
    )
    again = app.post(
        pay, json={"method": "card", "token": "tok_approve"}, headers=keyed(signed, "p-2")
    )
    shown = app.get(f"/api/v1/orders/{order}", headers=signed)

    assert quoted.status_code == 200, quoted.text
    assert quoted.json()["total"] == placed.json()["total"]
    assert quoted.json()["names"] == ["Pack Mensual 30 días", "5 GB extra"]
    assert placed.status_code == 201, placed.text
    assert declined.status_code == 402
    assert declined.json()["error"]["code"] == "payment_declined"
    assert paid.status_code == 200, paid.text
    assert paid.json()["state"] == "fulfilled"
    assert again.status_code == 200
    assert shown.json()["state"] == "fulfilled"
    assert shown.json()["receipt"]["receipt_number"] == shown.json()["receipt_number"]
    assert shown.json()["receipt"]["card_last4"] == "4242"
    assert shown.json()["receipt"]["addon_names"] == ["5 GB extra"]
    assert [p["status"] for p in shown.json()["payments"]] == ["failed", "succeeded"]
    assert audit_ledger(saldo.uow()).clean


def test_an_order_paid_by_a_pending_card_is_fulfilled_once_when_the_poll_finds_it_settled(
    app: TestClient, saldo: Saldo, clock: FixedClock, signed: dict[str, str]
) -> None:
    placed = app.post(
        "/api/v1/orders",
        json={"msisdn": MOVISTAR, "plan": "pack-mensual-1m", "pay_in": "ARS"},
        headers=keyed(signed, "o-1"),
    )
    order = placed.json()["id"]
    card_later = {"method": "card", "token": "tok_settle_later"}

    pending = app.post(
        f"/api/v1/orders/{order}/payments", json=card_later, headers=keyed(signed, "p-1")
    )
    clock.advance(timedelta(minutes=3))
    reconcile_payments(saldo.uow(), saldo.payment_providers(), now=clock.now())
    replayed = app.post(
        f"/api/v1/orders/{order}/payments", json=card_later, headers=keyed(signed, "p-1")
    )
    shown = app.get(pending.headers["Location"], headers=signed)

    assert pending.status_code == 202, pending.text
    assert pending.json()["state"] == "awaiting_payment"
    assert pending.headers["Location"] == f"/api/v1/orders/{order}"
    assert replayed.status_code == 200
    assert shown.json()["state"] == "fulfilled"
    assert [p["status"] for p in shown.json()["payments"]] == ["succeeded"]
    assert audit_ledger(saldo.uow()).clean


def test_an_order_quoted_for_the_balance_is_paid_from_it_once(
    app: TestClient, saldo: Saldo, signed: dict[str, str]
) -> None:
    top_up(
        saldo.uow(), msisdn=MOVISTAR, amount=Money.of("10000", "ARS"), channel=Channel.STORE,
        idempotency_key="more", now=saldo.clock.now(),
    )  # fmt: skip
    placed = app.post(
        "/api/v1/orders",
        json={"msisdn": MOVISTAR, "plan": "pack-mensual-1m", "method": "balance"},
        headers=keyed(signed, "o-1"),
    )
    pay = f"/api/v1/orders/{placed.json()['id']}/payments"

    paid = app.post(pay, json={"method": "balance"}, headers=keyed(signed, "p-1"))
    again = app.post(pay, json={"method": "balance"}, headers=keyed(signed, "p-1"))

    assert paid.status_code == 200, paid.text
    assert again.json()["state"] == paid.json()["state"] == "fulfilled"
    assert balance(app, signed) == "2500.00"  # 1500 + 10000 - 9000, once
    assert audit_ledger(saldo.uow()).clean


def test_a_quote_for_a_plan_of_other_months_is_refused(
    app: TestClient, signed: dict[str, str]
) -> None:
    quoted = app.post(
        f"/api/v1/lines/{MOVISTAR}/quotes",
        json={"plan": "pack-mensual-1m", "months": 3},
        headers=signed,
    )

    assert quoted.status_code == 422
    assert quoted.json()["error"]["code"] == "plan_months_differ"


def test_a_voucher_is_redeemed_once_and_wrong_pins_lock_the_line(
    app: TestClient, saldo: Saldo, signed: dict[str, str]
) -> None:
    now = saldo.clock.now()
    batch = generate_vouchers(
        saldo.uow(), operator="movistar-ar", value=Money.of("2000", "ARS"), count=1,
        expires_at=now + timedelta(days=30), created_by="test", pin_key=saldo.pin_key, now=now,
    )  # fmt: skip
    pin = batch.vouchers[0].pin
    url = f"/api/v1/lines/{MOVISTAR}/vouchers"

    missing = app.post(url, json={"pin": pin}, headers=signed)
    redeemed = app.post(url, json={"pin": pin}, headers=keyed(signed, "v-1"))
    again = app.post(url, json={"pin": pin}, headers=keyed(signed, "v-1"))
    wrong = [
        app.post(url, json={"pin": "0000 0000 0000 0000"}, headers=keyed(signed, f"w-{n}"))
        for n in range(6)
    ]

    assert missing.status_code == 400
    assert redeemed.status_code == 201, redeemed.text
    assert redeemed.json()["receipt"]["balance"]["amount"] == "3500.00"
    assert again.json()["receipt"]["replayed"] is True
    assert wrong[0].status_code == 400
    assert wrong[-1].status_code == 429
    assert int(wrong[-1].headers["Retry-After"]) >= 1
    assert balance(app, signed) == "3500.00"
    assert audit_ledger(saldo.uow()).clean


def test_a_wrong_pin_sent_again_under_its_key_gets_its_first_answer_uncounted(
    app: TestClient, saldo: Saldo, signed: dict[str, str]
) -> None:
    url = f"/api/v1/lines/{MOVISTAR}/vouchers"
    wrong = {"pin": "0000 0000 0000 0000"}

    first = app.post(url, json=wrong, headers=keyed(signed, "w-1"))
    replays = [app.post(url, json=wrong, headers=keyed(signed, "w-1")) for _ in range(6)]
    second = app.post(url, json=wrong, headers=keyed(signed, "w-2"))

    assert first.status_code == 400, first.text
    assert first.json()["error"]["code"] == "wrong_pin"
    assert [(r.status_code, r.json()) for r in replays] == [(400, first.json())] * 6
    # Only the second key's request was another wrong try: the line is not locked.
    assert second.status_code == 400, second.text
    assert second.json()["error"]["code"] == "wrong_pin"
    assert wrong_pins(saldo) == 2


def wrong_pins(saldo: Saldo) -> int:
    with saldo.engine.connect() as connection:
        counted = connection.execute(
            text("SELECT count(*) FROM pin_attempts WHERE succeeded = :no"), {"no": False}
        )
        return int(counted.scalar_one())


def test_settings_are_shown_and_changed(app: TestClient, signed: dict[str, str]) -> None:
    url = f"/api/v1/lines/{MOVISTAR}/settings"

    before = app.get(url, headers=signed)
    changed = app.patch(
        url,
        json={
            "language": "en",
            "low_balance_threshold": "800",
            "auto_renewal": {"enabled": True, "plan": "pack-mensual-1m", "token": "tok_approve"},
        },
        headers=signed,
    )
    refused = app.patch(url, json={"language": "nl"}, headers=signed)
    off = app.patch(url, json={"auto_renewal": {"enabled": False}}, headers=signed)

    assert before.status_code == 200
    assert before.json()["language"] == "es"
    assert before.json()["auto_renewal"] is None
    assert changed.status_code == 200, changed.text
    assert changed.json()["language"] == "en"
    assert changed.json()["low_balance_threshold"]["amount"] == "800.00"
    assert changed.json()["own_low_balance_threshold"] is True
    assert changed.json()["auto_renewal"]["enabled"] is True
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "unsupported_language"
    assert off.json()["auto_renewal"] == {**changed.json()["auto_renewal"], "enabled": False}


@pytest.mark.parametrize(
    "refused_part",
    [
        {"low_balance_threshold": "0"},
        {"low_balance_threshold": "ocho"},
        {"reminder_days": [5]},
        {"auto_renewal": {"enabled": True, "plan": "no-such-plan", "token": "tok_approve"}},
    ],
)
def test_a_settings_change_with_one_refused_setting_changes_nothing(
    app: TestClient, signed: dict[str, str], refused_part: dict[str, object]
) -> None:
    url = f"/api/v1/lines/{MOVISTAR}/settings"
    before = app.get(url, headers=signed).json()

    refused = app.patch(
        url, json={"language": "en", "reminder_days": [7], **refused_part}, headers=signed
    )

    assert refused.status_code == 422, refused.text
    assert app.get(url, headers=signed).json() == before


def test_a_line_s_reminders_go_only_on_the_days_its_subscriber_kept(
    app: TestClient, saldo: Saldo, signed: dict[str, str]
) -> None:
    url = f"/api/v1/lines/{MOVISTAR}/settings"

    kept = app.patch(url, json={"reminder_days": [1, 7]}, headers=signed)
    refused = app.patch(url, json={"reminder_days": [5]}, headers=signed)
    for moment in ("2026-12-16T15:00", "2026-12-20T15:00", "2026-12-22T15:00"):
        queue_expiry_reminders(saldo.uow(), now=datetime.fromisoformat(moment + "+00:00"))

    sent = [
        message.payload["days"]
        for message in outbox_messages(saldo.uow(), state=None, limit=50)
        if message.payload["kind"] == "expiry_reminder" and message.recipient == MOVISTAR
    ]
    assert kept.status_code == 200, kept.text
    assert (kept.json()["reminder_days"], kept.json()["reminder_days_offered"]) == (
        [7, 1],
        [7, 3, 1],
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "unable_to_set_reminders"
    assert sorted(sent, reverse=True) == [7, 1]
