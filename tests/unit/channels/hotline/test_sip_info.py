"""Keys in SIP INFO bodies of type application/dtmf."""

from __future__ import annotations

import pytest

from saldo.channels.hotline.sip_info import key_of_dtmf_info


def info(content_type: str, body: str) -> str:
    return (
        "INFO sip:121@10.0.0.5 SIP/2.0\r\n"
        "Call-ID: a84b4c76e66710@10.0.0.1\r\n"
        "CSeq: 3 INFO\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
        f"{body}"
    )


@pytest.mark.parametrize(("body", "key"), [("5", "5"), ("#\r\n", "#"), ("*", "*"), ("a", "A")])
def test_the_body_of_an_application_dtmf_info_is_the_key(body: str, key: str) -> None:
    assert key_of_dtmf_info(info("application/dtmf", body)) == key


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n"),  # PJSUA reads these
        ("application/dtmf", "55"),
        ("application/media_control+xml", "<media_control/>"),
    ],
)
def test_other_infos_carry_no_key_here(content_type: str, body: str) -> None:
    assert key_of_dtmf_info(info(content_type, body)) is None
