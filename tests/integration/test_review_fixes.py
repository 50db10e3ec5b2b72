"""Guards found missing in review: the gateway token, tenancy of vouchers, the online
minimum, zero top-ups."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.config import Settings
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.topup import AmountBelowMinimum
from saldo.services.audit import audit_ledger
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up
from saldo.services.vouchers import UnknownBatch, generate_vouchers, list_batches, void_batch

PERSONAL = "+5492614445566"


def test_the_gateways_refuse_requests_without_the_configured_token(saldo_sqlite: Saldo) -> None:
    add_line(
        saldo_sqlite.uow(),
        new_line=NewLine(msisdn=PERSONAL, operator="personal-ar"),
        now=saldo_sqlite.clock.now(),
    )
    saldo_sqlite.settings = Settings(
        database_url=saldo_sqlite.settings.database_url, gateway_token=SecretStr("s3cret-token")
    )
    client = TestClient(create_app(saldo_sqlite))
    query = {"from": PERSONAL, "to": "100", "text": "SALDO"}

    refused = client.get("/channels/sms/inbound", params=query)
    wrong = client.get("/channels/sms/inbound", params={**query, "token": "guess"})
    by_query = client.get("/channels/sms/inbound", params={**query, "token": "s3cret-token"})
    by_header = client.post(
        "/channels/ussd",
        data={"sessionId": "s", "serviceCode": "*150#", "phoneNumber": PERSONAL, "text": ""},
        headers={"X-Saldo-Gateway-Token": "s3cret-token"},
    )

    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert by_query.status_code == 200 and "saldo" in by_query.text
    assert by_header.status_code == 200 and by_header.text.startswith("CON ")


def test_production_refuses_to_start_without_a_gateway_token() -> None:
    with pytest.raises(ValidationError, match="SALDO_GATEWAY_TOKEN"):
        Settings(environment="production", secret_key="a-real-secret-of-our-own")


def test_a_unit_of_work_scoped_to_one_operator_cannot_make_or_void_anothers_vouchers(
    saldo: Saldo,
) -> None:
    with saldo.uow().reading() as uow:
        claro = uow.operators.get_by_slug("claro-co")
    assert claro is not None
    batch = generate_vouchers(
        saldo.uow(),
        operator="tigo-co",
        value=Money.of("10000", "COP"),
        count=2,
        expires_at=saldo.clock.now().replace(year=2027),
        created_by="tigo staff",
        pin_key=saldo.pin_key,
        now=saldo.clock.now(),
    )

    with pytest.raises(PermissionError):
        generate_vouchers(
            saldo.uow(operator_id=claro.id),
            operator="tigo-co",
            value=Money.of("10000", "COP"),
            count=2,
            expires_at=saldo.clock.now().replace(year=2027),
            created_by="claro staff",
            pin_key=saldo.pin_key,
            now=saldo.clock.now(),
        )
    with pytest.raises(UnknownBatch):
        void_batch(
            saldo.uow(operator_id=claro.id),
            batch_id=batch.batch_id,
            operator="tigo-co",
            now=saldo.clock.now(),
        )

    batches = list_batches(saldo.uow(), now=saldo.clock.now())
    assert [(b.count, b.voided_at) for b in batches] == [(2, None)]


def test_web_and_app_top_ups_respect_the_online_minimum(saldo: Saldo) -> None:
    add_line(
        saldo.uow(),
        new_line=NewLine(msisdn="+573001234567", operator="claro-co"),
        now=saldo.clock.now(),
    )

    def pay(amount: str, channel: Channel, key: str) -> None:
        top_up(
            saldo.uow(),
            msisdn="+573001234567",
            amount=Money.of(amount, "COP"),
            channel=channel,
            idempotency_key=key,
            now=saldo.clock.now(),
        )

    with pytest.raises(AmountBelowMinimum, match="online"):
        pay("1000", Channel.APP, "app-1")  # claro-co: 1.000 in stores, 5.000 online
    pay("1000", Channel.STORE, "store-1")
    pay("5000", Channel.WEB, "web-1")

    assert audit_ledger(saldo.uow()).transactions == 2


def test_an_outside_caller_cannot_take_a_key_saldo_keeps_for_itself(saldo: Saldo) -> None:
    from saldo.services.buy_plan import buy_plan
    from saldo.services.idempotency import InvalidIdempotencyKey

    add_line(
        saldo.uow(),
        new_line=NewLine(msisdn="+573001234567", operator="claro-co"),
        now=saldo.clock.now(),
    )

    with pytest.raises(InvalidIdempotencyKey):
        buy_plan(
            saldo.uow(),
            msisdn="+573001234567",
            plan_code="todo-incluido-1m",
            channel=Channel.APP,
            idempotency_key="~offer:1",
            now=saldo.clock.now(),
        )
