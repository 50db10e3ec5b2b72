"""The portal's money pages over HTTP, on SQLite and PostgreSQL: a voucher redeemed (its
receipt; a wrong PIN with the tries left; a line blocked after too many), a card top-up (the
sandbox's card page, the confirmation with its key paying once, a decline offering another
card, a pending payment settled by the worker's poll), a renewal quoted in USD, ordered and
paid after a declined card, refusals said with their codes, signed out, CSRF and another
account's line; the ledger audits clean after each."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from saldo.adapters.clock import FixedClock
from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.domain.fx import ExchangeRate
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.audit import audit_ledger
from saldo.services.auto_renewal import set_auto_renewal
from saldo.services.exchange_rates import load_rates
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import NewLine, add_line
from saldo.services.reconciliation import reconcile_payments
from saldo.services.top_up import top_up
from saldo.services.vouchers import generate_vouchers
from tests.conftest import NOW
from tests.portal import csrf_of, post_form, sign_in

MOVISTAR = "+5491123456789"  # movistar-ar: online minimum $2.000
STRANGER = "+5491155554444"
LINE = f"/lines/{MOVISTAR}"
_KEY = re.compile(r'name="key" value="([^"]+)"')
_LANGUAGE = re.compile(r'name="language" value="([^"]+)"')


@pytest.fixture
def portal(saldo: Saldo) -> TestClient:
    for msisdn in (MOVISTAR, STRANGER):
        add_line(
            saldo.uow(),
            new_line=NewLine(msisdn=msisdn, operator="movistar-ar", language="es"),
            now=NOW,
        )
    top_up(
        saldo.uow(), msisdn=MOVISTAR, amount=Money.of("1500", "ARS"), channel=Channel.STORE,
        idempotency_key="seed", now=NOW,
    )  # fmt: skip
    load_rates(
        saldo.uow(),
        rates=[ExchangeRate("USD", "ARS", Decimal("1450.25"), "bcra", NOW - timedelta(hours=1))],
        now=NOW,
    )
    client = TestClient(create_app(saldo), base_url="https://testserver")
    answer = sign_in(client, saldo, MOVISTAR)
    assert answer.status_code == 303, answer.text
    return client


def balance(saldo: Saldo) -> Money:
    return inquire_balance(saldo.uow(), msisdn=MOVISTAR, now=saldo.clock.now()).main


def submit(client: TestClient, page: Response, path: str, **fields: str) -> Response:
    """Post ``fields`` to ``path`` as the form on ``page`` would: its csrf, its key and its
    language."""
    key, language = _KEY.search(page.text), _LANGUAGE.search(page.text)
    assert key is not None and language is not None, page.text
    hidden = {"csrf": csrf_of(page), "key": key.group(1), "language": language.group(1)}
    return client.post(path, data={**hidden, **fields}, follow_redirects=False)


def confirm_page(client: TestClient, amount: str, token: str) -> Response:
    page = client.get(
        f"{LINE}/topup/confirm", params={"amount": amount, "card": "new", "token": token}
    )
    assert page.status_code == 200, page.text
    return page


# -- signed out, another account, CSRF ------------------------------------------------------------


@pytest.mark.parametrize("page", ["voucher", "topup", "renew", "receipts/1", "orders/1"])
def test_a_money_page_signed_out_sends_to_sign_in(saldo: Saldo, page: str) -> None:
    client = TestClient(create_app(saldo), base_url="https://testserver")

    answer = client.get(f"{LINE}/{page}", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in"


@pytest.mark.parametrize("page", ["voucher", "topup", "renew", "topup/confirm?amount=2000"])
def test_another_account_s_line_is_not_found(portal: TestClient, page: str) -> None:
    answer = portal.get(f"/lines/{STRANGER}/{page}")

    assert answer.status_code == 404
    assert "line_not_found" in answer.text


@pytest.mark.parametrize("path", ["voucher", "topup", "renew", "orders/1/pay"])
def test_a_money_form_without_its_csrf_is_refused_and_moves_nothing(
    portal: TestClient, saldo: Saldo, path: str
) -> None:
    answer = portal.post(
        f"{LINE}/{path}",
        data={"key": "k-1", "amount": "2000", "card": "tok_approve", "plan": "pack-mensual-1m"},
    )

    assert answer.status_code == 403
    assert "invalid_form" in answer.text
    assert balance(saldo) == Money.of("1500", "ARS")


def test_every_money_page_speaks_each_of_the_five_languages(portal: TestClient) -> None:
    pages = ("voucher", "topup", "topup/confirm?amount=2000&card=new&token=tok_approve",
             "renew", "renew/quote?plan=pack-mensual-1m&pay_in=USD")  # fmt: skip
    headings = {}
    for language in ("es", "fr", "nl", "en", "zh"):
        chosen = post_form(portal, "/language", page=f"{LINE}/topup", language=language)
        assert chosen.status_code == 303
        for page in pages:
            shown = portal.get(f"{LINE}/{page}")
            assert shown.status_code == 200, (language, page, shown.text)
            heading = re.search(r"<h1>(.*?)</h1>", shown.text)
            assert heading is not None
            headings[language, page] = heading.group(1)

    assert len({headings[language, "renew"] for language in ("es", "fr", "nl", "en", "zh")}) == 5
    assert headings["zh", "topup"] == "银行卡充值"


# -- a voucher ----------------------------------------------------------------------------------


def test_a_voucher_is_redeemed_once_and_its_receipt_shows_the_new_balance(
    portal: TestClient, saldo: Saldo
) -> None:
    now = saldo.clock.now()
    batch = generate_vouchers(
        saldo.uow(), operator="movistar-ar", value=Money.of("2000", "ARS"), count=1,
        expires_at=now + timedelta(days=30), created_by="test", pin_key=saldo.pin_key, now=now,
    )  # fmt: skip
    form = portal.get(f"{LINE}/voucher")

    redeemed = submit(portal, form, f"{LINE}/voucher", pin=batch.vouchers[0].pin)
    again = submit(portal, form, f"{LINE}/voucher", pin=batch.vouchers[0].pin)
    receipt = portal.get(redeemed.headers["location"])

    assert form.status_code == 200
    assert redeemed.status_code == 303
    assert again.headers["location"] == redeemed.headers["location"]  # the first receipt
    assert receipt.status_code == 200
    assert "$3.500,00" in receipt.text
    assert "MOVISTAR-AR-T-" in receipt.text
    assert balance(saldo) == Money.of("3500", "ARS")
    assert audit_ledger(saldo.uow()).clean


def test_a_wrong_pin_says_the_tries_left_and_too_many_block_the_line(
    portal: TestClient, saldo: Saldo
) -> None:
    answers = [
        submit(portal, portal.get(f"{LINE}/voucher"), f"{LINE}/voucher", pin="0000 0000 0000 00")
        for _ in range(6)
    ]

    assert answers[0].status_code == 400
    assert "wrong_pin" in answers[0].text
    assert "Intentos que quedan" in answers[0].text
    assert answers[-1].status_code == 429
    assert "redemption_blocked" in answers[-1].text
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert balance(saldo) == Money.of("1500", "ARS")


def test_another_line_s_receipt_is_not_found(portal: TestClient, saldo: Saldo) -> None:
    receipt = top_up(
        saldo.uow(), msisdn=STRANGER, amount=Money.of("2000", "ARS"), channel=Channel.STORE,
        idempotency_key="theirs", now=NOW,
    )  # fmt: skip

    answer = portal.get(f"{LINE}/receipts/{receipt.topup_id}")

    assert answer.status_code == 404


# -- a top-up by card ---------------------------------------------------------------------------


def test_the_top_up_form_offers_the_denominations_payable_online_and_a_new_card(
    portal: TestClient,
) -> None:
    page = portal.get(f"{LINE}/topup")

    assert page.status_code == 200
    assert 'name="amount" value="2000"' in page.text
    assert 'name="amount" value="other"' in page.text
    assert 'name="card" value="new"' in page.text
    assert 'name="card" value="saved"' not in page.text  # the line keeps no card


def test_an_amount_below_the_online_minimum_is_the_form_again_with_its_code(
    portal: TestClient,
) -> None:
    page = portal.get(
        f"{LINE}/topup/confirm", params={"amount": "other", "other": "500", "card": "new"}
    )

    assert page.status_code == 400
    assert "amount_below_minimum" in page.text
    assert 'value="500"' in page.text


def test_a_new_card_is_chosen_on_the_sandbox_s_page_which_comes_back_with_a_token(
    portal: TestClient,
) -> None:
    to_checkout = portal.get(
        f"{LINE}/topup/confirm",
        params={"amount": "2000", "card": "new"},
        follow_redirects=False,
    )
    checkout = portal.get(to_checkout.headers["location"])
    back = re.search(r'href="([^"]*token=tok_approve[^"]*)"', checkout.text)

    assert to_checkout.status_code == 303
    assert to_checkout.headers["location"].startswith("/sandbox/checkout?")
    assert "Sandbox" in checkout.text
    assert back is not None
    target = urlsplit(back.group(1).replace("&amp;", "&"))
    assert unquote(target.path) == f"{LINE}/topup/confirm"
    assert parse_qs(target.query)["amount"] == ["2000"]
    assert parse_qs(target.query)["last4"] == ["4242"]


def test_the_sandbox_page_goes_back_only_to_this_site(portal: TestClient) -> None:
    page = portal.get("/sandbox/checkout", params={"return": "https://evil.example/x"})

    assert page.status_code == 200
    assert 'href="https://evil' not in page.text
    assert 'href="/?token=tok_approve' in page.text


def test_a_card_top_up_is_paid_once_whatever_the_reloads_and_its_receipt_shown(
    portal: TestClient, saldo: Saldo
) -> None:
    page = confirm_page(portal, "2000", "tok_approve")

    paid = submit(portal, page, f"{LINE}/topup", amount="2000", card="tok_approve")
    again = submit(portal, page, f"{LINE}/topup", amount="2000", card="tok_approve")
    shown = portal.get(paid.headers["location"])

    assert paid.status_code == 303, paid.text
    assert again.headers["location"] == paid.headers["location"]
    assert shown.status_code == 200
    assert "$3.500,00" in shown.text
    assert "4242" in shown.text
    assert 'hx-trigger="every' not in shown.text
    assert balance(saldo) == Money.of("3500", "ARS")
    assert audit_ledger(saldo.uow()).clean


def test_a_declined_card_is_the_form_again_offering_another_card(
    portal: TestClient, saldo: Saldo
) -> None:
    page = confirm_page(portal, "2000", "tok_decline")

    declined = submit(portal, page, f"{LINE}/topup", amount="2000", card="tok_decline")

    assert declined.status_code == 402
    assert "payment_declined" in declined.text
    assert "card_declined" in declined.text
    assert 'name="card" value="new" aria-describedby="card-1-hint" checked' in declined.text
    assert balance(saldo) == Money.of("1500", "ARS")
    assert audit_ledger(saldo.uow()).clean


def test_a_pending_top_up_page_reloads_itself_until_the_poll_settles_it(
    portal: TestClient, saldo: Saldo, clock: FixedClock
) -> None:
    page = confirm_page(portal, "2000", "tok_settle_later")
    pending = submit(portal, page, f"{LINE}/topup", amount="2000", card="tok_settle_later")
    before = portal.get(pending.headers["location"])
    clock.advance(timedelta(minutes=3))

    reconcile_payments(saldo.uow(), saldo.payment_providers(), now=clock.now())
    after = portal.get(pending.headers["location"])

    assert before.status_code == 200
    assert 'hx-trigger="every' in before.text
    assert "confirmando" in before.text
    assert 'hx-trigger="every' not in after.text
    assert "$3.500,00" in after.text
    assert balance(saldo) == Money.of("3500", "ARS")
    assert audit_ledger(saldo.uow()).clean


def test_a_saved_card_that_the_line_does_not_keep_is_refused_with_its_code(
    portal: TestClient,
) -> None:
    page = portal.get(f"{LINE}/topup/confirm", params={"amount": "2000", "card": "saved"})

    refused = submit(portal, page, f"{LINE}/topup", amount="2000", card="saved")

    assert refused.status_code == 400
    assert "no_saved_card" in refused.text


def test_the_card_saved_for_auto_renewal_pays_without_its_token_reaching_the_page(
    portal: TestClient, saldo: Saldo
) -> None:
    set_auto_renewal(
        saldo.uow(), msisdn=MOVISTAR, plan_code="pack-mensual-1m", provider="sandbox",
        token="tok_approve", providers=("sandbox",), fallback_to_balance=False, days_before=3,
        email=None, enabled=True, now=NOW,
    )  # fmt: skip
    form = portal.get(f"{LINE}/topup")
    page = portal.get(f"{LINE}/topup/confirm", params={"amount": "5000", "card": "saved"})

    paid = submit(portal, page, f"{LINE}/topup", amount="5000", card="saved")

    assert 'name="card" value="saved"' in form.text
    assert "tok_approve" not in form.text + page.text
    assert paid.status_code == 303, paid.text
    assert balance(saldo) == Money.of("6500", "ARS")
    assert audit_ledger(saldo.uow()).clean


# -- a renewal ----------------------------------------------------------------------------------


def test_a_renewal_in_usd_is_quoted_ordered_declined_then_paid_with_another_card(
    portal: TestClient, saldo: Saldo
) -> None:
    form = portal.get(f"{LINE}/renew")
    quote = portal.get(
        f"{LINE}/renew/quote",
        params={"plan": "pack-mensual-1m", "add_on": "datos-5gb", "pay_in": "USD"},
    )
    placed = submit(
        portal, quote, f"{LINE}/renew",
        plan="pack-mensual-1m", add_on="datos-5gb", pay_in="USD", method="card",
    )  # fmt: skip
    order = placed.headers["location"]
    payable = portal.get(order, params={"token": "tok_decline", "last4": "0002"})
    declined = submit(portal, payable, f"{order}/pay", card="tok_decline")
    retry = portal.get(order, params={"token": "tok_approve", "last4": "4242"})
    paid = submit(portal, retry, f"{order}/pay", card="tok_approve")
    done = portal.get(order)

    assert form.status_code == 200
    assert 'value="USD"' in form.text
    assert quote.status_code == 200, quote.text
    assert "1 USD = 1.421,24 ARS" in quote.text
    assert "US$9,50" in quote.text  # $13.500 at the rate less the spread
    assert "$2.342,98" in quote.text  # tax
    assert placed.status_code == 303, placed.text
    assert re.fullmatch(r"/lines/%2B5491123456789/orders/\d+", order)
    assert declined.status_code == 402
    assert "card_declined" in declined.text
    assert paid.status_code == 303, paid.text
    assert done.status_code == 200
    assert "Línea renovada" in done.text
    assert "MOVISTAR-AR-" in done.text
    assert "4242" in done.text
    assert audit_ledger(saldo.uow()).clean


def test_a_quote_that_cannot_be_made_is_the_form_again_with_its_code(portal: TestClient) -> None:
    unknown = portal.get(f"{LINE}/renew/quote", params={"plan": "no-such-plan"})
    no_rate = portal.get(f"{LINE}/renew/quote", params={"plan": "pack-mensual-1m", "pay_in": "EUR"})

    assert unknown.status_code == 400
    assert "unknown_plan" in unknown.text
    assert no_rate.status_code == 400
    assert "unknown_rate" in no_rate.text


def test_a_renewal_from_a_balance_too_small_is_refused_and_moves_nothing(
    portal: TestClient, saldo: Saldo
) -> None:
    quote = portal.get(
        f"{LINE}/renew/quote", params={"plan": "pack-mensual-1m", "method": "balance"}
    )
    placed = submit(portal, quote, f"{LINE}/renew", plan="pack-mensual-1m", method="balance")
    order = portal.get(placed.headers["location"])

    refused = submit(portal, order, f"{placed.headers['location']}/pay", card="balance")

    assert refused.status_code == 402
    assert "insufficient_balance" in refused.text
    assert balance(saldo) == Money.of("1500", "ARS")
    assert audit_ledger(saldo.uow()).clean


def test_another_account_s_order_is_not_found(portal: TestClient, saldo: Saldo) -> None:
    quote = portal.get(f"{LINE}/renew/quote", params={"plan": "pack-mensual-1m"})
    placed = submit(portal, quote, f"{LINE}/renew", plan="pack-mensual-1m", method="card")
    order_id = placed.headers["location"].rsplit("/", 1)[1]

    as_other_line = portal.get(f"/lines/{STRANGER}/orders/{order_id}")
    other = TestClient(create_app(saldo), base_url="https://testserver")
    sign_in(other, saldo, STRANGER)
    as_other_account = other.get(placed.headers["location"])

    assert as_other_line.status_code == 404
    assert as_other_account.status_code == 404
