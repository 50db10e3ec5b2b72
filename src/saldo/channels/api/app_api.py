"""``/api/v1``: the subscriber app's API. A subscriber signs in with a code sent by SMS to
their line and holds a bearer token for their account, which reaches that account's lines
and no others (docs/api.md).

- ``POST /api/v1/auth/codes`` ``{"msisdn", "by"?}`` → 202 ``{"expires_in"}``, whether or not
  a line has the number (``"by": "email"``: to its confirmed email, by SMS without one);
  429 ``too_many_codes`` with ``Retry-After`` (3 codes a number in any 15 minutes, 10 a
  day; SALDO_SIGN_IN_CODES_PER_ADDRESS an address).
- ``POST /api/v1/auth/tokens`` ``{"msisdn", "code"}`` → 201 ``{"access_token", "token_type":
  "bearer", "expires_in"}``; 400 for a refused code (``wrong_code``, ``too_many_tries``,
  ``code_expired``, ``code_used``, ``no_code_asked``).
- ``DELETE /api/v1/auth/tokens/current`` → 204: the token opens nothing any more.
- ``GET /api/v1/lines``, ``GET /api/v1/lines/{msisdn}`` (its balance), ``POST /api/v1/lines``
  ``{"msisdn"}`` (202: a code is sent to that line) then ``{"msisdn", "code"}`` (201: it is
  on the account), ``DELETE /api/v1/lines/{msisdn}`` (204: off the account, the line itself
  untouched).

Every route is one use-case call (``saldo.run``). A route that needs a token answers 401 at
once when the request has none; a token that opens nothing is a 401 too. A number that is
not the account's is a 404, whether or not it exists. The requesting address counted
against the limits is the client's IP as the server sees it (behind a proxy, the proxy's).
"""

from __future__ import annotations

from functools import partial
from typing import Any, Final

from fastapi import APIRouter, Request, Response

from saldo.bootstrap import Saldo
from saldo.channels.api import app_models as shapes
from saldo.channels.api.app_email import email_router
from saldo.channels.api.app_history import history_router
from saldo.channels.api.app_money import money_router
from saldo.channels.api.app_routes import (
    INVALID,
    REFUSED_CODES,
    SIGNED_OUT,
    BearerRoute,
    LineNumber,
    SignedIn,
    Utf8Route,
    answer,
    answers,
    client_address,
)
from saldo.channels.notifications import send_code_now
from saldo.domain.access import TokenKind
from saldo.services.access.account_lines import (
    account_line,
    account_lines,
    add_account_line,
    remove_account_line,
    request_line_code,
)
from saldo.services.access.policy import AccessPolicy, access_policy
from saldo.services.access.sign_in import request_sign_in_code, sign_in, sign_out

# An added line's number is what its own routes are called with (OpenAPI links).
_ADDED_LINE_LINKS: Final[dict[str, Any]] = {
    "links": {
        "show": {
            "operationRef": "#/paths/~1api~1v1~1lines~1{msisdn}/get",
            "parameters": {"msisdn": "$response.body#/msisdn"},
        },
        "remove": {
            "operationRef": "#/paths/~1api~1v1~1lines~1{msisdn}/delete",
            "parameters": {"msisdn": "$response.body#/msisdn"},
        },
    }
}


def app_router(saldo: Saldo) -> APIRouter:
    """The app API's routes, for ``create_api``."""
    settings = saldo.settings
    policy = access_policy(
        secret_key=settings.secret_key,
        token_days=settings.app_token_days,
        codes_per_address=settings.sign_in_codes_per_address,
    )
    router = APIRouter(prefix="/api/v1", route_class=Utf8Route)
    router.include_router(_auth_routes(saldo, policy))
    router.include_router(_line_routes(saldo, policy))
    router.include_router(history_router(saldo, policy))
    router.include_router(money_router(saldo, policy))
    router.include_router(email_router(saldo, policy))
    return router


