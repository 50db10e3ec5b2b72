"""SMS offers and USSD confirm screens quote what the purchase will really cost: the
promotion that applies, and the price after it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up

TIGO = "+573201112233"  # tigo-co: 20 % off the first plan; Paquete Todo 30 días costs $27.000


def given_tigo_line_with(saldo: Saldo, amount: str) -> TestClient:
    add_line(saldo.uow(), new_line=NewLine(msisdn=TIGO, operator="tigo-co"), now=saldo.clock.now())
    top_up(
        saldo.uow(),
        msisdn=TIGO,
        amount=Money.of(amount, "COP"),
        channel=Channel.STORE,
        idempotency_key="given",
        now=saldo.clock.now(),
    )
    return TestClient(create_app(saldo))


def sms(client: TestClient, text: str) -> str:
    response = client.get("/channels/sms/inbound", params={"from": TIGO, "to": "300", "text": text})
    assert response.status_code == 200
    return response.text


def test_the_sms_offer_quotes_the_discounted_price_and_the_purchase_charges_it(
    saldo: Saldo,
) -> None:
    client = given_tigo_line_with(saldo, "30000")

    offer = sms(client, "RENOVAR paquete-todo-1m")
    bought = sms(client, "SI")

    assert "$21.600" in offer and "20 % en tu primer paquete" in offer
    assert "Saldo $8.400" in bought
    main = inquire_balance(saldo.uow(), msisdn=TIGO, now=saldo.clock.now()).main
    assert main == Money.of("8400", "COP")


def test_the_ussd_confirm_screen_quotes_the_discounted_price(saldo: Saldo) -> None:
    client = given_tigo_line_with(saldo, "30000")

    screen = client.post(
        "/channels/ussd",
        data={"sessionId": "s1", "serviceCode": "*611#", "phoneNumber": TIGO, "text": "3*1"},
    ).text

    assert screen.startswith("CON ")
    assert "$21.600" in screen and "Saldo $30.000" in screen


def test_ussd_says_at_once_when_the_balance_cannot_pay(saldo: Saldo) -> None:
    client = given_tigo_line_with(saldo, "5000")

    screen = client.post(
        "/channels/ussd",
        data={"sessionId": "s1", "serviceCode": "*611#", "phoneNumber": TIGO, "text": "3*1"},
    ).text

    assert screen.startswith("END ")
    assert "$21.600" in screen and "$5.000" in screen


def test_a_confirmation_never_charges_more_than_the_price_quoted(saldo: Saldo) -> None:
    client = given_tigo_line_with(saldo, "100000")
    sms(client, "RENOVAR paquete-todo-1m")  # quoted $21.600: 20 % off a first plan
    client.post(  # meanwhile a first plan is bought over USSD: the discount is used up
        "/channels/ussd",
        data={"sessionId": "s1", "serviceCode": "*611#", "phoneNumber": TIGO, "text": "3*1*1"},
    )
    before = inquire_balance(saldo.uow(), msisdn=TIGO, now=saldo.clock.now()).main

    reply = sms(client, "SI")

    assert "$27.000" in reply and "RENOVAR paquete-todo-1m" in reply
    assert inquire_balance(saldo.uow(), msisdn=TIGO, now=saldo.clock.now()).main == before
