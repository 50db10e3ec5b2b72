"""Signing in with a code sent by SMS (or, chosen, to the line's proven email), signing out,
and choosing the page's language.

The sign-in form always offers the email: a number whose line has no proven email (or no
line at all) gets the same redirect and the same code page, and its code, if it has a line,
by SMS; so the choice tells nobody whether the number exists or has an email."""

from __future__ import annotations

import contextlib
from typing import Final
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from starlette.background import BackgroundTask

from saldo.channels.notifications import send_code_now
from saldo.channels.web.kit import WEB, Portal, client_address
from saldo.channels.web.pages import see_other
from saldo.domain.access import (
    CodeExpired,
    CodeRefused,
    CodeUsed,
    NoCodeAsked,
    TooManyCodes,
    TooManyTries,
    WrongCode,
)
from saldo.domain.numbering import InvalidMsisdn
from saldo.i18n import LANGUAGES
from saldo.services.access.sign_in import NotSignedIn, request_sign_in_code, sign_in, sign_out

_CODE_REFUSALS: Final = {
    WrongCode: "portal_code_wrong",
    TooManyTries: "portal_code_too_many_tries",
    CodeExpired: "portal_code_expired",
    CodeUsed: "portal_code_used",
    NoCodeAsked: "portal_code_not_asked",
}


def access_routes(portal: Portal) -> APIRouter:
    router = APIRouter()

    @router.get("/sign-in")
    async def sign_in_page(request: Request, bye: str | None = None) -> Response:
        return portal.page(
            request,
            "sign_in.html",
            context={"msisdn": "", "notice": "portal_signed_out" if bye else None},
        )

    @router.post("/sign-in")
    async def ask_for_a_code(request: Request) -> Response:
        fields = await portal.form(request)
        if fields is None:
            return portal.forbidden(request)
        msisdn = fields.get("msisdn", "").strip()
        by_email = fields.get("by") == "email"
        try:
            requested = await portal.run(
                request_sign_in_code,
                msisdn=msisdn,
                address=client_address(request),
                by_email=by_email,
            )
        except InvalidMsisdn as error:
            return invalid_number(portal, request, "sign_in.html", msisdn, error)
        except TooManyCodes as error:
            return portal.too_many(
                request,
                error,
                template="sign_in.html",
                context={"msisdn": msisdn, "by_email": by_email},
            )
        answer = see_other(
            "/sign-in/code?msisdn=" + quote(msisdn, safe="") + ("&by=email" if by_email else "")
        )
        answer.background = BackgroundTask(send_code_now, portal.saldo, requested)
        return answer

    @router.get("/sign-in/code")
    async def code_page(request: Request, msisdn: str = "", by: str = "sms") -> Response:
        return portal.page(
            request,
            "code.html",
            context={"msisdn": msisdn, "action": "/sign-in/code", "by_email": by == "email"},
        )

    @router.post("/sign-in/code")
    async def sign_in_with_the_code(request: Request) -> Response:
        fields = await portal.form(request)
        if fields is None:
            return portal.forbidden(request)
        msisdn, code = fields.get("msisdn", "").strip(), fields.get("code", "").strip()
        try:
            signed = await portal.run(sign_in, msisdn=msisdn, code=code, kind=WEB)
        except (CodeRefused, InvalidMsisdn) as error:
            return refused_code(
                portal,
                request,
                error,
                msisdn=msisdn,
                action="/sign-in/code",
                by_email=fields.get("by") == "email",
            )
        response = see_other("/")
        portal.jar.open_session(response, signed.token, max_age=signed.expires_in)
        return response

    @router.post("/sign-out")
    async def sign_out_here(request: Request) -> Response:
        fields = await portal.form(request)
        if fields is None:
            return portal.forbidden(request)
        token = portal.jar.session(request)
        # Signed out already (NotSignedIn): the cookie goes all the same.
        with contextlib.suppress(NotSignedIn):
            await portal.run(sign_out, token=token, kind=WEB)
        response = see_other("/sign-in?bye=1")
        portal.jar.close_session(response)
        return response

    @router.post("/language")
    async def choose_language(request: Request) -> Response:
        fields = await portal.form(request)
        if fields is None:
            return portal.forbidden(request)
        language = fields.get("language", "")
        if language not in LANGUAGES:
            return portal.message(
                request,
                status=400,
                title="portal_bad_language_title",
                text="portal_bad_language_text",
                code="unsupported_language",
            )
        response = see_other(_local_path(fields.get("next", "/")))
        portal.jar.keep_language(response, language)
        return response

    return router


def invalid_number(
    portal: Portal, request: Request, template: str, msisdn: str, error: InvalidMsisdn
) -> Response:
    """``template`` again, saying the number is not one."""
    return portal.page(
        request,
        template,
        status=400,
        section="add_line" if template == "add_line.html" else "",
        context={"msisdn": msisdn, "error": "portal_invalid_msisdn", "code": error.code},
    )


def refused_code(
    portal: Portal,
    request: Request,
    error: CodeRefused | InvalidMsisdn,
    *,
    msisdn: str,
    action: str,
    by_email: bool = False,
) -> Response:
    """The code page again, saying why the code did not open anything (and where the code
    went: ``by_email``, to the line's email or by SMS)."""
    key = next(
        (key for refused, key in _CODE_REFUSALS.items() if isinstance(error, refused)),
        "portal_invalid_msisdn" if isinstance(error, InvalidMsisdn) else "portal_code_wrong",
    )
    return portal.page(
        request,
        "code.html",
        status=400,
        section="add_line" if action.startswith("/add-line") else "",
        context={
            "msisdn": msisdn,
            "action": action,
            "by_email": by_email,
            "error": key,
            "tries_left": getattr(error, "tries_left", 0),
            "code": error.code,
        },
    )


def _local_path(target: str) -> str:
    """Where to go back after choosing a language: a path of this site only."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
