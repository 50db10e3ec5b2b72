"""The app API's routes that move money or change a line's settings (docs/api.md):

- ``POST /api/v1/lines/{msisdn}/topups`` → 201 paid and credited, 202 pending (``Location``:
  ``GET /api/v1/lines/{msisdn}/topups/{id}``), 402 ``payment_declined``;
- ``POST /api/v1/lines/{msisdn}/vouchers`` → 201, 429 with ``Retry-After`` when too many
  wrong PINs locked the line;
- ``POST /api/v1/lines/{msisdn}/quotes`` → 200 the quote;
- ``POST /api/v1/orders`` → 201 the order; ``POST /api/v1/orders/{id}/payments`` → 200
  fulfilled, 202 pending, 402 declined (the order stays payable); ``GET /api/v1/orders/{id}``;
- ``GET`` and ``PATCH /api/v1/lines/{msisdn}/settings``.

Every call that moves money carries an ``Idempotency-Key`` header (400
``idempotency_key_required`` without one): the same key and body again answers as the first
time did and moves no more money; another body under it is a 409 ``idempotency_key_reused``.
Every route is one use-case call; a line or an order that is not the account's is a 404.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Header, Path, Response

from saldo.bootstrap import Saldo
from saldo.channels.api import app_money_models as shapes
from saldo.channels.api.app_routes import (
    SIGNED_OUT,
    BearerRoute,
    LineNumber,
    SignedIn,
    answer,
    answers,
)
from saldo.domain.access import TokenKind
from saldo.domain.email_address import InvalidEmail
from saldo.domain.errors import SaldoError
from saldo.domain.fx import StaleRate, UnknownRate
from saldo.domain.lines import UnableToSetReminders, UnsupportedLanguage
from saldo.domain.money import InvalidAmount
from saldo.domain.orders import OrderState
from saldo.domain.quotes import UnableToQuote
from saldo.domain.topup import TopUpAmountRefused
from saldo.services.access.line_orders import (
    Renewal,
    line_order,
    pay_line_order,
    place_line_order,
    quote_line_renewal,
    redeem_line_voucher,
)
from saldo.services.access.line_settings import (
    SettingsChange,
    change_line_settings,
    line_settings,
)
from saldo.services.access.line_topups import (
    CardTopUp,
    PaymentTokenRequired,
    TopUpDeclined,
    TopUpNotFound,
    card_topup,
    top_up_by_card,
)
from saldo.services.access.policy import AccessPolicy
from saldo.services.auto_renewal import UnableToSetAutoRenewal
from saldo.services.auto_topup import UnableToSetAutoTopUp
from saldo.services.buy_plan import NotEnoughBalance, UnknownPlan
from saldo.services.idempotency import IdempotencyKeyReused, InvalidIdempotencyKey
from saldo.services.lines import LineRecycled, UnableToSetAlert
from saldo.services.order_payment import (
    CardNumberRefused,
    PaymentDeclined,
    PaymentInProgress,
    QuoteExpired,
)
from saldo.services.orders import OrderDetails, OrderNotFound, OrderNotPayable
from saldo.services.payment_flow import UnknownPaymentProvider
from saldo.services.ports.payments import PaymentError, PaymentRefused, PaymentStatus
from saldo.services.vouchers import RedemptionBlocked, UnableToRedeem, WrongPin

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="Required: 1 to 128 letters, digits or `._:/@+-`, new for each operation. "
        "The same key and body again answers as the first time and moves no more money.",
        examples=["3f1c2a9e-topup-1"],
    ),
]
OrderId = Annotated[int, Path(ge=1, le=2**62, description="The order's id")]
TopUpId = Annotated[int, Path(ge=1, le=2**62, description="The top-up's id")]

_KEYS: Final = ("idempotency_key_required", "invalid_idempotency_key")
_BAD_CARD: Final = ("payment_token_required", "card_number_refused", "unknown_payment_provider")
_AMOUNTS: Final = (
    "invalid_request",
    "invalid_amount",
    "unknown_currency",
    "wrong_currency",
    "amount_below_minimum",
    "amount_above_maximum",
)
_QUOTING: Final = (
    "invalid_request",
    "unknown_plan",
    "unknown_addon",
    "unknown_payment_method",
    "unknown_currency",
    "invalid_amount",
    "plan_months_differ",
    "unable_to_quote",
    "unknown_rate",
)
_QUOTE_REFUSALS: Final[dict[type[SaldoError], int]] = {
    UnknownRate: 422,
    StaleRate: 503,
    UnknownPlan: 422,
    UnableToQuote: 422,
    InvalidAmount: 422,
    LineRecycled: 409,
}
_PAYING: Final[dict[type[SaldoError], int]] = {
    InvalidIdempotencyKey: 400,
    PaymentTokenRequired: 400,
    CardNumberRefused: 400,
    UnknownPaymentProvider: 400,
    IdempotencyKeyReused: 409,
    LineRecycled: 409,
    TopUpDeclined: 402,
    PaymentDeclined: 402,
    PaymentRefused: 402,
    NotEnoughBalance: 402,
    PaymentError: 503,
}


def _pending_or(done: int) -> Any:
    """``done``, or 202 while the view's payment is pending at its processor."""

    def status(view: CardTopUp | OrderDetails) -> int:
        if isinstance(view, CardTopUp):
            return 202 if view.status == PaymentStatus.PENDING.value else done
        return 202 if view.order.state is OrderState.AWAITING_PAYMENT else done

    return status


