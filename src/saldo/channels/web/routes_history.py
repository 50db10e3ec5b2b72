"""A line's history in the portal: its daily use over the last 30 days (``/usage``), a month's
movements with their receipts (``/movements?month=YYYY-MM``), the month's statement as CSV or
PDF (``/statements/YYYY-MM.csv|.pdf``, the same files as the app API's, chosen with a small
GET form at ``/statement``), and its plan with the advice (``/plan``).

Each page is one call of an account-scoped use case (``services.access.line_history``) with
the session: a number that is not the account's is the not-found page, a month badly written
or after this one a 400 page saying so (``invalid_month``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final, TypeVar

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from saldo.channels.statements import FontMissing, statement_csv, statement_pdf
from saldo.channels.web.kit import Portal
from saldo.channels.web.language import language_of
from saldo.channels.web.pages import SECURITY_HEADERS, see_other
from saldo.channels.web.views_history import statement_href, usage_page
from saldo.channels.web.views_history_movements import movements_page
from saldo.channels.web.views_history_plan import plan_page
from saldo.domain.statement import InvalidMonth
from saldo.services.access.line_history import (
    account_line_movements,
    account_line_plan,
    account_line_statement,
    account_line_usage,
)
from saldo.services.history import Statement

V = TypeVar("V")

# The days of use a usage page shows, today included.
USAGE_DAYS: Final = 30
_MONTH: Final = re.compile(r"[0-9]{4}-[0-9]{2}")
_FORMATS: Final = ("pdf", "csv")


def history_routes(portal: Portal) -> APIRouter:
    router = APIRouter()

    async def month_view(
        request: Request, use_case: Callable[..., V], **kwargs: Any
    ) -> V | Response:
        """``portal.signed_in``, with a refused month answered as a 400 page."""
        try:
            return await portal.signed_in(request, use_case, **kwargs)
        except InvalidMonth:
            return bad_month(request)

    def bad_month(request: Request) -> Response:
        return portal.message(
            request,
            status=400,
            title="portal_history_bad_month_title",
            text="portal_history_bad_month_text",
            code=InvalidMonth.code,
        )

    @router.get("/lines/{msisdn}/usage")
    async def usage(request: Request, msisdn: str) -> Response:
        view = await portal.signed_in(request, account_line_usage, msisdn=msisdn, days=USAGE_DAYS)
        if isinstance(view, Response):
            return view
        own = language_of(view.shown.locale)
        return portal.page(
            request,
            "usage.html",
            line_language=own,
            section="lines",
            context={"usage": usage_page(view, language=portal.language(request, own))},
        )

    @router.get("/lines/{msisdn}/movements")
    async def movements(request: Request, msisdn: str, month: str | None = None) -> Response:
        view = await month_view(request, account_line_movements, msisdn=msisdn, month=month)
        if isinstance(view, Response):
            return view
        own = language_of(view.shown.locale)
        page = movements_page(
            view, language=portal.language(request, own), now=portal.saldo.clock.now()
        )
        return portal.page(
            request, "movements.html", line_language=own, section="lines", context={"page": page}
        )

    @router.get("/lines/{msisdn}/statement")
    async def choose_statement(
        request: Request, msisdn: str, month: str = "", format: str = "pdf"
    ) -> Response:
        """The month chosen in the movements page's form, sent to its file."""
        if portal.jar.session(request) is None:
            return see_other("/sign-in")
        if not _MONTH.fullmatch(month) or format not in _FORMATS:
            return bad_month(request)
        return see_other(statement_href(msisdn, month, format))

    @router.get("/lines/{msisdn}/statements/{month}.csv")
    async def statement_as_csv(request: Request, msisdn: str, month: str) -> Response:
        statement = await month_view(request, account_line_statement, msisdn=msisdn, month=month)
        if isinstance(statement, Response):
            return statement
        return _download(
            statement, statement_csv(statement).encode(), "csv", "text/csv; charset=utf-8"
        )

    @router.get("/lines/{msisdn}/statements/{month}.pdf")
    async def statement_as_pdf(request: Request, msisdn: str, month: str) -> Response:
        statement = await month_view(request, account_line_statement, msisdn=msisdn, month=month)
        if isinstance(statement, Response):
            return statement
        try:
            # Setting a Chinese statement takes about a second: off the event loop.
            written = await run_in_threadpool(statement_pdf, statement)
        except FontMissing:
            return portal.message(
                request,
                status=503,
                title="portal_history_no_pdf_title",
                text="portal_history_no_pdf_text",
                code=FontMissing.code,
            )
        return _download(statement, written, "pdf", "application/pdf")

    @router.get("/lines/{msisdn}/plan")
    async def plan(request: Request, msisdn: str) -> Response:
        view = await portal.signed_in(request, account_line_plan, msisdn=msisdn)
        if isinstance(view, Response):
            return view
        own = language_of(view.shown.locale)
        return portal.page(
            request,
            "plan.html",
            line_language=own,
            section="lines",
            context={"page": plan_page(view, language=portal.language(request, own))},
        )

    return router


def _download(statement: Statement, body: bytes, extension: str, media_type: str) -> Response:
    """The statement's file, named as the app API names it."""
    name = f"statement-{statement.month}.{extension}"
    return Response(
        body,
        media_type=media_type,
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )
