"""The app API's routes for a line's email, proven by a code sent to that address (the
portal's settings page does the same, docs/portal.md):

- ``POST /api/v1/lines/{msisdn}/email`` ``{"email"}`` → 202 ``{"expires_in"}``: a code goes
  to the address by email; the line's email is unchanged until it is typed. 422
  ``invalid_email``; 429 ``too_many_codes`` with ``Retry-After`` (3 codes in any 15 minutes,
  10 a day, to one address and for one line; the per-address limit).
- ``POST /api/v1/lines/{msisdn}/email/confirmation`` ``{"code"}`` → 200 ``{"email"}``: the
  address the code went to is the line's email from now on; 400 for a refused code
  (``wrong_code``, ``too_many_tries``, ``code_expired``, ``code_used``, ``no_code_asked``).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from saldo.bootstrap import Saldo
from saldo.channels.api import app_models as shapes
from saldo.channels.api.app_routes import (
    REFUSED_CODES,
    SIGNED_OUT,
    BearerRoute,
    LineNumber,
    SignedIn,
    answer,
    answers,
    client_address,
)
from saldo.channels.notifications import send_code_now
from saldo.domain.access import TokenKind
from saldo.domain.email_address import InvalidEmail
from saldo.services.access.line_email import confirm_email, request_email_code
from saldo.services.access.policy import AccessPolicy


class EmailRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email": "ana@example.org"}]}
    )

    email: str = Field(min_length=3, max_length=254, description="The address to prove")


class EmailConfirmation(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"code": "123456"}]})

    code: str = Field(pattern=r"^[0-9]{6}$", description="The code the email carried")


class EmailOut(BaseModel):
    email: str = Field(description="The line's email from now on")


def email_router(saldo: Saldo, policy: AccessPolicy) -> APIRouter:
    """The email routes, for ``app_router``."""
    send_code = partial(send_code_now, saldo)
    router = APIRouter(prefix="/lines/{msisdn}/email", tags=["app: lines"], route_class=BearerRoute)

    @router.post(
        "",
        status_code=202,
        response_model=shapes.CodeSent,
        responses=answers(
            {
                401: SIGNED_OUT,
                404: ("line_not_found",),
                422: ("invalid_request", "invalid_email"),
                429: ("too_many_codes",),
            }
        ),
    )
    async def ask_for_an_email_code(
        msisdn: LineNumber, body: EmailRequest, token: SignedIn, request: Request
    ) -> Response:
        """Send a code to ``email`` that proves it is the line's holder's; the line's email
        changes only once the code is confirmed."""
        return await answer(
            202,
            shapes.code_sent,
            lambda: saldo.run(
                request_email_code,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                msisdn=msisdn,
                email=body.email,
                address=client_address(request),
                now=saldo.clock.now(),
            ),
            number_in_path=True,
            refusals={InvalidEmail: 422},
            then=send_code,
        )

    @router.post(
        "/confirmation",
        response_model=EmailOut,
        responses=answers(
            {
                400: REFUSED_CODES,
                401: SIGNED_OUT,
                404: ("line_not_found",),
                422: ("invalid_request",),
            }
        ),
    )
    async def confirm_the_email(
        msisdn: LineNumber, body: EmailConfirmation, token: SignedIn
    ) -> Response:
        """Confirm the code emailed to the address asked for: it becomes the line's email
        (where its reminders and receipts go)."""
        return await answer(
            200,
            _email,
            lambda: saldo.run(
                confirm_email,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                msisdn=msisdn,
                code=body.code,
                now=saldo.clock.now(),
            ),
            number_in_path=True,
        )

    return router


def _email(address: str) -> dict[str, Any]:
    return {"email": address}
