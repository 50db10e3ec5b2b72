"""``/api/v1``: the subscriber app's API. A subscriber signs in with a code sent by SMS to
their line and holds a bearer token for their account, which reaches that account's lines
and no others (docs/api.md).

- ``POST /api/v1/auth/codes`` ``{"msisdn"}`` → 202 ``{"expires_in"}``, whether or not a line
  has the number; 429 ``too_many_codes`` with ``Retry-After`` (3 codes a number in any 15
  minutes, 10 a day; SALDO_SIGN_IN_CODES_PER_ADDRESS an address).
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

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from saldo.bootstrap import Saldo
from saldo.channels.api import app_models as shapes
from saldo.channels.api.errors import error_responses, undecodable_body
from saldo.domain.access import CodeRefused, TokenKind, TooManyCodes
from saldo.domain.errors import SaldoError
from saldo.domain.numbering import InvalidMsisdn
from saldo.services.access.account_lines import (
    account_line,
    account_lines,
    add_account_line,
    remove_account_line,
    request_line_code,
)
from saldo.services.access.policy import AccessPolicy, access_policy
from saldo.services.access.sign_in import NotSignedIn, request_sign_in_code, sign_in, sign_out
from saldo.services.lines import LineNotFound

# Described in the OpenAPI as the routes' security scheme; BearerRoute checks it is there.
_APP_TOKEN = HTTPBearer(
    scheme_name="appToken",
    description="A subscriber's token (`POST /api/v1/auth/tokens`): `Bearer …`",
    auto_error=False,
)

_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before asking again",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}
_INVALID = ("invalid_request", "invalid_msisdn")
_REFUSED_CODES = ("wrong_code", "too_many_tries", "code_expired", "code_used", "no_code_asked")
_SIGNED_OUT = ("unauthorized", "invalid_token")

V = TypeVar("V")
LineNumber = Annotated[
    str,
    Path(max_length=24, description="The line's number, E.164", examples=[shapes.EXAMPLE_LINE]),
]
# An added line's number is what its own routes are called with (OpenAPI links).
_ADDED_LINE_LINKS = {
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


def _token(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_APP_TOKEN)],
) -> str:
    return _bearer(request) or ""  # _BearerRoute has answered a request without one


# The bearer token of a request (declared in the OpenAPI as the appToken scheme).
SignedIn = Annotated[str, Depends(_token)]


def _answers(codes: dict[int, tuple[str, ...]]) -> dict[int | str, dict[str, Any]]:
    answers = error_responses(codes)
    if 429 in answers:
        answers[429]["headers"] = _RETRY_AFTER
    return answers


def app_router(saldo: Saldo) -> APIRouter:
    """The app API's routes, for ``create_api``."""
    settings = saldo.settings
    policy = access_policy(
        secret_key=settings.secret_key,
        token_days=settings.app_token_days,
        codes_per_address=settings.sign_in_codes_per_address,
    )
    router = APIRouter(prefix="/api/v1", route_class=_Utf8Route)
    router.include_router(_auth_routes(saldo, policy))
    router.include_router(_line_routes(saldo, policy))
    return router