def money_router(saldo: Saldo, policy: AccessPolicy) -> APIRouter:
    """The money and settings routes, for ``app_router``."""
    router = APIRouter(route_class=BearerRoute)
    router.include_router(_line_money(saldo, policy))
    router.include_router(_orders(saldo, policy))
    return router


def _line_money(saldo: Saldo, policy: AccessPolicy) -> APIRouter:
    router = APIRouter(prefix="/lines/{msisdn}", tags=["app: money"], route_class=BearerRoute)
    settings = saldo.settings

    @router.post(
        "/topups",
        status_code=201,
        response_model=shapes.TopUpOut,
        responses={
            202: {
                "model": shapes.TopUpOut,
                "description": "Pending at the processor: follow `Location`",
                "headers": {
                    "Location": {
                        "description": "The top-up, to follow until it settles",
                        "schema": {"type": "string"},
                    }
                },
            },
            **answers(
                {
                    400: _KEYS + _BAD_CARD,
                    401: SIGNED_OUT,
                    402: ("payment_declined", "payment_refused"),
                    404: ("line_not_found",),
                    409: ("idempotency_key_reused", "line_recycled"),
                    422: _AMOUNTS,
                    503: ("payment_error", "payment_timed_out"),
                }
            ),
        },
    )
    async def top_up(
        msisdn: LineNumber,
        body: shapes.TopUpRequest,
        token: SignedIn,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        """Top the line up by card through the payment processor: 201 when paid and
        credited (the new balance and the receipt), 202 while the processor has it pending,
        402 when the card is declined (nothing credited: try another card, with a new key).
        A denomination of the operator's or a free amount within its bounds; the online
        minimum applies."""
        return await answer(
            _pending_or(201),
            shapes.topup,
            lambda: saldo.run_paying(
                top_up_by_card,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                msisdn=msisdn,
                amount=body.amount,
                currency=body.currency,
                provider=body.payment.provider,
                card_token=body.payment.token,
                idempotency_key=idempotency_key,
                now=saldo.clock.now(),
            ),
            number_in_path=True,
            refusals={**_PAYING, TopUpAmountRefused: 422, InvalidAmount: 422},
            headers=lambda view: {"Location": f"/api/v1/lines/{view.msisdn}/topups/{view.id}"},
        )

    @router.get(
        "/topups/{topup_id}",
        response_model=shapes.TopUpOut,
        responses=answers(
            {401: SIGNED_OUT, 404: ("line_not_found", "topup_not_found"), 422: ("invalid_request",)}
        ),
    )
    async def show_top_up(msisdn: LineNumber, topup_id: TopUpId, token: SignedIn) -> Response:
        """A card top-up as it stands: pending, succeeded (with its receipt), failed or
        refunded."""
        return await answer(
            200,
            shapes.topup,
            lambda: saldo.run(
                card_topup,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                msisdn=msisdn,
                topup_id=topup_id,
                now=saldo.clock.now(),
            ),
            number_in_path=True,
            refusals={TopUpNotFound: 404},
        )

    @router.post(
        "/vouchers",
        status_code=201,
        response_model=shapes.VoucherOut,
        responses=answers(
            {
                400: (*_KEYS, "wrong_pin"),
                401: SIGNED_OUT,
                404: ("line_not_found",),
                409: (
                    "idempotency_key_reused",
                    "voucher_used",
                    "voucher_expired",
                    "voucher_void",
                    "line_recycled",
                ),
                422: ("invalid_request",),
                429: ("redemption_blocked",),
            }
        ),
    )
    async def redeem_voucher(
        msisdn: LineNumber,
        body: shapes.VoucherRequest,
        token: SignedIn,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        """Redeem a voucher's PIN into the line's balance. The same PIN sent again gets the
        first receipt (``replayed``); too many wrong PINs lock the line for a while (429)."""
        return await answer(
            201,
            shapes.voucher,
            lambda: saldo.run(
                redeem_line_voucher,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                msisdn=msisdn,
                pin=body.pin,
                pin_key=saldo.pin_key,
                idempotency_key=idempotency_key,
                now=saldo.clock.now(),
            ),
            number_in_path=True,
            refusals={
                InvalidIdempotencyKey: 400,
                IdempotencyKeyReused: 409,
                RedemptionBlocked: 429,
                WrongPin: 400,
                UnableToRedeem: 409,
                LineRecycled: 409,
            },
        )

    @router.post(
        "/quotes",
        response_model=shapes.QuoteOut,
        responses=answers(
            {
                401: SIGNED_OUT,
                404: ("line_not_found",),
                409: ("line_recycled",),
                422: _QUOTING,
                503: ("stale_rate",),
            }
        ),
    )
    async def quote(msisdn: LineNumber, body: shapes.QuoteRequest, token: SignedIn) -> Response:
        """What renewing the line costs now: price, tax, the exchange rate and its date, the
        method's fee, the total, and until when an order placed now keeps it."""
        return await answer(
            200,
            shapes.quote,
            lambda: saldo.run(
                quote_line_renewal,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                msisdn=msisdn,
                renewal=_renewal(body),
                max_rate_age=timedelta(hours=settings.fx_max_age_hours),
                now=saldo.clock.now(),
            ),
            number_in_path=True,
            refusals=_QUOTE_REFUSALS,
        )

    @router.get(
        "/settings",
        response_model=shapes.SettingsOut,
        responses=answers({401: SIGNED_OUT, 404: ("line_not_found",), 422: ("invalid_request",)}),
    )
    async def show_settings(msisdn: LineNumber, token: SignedIn) -> Response:
        """The line's auto-renewal, auto top-up, low-balance alert, language and reminder
        days."""
        return await answer(
            200,
            shapes.settings,
            lambda: saldo.run(
                line_settings,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                msisdn=msisdn,
                now=saldo.clock.now(),
            ),
            number_in_path=True,
        )

    @router.patch(
        "/settings",
        response_model=shapes.SettingsOut,
        responses=answers(
            {
                401: SIGNED_OUT,
                404: ("line_not_found",),
                422: (
                    "invalid_request",
                    "invalid_amount",
                    "unsupported_language",
                    "unable_to_set_reminders",
                    "unable_to_set_alert",
                    "unable_to_set_auto_renewal",
                    "auto_renewal_needs_plan",
                    "unable_to_set_auto_topup",
                    "no_auto_topup",
                    "auto_topup_incomplete",
                    "unknown_plan",
                ),
            }
        ),
    )
    async def change_settings(
        msisdn: LineNumber, body: shapes.SettingsChangeRequest, token: SignedIn
    ) -> Response:
        """Change the settings named in the body, the others kept: auto-renewal on or off
        (a plan and a saved card's token the first time), auto top-up (threshold, amount,
        a saved card's token), the low-balance threshold, the language of the line's
        messages, the days before expiry its reminders go."""
        return await answer(
            200,
            shapes.settings,
            lambda: saldo.run_paying(
                change_line_settings,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                msisdn=msisdn,
                change=_change(body),
                now=saldo.clock.now(),
            ),
            number_in_path=True,
            refusals={
                UnsupportedLanguage: 422,
                UnableToSetReminders: 422,
                InvalidAmount: 422,
                UnableToSetAlert: 422,
                UnableToSetAutoRenewal: 422,
                UnableToSetAutoTopUp: 422,
                UnknownPlan: 422,
            },
        )

    return router


def _orders(saldo: Saldo, policy: AccessPolicy) -> APIRouter:
    router = APIRouter(prefix="/orders", tags=["app: money"], route_class=BearerRoute)
    settings = saldo.settings

    @router.post(
        "",
        status_code=201,
        response_model=shapes.OrderOut,
        responses=answers(
            {
                400: _KEYS,
                401: SIGNED_OUT,
                404: ("line_not_found",),
                409: ("idempotency_key_reused", "line_recycled"),
                422: (*_QUOTING, "invalid_email", "invalid_msisdn"),
                503: ("stale_rate",),
            }
        ),
    )
    async def place_order(
        body: shapes.OrderRequest, token: SignedIn, idempotency_key: IdempotencyKey = None
    ) -> Response:
        """Place the renewal of one of the account's lines at today's quote (the same body
        as the quote's, and the line's number); the quote holds until the order's
        ``expires_at``. Pay it with ``POST /api/v1/orders/{id}/payments``."""
        return await answer(
            201,
            shapes.placed_order,
            lambda: saldo.run(
                place_line_order,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                msisdn=body.msisdn,
                renewal=_renewal(body),
                email=body.email,
                idempotency_key=idempotency_key,
                max_rate_age=timedelta(hours=settings.fx_max_age_hours),
                now=saldo.clock.now(),
            ),
            refusals={
                InvalidIdempotencyKey: 400,
                IdempotencyKeyReused: 409,
                InvalidEmail: 422,
                **_QUOTE_REFUSALS,
            },
        )

    @router.post(
        "/{order_id}/payments",
        response_model=shapes.OrderOut,
        responses={
            202: {
                "model": shapes.OrderOut,
                "description": "The payment is pending at the processor: follow `Location`",
                "headers": {"Location": {"description": "The order", "schema": {"type": "string"}}},
            },
            **answers(
                {
                    400: _KEYS + _BAD_CARD,
                    401: SIGNED_OUT,
                    402: ("payment_declined", "payment_refused", "insufficient_balance"),
                    404: ("order_not_found",),
                    409: (
                        "idempotency_key_reused",
                        "order_not_payable",
                        "quote_expired",
                        "payment_in_progress",
                        "line_recycled",
                    ),
                    422: ("invalid_request",),
                    503: ("payment_error", "payment_timed_out"),
                }
            ),
        },
    )
    async def pay_order(
        order_id: OrderId,
        body: shapes.OrderPaymentRequest,
        token: SignedIn,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        """Pay the order from the line's balance or by card: 200 paid and fulfilled, 202
        while the card payment is pending, 402 when it is declined (the order stays payable
        with another card or method, and a new key)."""
        return await answer(
            _pending_or(200),
            shapes.order,
            lambda: saldo.run_paying(
                pay_line_order,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                order_id=order_id,
                method=body.method,
                provider=body.provider,
                card_token=body.token,
                idempotency_key=idempotency_key,
                now=saldo.clock.now(),
            ),
            refusals={
                OrderNotFound: 404,
                QuoteExpired: 409,
                PaymentInProgress: 409,
                OrderNotPayable: 409,
                **_PAYING,
            },
            headers=lambda view: {"Location": f"/api/v1/orders/{view.order.id}"},
        )

    @router.get(
        "/{order_id}",
        response_model=shapes.OrderOut,
        responses=answers({401: SIGNED_OUT, 404: ("order_not_found",), 422: ("invalid_request",)}),
    )
    async def show_order(order_id: OrderId, token: SignedIn) -> Response:
        """The order: its state, its payments and, once fulfilled, its receipt number and
        the line's new validity."""
        return await answer(
            200,
            shapes.order,
            lambda: saldo.run(
                line_order,
                policy=policy,
                token=token,
                kind=TokenKind.APP,
                order_id=order_id,
                now=saldo.clock.now(),
            ),
            refusals={OrderNotFound: 404},
        )

    return router


def _renewal(body: shapes.QuoteRequest) -> Renewal:
    return Renewal(
        plan=body.plan,
        months=body.months,
        add_ons=tuple(body.add_ons),
        pay_in=body.pay_in,
        method=body.method,
    )


def _change(body: shapes.SettingsChangeRequest) -> SettingsChange:
    renewal, topup = body.auto_renewal, body.auto_topup
    return SettingsChange(
        auto_renewal=None if renewal is None else renewal.enabled,
        auto_renewal_plan=None if renewal is None else renewal.plan,
        auto_renewal_provider=None if renewal is None else renewal.provider,
        auto_renewal_token=None if renewal is None else renewal.token,
        auto_topup=None if topup is None else topup.enabled,
        auto_topup_below=None if topup is None else topup.threshold,
        auto_topup_amount=None if topup is None else topup.amount,
        auto_topup_provider=None if topup is None else topup.provider,
        auto_topup_token=None if topup is None else topup.token,
        low_balance_threshold=body.low_balance_threshold,
        reset_low_balance_threshold=body.reset_low_balance_threshold,
        language=body.language,
        reminder_days=None if body.reminder_days is None else tuple(body.reminder_days),
    )
