"""The SMS and USSD gateway endpoints: a request without the configured gateway token is
refused; and whatever a handset or a gateway sends, they answer within the channel's limits
and move no money (Hypothesis, on SQLite).

The lines here all have a balance of zero and no voucher exists, so no text can buy a plan
("RENOVAR …" then "SI", or "3*1*1", is refused for want of money) and no PIN can be redeemed:
any change to an account or to the ledger would be a bug, not a purchase.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import text

from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.config import Settings
from saldo.domain.sms_text import sms_parts
from saldo.services.lines import NewLine, add_line

MAX_SCREEN = 182
PERSONAL = "+5492614445566"
PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Lines with no money, in every language their operators speak.
LINES = [
    ("+5491123456789", "personal-ar", "es"),
    ("+5491123456782", "personal-ar", "zh"),
    ("+5491123456780", "movistar-ar", "en"),
    ("+5491123456781", "claro-ar", "es"),
    ("+573001234567", "claro-co", "es"),
    ("+573201234567", "tigo-co", "en"),
    ("+32470123456", "proximus-be", "fr"),
    ("+32470123457", "proximus-be", "nl"),
]
KNOWN_NUMBERS = [msisdn for msisdn, _, _ in LINES]
SHORT_CODES = ["100", "121", "123", "125", "300", "6000", "999"]
USSD_CODES = ["*150#", "*444#", "*611#", "*100#", "611", "*999#"]
OWN_USSD_CODE = {"ar": "*150#", "co": "*611#", "be": "*100#"}
# A known line dialling a code that reaches its menu (movistar-ar's is *444#).
KNOWN_CALLERS = [
    (msisdn, "*444#" if operator == "movistar-ar" else OWN_USSD_CODE[operator[-2:]])
    for msisdn, operator, _ in LINES
]
KEYWORDS = [
    "SALDO",
    "consulta",
    "mis   datos",
    "INFO",
    "solde",
    "hulp",
    "RECARGA",
    "RECARGA 1234 5678 9012 3456",
    "PIN 0000000000000000",
    "OPLADEN 1111-2222-3333-4444",
    "RENOVAR",
    "RENOVAR todo-incluido-1m",
    "RENOVAR pack-libre-1m",
    "COMPRAR paquete-todo-12m",
    "VERLENGEN mobile-smart-1m",
    "PAQUETES",
    "PACKS",
    "OFFRES",
    "SI",
    "sí",
    "OUI",
    "JA",
    "YES",
    "是",
    "AYUDA",
]
MENU_CHOICES = ["", "1", "2", "3", "4", "0", "9", "1 ", "x", "01", "²", "٣", "1234567890123456"]

phone_numbers = st.one_of(
    st.sampled_from(KNOWN_NUMBERS),
    st.from_regex(r"\+?[0-9]{1,16}", fullmatch=True),
    st.text(max_size=40),
)
control_text = st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl"]), max_size=50)
sms_texts = st.one_of(
    st.sampled_from(KEYWORDS),
    st.tuples(st.sampled_from(KEYWORDS), st.text(max_size=60)).map(" ".join),
    st.tuples(control_text, st.sampled_from(KEYWORDS), control_text).map("".join),
    st.text(max_size=2000),
    st.text(min_size=1500, max_size=2000),
)
ussd_texts = st.one_of(
    st.lists(st.one_of(st.sampled_from(MENU_CHOICES), st.text(max_size=8)), max_size=6).map(
        "*".join
    ),
    st.text(max_size=2000),
    control_text,
)


@pytest.fixture
def penniless(saldo_sqlite: Saldo) -> Iterator[Saldo]:
    """Saldo with the lines above, all at zero, and no vouchers."""
    for msisdn, operator, language in LINES:
        add_line(
            saldo_sqlite.uow(),
            new_line=NewLine(msisdn=msisdn, operator=operator, language=language),
            now=saldo_sqlite.clock.now(),
        )
    yield saldo_sqlite


def money_state(saldo: Saldo) -> tuple[list[tuple[int, int]], int]:
    """Every account's balance and how many ledger entries there are."""
    with saldo.engine.connect() as connection:
        balances = connection.execute(text("SELECT id, balance FROM accounts ORDER BY id"))
        entries = connection.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
        return [(row[0], row[1]) for row in balances], entries


@PROPERTY
@given(
    sender=phone_numbers,
    to=st.one_of(st.sampled_from(SHORT_CODES), st.text(max_size=20)),
    body=sms_texts,
    message_id=st.one_of(st.none(), st.text(max_size=200)),
    method=st.sampled_from(["GET", "POST"]),
)
def test_no_sms_gets_a_server_error_a_reply_over_three_sms_or_moves_money(
    penniless: Saldo, sender: str, to: str, body: str, message_id: str | None, method: str
) -> None:
    """Proves that for any sender (a known line, digits, or any text), any short code, any
    text (keywords, keywords with arguments, control characters, empty, up to 2,000
    characters) and any gateway message id, sent by GET or POST, the SMS endpoint never
    answers with a 5xx, answers 200 with a reply of at most three SMS (or 400/413 for a
    request it refuses), and leaves every account balance and the ledger as they were."""
    client = TestClient(create_app(penniless), raise_server_exceptions=False)
    fields = {"from": sender, "to": to, "text": body}
    if message_id is not None:
        fields["id"] = message_id
    before = money_state(penniless)

    if method == "GET":
        response = client.get("/channels/sms/inbound", params=fields)
    else:
        response = client.post("/channels/sms/inbound", data=fields)

    assert response.status_code in (200, 400, 413), response.text
    if response.status_code == 200:
        assert response.text
        assert sms_parts(response.text) <= 3, response.text
    assert money_state(penniless) == before


@PROPERTY
@given(
    # Gateways number sessions their own way: short ids come back, for other phones too.
    session=st.one_of(st.sampled_from(["1", "ATUid_1"]), st.text(max_size=200)),
    caller=st.one_of(
        st.sampled_from(KNOWN_CALLERS),
        st.tuples(phone_numbers, st.one_of(st.sampled_from(USSD_CODES), st.text(max_size=20))),
    ),
    choices=ussd_texts,
)
def test_no_ussd_request_gets_a_server_error_an_oversized_screen_or_moves_money(
    penniless: Saldo, session: str, caller: tuple[str, str], choices: str
) -> None:
    """Proves that for any session id (new, or one already used by this or another phone),
    any service code, any phone number (a known line, digits, or any text) and any choices
    (menu paths, out-of-range or non-ASCII digits, control characters, up to 2,000
    characters), the USSD endpoint never answers with a 5xx, answers 200 with a
    ``CON``/``END`` screen of at most 182 characters after the prefix (or 400/413 for a
    request it refuses), and leaves every account balance and the ledger as they were."""
    phone, code = caller
    client = TestClient(create_app(penniless), raise_server_exceptions=False)
    before = money_state(penniless)

    response = client.post(
        "/channels/ussd",
        data={"sessionId": session, "serviceCode": code, "phoneNumber": phone, "text": choices},
    )

    assert response.status_code in (200, 400, 413), response.text
    if response.status_code == 200:
        assert response.text[:4] in ("CON ", "END "), response.text
        assert len(response.text[4:]) <= MAX_SCREEN, response.text
    assert money_state(penniless) == before


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