def _auth_routes(saldo: Saldo, policy: AccessPolicy) -> APIRouter:
    send_code = partial(send_code_now, saldo)
    router = APIRouter(prefix="/auth", tags=["app: sign-in"], route_class=Utf8Route)

    @router.post(
        "/codes",
        status_code=202,
        response_model=shapes.CodeSent,
        responses=answers({422: INVALID, 429: ("too_many_codes",)}),
    )
    async def ask_for_a_code(body: shapes.CodeRequest, request: Request) -> Response:
        """Send a sign-in code by SMS to the line with this number, or (``"by": "email"``)
        to its confirmed email, by SMS when it has none. The answer is the same whether or
        not a line has the number, and whether or not it has an email."""
        return await answer(
            202,
            shapes.code_sent,
            lambda: saldo.run(
                request_sign_in_code,
                policy=policy,
                msisdn=body.msisdn,
                address=client_address(request),
                now=saldo.clock.now(),
                by_email=body.by == "email",
            ),
            then=send_code,
        )

    @router.post(
        "/tokens",
        status_code=201,
        response_model=shapes.Token,
        responses=answers({400: REFUSED_CODES, 422: INVALID}),
    )
    async def sign_in_with_a_code(body: shapes.TokenRequest) -> Response:
        """Confirm the code sent to the line: a token for the account holding it (one is
        opened at the line's first sign-in). Five wrong codes end the attempt."""
        return await answer(
            201,
            shapes.token,
            lambda: saldo.run(
                sign_in,
                policy=policy,
                msisdn=body.msisdn,
                code=body.code,
                kind=TokenKind.APP,
                now=saldo.clock.now(),
            ),
        )

    signed_in = APIRouter(tags=["app: sign-in"], route_class=BearerRoute)

    @signed_in.delete(
        "/tokens/current",
        status_code=204,
        response_class=Response,
        responses=answers({401: SIGNED_OUT}),
    )
    async def sign_out_here(token: SignedIn) -> Response:
        """Sign out: the token presented opens nothing any more."""
        return await answer(
            204,
            None,
            lambda: saldo.run(
                sign_out,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                now=saldo.clock.now(),
            ),
        )

    router.include_router(signed_in)
    return router


def _line_routes(saldo: Saldo, policy: AccessPolicy) -> APIRouter:
    send_code = partial(send_code_now, saldo)
    router = APIRouter(prefix="/lines", tags=["app: lines"], route_class=BearerRoute)

    @router.get("", response_model=shapes.LinesOut, responses=answers({401: SIGNED_OUT}))
    async def list_lines(token: SignedIn) -> Response:
        """The account's lines, the closest to being recycled first."""
        return await answer(
            200,
            shapes.lines,
            lambda: saldo.run(
                account_lines,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                now=saldo.clock.now(),
            ),
        )

    @router.get(
        "/{msisdn}",
        response_model=shapes.LineBalanceOut,
        responses=answers({401: SIGNED_OUT, 404: ("line_not_found",), 422: ("invalid_request",)}),
    )
    async def show_line(msisdn: LineNumber, token: SignedIn) -> Response:
        """One line of the account with every usable bucket: money, bonus, minutes, SMS,
        data."""
        return await answer(
            200,
            shapes.line_balance,
            lambda: saldo.run(
                account_line,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                msisdn=msisdn,
                now=saldo.clock.now(),
            ),
            number_in_path=True,
        )

    @router.post(
        "",
        status_code=201,
        response_model=shapes.LineOut,
        responses={
            201: _ADDED_LINE_LINKS,
            202: {"model": shapes.CodeSent, "description": "A code was sent to the line"},
            **answers(
                {
                    400: REFUSED_CODES,
                    401: SIGNED_OUT,
                    422: INVALID,
                    429: ("too_many_codes",),
                }
            ),
        },
    )
    async def add_line(body: shapes.LineRequest, token: SignedIn, request: Request) -> Response:
        """Add a line to the account in two steps: without ``code``, a code is sent to the
        line (202, the same answer whether or not a line has the number); with the code it
        received, the line is added (201). A line on another account moves to this one."""
        now, code = saldo.clock.now(), body.code
        if code is None:
            return await answer(
                202,
                shapes.code_sent,
                lambda: saldo.run(
                    request_line_code,
                    policy=policy,
                    token=token,
                    kind=TokenKind.APP,
                    msisdn=body.msisdn,
                    address=client_address(request),
                    now=now,
                ),
                then=send_code,
            )
        return await answer(
            201,
            shapes.line,
            lambda: saldo.run(
                add_account_line,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                msisdn=body.msisdn,
                code=code,
                now=now,
            ),
        )

    @router.delete(
        "/{msisdn}",
        status_code=204,
        response_class=Response,
        responses=answers({401: SIGNED_OUT, 404: ("line_not_found",), 422: ("invalid_request",)}),
    )
    async def remove_line(msisdn: LineNumber, token: SignedIn) -> Response:
        """Take the line off the account. The line itself, its balance and its validity stay
        as they are."""
        return await answer(
            204,
            None,
            lambda: saldo.run(
                remove_account_line,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                msisdn=msisdn,
                now=saldo.clock.now(),
            ),
            number_in_path=True,
        )

    return router
