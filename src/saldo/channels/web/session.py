"""The portal's cookies and its protection against cross-site requests.

- ``saldo_session``: the subscriber's session, a WEB token of ``services.access`` (random,
  kept hashed in the database, revoked at sign-out). ``HttpOnly; SameSite=Lax; Path=/``, and
  ``Secure`` unless SALDO_ENVIRONMENT is ``development`` (the demo serves plain HTTP).
- ``saldo_csrf``: before sign-in, a random value signed with the installation's key, which
  every form repeats in its hidden ``csrf`` field (a signed double-submit cookie). Once
  signed in, the hidden field is an HMAC of the session token instead, so it changes at each
  sign-in and a page of another session does not carry it.
- ``saldo_language``: the language chosen with the switcher (not a secret).

A POST whose ``csrf`` field is missing or wrong is refused before any use case is called.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE: Final = "saldo_session"
CSRF_COOKIE: Final = "saldo_csrf"
LANGUAGE_COOKIE: Final = "saldo_language"
CSRF_FIELD: Final = "csrf"
# The browser keeps the session cookie as long as the token lasts.
LANGUAGE_KEPT_SECONDS: Final = 365 * 24 * 3600


class CookieJar:
    """Sets and reads the portal's cookies with the installation's flags and key."""

    def __init__(self, *, secret_key: str, secure: bool) -> None:
        self._key = hashlib.sha256(b"saldo portal forms\x00" + secret_key.encode()).digest()
        self.secure = secure

    # -- the session ------------------------------------------------------------------------

    @staticmethod
    def session(request: Request) -> str | None:
        return request.cookies.get(SESSION_COOKIE) or None

    def open_session(self, response: Response, token: str, *, max_age: int) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=max_age,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )
        # The pre-sign-in value has done its work; forms now carry the session's.
        response.delete_cookie(CSRF_COOKIE, path="/", secure=self.secure, httponly=True)

    def close_session(self, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE, path="/", secure=self.secure, httponly=True, samesite="lax"
        )

    # -- forms ------------------------------------------------------------------------------

    def form_token(self, request: Request) -> tuple[str, str | None]:
        """The value a form of this request's page carries in its ``csrf`` field, and a new
        pre-sign-in cookie value to set with the page (None: the request's own is kept)."""
        session = self.session(request)
        if session is not None:
            return self._of_session(session), None
        kept = request.cookies.get(CSRF_COOKIE, "")
        if self._signed(kept):
            return kept, None
        nonce = secrets.token_urlsafe(24)
        fresh = f"{nonce}.{self._sign(nonce)}"
        return fresh, fresh

    def set_form_cookie(self, response: Response, value: str | None) -> None:
        if value is not None:
            response.set_cookie(
                CSRF_COOKIE, value, path="/", httponly=True, samesite="lax", secure=self.secure
            )

    def form_is_genuine(self, request: Request, sent: str | None) -> bool:
        """Whether a POST's ``csrf`` field is the one its own pages carry: the session's
        HMAC when it holds a session cookie, else the signed cookie it holds, repeated."""
        if not sent:
            return False
        session = self.session(request)
        if session is not None:
            return hmac.compare_digest(sent, self._of_session(session))
        kept = request.cookies.get(CSRF_COOKIE, "")
        return self._signed(kept) and hmac.compare_digest(sent, kept)

    def _of_session(self, session: str) -> str:
        return hmac.new(self._key, b"session\x00" + session.encode(), hashlib.sha256).hexdigest()

    def _sign(self, nonce: str) -> str:
        return hmac.new(self._key, b"anonymous\x00" + nonce.encode(), hashlib.sha256).hexdigest()

    def _signed(self, value: str) -> bool:
        nonce, _, signature = value.partition(".")
        return bool(nonce and signature) and hmac.compare_digest(signature, self._sign(nonce))

    # -- the language -----------------------------------------------------------------------

    def keep_language(self, response: Response, language: str) -> None:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=LANGUAGE_KEPT_SECONDS,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )
