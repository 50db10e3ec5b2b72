"""``POST /webhooks/payments/{provider}``: payment processors tell Saldo what became of a
payment. The signature is verified with the provider's secret; each event is applied once,
whatever order events arrive in. Answers, as processors expect them:

- 200 ``{"status": "applied"}`` or ``{"status": "duplicate"}`` (seen before; nothing changed);
- 400 ``invalid_webhook``: no signature, a wrong or stale one, or not an event;
- 409 with the error's code when the event disagrees with the payment Saldo holds (another
  amount or currency): nothing is applied, and it is logged for staff;
- 404 ``unknown_payment_provider``; 404 ``unknown_payment`` for a payment Saldo has not
  recorded (yet): a non-2xx answer makes the processor send the event again later.
"""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from saldo.bootstrap import Saldo
from saldo.channels.api.errors import error_responses
from saldo.domain.errors import SaldoError
from saldo.services.payment_flow import UnknownPaymentProvider
from saldo.services.ports.payments import InvalidWebhook, PaymentError
from saldo.services.reconciliation import UnknownPayment, handle_webhook

log = logging.getLogger(__name__)


class WebhookAnswer(BaseModel):
    status: Literal["applied", "duplicate"]


_ANSWERS = error_responses(
    {
        400: ("invalid_webhook",),
        404: ("unknown_payment_provider", "unknown_payment"),
        409: ("payment_mismatch",),
        422: ("invalid_request",),
        503: ("payment_timed_out", "payment_error"),
    }
)


def webhook_router(saldo: Saldo) -> APIRouter:
    router = APIRouter(tags=["payments"])

    @router.post("/webhooks/payments/{provider}", response_model=WebhookAnswer, responses=_ANSWERS)
    async def payment_webhook(provider: str, request: Request) -> JSONResponse:
        """A payment processor's event about a payment (sandbox, stripe, mercadopago)."""
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            # Database work and perhaps a question to the processor: off the event loop.
            applied = await run_in_threadpool(
                saldo.run_paying,
                handle_webhook,
                provider=provider,
                body=body,
                headers=headers,
                now=saldo.clock.now(),
            )
        except InvalidWebhook as error:
            log.warning("refused a %s webhook: %s", provider, error.message)
            return _error(400, error.code, error.message)
        except UnknownPaymentProvider as error:
            # Not the configured ones' names: a stranger may be asking.
            return _error(404, error.code, f"no payment provider {provider!r}")
        except UnknownPayment as error:
            return _error(404, error.code, error.message)
        except PaymentError as error:
            # Asking the processor about the payment failed: let it send the event again.
            return _error(503, error.code, error.message)
        except SaldoError as error:
            # The event disagrees with what Saldo holds (another amount): kept for staff.
            log.error("a %s webhook was not applied: %s", provider, error.message)
            return _error(409, error.code, error.message)
        return JSONResponse({"status": "applied" if applied else "duplicate"})

    return router


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
