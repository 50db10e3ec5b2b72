"""Who is calling which hotline number, read from the INVITE the operator's switch sent."""

from __future__ import annotations

import pytest

from saldo.channels.hotline.call import Caller
from saldo.channels.hotline.sip_message import caller_of


def invite(*headers: str, uri: str = "sip:121@10.0.0.5:5060") -> str:
    lines = [
        f"INVITE {uri} SIP/2.0",
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds",
        "To: <sip:121@10.0.0.5>",
        "Call-ID: a84b4c76e66710@10.0.0.1",
        "CSeq: 1 INVITE",
        *headers,
        "Content-Length: 0",
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


def test_the_asserted_identity_names_the_caller_before_from() -> None:
    message = invite(
        "From: <sip:1133334444@10.0.0.1>;tag=1928301774",
        'P-Asserted-Identity: "Ana" <sip:+5491133334444@10.0.0.1;user=phone>',
    )
    assert caller_of(message) == Caller(
        number="+5491133334444", dialled="121", call_id="a84b4c76e66710@10.0.0.1"
    )


def test_from_names_the_caller_when_nothing_is_asserted() -> None:
    message = invite("f: <sip:573001234567@10.0.0.1>;tag=1")  # the compact form
    assert caller_of(message).number == "+573001234567"


@pytest.mark.parametrize(
    "identity",
    [
        "P-Asserted-Identity: <tel:+32470123456>",
        "P-Asserted-Identity: <tel:+32470123456>, <sip:+32470123456@10.0.0.1>",
        "P-Asserted-Identity: <sip:0032470123456@10.0.0.1>",
        "P-Asserted-Identity: sip:%2B32470123456@10.0.0.1",
    ],
)
def test_an_asserted_number_is_read_in_its_usual_shapes(identity: str) -> None:
    assert caller_of(invite("From: <sip:x@10.0.0.1>;tag=1", identity)).number == "+32470123456"


@pytest.mark.parametrize(
    "from_header",
    [
        'From: "Anonymous" <sip:anonymous@anonymous.invalid>;tag=1',
        "From: <sip:restricted@10.0.0.1>;tag=1",
        "From: <sip:3001234567@10.0.0.1>;tag=1",  # a national number: its country is unknown
        "From: <sip:hotline-test@10.0.0.1>;tag=1",
    ],
)
def test_a_withheld_or_unreadable_number_is_none(from_header: str) -> None:
    assert caller_of(invite(from_header)).number is None


def test_the_dialled_number_is_the_request_uris_user_part() -> None:
    message = invite("From: <sip:x@10.0.0.1>;tag=1", uri="sip:*611@10.0.0.5;user=phone")
    assert caller_of(message).dialled == "*611"
