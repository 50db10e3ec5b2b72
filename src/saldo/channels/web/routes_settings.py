"""A line's settings (language, reminders, low-balance alert, auto-renewal, auto top-up), its
email proven by a code sent to that address, and the account's calendar feed."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request, Response
from starlette.background import BackgroundTask

from saldo.channels.notifications import send_code_now
from saldo.channels.web.kit import WEB, Portal, client_address
from saldo.channels.web.language import language_of
from saldo.channels.web.pages import see_other
from saldo.channels.web.views import line_href
from saldo.channels.web.views_settings import (
    GENERAL,
    TYPED_AMOUNTS,
    calendar_ics,
    refusal_text,
    settings_change,
    settings_href,
    settings_view,
)
from saldo.domain.access import (
    CodeExpired,
    CodeRefused,
    CodeUsed,
    NoCodeAsked,
    TooManyCodes,
    TooManyTries,
    WrongCode,
)
from saldo.domain.email_address import InvalidEmail
from saldo.domain.numbering import InvalidMsisdn
from saldo.services.access.calendar import CalendarNotFound, calendar_feed, new_calendar_link
from saldo.services.access.line_email import confirm_email, request_email_code
from saldo.services.access.settings_page import SettingsPage, change_settings_page, settings_page
from saldo.services.access.sign_in import NotSignedIn
from saldo.services.lines import LineNotFound

_NOTICES: Final = {
    "saved": "portal_settings_saved",
    "email": "portal_settings_email_saved",
    "calendar": "portal_settings_calendar_made",
}
_CODE_REFUSALS: Final = {
    WrongCode: "portal_code_wrong",
    TooManyTries: "portal_code_too_many_tries",
    CodeExpired: "portal_code_expired",
    CodeUsed: "portal_code_used",
    NoCodeAsked: "portal_code_not_asked",
}
_FEED_HEADERS: Final = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def settings_routes(portal: Portal) -> APIRouter:
    router = APIRouter()

    def settings_page_answer(
        request: Request,
        page: SettingsPage,
        *,
        status: int = 200,
        notice: str | None = None,
        refused: dict[str, str] | None = None,
        typed: dict[str, str] | None = None,
    ) -> Response:
        own = language_of(page.settings.shown.locale)
        language = portal.language(request, own)
        return portal.page(
            request,
            "settings.html",
            status=status,
            line_language=own,
            section="lines",
            context={
                "settings": settings_view(
                    page, language=language, base_url=str(request.base_url), typed=typed or {}
                ),
                "notice": notice,
                "refused": refused or {},
            },
        )

    @router.get("/lines/{msisdn}/settings")
    async def show_settings(request: Request, msisdn: str, done: str | None = None) -> Response:
        page = await portal.signed_in(request, settings_page, msisdn=msisdn)
        if isinstance(page, Response):
            return page
        return settings_page_answer(request, page, notice=_NOTICES.get(done or ""))

    @router.post("/lines/{msisdn}/settings")
    async def change_settings(request: Request, msisdn: str) -> Response:
        fields = await portal.form(request)
        if fields is None:
            return portal.forbidden(request)
        change = settings_change(fields)
        changed = await portal.signed_in(
            request, change_settings_page, paying=True, msisdn=msisdn, change=change
        )
        if isinstance(changed, Response):
            return changed
        if changed.refused is not None:
            own = language_of(changed.page.settings.shown.locale)
            return settings_page_answer(
                request,
                changed.page,
                status=400,
                # The refused form's amounts are shown again as typed.
                typed={name: fields[name] for name in TYPED_AMOUNTS if name in fields},
                refused={
                    "part": fields.get("part") or GENERAL,
                    "text": refusal_text(changed.refused, language=portal.language(request, own)),
                    "code": changed.refused.code,
                },
            )
        answer = see_other(settings_href(changed.page.settings.msisdn) + "?done=saved")
        if change.language is not None:
            # The subscriber just said which language they read: the portal speaks it too.
            portal.jar.keep_language(answer, changed.page.settings.language)
        return answer

    # -- the email, proven by a code ------------------------------------------------------

    @router.get("/lines/{msisdn}/email")
    async def email_page(request: Request, msisdn: str) -> Response:
        if portal.jar.session(request) is None:
            return see_other("/sign-in")
        return portal.page(request, "email.html", section="lines", context=_email_context(msisdn))

    @router.post("/lines/{msisdn}/email")
    async def ask_for_an_email_code(request: Request, msisdn: str) -> Response:
        fields = await portal.form(request)
        if fields is None:
            return portal.forbidden(request)
        email = fields.get("email", "").strip()
        try:
            requested = await portal.run(
                request_email_code,
                token=portal.jar.session(request),
                kind=WEB,
                msisdn=msisdn,
                email=email,
                address=client_address(request),
            )
        except NotSignedIn:
            return portal.signed_out()
        except (LineNotFound, InvalidMsisdn):
            return portal.not_found(request)
        except InvalidEmail as error:
            return portal.page(
                request,
                "email.html",
                status=400,
                section="lines",
                context={
                    **_email_context(msisdn, email=email),
                    "error": "portal_settings_refused_invalid_email",
                    "code": error.code,
                },
            )
        except TooManyCodes as error:
            return portal.too_many(
                request,
                error,
                template="email.html",
                context=_email_context(msisdn, email=email),
            )
        answer = see_other(line_href(msisdn) + "/email/code")
        answer.background = BackgroundTask(send_code_now, portal.saldo, requested)
        return answer

    @router.get("/lines/{msisdn}/email/code")
    async def email_code_page(request: Request, msisdn: str) -> Response:
        if portal.jar.session(request) is None:
            return see_other("/sign-in")
        return portal.page(
            request, "email_code.html", section="lines", context=_email_context(msisdn)
        )

    @router.post("/lines/{msisdn}/email/code")
    async def prove_the_email(request: Request, msisdn: str) -> Response:
        fields = await portal.form(request)
        if fields is None:
            return portal.forbidden(request)
        try:
            await portal.run(
                confirm_email,
                token=portal.jar.session(request),
                kind=WEB,
                msisdn=msisdn,
                code=fields.get("code", "").strip(),
            )
        except NotSignedIn:
            return portal.signed_out()
        except (LineNotFound, InvalidMsisdn):
            return portal.not_found(request)
        except CodeRefused as error:
            return portal.page(
                request,
                "email_code.html",
                status=400,
                section="lines",
                context={
                    **_email_context(msisdn),
                    "error": next(
                        (key for kind, key in _CODE_REFUSALS.items() if isinstance(error, kind)),
                        "portal_code_wrong",
                    ),
                    "tries_left": getattr(error, "tries_left", 0),
                    "code": error.code,
                },
            )
        return see_other(settings_href(msisdn) + "?done=email")

    # -- the calendar feed ----------------------------------------------------------------

    @router.post("/calendar")
    async def make_a_calendar_link(request: Request) -> Response:
        fields = await portal.form(request)
        if fields is None:
            return portal.forbidden(request)
        made = await portal.signed_in(request, new_calendar_link)
        if isinstance(made, Response):
            return made
        back = fields.get("next", "/")
        if not back.startswith("/lines/") or "//" in back or "\\" in back or "?" in back:
            back = "/"
        return see_other(back + "?done=calendar")

    @router.get("/calendar/{secret}.ics")
    async def calendar(secret: str) -> Response:
        try:
            feed = await portal.run(calendar_feed, secret=secret)
        except CalendarNotFound:
            return Response("Not found\n", status_code=404, media_type="text/plain")
        return Response(
            calendar_ics(feed, now=portal.saldo.clock.now()),
            media_type="text/calendar; charset=utf-8",
            headers=_FEED_HEADERS,
        )

    return router


def _email_context(msisdn: str, *, email: str = "") -> dict[str, str]:
    href = line_href(msisdn)
    return {
        "msisdn": msisdn,
        "email": email,
        "action": href + "/email",
        "code_action": href + "/email/code",
        "back": settings_href(msisdn),
    }
