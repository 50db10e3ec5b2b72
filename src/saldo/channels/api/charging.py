"""``/api/v1/charging``: network elements ask Saldo for credit in real time, in the manner of
Diameter credit control, over JSON. Each element authenticates with its API key
(``Authorization: Bearer ne_…``), which is scoped to one operator's lines.

- ``POST /api/v1/charging/sessions`` ``{"session_id" (the element's), "msisdn", "service":
  "voice"|"data", "destination", "requested"}`` → 201 ``{"session_id", "granted",
  "expires_at", "charged"}``
- ``POST /api/v1/charging/sessions/{id}/update`` ``{"request_number", "used", "requested"}``
  → 200, a new grant
- ``POST /api/v1/charging/sessions/{id}/terminate`` ``{"request_number", "used"}`` → 200
- ``POST /api/v1/charging/events/sms`` ``{"event_id", "msisdn", "destination"}`` → 200,
  charged at once

Retries are answered from the first answer, refusals included: the same element session id
or SMS event id, the same request number.

A refusal is 403 ``{"error": {"code", "result_code", "message"}}`` (``credit_limit`` 4012,
``service_denied`` 4010, ``user_unknown`` 5030, ``rating_failed`` 5031), 404 for an unknown
session, 409 ``session_id_reused`` for an element session id or SMS event id sent again for
another line, service or destination, 401 without a valid key, 422 for a malformed body.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool

from saldo.bootstrap import Saldo
from saldo.channels.api.errors import error_responses, is_utf8, undecodable_body
from saldo.domain.rating import Service
from saldo.services.charging import (
    ChargingRefused,
    Grant,
    SessionKeyReused,
    UnknownSession,
    charge_sms,
    end_session,
    start_session,
    update_session,
)
from saldo.services.ports import NetworkElement


def _a_number(value: object) -> object:
    """JSON's ``false`` or ``"60"`` is no count of units, though pydantic's lax mode would
    take it for 0 or 60; ``60.0`` is one (a JSON Schema integer)."""
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


Count = Annotated[int, BeforeValidator(_a_number)]

# Ids and numbers are text without control characters (PostgreSQL cannot even store NUL).
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class StartRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "session_id": "msc-1;call-1",
                    "msisdn": "+5491123456789",
                    "service": "voice",
                    "destination": "+541143210000",
                    "requested": 60,
                }
            ]
        },
    )

    session_id: str = Field(
        min_length=1, max_length=128, pattern=PRINTABLE, description="The element's own id"
    )
    msisdn: str = Field(max_length=20, pattern=PRINTABLE)
    service: Literal["voice", "data"]
    destination: str | None = Field(default=None, max_length=20, pattern=PRINTABLE)
    requested: Count = Field(gt=0, le=10**12)


class UpdateRequest(BaseModel):
    request_number: Count = Field(ge=1, le=2**62)
    used: Count = Field(ge=0, le=10**12)
    requested: Count = Field(gt=0, le=10**12)


class TerminateRequest(BaseModel):
    request_number: Count = Field(ge=1, le=2**62)
    used: Count = Field(ge=0, le=10**12)


class SmsRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "event_id": "smsc-1;42",
                    "msisdn": "+5491123456789",
                    "destination": "+5491145678901",
                }
            ]
        },
    )

    event_id: str = Field(
        min_length=1, max_length=128, pattern=PRINTABLE, description="The SMSC's message id"
    )
    msisdn: str = Field(max_length=20, pattern=PRINTABLE)
    destination: str = Field(max_length=20, pattern=PRINTABLE)


class GrantResponse(BaseModel):
    session_id: int
    granted: int
    expires_at: datetime | None
    charged: int


SessionId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _report_link(report: str) -> dict[str, Any]:
    return {
        "operationRef": f"#/paths/~1api~1v1~1charging~1sessions~1{{session_id}}~1{report}/post",
        "parameters": {"session_id": "$response.body#/session_id"},
    }


# An opened session's id is what its reports are sent to (OpenAPI links, for clients and for
# the contract test's sequences of calls).
_SESSION_LINKS: dict[int | str, dict[str, Any]] = {
    201: {"links": {"update": _report_link("update"), "terminate": _report_link("terminate")}}
}


# Described in the OpenAPI as the routes' security scheme; ElementRoute checks the key.
_ELEMENT_KEY = HTTPBearer(
    scheme_name="networkElementKey",
    description="A network element's API key (`saldo charging key`): `Bearer ne_…`",
    auto_error=False,
)


class Unauthorized(Exception):
    pass


def charging_router(saldo: Saldo) -> APIRouter:
    def element_of(authorization: str | None) -> NetworkElement | None:
        scheme, _, key = (authorization or "").partition(" ")
        return saldo.network_element(key.strip()) if scheme.lower() == "bearer" else None

    class ElementRoute(APIRoute):
        """Checks the element's key before the body is read: a request without a valid key
        is a 401, whatever its body. A body that is not UTF-8 cannot be JSON (RFC 8259): it
        is a malformed body like any other, not FastAPI's 400."""

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handle = super().get_route_handler()

            async def authenticated(request: Request) -> Response:
                found = await run_in_threadpool(element_of, request.headers.get("authorization"))
                if found is None:
                    return unauthorized()
                if not is_utf8(await request.body()):
                    return undecodable_body()
                request.state.element = found
                return await handle(request)

            return authenticated

    router = APIRouter(
        prefix="/api/v1/charging",
        tags=["charging"],
        route_class=ElementRoute,
        responses=error_responses(
            {
                401: ("unauthorized",),
                403: (
                    "credit_limit",
                    "service_denied",
                    "user_unknown",
                    "rating_failed",
                    "stale_request",
                ),
                404: ("unknown_session",),
                409: ("session_id_reused",),
                422: ("invalid_request",),
            }
        ),
    )

    def element(
        request: Request,
        _key: Annotated[HTTPAuthorizationCredentials | None, Depends(_ELEMENT_KEY)],
    ) -> NetworkElement:
        found: NetworkElement | None = getattr(request.state, "element", None)
        if found is None:  # only reached through ElementRoute, which has checked it
            raise Unauthorized
        return found

    caller_of = Depends(element)

    @router.post(
        "/sessions", status_code=201, response_model=GrantResponse, responses=_SESSION_LINKS
    )
    async def open_session(body: StartRequest, caller: NetworkElement = caller_of) -> JSONResponse:
        """Reserve units for a line and a service."""
        return await _answer(
            lambda: saldo.run(
                start_session,
                operator_id=caller.operator_id,
                element_id=caller.id,
                session_key=body.session_id,
                msisdn=body.msisdn,
                service=Service(body.service),
                destination=body.destination,
                requested=body.requested,
                now=saldo.clock.now(),
            ),
            created=True,
        )

    @router.post("/sessions/{session_id}/update", response_model=GrantResponse)
    async def update(
        session_id: SessionId, body: UpdateRequest, caller: NetworkElement = caller_of
    ) -> JSONResponse:
        """Report units used and reserve more."""
        return await _answer(
            lambda: saldo.run(
                update_session,
                operator_id=caller.operator_id,
                session_id=session_id,
                request_number=body.request_number,
                used=body.used,
                requested=body.requested,
                now=saldo.clock.now(),
            )
        )

    @router.post("/sessions/{session_id}/terminate", response_model=GrantResponse)
    async def terminate(
        session_id: SessionId, body: TerminateRequest, caller: NetworkElement = caller_of
    ) -> JSONResponse:
        """Report the final use; the rest of the reservation comes back."""
        return await _answer(
            lambda: saldo.run(
                end_session,
                operator_id=caller.operator_id,
                session_id=session_id,
                request_number=body.request_number,
                used=body.used,
                now=saldo.clock.now(),
            )
        )

    @router.post("/events/sms", response_model=GrantResponse)
    async def sms(body: SmsRequest, caller: NetworkElement = caller_of) -> JSONResponse:
        """Charge one SMS at once."""
        return await _answer(
            lambda: saldo.run(
                charge_sms,
                operator_id=caller.operator_id,
                element_id=caller.id,
                event_key=body.event_id,
                msisdn=body.msisdn,
                destination=body.destination,
                now=saldo.clock.now(),
            )
        )

    return router


async def _answer(call: object, *, created: bool = False) -> JSONResponse:
    try:
        grant: Grant = await run_in_threadpool(call)  # type: ignore[arg-type]
    except UnknownSession as error:
        return _refusal(404, error)
    except SessionKeyReused as error:
        return _refusal(409, error)
    except ChargingRefused as error:
        return _refusal(403, error)
    body = {
        "session_id": grant.session_id,
        "granted": grant.granted,
        "expires_at": None if grant.expires_at is None else grant.expires_at.isoformat(),
        "charged": grant.charged,
    }
    return JSONResponse(body, status_code=201 if created else 200)


def _refusal(status: int, error: ChargingRefused) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": error.code, "result_code": error.result_code, "message": error.message}},
        status_code=status,
    )


def unauthorized() -> JSONResponse:
    return JSONResponse(
        {"error": {"code": "unauthorized", "message": "a network element's API key is needed"}},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )
