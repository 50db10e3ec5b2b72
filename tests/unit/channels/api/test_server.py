"""The HTTP access log never shows a query string (numbers, PINs, the gateway token) nor a
subscriber's number in a path."""

from __future__ import annotations

import logging

import pytest

from saldo.channels.api.server import WithoutQueryStrings, masked_path


def test_an_access_line_keeps_the_path_and_drops_the_query_string() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:5000",
            "GET",
            "/channels/sms/inbound?from=%2B5492614445566&text=RECARGA+1234&token=s3cret",
            "1.1",
            200,
        ),
        None,
    )

    assert WithoutQueryStrings().filter(record)

    line = record.getMessage()
    assert line == '127.0.0.1:5000 - "GET /channels/sms/inbound HTTP/1.1" 200'
    assert "5492614445566" not in line and "s3cret" not in line


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/api/v1/lines/%2B5491133334444", "/api/v1/lines/+54911*****444"),
        ("/api/v1/lines/+5491133334444/usage?days=30", "/api/v1/lines/+54911*****444/usage"),
        (
            "/lines/5491133334444/statements/2026-11.pdf",
            "/lines/+54911*****444/statements/2026-11.pdf",
        ),
        ("/api/v1/orders/12", "/api/v1/orders/12"),
        ("/metrics", "/metrics"),
    ],
)
def test_a_number_in_a_path_is_masked_in_the_access_log(path: str, logged: str) -> None:
    assert masked_path(path) == logged
