"""``/api/v1/lines/{msisdn}/…``: a line's history in the subscriber app (docs/api.md).

- ``GET …/usage?days=30``: use per day (minutes, SMS, data, money) over the last 1 to 366
  days, every day present, with the totals and each series' peak;
- ``GET …/movements?month=YYYY-MM``: the month's movements (this month without ``month``);
- ``GET …/statements/{YYYY-MM}.csv`` and ``.pdf``: the month's statement, as a download; the
  PDF in the line's language;
- ``GET …/plan``: the current plan and the advice from the line's last 30 and 90 days.

Each is one use-case call with the token (``services.access.line_history``): a number that is
not the account's is a 404, a month badly written or after this one a 422 ``invalid_month``
(``invalid_request`` when it is not even shaped YYYY-MM).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Final, TypeVar

from fastapi import APIRouter, Path, Query, Response

from saldo.bootstrap import Saldo
from saldo.channels.api import app_history_models as shapes
from saldo.channels.api.app_routes import SIGNED_OUT, BearerRoute, LineNumber, SignedIn, answer
from saldo.channels.api.app_routes import answers as refusals_of
from saldo.domain.access import TokenKind
from saldo.domain.errors import SaldoError
from saldo.domain.statement import InvalidMonth
from saldo.services.access.line_history import (
    account_line_movements,
    account_line_plan,
    account_line_statement,
    account_line_usage,
)
from saldo.services.access.policy import AccessPolicy
from saldo.services.daily_use import MAX_DAYS
from saldo.services.history import Statement

V = TypeVar("V")

MONTH_PATTERN: Final = r"^[0-9]{4}-[0-9]{2}$"
_LINE_REFUSALS: Final = {401: SIGNED_OUT, 404: ("line_not_found",)}
_MONTH_REFUSALS: Final = {
    **_LINE_REFUSALS,
    422: ("invalid_request", "invalid_month"),
}
_MONTH_ERRORS: Final[Mapping[type[SaldoError], int]] = {InvalidMonth: 422}

Month = Annotated[
    str,
    Path(pattern=MONTH_PATTERN, description="The month, YYYY-MM", examples=["2026-11"]),
]


def history_router(saldo: Saldo, policy: AccessPolicy) -> APIRouter:
    """The routes of a line's history, for ``app_router``."""
    router = APIRouter(prefix="/lines", tags=["app: history"], route_class=BearerRoute)

    @router.get(
        "/{msisdn}/usage",
        response_model=shapes.UsageOut,
        responses=refusals_of({**_LINE_REFUSALS, 422: ("invalid_request",)}),
    )
    async def daily_use(
        msisdn: LineNumber,
        token: SignedIn,
        days: Annotated[
            int, Query(ge=1, le=MAX_DAYS, description="Days back, today included")
        ] = 30,
    ) -> Response:
        """The line's use per day (minutes, SMS, data, money) over the last ``days`` days, for
        a chart: every day is present, oldest first."""
        return await answer(
            200,
            shapes.usage,
            lambda: saldo.run(
                account_line_usage,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                msisdn=msisdn,
                days=days,
                now=saldo.clock.now(),
            ),
            number_in_path=True,
        )

    @router.get(
        "/{msisdn}/movements",
        response_model=shapes.MovementsOut,
        responses=refusals_of(_MONTH_REFUSALS),
    )
    async def movements(
        msisdn: LineNumber,
        token: SignedIn,
        month: Annotated[
            str | None,
            Query(pattern=MONTH_PATTERN, description="YYYY-MM (default: this month)"),
        ] = None,
    ) -> Response:
        """The month's movements (top-ups, vouchers, plans, usage, adjustments, refunds), each
        with what it was worth, what it did to the balance and its receipt."""
        return await answer(
            200,
            shapes.movements,
            lambda: saldo.run(
                account_line_movements,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                msisdn=msisdn,
                month=month,
                now=saldo.clock.now(),
            ),
            number_in_path=True,
            refusals=_MONTH_ERRORS,
        )

    def statement_of(msisdn: str, token: str, month: str) -> Callable[[], Statement]:
        return lambda: saldo.run(
            account_line_statement,
            policy=policy,
            token=token,
            kind=TokenKind.APP,
            msisdn=msisdn,
            month=month,
            now=saldo.clock.now(),
        )

    @router.get(
        "/{msisdn}/statements/{month}.csv",
        response_class=Response,
        responses={
            200: _download("text/csv", "The statement's movements, one row each (docs/api.md)"),
            **refusals_of(_MONTH_REFUSALS),
        },
    )
    async def statement_csv(msisdn: LineNumber, month: Month, token: SignedIn) -> Response:
        """The month's statement as CSV: a header row and one row per movement, with the
        columns docs/api.md lists."""
        from saldo.channels.statements import statement_csv as written

        return await _file(
            statement_of(msisdn, token, month),
            lambda statement: Response(
                written(statement),
                media_type="text/csv; charset=utf-8",
                headers=_attachment(f"statement-{statement.month}.csv"),
            ),
        )

    @router.get(
        "/{msisdn}/statements/{month}.pdf",
        response_class=Response,
        responses={
            200: _download("application/pdf", "The statement in the line's language"),
            **refusals_of({**_MONTH_REFUSALS, 503: ("font_missing",)}),
        },
    )
    async def statement_pdf(msisdn: LineNumber, month: Month, token: SignedIn) -> Response:
        """The month's statement as a PDF in the line's language: the operator, the number
        masked, the opening and closing balances, the movements and their totals."""
        from saldo.channels.statements import FontMissing
        from saldo.channels.statements import statement_pdf as written

        return await _file(
            statement_of(msisdn, token, month),
            lambda statement: Response(
                written(statement),
                media_type="application/pdf",
                headers=_attachment(f"statement-{statement.month}.pdf"),
            ),
            refusals={FontMissing: 503},
        )

    @router.get(
        "/{msisdn}/plan",
        response_model=shapes.PlanAdviceOut,
        responses=refusals_of({**_LINE_REFUSALS, 422: ("invalid_request",)}),
    )
    async def plan(msisdn: LineNumber, token: SignedIn) -> Response:
        """The line's current plan (what it includes and costs) and, from its last 30 and 90
        days of use, the plan or add-on that would have cost least, with the arithmetic."""
        return await answer(
            200,
            shapes.plan_advice,
            lambda: saldo.run(
                account_line_plan,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                msisdn=msisdn,
                now=saldo.clock.now(),
            ),
            number_in_path=True,
        )

    return router


async def _file(
    call: Callable[[], V],
    render: Callable[[V], Response],
    *,
    refusals: Mapping[type[SaldoError], int] | None = None,
) -> Response:
    """``answer`` for a download: the use case's view rendered by ``render`` (off the event
    loop too), or the error its refusal stands for."""
    made: list[Response] = []
    answered = await answer(
        200,
        None,
        lambda: made.append(render(call())),
        number_in_path=True,
        refusals={**_MONTH_ERRORS, **(refusals or {})},
    )
    return made[0] if made else answered


def _download(media_type: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        "headers": {
            "Content-Disposition": {
                "description": "attachment; filename=statement-YYYY-MM.…",
                "schema": {"type": "string"},
            }
        },
    }


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}
