"""The HTTP access log never shows a query string (numbers, PINs, the gateway token)."""

from __future__ import annotations

import logging

from saldo.channels.api.server import WithoutQueryStrings


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
