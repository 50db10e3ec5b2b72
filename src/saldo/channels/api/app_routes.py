"""What every ``/api/v1`` route of the subscriber app shares: the bearer token (declared in
the OpenAPI as the ``appToken`` scheme), the route classes that answer a request without one
(401) or with a body that is not UTF-8 (422), and ``answer``, which makes the route's one
use-case call off the event loop and turns a refusal into its status and
``{"error": {"code", "message"}}``.

A module of routes (``app_api``'s sign-in and lines, and the others it includes) takes
``SignedIn`` for the token and hands it, with the access policy, to its use case: whether the
token opens an account, and which lines it reaches, is the use case's to say.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Annotated, Any, Final, TypeVar

from fastapi import Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from saldo.channels.api import app_models as shapes
from saldo.channels.api.errors import error_responses, is_utf8, undecodable_body
from saldo.domain.access import CodeRefused, TooManyCodes
from saldo.domain.errors import SaldoError
from saldo.domain.numbering import InvalidMsisdn
from saldo.services.access.sign_in import NotSignedIn
from saldo.services.lines import LineNotFound

# Described in the OpenAPI as the routes' security scheme; BearerRoute checks it is there.
_APP_TOKEN = HTTPBearer(
    scheme_name="appToken",
    description="A subscriber's token (`POST /api/v1/auth/tokens`): `Bearer …`",
    auto_error=False,
)

RETRY_AFTER: Final = {
    "Retry-After": {
        "description": "Seconds to wait before asking again",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}
INVALID: Final = ("invalid_request", "invalid_msisdn")
REFUSED_CODES: Final = (
    "wrong_code",
    "too_many_tries",
    "code_expired",
    "code_used",
    "no_code_asked",
)
SIGNED_OUT: Final = ("unauthorized", "invalid_token")

V = TypeVar("V")
LineNumber = Annotated[
    str,
    Path(max_length=24, description="The line's number, E.164", examples=[shapes.EXAMPLE_LINE]),
]


async def _token(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_APP_TOKEN)],
) -> str:
    # Async: FastAPI would run a plain function in a worker thread, a handoff that costs
    # more than reading a header.
    return _bearer(request) or ""  # BearerRoute has answered a request without one


# The bearer token of a request (declared in the OpenAPI as the appToken scheme).
SignedIn = Annotated[str, Depends(_token)]


def answers(codes: dict[int, tuple[str, ...]]) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route's refusals (a 429 with its ``Retry-After``)."""
    described = error_responses(codes)
    if 429 in described:
        described[429]["headers"] = RETRY_AFTER
    return described


async def answer(
    status: int | Callable[[V], int],
    shape: Callable[[V], dict[str, Any]] | None,
    call: Callable[[], V],
    *,
    number_in_path: bool = False,
    refusals: Mapping[type[SaldoError], int] | None = None,
    headers: Callable[[V], dict[str, str]] | None = None,
    then: Callable[[V], object] | None = None,
) -> Response:
    """Make the use-case call off the event loop and answer with ``status`` (or the one it
    gives the view) and its view written by ``shape`` (no body when None) with ``headers``
    of the view, or with the error its refusal stands for. ``refusals`` gives the status of
    a route's own errors (the first class that matches); a refusal that says when to ask
    again (``retry_after_seconds``) carries it as ``Retry-After``. ``then`` runs with the
    view once the answer has gone (a code's SMS sent at once)."""
    try:
        view = await run_in_threadpool(call)
    except NotSignedIn as error:
        return signed_out(error.code, error.message)
    except TooManyCodes as error:
        return error_response(429, error, headers={"Retry-After": str(error.retry_after_seconds)})
    except CodeRefused as error:
        return error_response(400, error)
    except LineNotFound as error:
        return error_response(404, error)
    except InvalidMsisdn as error:
        if number_in_path:  # not a number of this account's, whatever it is
            return error_response(404, LineNotFound("no line with that number on this account"))
        return error_response(422, error)
    except SaldoError as error:
        for refused, refused_status in (refusals or {}).items():
            if isinstance(error, refused):
                retry = getattr(error, "retry_after_seconds", None)
                later = None if retry is None else {"Retry-After": str(retry)}
                return error_response(refused_status, error, headers=later)
        raise
    given = status(view) if callable(status) else status
    afterwards = None if then is None else BackgroundTask(then, view)
    if shape is None:
        return Response(status_code=given, background=afterwards)
    return JSONResponse(
        shape(view),
        status_code=given,
        headers=None if headers is None else headers(view),
        background=afterwards,
    )


def error_response(
    status: int, error: SaldoError, *, headers: dict[str, str] | None = None
) -> Response:
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


def client_address(request: Request) -> str | None:
    """The requesting address counted against the limits: the client's IP as the server sees
    it (behind a proxy, the proxy's)."""
    return request.client.host if request.client else None


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class Utf8Route(APIRoute):
    """A body that is not UTF-8 cannot be JSON (RFC 8259): it is a malformed body like any
    other (422 ``invalid_request``), not FastAPI's 400."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def checked(request: Request) -> Response:
            if not is_utf8(await request.body()):
                return undecodable_body()
            return await handle(request)

        return checked


class BearerRoute(Utf8Route):
    """A request without a bearer token is a 401 before its body is read. Whether the token
    opens an account is the use case's to say (NotSignedIn, also a 401)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def authenticated(request: Request) -> Response:
            if _bearer(request) is None:
                return signed_out("unauthorized", "sign in: this needs a bearer token")
            return await handle(request)

        return authenticated
