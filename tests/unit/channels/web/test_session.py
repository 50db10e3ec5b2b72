"""The portal's form tokens: an HMAC of the session once signed in, a signed double-submit
cookie before; a POST is genuine only with its pages' own token."""

from __future__ import annotations

from starlette.requests import Request

from saldo.channels.web.session import CSRF_COOKIE, SESSION_COOKIE, CookieJar

JAR = CookieJar(secret_key="a-test-secret-of-some-length", secure=True)


def request_with(**cookies: str) -> Request:
    header = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return Request({"type": "http", "method": "POST", "headers": [(b"cookie", header.encode())]})


def test_before_sign_in_a_page_makes_a_signed_cookie_its_forms_repeat() -> None:
    token, cookie = JAR.form_token(request_with())

    assert cookie == token
    assert JAR.form_is_genuine(request_with(**{CSRF_COOKIE: token}), token)


def test_a_page_keeps_a_genuine_cookie_and_replaces_a_forged_one() -> None:
    token, _ = JAR.form_token(request_with())

    kept, none = JAR.form_token(request_with(**{CSRF_COOKIE: token}))
    replaced, fresh = JAR.form_token(request_with(**{CSRF_COOKIE: "made.up"}))

    assert (kept, none) == (token, None)
    assert fresh is not None and replaced != "made.up"


def test_a_forged_or_missing_token_is_refused() -> None:
    token, _ = JAR.form_token(request_with())
    forged = token.split(".")[0] + ".0000"

    assert not JAR.form_is_genuine(request_with(**{CSRF_COOKIE: token}), None)
    assert not JAR.form_is_genuine(request_with(**{CSRF_COOKIE: token}), "other")
    assert not JAR.form_is_genuine(request_with(**{CSRF_COOKIE: forged}), forged)
    assert not JAR.form_is_genuine(request_with(), token)


def test_signed_in_the_token_is_the_session_s_and_another_key_s_is_refused() -> None:
    session = request_with(**{SESSION_COOKIE: "the-session-token"})
    other = request_with(**{SESSION_COOKIE: "another-session"})
    elsewhere = CookieJar(secret_key="another-secret-of-some-length", secure=True)

    token, cookie = JAR.form_token(session)

    assert cookie is None
    assert JAR.form_is_genuine(session, token)
    assert not JAR.form_is_genuine(other, token)
    assert not elsewhere.form_is_genuine(session, token)


def test_an_anonymous_token_does_not_pass_for_a_session() -> None:
    anonymous, _ = JAR.form_token(request_with())
    both = request_with(**{SESSION_COOKIE: "the-session-token", CSRF_COOKIE: anonymous})

    assert not JAR.form_is_genuine(both, anonymous)
