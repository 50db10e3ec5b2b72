"""Real-time charging on SQLite and PostgreSQL: reserve, update and terminate with exact
balances, allowances before money, refusal reasons, reservations that expire, an SMS event,
many simultaneous sessions on one line never overdrawing, and the JSON API with its keys;
``saldo audit`` clean after each."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from saldo.adapters.clock import FixedClock
from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.domain.buckets import BucketKind
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.rating import Service
from saldo.services.adjust_balance import adjust_balance
from saldo.services.audit import audit_ledger
from saldo.services.charging import (
    ChargingRefused,
    CreditLimitReached,
    ServiceDenied,
    StaleRequest,
    UnknownSession,
    UserUnknown,
    charge_sms,
    end_session,
    expire_sessions,
    start_session,
    update_session,
)
from saldo.services.lines import NewLine, add_line
from saldo.services.network_elements import new_api_key, register_element
from saldo.services.top_up import top_up

LINE = "+5491155551234"  # movistar-ar: 60/60, national $150/min
FRIEND = "+5491155550000"  # on-net: $100/min, SMS $45
LANDLINE = "+541143210000"
CLARO = "+5493515550123"  # a Claro line: not this element's operator's
OTHER = "+5491155559999"  # another Movistar line


@pytest.fixture
def net(saldo: Saldo, clock: FixedClock) -> tuple[Saldo, int, int]:
    for number, operator in ((LINE, "movistar-ar"), (FRIEND, "movistar-ar"), (CLARO, "claro-ar")):
        add_line(saldo.uow(), new_line=NewLine(msisdn=number, operator=operator), now=clock.now())
    top_up(
        saldo.uow(),
        msisdn=LINE,
        amount=Money.of("5000", "ARS"),
        channel=Channel.STORE,
        idempotency_key="seed",
        now=clock.now(),
    )
    element = register_element(
        saldo.uow(),
        operator_slug="movistar-ar",
        name="msc-1",
        key_hash=saldo.element_key_hash("ne_test"),
        now=clock.now(),
    )
    with saldo.uow().reading() as uow:
        operator = uow.operators.get_by_slug("movistar-ar")
        assert operator is not None and operator.id is not None
        return saldo, operator.id, element


def main(saldo: Saldo) -> int:
    with saldo.uow().reading() as uow:
        found = uow.lines.get_with_buckets(LINE)
        assert found is not None
        return sum(b.balance for b in found.buckets if b.kind is BucketKind.MAIN)


KEYS = iter(range(1, 10**6))


def call(saldo: Saldo, operator: int, element: int, seconds: int, now):  # type: ignore[no-untyped-def]
    return start_session(
        saldo.uow(),
        operator_id=operator,
        element_id=element,
        session_key=f"s-{next(KEYS)}",
        msisdn=LINE,
        service=Service.VOICE,
        destination=LANDLINE,
        requested=seconds,
        now=now,
    )


def test_unused_units_come_back_at_termination(net, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    saldo, operator, element = net

    grant = call(saldo, operator, element, 180, clock.now())  # 3 minutes held: $450
    held = main(saldo)
    done = end_session(
        saldo.uow(),
        operator_id=operator,
        session_id=grant.session_id,
        request_number=1,
        used=61,
        now=clock.now(),
    )  # 2 minutes charged

    assert (grant.granted, held) == (180, 500000 - 45000)
    assert (done.charged, main(saldo)) == (120, 500000 - 30000)
    assert audit_ledger(saldo.uow()).clean


def test_minutes_are_held_before_money_and_given_back_money_first(net, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    saldo, operator, element = net
    adjust_balance(
        saldo.uow(),
        msisdn=LINE,
        kind=BucketKind.VOICE,
        amount=120,
        reason="plan",
        actor="qa",
        idempotency_key="v",
        now=clock.now(),
        expires_at=clock.now() + timedelta(days=5),
    )

    grant = call(saldo, operator, element, 180, clock.now())  # 120 s of minutes + $150
    end_session(
        saldo.uow(),
        operator_id=operator,
        session_id=grant.session_id,
        request_number=1,
        used=90,
        now=clock.now(),
    )

    assert main(saldo) == 500000  # the 2 minutes used came from the allowance
    assert audit_ledger(saldo.uow()).clean


def test_an_update_charges_the_units_used_and_reserves_more(net, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    saldo, operator, element = net

    grant = call(saldo, operator, element, 60, clock.now())
    more = update_session(
        saldo.uow(),
        operator_id=operator,
        session_id=grant.session_id,
        request_number=1,
        used=60,
        requested=120,
        now=clock.now(),
    )
    done = end_session(
        saldo.uow(),
        operator_id=operator,
        session_id=grant.session_id,
        request_number=2,
        used=30,
        now=clock.now(),
    )

    assert (more.granted, more.charged) == (120, 60)
    assert done.charged == 120
    assert main(saldo) == 500000 - 30000
    assert audit_ledger(saldo.uow()).clean


def test_refusals_carry_their_reason_and_hold_nothing(net, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    saldo, operator, element = net

    with pytest.raises(CreditLimitReached) as broke:
        call(saldo, operator, element, 3600, clock.now())  # an hour: $9.000 > $5.000
    with pytest.raises(UserUnknown):
        start_session(
            saldo.uow(),
            operator_id=operator,
            element_id=element,
            session_key="claro-1",
            msisdn=CLARO,
            service=Service.VOICE,
            destination=LANDLINE,
            requested=60,
            now=clock.now(),
        )
    with saldo.uow().reading() as uow:
        record = uow.lines.get_by_msisdn(LINE)
        assert record is not None
        in_grace = record.line.valid_until + timedelta(days=1)
    with pytest.raises(ServiceDenied):
        call(saldo, operator, element, 60, in_grace)

    assert broke.value.result_code == 4012
    assert main(saldo) == 500000


def test_a_silent_reservation_expires_and_its_units_come_back(net, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    saldo, operator, element = net
    grant = call(saldo, operator, element, 120, clock.now())

    clock.advance(timedelta(minutes=6))
    expired = expire_sessions(saldo.uow(), now=clock.now())

    assert (expired, main(saldo)) == (1, 500000)
    with pytest.raises(UnknownSession):
        end_session(
            saldo.uow(),
            operator_id=operator,
            session_id=grant.session_id,
            request_number=1,
            used=60,
            now=clock.now(),
        )
    assert audit_ledger(saldo.uow()).clean


def test_an_sms_is_charged_at_once(net, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    saldo, operator, element = net

    done = charge_sms(
        saldo.uow(),
        operator_id=operator,
        element_id=element,
        event_key="sms-1",
        msisdn=LINE,
        destination=FRIEND,
        now=clock.now(),
    )

    assert (done.charged, main(saldo)) == (1, 500000 - 4500)  # on-net SMS: $45


def test_simultaneous_sessions_never_overdraw_and_end_exact(net, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    saldo, operator, element = net  # $5.000: 33 minutes at $150
    start = threading.Barrier(8)
    granted: list[int] = []
    refused: list[str] = []
    lock = threading.Lock()

    def session() -> None:
        start.wait()
        for _ in range(3):
            try:
                grant = call(saldo, operator, element, 300, clock.now())  # 5 minutes each
            except ChargingRefused as error:
                with lock:
                    refused.append(error.code)
                continue
            end_session(
                saldo.uow(),
                operator_id=operator,
                session_id=grant.session_id,
                request_number=1,
                used=300,
                now=clock.now(),
            )
            with lock:
                granted.append(grant.session_id)

    threads = [threading.Thread(target=session) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(granted) == 6  # 6 × $750 = $4.500; a seventh would need $5.250
    assert set(refused) == {"credit_limit"}
    assert main(saldo) == 500000 - 6 * 75000
    assert audit_ledger(saldo.uow()).clean


def test_the_api_needs_a_key_and_serves_a_call(net, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    saldo, _, _ = net
    client = TestClient(create_app(saldo))
    auth = {"Authorization": "Bearer ne_test"}

    anonymous = client.post(
        "/api/v1/charging/sessions",
        json={"session_id": "a", "msisdn": LINE, "service": "voice", "requested": 60},
    )
    opened = client.post(
        "/api/v1/charging/sessions",
        headers=auth,
        json={
            "session_id": "b",
            "msisdn": LINE,
            "service": "voice",
            "destination": LANDLINE,
            "requested": 60,
        },
    )
    session = opened.json()["session_id"]
    ended = client.post(
        f"/api/v1/charging/sessions/{session}/terminate",
        headers=auth,
        json={"request_number": 1, "used": 42},
    )
    again = client.post(
        f"/api/v1/charging/sessions/{session}/terminate",
        headers=auth,
        json={"request_number": 1, "used": 42},
    )
    broke = client.post(
        "/api/v1/charging/sessions",
        headers=auth,
        json={
            "session_id": "c",
            "msisdn": LINE,
            "service": "voice",
            "destination": LANDLINE,
            "requested": 36000,
        },
    )

    assert anonymous.status_code == 401
    assert (opened.status_code, opened.json()["granted"]) == (201, 60)
    assert (ended.status_code, ended.json()["charged"]) == (200, 60)
    assert (again.status_code, again.json()["charged"]) == (200, 60)  # a retry: same answer
    assert broke.status_code == 403
    assert broke.json()["error"]["code"] == "credit_limit"
    assert broke.json()["error"]["result_code"] == 4012
    assert main(saldo) == 500000 - 15000


def test_a_new_key_is_never_stored(net) -> None:  # type: ignore[no-untyped-def]
    saldo, _, _ = net
    key = new_api_key()

    assert saldo.network_element(key) is None
    assert saldo.element_key_hash(key) != key


def report(
    saldo: Saldo, operator: int, session: int, number: int, used: int, requested: int | None, now
):  # type: ignore[no-untyped-def]
    if requested is None:
        return end_session(
            saldo.uow(),
            operator_id=operator,
            session_id=session,
            request_number=number,
            used=used,
            now=now,
        )
    return update_session(
        saldo.uow(),
        operator_id=operator,
        session_id=session,
        request_number=number,
        used=used,
        requested=requested,
        now=now,
    )


def test_a_retried_report_is_not_charged_twice(net, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    saldo, operator, element = net
    grant = call(saldo, operator, element, 60, clock.now())

    first = report(saldo, operator, grant.session_id, 1, 60, 60, clock.now())
    retried = report(saldo, operator, grant.session_id, 1, 60, 60, clock.now())
    done = report(saldo, operator, grant.session_id, 2, 0, None, clock.now())

    assert first == retried
    assert (done.charged, main(saldo)) == (60, 500000 - 15000)
    with pytest.raises(StaleRequest):
        report(saldo, operator, grant.session_id, 1, 60, 60, clock.now())
    assert audit_ledger(saldo.uow()).clean


def test_a_retried_refused_update_gets_the_same_refusal_not_a_grant(net) -> None:  # type: ignore[no-untyped-def]
    saldo, _, _ = net
    client = TestClient(create_app(saldo))
    auth = {"Authorization": "Bearer ne_test"}
    opened = client.post(
        "/api/v1/charging/sessions",
        headers=auth,
        json={
            "session_id": "u",
            "msisdn": LINE,
            "service": "voice",
            "destination": LANDLINE,
            "requested": 60,
        },
    )
    update = f"/api/v1/charging/sessions/{opened.json()['session_id']}/update"
    hour_and_more = {"request_number": 1, "used": 60, "requested": 3600}  # $9.000 > $4.850

    refused = client.post(update, headers=auth, json=hour_and_more)
    balance = main(saldo)
    again = client.post(update, headers=auth, json=hour_and_more)

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "credit_limit"
    assert (again.status_code, again.json()) == (403, refused.json())
    assert balance == main(saldo) == 500000 - 15000  # the minute used, charged once
    assert audit_ledger(saldo.uow()).clean


def test_a_retried_opening_gets_its_first_answer_after_the_session_moved_on(
    net, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    saldo, _, _ = net
    client = TestClient(create_app(saldo))
    auth = {"Authorization": "Bearer ne_test"}
    start = {
        "session_id": "m",
        "msisdn": LINE,
        "service": "voice",
        "destination": LANDLINE,
        "requested": 60,
    }

    opened = client.post("/api/v1/charging/sessions", headers=auth, json=start)
    update = f"/api/v1/charging/sessions/{opened.json()['session_id']}/update"
    clock.advance(timedelta(seconds=50))
    client.post(update, headers=auth, json={"request_number": 1, "used": 60, "requested": 120})
    again = client.post("/api/v1/charging/sessions", headers=auth, json=start)

    assert (opened.status_code, opened.json()["granted"], opened.json()["charged"]) == (201, 60, 0)
    assert (again.status_code, again.json()) == (201, opened.json())
    assert main(saldo) == 500000 - 15000 - 30000  # a minute used, two held: nothing more
    assert audit_ledger(saldo.uow()).clean


def test_a_retried_refused_start_is_refused_again_even_after_a_top_up(
    net, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    saldo, _, _ = net
    client = TestClient(create_app(saldo))
    auth = {"Authorization": "Bearer ne_test"}
    start = {
        "session_id": "s",
        "msisdn": LINE,
        "service": "voice",
        "destination": LANDLINE,
        "requested": 3600,  # an hour: $9.000 > $5.000
    }

    refused = client.post("/api/v1/charging/sessions", headers=auth, json=start)
    top_up(
        saldo.uow(),
        msisdn=LINE,
        amount=Money.of("10000", "ARS"),
        channel=Channel.STORE,
        idempotency_key="later",
        now=clock.now(),
    )
    again = client.post("/api/v1/charging/sessions", headers=auth, json=start)
    other = client.post(
        "/api/v1/charging/sessions", headers=auth, json={**start, "session_id": "t"}
    )

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "credit_limit"
    assert (again.status_code, again.json()) == (403, refused.json())
    assert (other.status_code, other.json()["granted"]) == (201, 3600)
    assert main(saldo) == 1500000 - 900000
    assert audit_ledger(saldo.uow()).clean


def test_a_retried_refused_sms_event_and_a_retried_termination_answer_as_the_first_time(
    net, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    saldo, operator, element = net
    client = TestClient(create_app(saldo))
    auth = {"Authorization": "Bearer ne_test"}
    with saldo.uow().reading() as uow:
        record = uow.lines.get_by_msisdn(LINE)
        assert record is not None
        in_grace = record.line.valid_until + timedelta(days=1)
    grant = call(saldo, operator, element, 60, clock.now())
    terminate = f"/api/v1/charging/sessions/{grant.session_id}/terminate"
    event = {"event_id": "e-grace", "msisdn": LINE, "destination": FRIEND}

    ended = client.post(terminate, headers=auth, json={"request_number": 1, "used": 30})
    ended_again = client.post(terminate, headers=auth, json={"request_number": 1, "used": 30})
    clock.set(in_grace)
    denied = client.post("/api/v1/charging/events/sms", headers=auth, json=event)
    denied_again = client.post("/api/v1/charging/events/sms", headers=auth, json=event)

    assert (ended.status_code, ended_again.json()) == (200, ended.json())
    assert denied.json()["error"]["code"] == "service_denied"
    assert (denied_again.status_code, denied_again.json()) == (403, denied.json())
    assert main(saldo) == 500000 - 15000
    assert audit_ledger(saldo.uow()).clean


def test_increments_apply_to_the_whole_call_not_to_each_report(net, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    saldo, operator, element = net  # 60/60: a 60-second call is one minute
    grant = call(saldo, operator, element, 30, clock.now())

    report(saldo, operator, grant.session_id, 1, 30, 30, clock.now())
    done = report(saldo, operator, grant.session_id, 2, 30, None, clock.now())

    assert (done.charged, main(saldo)) == (60, 500000 - 15000)
    assert audit_ledger(saldo.uow()).clean


def test_a_report_after_termination_is_refused_and_the_session_stays_closed(
    net, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    saldo, operator, element = net
    grant = call(saldo, operator, element, 60, clock.now())
    report(saldo, operator, grant.session_id, 1, 60, None, clock.now())

    with pytest.raises(UnknownSession):
        report(saldo, operator, grant.session_id, 2, 0, 60, clock.now())

    assert main(saldo) == 500000 - 15000
    assert audit_ledger(saldo.uow()).clean


def test_tiny_data_quotas_add_up_to_a_price_over_the_session(
    saldo: Saldo, clock: FixedClock
) -> None:
    line = "+32470123456"  # proximus-be: data by the KB, a fraction of a cent each
    add_line(saldo.uow(), new_line=NewLine(msisdn=line, operator="proximus-be"), now=clock.now())
    top_up(
        saldo.uow(),
        msisdn=line,
        amount=Money.of("5", "EUR"),
        channel=Channel.STORE,
        idempotency_key="seed",
        now=clock.now(),
    )
    element = register_element(
        saldo.uow(),
        operator_slug="proximus-be",
        name="pgw-1",
        key_hash=saldo.element_key_hash("ne_pgw"),
        now=clock.now(),
    )
    with saldo.uow().reading() as uow:
        operator = uow.operators.get_by_slug("proximus-be")
        assert operator is not None and operator.id is not None
    grant = start_session(
        saldo.uow(),
        operator_id=operator.id,
        element_id=element,
        session_key="d-1",
        msisdn=line,
        service=Service.DATA,
        destination=None,
        requested=100 * 1024,
        now=clock.now(),
    )
    for number in range(1, 101):
        report(saldo, operator.id, grant.session_id, number, 100 * 1024, 100 * 1024, clock.now())
    done = report(saldo, operator.id, grant.session_id, 101, 0, None, clock.now())

    with saldo.uow().reading() as uow:
        found = uow.lines.get_with_buckets(line)
        assert found is not None
        left = sum(b.balance for b in found.buckets if b.kind is BucketKind.MAIN)
    assert done.charged == 100 * 100 * 1024
    assert left < 500  # about 10 MB was not free
    assert audit_ledger(saldo.uow()).clean


def test_a_session_id_sent_again_for_another_line_is_refused_and_bills_no_one(
    net, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    saldo, _, _ = net
    add_line(saldo.uow(), new_line=NewLine(msisdn=OTHER, operator="movistar-ar"), now=clock.now())
    client = TestClient(create_app(saldo))
    auth = {"Authorization": "Bearer ne_test"}
    opening = {
        "session_id": "dup",
        "msisdn": LINE,
        "service": "voice",
        "destination": LANDLINE,
        "requested": 120,
    }
    first = client.post("/api/v1/charging/sessions", headers=auth, json=opening)
    retried = client.post("/api/v1/charging/sessions", headers=auth, json=opening)

    # the same element id for another line, another service or another destination
    others = [
        client.post("/api/v1/charging/sessions", headers=auth, json={**opening, **change})
        for change in ({"msisdn": OTHER}, {"service": "data"}, {"destination": FRIEND})
    ]

    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.json() == first.json()
    for refused in others:
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "session_id_reused"
    ended = client.post(
        f"/api/v1/charging/sessions/{first.json()['session_id']}/terminate",
        headers=auth,
        json={"request_number": 1, "used": 120},
    )
    assert ended.json()["charged"] == 120
    assert main(saldo) == 500000 - 30000  # two minutes, on the first line only
    assert audit_ledger(saldo.uow()).clean


def test_an_sms_event_id_sent_again_for_another_line_is_refused(net, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    saldo, _, _ = net
    add_line(saldo.uow(), new_line=NewLine(msisdn=OTHER, operator="movistar-ar"), now=clock.now())
    client = TestClient(create_app(saldo))
    auth = {"Authorization": "Bearer ne_test"}
    event = {"event_id": "e9", "msisdn": LINE, "destination": FRIEND}

    charged = client.post("/api/v1/charging/events/sms", headers=auth, json=event)
    elsewhere = client.post(
        "/api/v1/charging/events/sms", headers=auth, json={**event, "msisdn": OTHER}
    )

    assert charged.json()["charged"] == 1
    assert elsewhere.status_code == 409
    assert elsewhere.json()["error"]["code"] == "session_id_reused"
    assert main(saldo) == 500000 - 4500


@pytest.mark.parametrize("session", ["99999999999999999999", str(2**63), "0", "-1"])
def test_a_session_id_out_of_range_is_a_422_not_a_server_error(net, session: str) -> None:  # type: ignore[no-untyped-def]
    saldo, _, _ = net
    client = TestClient(create_app(saldo), raise_server_exceptions=False)

    answer = client.post(
        f"/api/v1/charging/sessions/{session}/terminate",
        headers={"Authorization": "Bearer ne_test"},
        json={"request_number": 1, "used": 1},
    )

    assert answer.status_code == 422


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("{not json", "application/json"), ("msisdn=1", "application/x-www-form-urlencoded")],
)
def test_without_a_key_any_body_is_a_401(net, body: str, content_type: str) -> None:  # type: ignore[no-untyped-def]
    saldo, _, _ = net
    client = TestClient(create_app(saldo))

    answer = client.post(
        "/api/v1/charging/sessions", content=body, headers={"Content-Type": content_type}
    )

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"session_id": "x", "msisdn": "+5491155551234", "service": "voice"}', "requested"),
        (
            '{"session_id": "x", "msisdn": "+5491155551234", "service": "voice", "requested": 1.5}',
            "requested",
        ),
        (
            '{"session_id": "x", "msisdn": "+5491155551234", "service": "voice", '
            '"requested": 100000000000000000000}',
            "requested",
        ),
        (
            '{"session_id": "x", "msisdn": "+5491155551234", "service": "fax", "requested": 1}',
            "service",
        ),
        (
            '{"session_id": "x", "msisdn": "+5491155551234", "service": "voice", '
            '"requested": true}',
            "requested",
        ),
        (
            '{"session_id": "x", "msisdn": "+5491155551234", "service": "voice", '
            '"requested": "60"}',
            "requested",
        ),
        (
            '{"session_id": "a\\u0000b", "msisdn": "+5491155551234", "service": "voice", '
            '"requested": 1}',
            "session_id",
        ),
        ("{not json", ""),
    ],
    ids=["missing", "fraction", "huge", "unknown-service", "boolean", "text", "nul", "not-json"],
)
def test_a_malformed_body_is_a_422_with_a_code_naming_the_field(net, body: str, field: str) -> None:  # type: ignore[no-untyped-def]
    saldo, _, _ = net
    client = TestClient(create_app(saldo))

    answer = client.post(
        "/api/v1/charging/sessions",
        content=body,
        headers={"Authorization": "Bearer ne_test", "Content-Type": "application/json"},
    )

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["fields"] and error["message"]
    if field:
        assert error["fields"][0]["field"] == field
        assert error["message"].startswith(f"{field}: ")
    else:
        assert error["message"] == "the body is not JSON"
    assert main(saldo) == 500000


def test_a_body_that_is_not_utf8_is_a_422_invalid_request_not_a_400(net) -> None:  # type: ignore[no-untyped-def]
    saldo, _, _ = net
    client = TestClient(create_app(saldo))

    answer = client.post(
        "/api/v1/charging/sessions",
        content=b"\xae",
        headers={"Authorization": "Bearer ne_test", "Content-Type": "application/json"},
    )

    assert answer.status_code == 422
    assert answer.json()["error"] == {
        "code": "invalid_request",
        "message": "the body is not UTF-8 JSON",
        "fields": [{"field": "", "problem": "the body is not UTF-8 JSON"}],
    }
    assert main(saldo) == 500000


def test_the_openapi_page_describes_the_error_shape(net) -> None:  # type: ignore[no-untyped-def]
    saldo, _, _ = net
    described = TestClient(create_app(saldo)).get("/openapi.json").json()

    responses = described["paths"]["/api/v1/charging/sessions"]["post"]["responses"]

    for status in ("401", "403", "404", "409", "422"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorBody"}, status


@pytest.mark.parametrize("written", ["5491155550000", "005491155550000"])
def test_a_retry_with_the_numbers_written_another_way_is_the_same_request(
    net, written: str
) -> None:  # type: ignore[no-untyped-def]
    saldo, _, _ = net
    client = TestClient(create_app(saldo))
    auth = {"Authorization": "Bearer ne_test"}
    event = {"event_id": "e1", "msisdn": LINE, "destination": FRIEND}

    first = client.post("/api/v1/charging/events/sms", headers=auth, json=event)
    again = client.post(
        "/api/v1/charging/events/sms",
        headers=auth,
        json={**event, "destination": written, "msisdn": LINE.lstrip("+")},
    )

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert main(saldo) == 500000 - 4500  # charged once
