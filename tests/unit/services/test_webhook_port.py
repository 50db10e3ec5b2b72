"""Operator webhooks are signed: ``Saldo-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
"<t>.<body>">`` under the operator's secret. A receiver accepts its own operator's events,
made within five minutes, with the body untouched; and URLs are shown without their path."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from saldo.services.ports.webhooks import (
    WebhookRequest,
    check_webhook_url,
    shown_url,
    signature,
    verify_signature,
)

AT = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
SECRET = "a" * 64
BODY = b'{"id":"line-7-grace","type":"line_state_changed"}'


def test_the_signature_is_the_hmac_of_the_time_a_dot_and_the_body() -> None:
    header = signature(BODY, secret=SECRET, at=AT)

    timestamp = int(AT.timestamp())
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + BODY, hashlib.sha256)
    assert header == f"t={timestamp},v1={expected.hexdigest()}"


def test_a_receiver_accepts_an_untouched_event_signed_a_minute_ago() -> None:
    header = signature(BODY, secret=SECRET, at=AT)

    assert verify_signature(header, BODY, secret=SECRET, now=AT + timedelta(minutes=1))


@pytest.mark.parametrize(
    ("body", "secret", "now"),
    [
        pytest.param(BODY.replace(b"grace", b"recycled"), SECRET, AT, id="changed-body"),
        pytest.param(BODY, "b" * 64, AT, id="another-operator-s-secret"),
        pytest.param(BODY, SECRET, AT + timedelta(minutes=6), id="replayed-later"),
    ],
)
def test_a_receiver_refuses_a_changed_foreign_or_stale_event(
    body: bytes, secret: str, now: datetime
) -> None:
    header = signature(BODY, secret=SECRET, at=AT)

    assert not verify_signature(header, body, secret=secret, now=now)


@pytest.mark.parametrize("header", ["", "t=1,v1=zz", "v1=" + "0" * 64, "t=abc,v1=" + "0" * 64])
def test_a_malformed_signature_is_refused(header: str) -> None:
    assert not verify_signature(header, BODY, secret=SECRET, now=AT)


def test_a_webhook_url_is_shown_by_its_scheme_and_host_only() -> None:
    assert shown_url("https://hooks.example.org/saldo/tok_123?key=s3cret") == (
        "https://hooks.example.org/…"
    )
    assert shown_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/"
    assert shown_url("not a url") == "***"


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.org/x", "hooks.example.org/x", "https:///x", "https://a b/"]
)
def test_only_an_http_or_https_url_with_a_host_is_a_webhook_url(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        check_webhook_url(url)


def test_a_header_with_a_line_break_cannot_travel() -> None:
    with pytest.raises(ValueError, match="header"):
        WebhookRequest(url="https://hooks.example.org/", body=b"{}", headers={"X-A": "1\r\nX-B: 2"})


def test_the_checking_code_in_the_docs_accepts_an_event_and_refuses_a_changed_one() -> None:
    docs = Path(__file__).parents[3] / "docs" / "channels.md"
    found = re.search(r"```python\n(# verify_saldo_webhook\.py.*?)```", docs.read_text(), re.S)
    assert found is not None
    namespace: dict[str, Any] = {}
    exec(compile(found.group(1), "verify_saldo_webhook.py", "exec"), namespace)
    genuine = namespace["saldo_event_is_genuine"]
    # The receiver's code reads the real clock, so the event is signed at the real time.
    header = signature(BODY, secret=SECRET, at=datetime.now(UTC))

    assert genuine(header, BODY, SECRET)
    assert not genuine(header, BODY + b" ", SECRET)
    assert not genuine(header, BODY, "b" * 64)
    assert not genuine("nonsense", BODY, SECRET)
