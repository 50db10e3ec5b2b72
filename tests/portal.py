"""Driving the portal's forms in tests as a browser would: each form's hidden ``csrf`` field
read from the page it is on, and the code read from the SMS the outbox sent."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx2 import Response

from saldo.adapters.sms.fake import FakeSmsSender
from saldo.bootstrap import Saldo
from tests.access import sent_code

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: Response) -> str:
    """The hidden ``csrf`` field of the forms of a page."""
    found = _CSRF.search(page.text)
    assert found is not None, page.text
    return found.group(1)


def post_form(client: TestClient, path: str, *, page: str, **fields: str) -> Response:
    """Post ``fields`` to ``path`` with the ``csrf`` of the page at ``page``, as its form
    would; the redirect is not followed."""
    token = csrf_of(client.get(page))
    return client.post(path, data={"csrf": token, **fields}, follow_redirects=False)


def sign_in(client: TestClient, saldo: Saldo, msisdn: str) -> Response:
    """Sign in with the code sent to ``msisdn``; the answer to the code's form."""
    asked = post_form(client, "/sign-in", page="/sign-in", msisdn=msisdn)
    assert asked.status_code == 303, asked.text
    code = sent_code(saldo, FakeSmsSender(), to=msisdn, at=saldo.clock.now())
    return post_form(
        client, "/sign-in/code", page=asked.headers["location"], msisdn=msisdn, code=code
    )
