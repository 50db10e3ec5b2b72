"""What every portal route uses: rendering a page in the right language with its form token,
the standard refusal pages, reading a POST's form behind its CSRF check, and making the
route's one use-case call with the visitor's session.

``Portal.signed_in`` is the shape of nearly every signed-in page: no session → the sign-in
page; a session that opens nothing any more → signed out; a line that is not the account's (or
not a number) → the not-found page; else the use case's view. It answers either the view or
the ``Response`` to send instead, so a route reads::

    view = await portal.signed_in(request, line_page, msisdn=msisdn)
    if isinstance(view, Response):
        return view
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from saldo.bootstrap import Saldo
from saldo.channels.web.language import page_language
from saldo.channels.web.pages import Pages, see_other
from saldo.channels.web.session import CSRF_FIELD, LANGUAGE_COOKIE, CookieJar
from saldo.domain.access import TokenKind, TooManyCodes
from saldo.domain.numbering import InvalidMsisdn
from saldo.services.access.policy import AccessPolicy, access_policy
from saldo.services.access.sign_in import NotSignedIn
from saldo.services.lines import LineNotFound

V = TypeVar("V")
WEB: Final = TokenKind.WEB
# A form's fields are short; a longer body is not one of the portal's forms.
MAX_FORM_BYTES: Final = 4096


@dataclass(frozen=True, slots=True)
class Portal:
    saldo: Saldo
    policy: AccessPolicy
    jar: CookieJar
    pages: Pages

    @classmethod
    def of(cls, saldo: Saldo) -> Portal:
        settings = saldo.settings
        return cls(
            saldo=saldo,
            policy=access_policy(
                secret_key=settings.secret_key,
                token_days=settings.app_token_days,
                codes_per_address=settings.sign_in_codes_per_address,
            ),
            jar=CookieJar(
                secret_key=settings.secret_key, secure=settings.environment != "development"
            ),
            pages=Pages(),
        )

    # -- calling the use case ---------------------------------------------------------------

    async def run(self, use_case: Callable[..., V], /, **kwargs: Any) -> V:
        """The route's one use-case call, off the event loop, with the access policy and now."""
        saldo = self.saldo
        return await run_in_threadpool(
            lambda: saldo.run(use_case, policy=self.policy, now=saldo.clock.now(), **kwargs)
        )

    async def signed_in(
        self, request: Request, use_case: Callable[..., V], /, **kwargs: Any
    ) -> V | Response:
        """The use case's view for the visitor's session, or the page to answer instead."""
        token = self.jar.session(request)
        if token is None:
            return see_other("/sign-in")
        try:
            return await self.run(use_case, token=token, kind=WEB, **kwargs)
        except NotSignedIn:
            return self.signed_out()
        except (LineNotFound, InvalidMsisdn):
            return self.not_found(request)

    async def form(self, request: Request) -> dict[str, str] | None:
        """The POST's fields, or None when its ``csrf`` field is not its pages' own."""
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
            return None
        fields = {
            key: value for key, value in (await request.form()).items() if isinstance(value, str)
        }
        return fields if self.jar.form_is_genuine(request, fields.get(CSRF_FIELD)) else None

    # -- answering ----------------------------------------------------------------------------

    def language(self, request: Request, line_language: str | None) -> str:
        return page_language(
            chosen=request.cookies.get(LANGUAGE_COOKIE),
            line_language=line_language,
            accept=request.headers.get("accept-language", ""),
        )

    def page(
        self,
        request: Request,
        template: str,
        *,
        status: int = 200,
        line_language: str | None = None,
        section: str = "",
        context: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        csrf, new_cookie = self.jar.form_token(request)
        response = self.pages.render(
            template,
            language=self.language(request, line_language),
            csrf=csrf,
            status=status,
            path=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            signed_in=self.jar.session(request) is not None,
            section=section,
            context={"data": context or {}},
            headers=headers,
        )
        self.jar.set_form_cookie(response, new_cookie)
        return response

    def message(
        self, request: Request, *, status: int, title: str, text: str, code: str
    ) -> Response:
        return self.page(
            request,
            "message.html",
            status=status,
            context={"title": title, "text": text, "text_values": {}, "code": code},
        )

    def forbidden(self, request: Request) -> Response:
        return self.message(
            request,
            status=403,
            title="portal_forbidden_title",
            text="portal_forbidden_text",
            code="invalid_form",
        )

    def not_found(self, request: Request) -> Response:
        return self.message(
            request,
            status=404,
            title="portal_not_found_title",
            text="portal_not_found_text",
            code="line_not_found",
        )

    def signed_out(self) -> Response:
        response = see_other("/sign-in")
        self.jar.close_session(response)
        return response

    def too_many(
        self, request: Request, error: TooManyCodes, *, template: str, context: Mapping[str, Any]
    ) -> Response:
        """``template`` again with the wait before another code may be asked."""
        minutes = max(1, -(-error.retry_after_seconds // 60))
        return self.page(
            request,
            template,
            status=429,
            context={
                **context,
                "error": "portal_too_many_codes",
                "minutes": minutes,
                "code": error.code,
            },
            headers={"Retry-After": str(error.retry_after_seconds)},
        )


def client_address(request: Request) -> str | None:
    """The requesting address counted against the limits (as the app API counts it)."""
    return request.client.host if request.client else None