def _auth_routes(saldo: Saldo, policy: AccessPolicy) -> APIRouter:
    router = APIRouter(prefix="/auth", tags=["app: sign-in"], route_class=_Utf8Route)

    @router.post(
        "/codes",
        status_code=202,
        response_model=shapes.CodeSent,
        responses=_answers({422: _INVALID, 429: ("too_many_codes",)}),
    )
    async def ask_for_a_code(body: shapes.CodeRequest, request: Request) -> Response:
        """Send a sign-in code by SMS to the line with this number. The answer is the same
        whether or not a line has it."""
        return await _answer(
            202,
            shapes.code_sent,
            lambda: saldo.run(
                request_sign_in_code,
                policy=policy,
                msisdn=body.msisdn,
                address=_address(request),
                now=saldo.clock.now(),
            ),
        )

    @router.post(
        "/tokens",
        status_code=201,
        response_model=shapes.Token,
        responses=_answers({400: _REFUSED_CODES, 422: _INVALID}),
    )
    async def sign_in_with_a_code(body: shapes.TokenRequest) -> Response:
        """Confirm the code sent to the line: a token for the account holding it (one is
        opened at the line's first sign-in). Five wrong codes end the attempt."""
        return await _answer(
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

    signed_in = APIRouter(tags=["app: sign-in"], route_class=_BearerRoute)

    @signed_in.delete(
        "/tokens/current",
        status_code=204,
        response_class=Response,
        responses=_answers({401: _SIGNED_OUT}),
    )
    async def sign_out_here(token: SignedIn) -> Response:
        """Sign out: the token presented opens nothing any more."""
        return await _answer(
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
    router = APIRouter(prefix="/lines", tags=["app: lines"], route_class=_BearerRoute)

    @router.get("", response_model=shapes.LinesOut, responses=_answers({401: _SIGNED_OUT}))
    async def list_lines(token: SignedIn) -> Response:
        """The account's lines, the closest to being recycled first."""
        return await _answer(
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
        responses=_answers({401: _SIGNED_OUT, 404: ("line_not_found",), 422: ("invalid_request",)}),
    )
    async def show_line(msisdn: LineNumber, token: SignedIn) -> Response:
        """One line of the account with every usable bucket: money, bonus, minutes, SMS,
        data."""
        return await _answer(
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
            **_answers(
                {
                    400: _REFUSED_CODES,
                    401: _SIGNED_OUT,
                    422: _INVALID,
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
            return await _answer(
                202,
                shapes.code_sent,
                lambda: saldo.run(
                    request_line_code,
                    policy=policy,
                    token=token,
                    kind=TokenKind.APP,
                    msisdn=body.msisdn,
                    address=_address(request),
                    now=now,
                ),
            )
        return await _answer(
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
        responses=_answers({401: _SIGNED_OUT, 404: ("line_not_found",), 422: ("invalid_request",)}),
    )
    async def remove_line(msisdn: LineNumber, token: SignedIn) -> Response:
        """Take the line off the account. The line itself, its balance and its validity stay
        as they are."""
        return await _answer(
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


async def _answer(
    status: int,
    shape: Callable[[V], dict[str, Any]] | None,
    call: Callable[[], V],
    *,
    number_in_path: bool = False,
) -> Response:
    """Make the use-case call off the event loop and answer with ``status`` and its view
    written by ``shape`` (no body when None), or with the error its refusal stands for."""
    try:
        view = await run_in_threadpool(call)
    except NotSignedIn as error:
        return signed_out(error.code, error.message)
    except TooManyCodes as error:
        return _error(429, error, headers={"Retry-After": str(error.retry_after_seconds)})
    except CodeRefused as error:
        return _error(400, error)
    except LineNotFound as error:
        return _error(404, error)
    except InvalidMsisdn as error:
        if number_in_path:  # not a number of this account's, whatever it is
            return _error(404, LineNotFound("no line with that number on this account"))
        return _error(422, error)
    if shape is None:
        return Response(status_code=status)
    return JSONResponse(shape(view), status_code=status)


def _error(status: int, error: SaldoError, *, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        {"error": {"code": error.code, "message": error.message}},
        status_code=status,
        headers=headers,
    )


def signed_out(code: str, message: str) -> Response:
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class _Utf8Route(APIRoute):
    """A body that is not UTF-8 cannot be JSON (RFC 8259): it is a malformed body like any
    other (422 ``invalid_request``), not FastAPI's 400."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def checked(request: Request) -> Response:
            if not _is_utf8(await request.body()):
                return undecodable_body()
            return await handle(request)

        return checked


class _BearerRoute(_Utf8Route):
    """A request without a bearer token is a 401 before its body is read. Whether the token
    opens an account is the use case's to say (NotSignedIn, also a 401)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def authenticated(request: Request) -> Response:
            if _bearer(request) is None:
                return signed_out("unauthorized", "sign in: this needs a bearer token")
            return await handle(request)

        return authenticated


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
