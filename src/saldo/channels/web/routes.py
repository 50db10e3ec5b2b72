"""The portal's routes (docs/portal.md): signing in with a code sent by SMS, the account's
lines, a line's page, adding and taking off a line, the language, signing out.

Every route makes at most one use-case call (``saldo.run``) and renders what it returns.
Every POST first checks its form's ``csrf`` field (``session.CookieJar``): without the right
one it is a 403 page and nothing is called. A page that needs a session and finds none, or
one that opens nothing any more, sends the browser to the sign-in page.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from saldo.bootstrap import Saldo
from saldo.channels.notifications import send_code_now
from saldo.channels.web.language import language_of, page_language
from saldo.channels.web.pages import Pages, see_other
from saldo.channels.web.session import CSRF_FIELD, LANGUAGE_COOKIE, CookieJar
from saldo.channels.web.views import line_details, line_href, line_rows
from saldo.domain.access import (
    CodeExpired,
    CodeRefused,
    CodeUsed,
    NoCodeAsked,
    TokenKind,
    TooManyCodes,
    TooManyTries,
    WrongCode,
)
from saldo.domain.numbering import InvalidMsisdn
from saldo.i18n import LANGUAGES
from saldo.services.access.account_lines import (
    account_line,
    account_lines,
    add_account_line,
    remove_account_line,
    request_line_code,
)
from saldo.services.access.policy import access_policy
from saldo.services.access.sign_in import NotSignedIn, request_sign_in_code, sign_in, sign_out
from saldo.services.lines import LineNotFound
from saldo.services.portal import line_page

V = TypeVar("V")
WEB: Final = TokenKind.WEB
# A form's fields are short; a longer body is not one of the portal's forms.
MAX_FORM_BYTES: Final = 4096

_CODE_REFUSALS: Final = {
    WrongCode: "portal_code_wrong",
    TooManyTries: "portal_code_too_many_tries",
    CodeExpired: "portal_code_expired",
    CodeUsed: "portal_code_used",
    NoCodeAsked: "portal_code_not_asked",
}


def portal_router(saldo: Saldo) -> APIRouter:
    """The portal's pages, for ``create_api`` (not in the OpenAPI: they answer HTML)."""
    settings = saldo.settings
    policy = access_policy(
        secret_key=settings.secret_key,
        token_days=settings.app_token_days,
        codes_per_address=settings.sign_in_codes_per_address,
    )
    jar = CookieJar(secret_key=settings.secret_key, secure=settings.environment != "development")
    pages = Pages()
    router = APIRouter(include_in_schema=False)

    def page(
        request: Request,
        template: str,
        *,
        status: int = 200,
        line_language: str | None = None,
        section: str = "",
        context: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        language = page_language(
            chosen=request.cookies.get(LANGUAGE_COOKIE),
            line_language=line_language,
            accept=request.headers.get("accept-language", ""),
        )
        csrf, new_cookie = jar.form_token(request)
        response = pages.render(
            template,
            language=language,
            csrf=csrf,
            status=status,
            path=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            signed_in=jar.session(request) is not None,
            section=section,
            context={"data": context or {}},
            headers=headers,
        )
        jar.set_form_cookie(response, new_cookie)
        return response

    def message(request: Request, *, status: int, title: str, text: str, code: str) -> Response:
        return page(
            request,
            "message.html",
            status=status,
            context={"title": title, "text": text, "text_values": {}, "code": code},
        )

    def forbidden(request: Request) -> Response:
        return message(
            request,
            status=403,
            title="portal_forbidden_title",
            text="portal_forbidden_text",
            code="invalid_form",
        )

    def not_found(request: Request) -> Response:
        return message(
            request,
            status=404,
            title="portal_not_found_title",
            text="portal_not_found_text",
            code="line_not_found",
        )

    def signed_out() -> Response:
        response = see_other("/sign-in")
        jar.close_session(response)
        return response

    def too_many(request: Request, error: TooManyCodes, *, template: str, msisdn: str) -> Response:
        minutes = max(1, -(-error.retry_after_seconds // 60))
        return page(
            request,
            template,
            status=429,
            context={
                "msisdn": msisdn,
                "error": "portal_too_many_codes",
                "minutes": minutes,
                "code": error.code,
            },
            headers={"Retry-After": str(error.retry_after_seconds)},
        )

    async def form(request: Request) -> dict[str, str] | None:
        """The POST's fields, or None when its ``csrf`` field is not its pages' own."""
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
            return None
        fields = {
            key: value for key, value in (await request.form()).items() if isinstance(value, str)
        }
        return fields if jar.form_is_genuine(request, fields.get(CSRF_FIELD)) else None

    # -- my lines -----------------------------------------------------------------------------

    @router.get("/")
    async def my_lines(request: Request, done: str | None = None) -> Response:
        token = jar.session(request)
        if token is None:
            return see_other("/sign-in")
        try:
            lines = await _call(
                lambda: saldo.run(
                    account_lines, policy=policy, token=token, kind=WEB, now=saldo.clock.now()
                )
            )
        except NotSignedIn:
            return signed_out()
        first = language_of(lines[0].shown.locale) if lines else None
        language = _language(request, first)
        return page(
            request,
            "lines.html",
            line_language=first,
            section="lines",
            context={
                "lines": line_rows(lines, language=language),
                "notice": _NOTICES.get(done or ""),
            },
        )

    @router.get("/lines/{msisdn}")
    async def one_line(request: Request, msisdn: str) -> Response:
        token = jar.session(request)
        if token is None:
            return see_other("/sign-in")
        try:
            view = await _call(
                lambda: saldo.run(
                    line_page,
                    policy=policy,
                    token=token,
                    kind=WEB,
                    msisdn=msisdn,
                    now=saldo.clock.now(),
                )
            )
        except NotSignedIn:
            return signed_out()
        except (LineNotFound, InvalidMsisdn):
            return not_found(request)
        own = language_of(view.line.shown.locale)
        return page(
            request,
            "line.html",
            line_language=own,
            section="lines",
            context={"line": line_details(view, language=_language(request, own))},
        )

    # -- signing in and out ---------------------------------------------------------------------

    @router.get("/sign-in")
    async def sign_in_page(request: Request, bye: str | None = None) -> Response:
        return page(
            request,
            "sign_in.html",
            context={"msisdn": "", "notice": "portal_signed_out" if bye else None},
        )

    @router.post("/sign-in")
    async def ask_for_a_code(request: Request) -> Response:
        fields = await form(request)
        if fields is None:
            return forbidden(request)
        msisdn = fields.get("msisdn", "").strip()
        try:
            requested = await _call(
                lambda: saldo.run(
                    request_sign_in_code,
                    policy=policy,
                    msisdn=msisdn,
                    address=_address(request),
                    now=saldo.clock.now(),
                )
            )
        except InvalidMsisdn as error:
            return page(
                request,
                "sign_in.html",
                status=400,
                context={"msisdn": msisdn, "error": "portal_invalid_msisdn", "code": error.code},
            )
        except TooManyCodes as error:
            return too_many(request, error, template="sign_in.html", msisdn=msisdn)
        answer = see_other("/sign-in/code?msisdn=" + quote(msisdn, safe=""))
        answer.background = BackgroundTask(send_code_now, saldo, requested)
        return answer

    @router.get("/sign-in/code")
    async def code_page(request: Request, msisdn: str = "") -> Response:
        return page(request, "code.html", context={"msisdn": msisdn, "action": "/sign-in/code"})

    @router.post("/sign-in/code")
    async def sign_in_with_the_code(request: Request) -> Response:
        fields = await form(request)
        if fields is None:
            return forbidden(request)
        msisdn, code = fields.get("msisdn", "").strip(), fields.get("code", "").strip()
        try:
            signed = await _call(
                lambda: saldo.run(
                    sign_in,
                    policy=policy,
                    msisdn=msisdn,
                    code=code,
                    kind=WEB,
                    now=saldo.clock.now(),
                )
            )
        except (CodeRefused, InvalidMsisdn) as error:
            return refused_code(request, error, msisdn=msisdn, action="/sign-in/code")
        response = see_other("/")
        jar.open_session(response, signed.token, max_age=signed.expires_in)
        return response

    def refused_code(
        request: Request, error: CodeRefused | InvalidMsisdn, *, msisdn: str, action: str
    ) -> Response:
        key = next(
            (key for refused, key in _CODE_REFUSALS.items() if isinstance(error, refused)),
            "portal_invalid_msisdn" if isinstance(error, InvalidMsisdn) else "portal_code_wrong",
        )
        return page(
            request,
            "code.html",
            status=400,
            section="add_line" if action.startswith("/add-line") else "",
            context={
                "msisdn": msisdn,
                "action": action,
                "error": key,
                "tries_left": getattr(error, "tries_left", 0),
                "code": error.code,
            },
        )

    @router.post("/sign-out")
    async def sign_out_here(request: Request) -> Response:
        fields = await form(request)
        if fields is None:
            return forbidden(request)
        token = jar.session(request)
        # Signed out already (NotSignedIn): the cookie goes all the same.
        with contextlib.suppress(NotSignedIn):
            await _call(
                lambda: saldo.run(
                    sign_out, policy=policy, token=token, kind=WEB, now=saldo.clock.now()
                )
            )
        response = see_other("/sign-in?bye=1")
        jar.close_session(response)
        return response

    # -- adding and taking off lines ------------------------------------------------------------

    @router.get("/add-line")
    async def add_line_page(request: Request) -> Response:
        if jar.session(request) is None:
            return see_other("/sign-in")
        return page(request, "add_line.html", section="add_line", context={"msisdn": ""})

    @router.post("/add-line")
    async def ask_for_a_line_code(request: Request) -> Response:
        fields = await form(request)
        if fields is None:
            return forbidden(request)
        token = jar.session(request)
        msisdn = fields.get("msisdn", "").strip()
        try:
            requested = await _call(
                lambda: saldo.run(
                    request_line_code,
                    policy=policy,
                    token=token,
                    kind=WEB,
                    msisdn=msisdn,
                    address=_address(request),
                    now=saldo.clock.now(),
                )
            )
        except NotSignedIn:
            return signed_out()
        except InvalidMsisdn as error:
            return page(
                request,
                "add_line.html",
                status=400,
                section="add_line",
                context={"msisdn": msisdn, "error": "portal_invalid_msisdn", "code": error.code},
            )
        except TooManyCodes as error:
            return too_many(request, error, template="add_line.html", msisdn=msisdn)
        answer = see_other("/add-line/code?msisdn=" + quote(msisdn, safe=""))
        answer.background = BackgroundTask(send_code_now, saldo, requested)
        return answer

    @router.get("/add-line/code")
    async def line_code_page(request: Request, msisdn: str = "") -> Response:
        if jar.session(request) is None:
            return see_other("/sign-in")
        return page(
            request,
            "code.html",
            section="add_line",
            context={"msisdn": msisdn, "action": "/add-line/code"},
        )

    @router.post("/add-line/code")
    async def add_the_line(request: Request) -> Response:
        fields = await form(request)
        if fields is None:
            return forbidden(request)
        token = jar.session(request)
        msisdn, code = fields.get("msisdn", "").strip(), fields.get("code", "").strip()
        try:
            added = await _call(
                lambda: saldo.run(
                    add_account_line,
                    policy=policy,
                    token=token,
                    kind=WEB,
                    msisdn=msisdn,
                    code=code,
                    now=saldo.clock.now(),
                )
            )
        except NotSignedIn:
            return signed_out()
        except (CodeRefused, InvalidMsisdn) as error:
            return refused_code(request, error, msisdn=msisdn, action="/add-line/code")
        return see_other(line_href(added.msisdn))

    @router.get("/lines/{msisdn}/remove")
    async def remove_page(request: Request, msisdn: str) -> Response:
        token = jar.session(request)
        if token is None:
            return see_other("/sign-in")
        try:
            found = await _call(
                lambda: saldo.run(
                    account_line,
                    policy=policy,
                    token=token,
                    kind=WEB,
                    msisdn=msisdn,
                    now=saldo.clock.now(),
                )
            )
        except NotSignedIn:
            return signed_out()
        except (LineNotFound, InvalidMsisdn):
            return not_found(request)
        own = language_of(found.line.shown.locale)
        row = line_rows([found.line], language=_language(request, own))[0]
        return page(
            request, "remove_line.html", line_language=own, section="lines", context={"line": row}
        )

    @router.post("/lines/{msisdn}/remove")
    async def remove_the_line(request: Request, msisdn: str) -> Response:
        fields = await form(request)
        if fields is None:
            return forbidden(request)
        token = jar.session(request)
        try:
            await _call(
                lambda: saldo.run(
                    remove_account_line,
                    policy=policy,
                    token=token,
                    kind=WEB,
                    msisdn=msisdn,
                    now=saldo.clock.now(),
                )
            )
        except NotSignedIn:
            return signed_out()
        except (LineNotFound, InvalidMsisdn):
            return not_found(request)
        return see_other("/?done=removed")

    # -- the language ---------------------------------------------------------------------------

    @router.post("/language")
    async def choose_language(request: Request) -> Response:
        fields = await form(request)
        if fields is None:
            return forbidden(request)
        language = fields.get("language", "")
        if language not in LANGUAGES:
            return message(
                request,
                status=400,
                title="portal_bad_language_title",
                text="portal_bad_language_text",
                code="unsupported_language",
            )
        response = see_other(_local_path(fields.get("next", "/")))
        jar.keep_language(response, language)
        return response

    return router


_NOTICES: Final = {"removed": "portal_line_removed"}


async def _call(call: Callable[[], V]) -> V:
    """The route's one use-case call, off the event loop."""
    return await run_in_threadpool(call)


def _language(request: Request, line_language: str | None) -> str:
    return page_language(
        chosen=request.cookies.get(LANGUAGE_COOKIE),
        line_language=line_language,
        accept=request.headers.get("accept-language", ""),
    )


def _address(request: Request) -> str | None:
    """The requesting address counted against the limits (as the app API counts it)."""
    return request.client.host if request.client else None


def _local_path(target: str) -> str:
    """Where to go back after choosing a language: a path of this site only."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
