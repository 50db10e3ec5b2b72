"""The account's lines: the list, a line's page, adding a line with a code sent to it, and
taking a line off the account (which never touches the line itself)."""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from starlette.background import BackgroundTask

from saldo.channels.notifications import send_code_now
from saldo.channels.web.kit import WEB, Portal, client_address
from saldo.channels.web.language import language_of
from saldo.channels.web.pages import see_other
from saldo.channels.web.routes_access import invalid_number, refused_code
from saldo.channels.web.views import line_details, line_href, line_rows
from saldo.domain.access import CodeRefused, TooManyCodes
from saldo.domain.numbering import InvalidMsisdn
from saldo.services.access.account_lines import (
    account_line,
    account_lines,
    add_account_line,
    remove_account_line,
    request_line_code,
)
from saldo.services.access.sign_in import NotSignedIn
from saldo.services.portal import line_page

_NOTICES: Final = {"removed": "portal_line_removed"}


def lines_routes(portal: Portal) -> APIRouter:
    router = APIRouter()

    @router.get("/")
    async def my_lines(request: Request, done: str | None = None) -> Response:
        lines = await portal.signed_in(request, account_lines)
        if isinstance(lines, Response):
            return lines
        first = language_of(lines[0].shown.locale) if lines else None
        return portal.page(
            request,
            "lines.html",
            line_language=first,
            section="lines",
            context={
                "lines": line_rows(lines, language=portal.language(request, first)),
                "notice": _NOTICES.get(done or ""),
            },
        )

    @router.get("/lines/{msisdn}")
    async def one_line(request: Request, msisdn: str) -> Response:
        view = await portal.signed_in(request, line_page, msisdn=msisdn)
        if isinstance(view, Response):
            return view
        own = language_of(view.line.shown.locale)
        return portal.page(
            request,
            "line.html",
            line_language=own,
            section="lines",
            context={"line": line_details(view, language=portal.language(request, own))},
        )

    @router.get("/add-line")
    async def add_line_page(request: Request) -> Response:
        if portal.jar.session(request) is None:
            return see_other("/sign-in")
        return portal.page(request, "add_line.html", section="add_line", context={"msisdn": ""})

    @router.post("/add-line")
    async def ask_for_a_line_code(request: Request) -> Response:
        fields = await portal.form(request)
        if fields is None:
            return portal.forbidden(request)
        msisdn = fields.get("msisdn", "").strip()
        try:
            requested = await portal.run(
                request_line_code,
                token=portal.jar.session(request),
                kind=WEB,
                msisdn=msisdn,
                address=client_address(request),
            )
        except NotSignedIn:
            return portal.signed_out()
        except InvalidMsisdn as error:
            return invalid_number(portal, request, "add_line.html", msisdn, error)
        except TooManyCodes as error:
            return portal.too_many(
                request, error, template="add_line.html", context={"msisdn": msisdn}
            )
        answer = see_other("/add-line/code?msisdn=" + quote(msisdn, safe=""))
        answer.background = BackgroundTask(send_code_now, portal.saldo, requested)
        return answer

    @router.get("/add-line/code")
    async def line_code_page(request: Request, msisdn: str = "") -> Response:
        if portal.jar.session(request) is None:
            return see_other("/sign-in")
        return portal.page(
            request,
            "code.html",
            section="add_line",
            context={"msisdn": msisdn, "action": "/add-line/code"},
        )

    @router.post("/add-line/code")
    async def add_the_line(request: Request) -> Response:
        fields = await portal.form(request)
        if fields is None:
            return portal.forbidden(request)
        msisdn, code = fields.get("msisdn", "").strip(), fields.get("code", "").strip()
        try:
            added = await portal.run(
                add_account_line,
                token=portal.jar.session(request),
                kind=WEB,
                msisdn=msisdn,
                code=code,
            )
        except NotSignedIn:
            return portal.signed_out()
        except (CodeRefused, InvalidMsisdn) as error:
            return refused_code(portal, request, error, msisdn=msisdn, action="/add-line/code")
        return see_other(line_href(added.msisdn))

    @router.get("/lines/{msisdn}/remove")
    async def remove_page(request: Request, msisdn: str) -> Response:
        found = await portal.signed_in(request, account_line, msisdn=msisdn)
        if isinstance(found, Response):
            return found
        own = language_of(found.line.shown.locale)
        row = line_rows([found.line], language=portal.language(request, own))[0]
        return portal.page(
            request, "remove_line.html", line_language=own, section="lines", context={"line": row}
        )

    @router.post("/lines/{msisdn}/remove")
    async def remove_the_line(request: Request, msisdn: str) -> Response:
        fields = await portal.form(request)
        if fields is None:
            return portal.forbidden(request)
        removed = await portal.signed_in(request, remove_account_line, msisdn=msisdn)
        if isinstance(removed, Response):
            return removed
        return see_other("/?done=removed")

    return router
