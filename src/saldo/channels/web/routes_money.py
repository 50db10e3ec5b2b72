"""A line's money in the portal: a voucher, a top-up by card, a renewal, their receipts, and
the sandbox processor's own card page.

No card number ever reaches the portal. A card is either the one the line keeps (saved for
its auto-renewal or auto top-up: its token stays in Saldo) or one chosen on the processor's
own page, which comes back to the portal with the processor's token for it, as Stripe
Checkout comes back to a success URL. Only the sandbox's page exists so far
(``/sandbox/checkout``, served only when the sandbox is offered).

Every form that pays carries an idempotency key made when the form is shown, so a double
submit or a reload pays once (the account's keys, as the app API's). Paying answers 303 to
the top-up's or order's page, which says whether it is paid, pending (the page reloads
itself until it is settled) or declined.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request, Response

from saldo.channels.web.kit import WEB, Portal
from saldo.channels.web.language import language_of
from saldo.channels.web.pages import see_other
from saldo.channels.web.views import line_href
from saldo.channels.web.views_money import (
    NEW_CARD,
    OTHER_AMOUNT,
    checkout_href,
    money_page,
    order_view,
    quote_view,
    renew_form,
    topup_confirm,
    topup_form,
    topup_receipt,
    topup_status,
)
from saldo.domain.errors import SaldoError
from saldo.domain.numbering import InvalidMsisdn
from saldo.i18n import catalog
from saldo.services.access.account_lines import account_line
from saldo.services.access.line_money import (
    SAVED_CARD,
    TopUpReceiptNotFound,
    card_topup_offer,
    card_topup_page,
    offers_card_page,
    order_page,
    pay_order_with,
    renewal_offer,
    top_up_line,
    topup_receipt_page,
)
from saldo.services.access.line_orders import (
    Renewal,
    VoucherLocked,
    place_line_order,
    redeem_line_voucher,
)
from saldo.services.access.line_topups import TopUpNotFound
from saldo.services.access.sign_in import NotSignedIn
from saldo.services.lines import LineNotFound
from saldo.services.orders import OrderNotFound
from saldo.services.vouchers import WrongPin

KEY_FIELD: Final = "key"
# How often a page waiting for a processor reloads itself (seconds).
PENDING_REFRESH: Final = 5
# The sandbox's test cards (docs/orders.md): its token, the last digits of its number, and
# what it does.
SANDBOX_CARDS: Final = (
    ("tok_approve", "4242", "approve"),
    ("tok_decline", "0002", "decline"),
    ("tok_insufficient_funds", "9953", "insufficient"),
    ("tok_settle_later", "1000", "settle_later"),
    ("tok_fail_later", "2008", "fail_later"),
)
# A refusal's status: the form's fault 400, the state of things 409, the processor's 402.
_STATUS: Final = {
    "payment_declined": 402,
    "payment_refused": 402,
    "insufficient_balance": 402,
    "idempotency_key_reused": 409,
    "line_recycled": 409,
    "voucher_used": 409,
    "voucher_expired": 409,
    "voucher_void": 409,
    "order_not_payable": 409,
    "quote_expired": 409,
    "payment_in_progress": 409,
    "stale_rate": 503,
    "payment_error": 503,
    "payment_timed_out": 503,
}


def new_key() -> str:
    """A paying form's idempotency key, made when the form is shown."""
    return secrets.token_hex(16)


def money_routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    max_rate_age = timedelta(hours=portal.saldo.settings.fx_max_age_hours)

    def page(
        request: Request,
        template: str,
        line_language: str | None,
        *,
        status: int = 200,
        **context: Any,
    ) -> Response:
        return portal.page(
            request,
            template,
            status=status,
            line_language=line_language,
            section="lines",
            context={"key": new_key(), **context},
            headers={"Retry-After": str(context["retry"])} if context.get("retry") else None,
        )

    def refused(
        request: Request, error: SaldoError, *, back: str, fields: dict[str, str]
    ) -> Response:
        """A refusal said in words with its code, in the language of the form refused, and
        the way back to it."""
        return page(
            request,
            "money_refused.html",
            fields.get("language"),
            status=_STATUS.get(error.code, 400),
            error=refusal(error.code),
            code=error.code,
            back=back,
        )

    def language(request: Request, locale: str) -> str:
        return portal.language(request, language_of(locale))

    # -- a voucher ------------------------------------------------------------------------------

    @router.get("/lines/{msisdn}/voucher")
    async def voucher_page(request: Request, msisdn: str) -> Response:
        found = await portal.signed_in(request, account_line, msisdn=msisdn)
        if isinstance(found, Response):
            return found
        own = language_of(found.line.shown.locale)
        line = money_page(found.line, language=portal.language(request, own))
        return page(request, "voucher.html", own, line=line)

    @router.post("/lines/{msisdn}/voucher")
    async def redeem(request: Request, msisdn: str) -> Response:
        fields = await portal.form(request)
        if fields is None:
            return portal.forbidden(request)
        base = line_href(msisdn)
        line = {"href": base, "base": base, "row": {"msisdn": msisdn}}
        try:
            done = await portal.run(
                redeem_line_voucher,
                token=portal.jar.session(request),
                kind=WEB,
                msisdn=msisdn,
                pin=fields.get("pin", ""),
                pin_key=portal.saldo.pin_key,
                idempotency_key=fields.get(KEY_FIELD),
            )
        except NotSignedIn:
            return portal.signed_out()
        except (LineNotFound, InvalidMsisdn):
            return portal.not_found(request)
        except WrongPin as error:
            return page(
                request,
                "voucher.html",
                fields.get("language"),
                status=400,
                line=line,
                error="portal_money_wrong_pin",
                code=error.code,
                tries_left=error.attempts_left,
            )
        except VoucherLocked as error:
            minutes = max(1, -(-error.retry_after_seconds // 60))
            return page(
                request,
                "voucher.html",
                fields.get("language"),
                status=429,
                line=line,
                error="portal_money_pin_blocked",
                code=error.code,
                minutes=minutes,
                retry=error.retry_after_seconds,
            )
        except SaldoError as error:
            return page(
                request,
                "voucher.html",
                fields.get("language"),
                status=_STATUS.get(error.code, 400),
                line=line,
                error=refusal(error.code),
                code=error.code,
            )
        return see_other(f"{base}/receipts/{done.receipt.topup_id}")

    @router.get("/lines/{msisdn}/receipts/{topup_id}")
    async def receipt(request: Request, msisdn: str, topup_id: int) -> Response:
        try:
            found = await portal.signed_in(
                request, topup_receipt_page, msisdn=msisdn, topup_id=topup_id
            )
        except TopUpReceiptNotFound:
            return portal.not_found(request)
        if isinstance(found, Response):
            return found
        own = language_of(found.line.shown.locale)
        shown = topup_receipt(
            found.line,
            found.receipt,
            language=language(request, found.line.shown.locale),
            title="portal_money_receipt_title",
        )
        return page(request, "receipt.html", own, receipt=shown)

    # -- a top-up by card ------------------------------------------------------------------------

    @router.get("/lines/{msisdn}/topup")
    async def topup_page(request: Request, msisdn: str) -> Response:
        offer = await portal.signed_in(
            request, card_topup_offer, paying=True, msisdn=msisdn, amount=None
        )
        if isinstance(offer, Response):
            return offer
        shown = topup_form(offer, language=language(request, offer.line.shown.locale))
        return page(request, "topup.html", language_of(offer.line.shown.locale), form=shown)

    @router.get("/lines/{msisdn}/topup/confirm")
    async def topup_confirm_page(
        request: Request,
        msisdn: str,
        amount: str = "",
        other: str = "",
        card: str = "",
        token: str = "",
        last4: str = "",
    ) -> Response:
        asked = other.strip() if amount == OTHER_AMOUNT else amount
        offer = await portal.signed_in(
            request, card_topup_offer, paying=True, msisdn=msisdn, amount=asked
        )
        if isinstance(offer, Response):
            return offer
        words = language(request, offer.line.shown.locale)
        own = language_of(offer.line.shown.locale)
        if offer.refused is not None or not card:
            form = topup_form(offer, language=words, amount=asked, card=card)
            problem = offer.refused or "card_required"
            return page(
                request,
                "topup.html",
                own,
                status=400,
                form=form,
                error=refusal(problem),
                code=problem,
            )
        here = f"{line_href(msisdn)}/topup/confirm?" + urlencode(
            {"amount": asked, "card": NEW_CARD}
        )
        if card == NEW_CARD and not token:
            if offer.payers.new_card_at is None:
                return portal.not_found(request)
            return see_other(checkout_href(back=here, language=words, amount=asked))
        chosen = SAVED_CARD if card == SAVED_CARD else token
        confirm = topup_confirm(offer, language=words, card=chosen, last4=last4, back=here)
        return page(
            request, "pay_confirm.html", own, confirm=confirm, action=f"{line_href(msisdn)}/topup"
        )

    @router.post("/lines/{msisdn}/topup")
    async def pay_topup(request: Request, msisdn: str) -> Response:
        fields = await portal.form(request)
        if fields is None:
            return portal.forbidden(request)
        amount = fields.get("amount", "")
        try:
            attempt = await portal.signed_in(
                request,
                top_up_line,
                paying=True,
                msisdn=msisdn,
                amount=amount,
                card=fields.get("card", ""),
                idempotency_key=fields.get(KEY_FIELD),
            )
        except SaldoError as error:
            return refused(request, error, back=f"{line_href(msisdn)}/topup", fields=fields)
        if isinstance(attempt, Response):
            return attempt
        if attempt.topup is None:  # declined: the form again, to choose another card
            offer = attempt.offer
            form = topup_form(
                offer,
                language=language(request, offer.line.shown.locale),
                amount=amount,
                card=NEW_CARD,
            )
            return page(
                request,
                "topup.html",
                language_of(offer.line.shown.locale),
                status=402,
                form=form,
                error="portal_money_declined",
                code="payment_declined",
                reason=attempt.declined or "",
            )
        return see_other(f"{line_href(msisdn)}/topup/{attempt.topup.id}")

    @router.get("/lines/{msisdn}/topup/{topup_id}")
    async def topup_done(request: Request, msisdn: str, topup_id: int) -> Response:
        try:
            found = await portal.signed_in(
                request, card_topup_page, msisdn=msisdn, topup_id=topup_id
            )
        except TopUpNotFound:
            return portal.not_found(request)
        if isinstance(found, Response):
            return found
        status = topup_status(
            found.line, found.topup, language=language(request, found.line.shown.locale)
        )
        return page(
            request,
            "topup_done.html",
            language_of(found.line.shown.locale),
            status_view=status,
            refresh=PENDING_REFRESH if status.state == "pending" else None,
        )

    # -- a renewal ------------------------------------------------------------------------------

    @router.get("/lines/{msisdn}/renew")
    async def renew_page(request: Request, msisdn: str) -> Response:
        offer = await portal.signed_in(
            request,
            renewal_offer,
            paying=True,
            msisdn=msisdn,
            renewal=None,
            max_rate_age=max_rate_age,
        )
        if isinstance(offer, Response):
            return offer
        form = renew_form(offer, language=language(request, offer.line.shown.locale))
        return page(request, "renew.html", language_of(offer.line.shown.locale), form=form)

    @router.get("/lines/{msisdn}/renew/quote")
    async def quote_page(request: Request, msisdn: str) -> Response:
        asked = _renewal(list(request.query_params.multi_items()))
        offer = await portal.signed_in(
            request,
            renewal_offer,
            paying=True,
            msisdn=msisdn,
            renewal=asked,
            max_rate_age=max_rate_age,
        )
        if isinstance(offer, Response):
            return offer
        words, own = (
            language(request, offer.line.shown.locale),
            language_of(offer.line.shown.locale),
        )
        if offer.quote is None:
            problem = offer.refused or "invalid_request"
            return page(
                request,
                "renew.html",
                own,
                status=400,
                form=renew_form(offer, language=words),
                error=refusal(problem),
                code=problem,
            )
        return page(
            request,
            "quote.html",
            own,
            quote=quote_view(offer, language=words),
            action=f"{line_href(msisdn)}/renew",
        )

    @router.post("/lines/{msisdn}/renew")
    async def place_order(request: Request, msisdn: str) -> Response:
        fields = await portal.form(request)
        if fields is None:
            return portal.forbidden(request)
        form = await request.form()
        items = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
        try:
            placed = await portal.signed_in(
                request,
                place_line_order,
                msisdn=msisdn,
                renewal=_renewal(items),
                email=None,
                idempotency_key=fields.get(KEY_FIELD),
                max_rate_age=max_rate_age,
            )
        except SaldoError as error:
            return refused(request, error, back=f"{line_href(msisdn)}/renew", fields=fields)
        if isinstance(placed, Response):
            return placed
        return see_other(f"{line_href(msisdn)}/orders/{placed.order.id}")

    @router.get("/lines/{msisdn}/orders/{order_id}")
    async def order(
        request: Request, msisdn: str, order_id: int, token: str = "", last4: str = ""
    ) -> Response:
        try:
            found = await portal.signed_in(
                request, order_page, paying=True, msisdn=msisdn, order_id=order_id
            )
        except OrderNotFound:
            return portal.not_found(request)
        if isinstance(found, Response):
            return found
        shown = order_view(
            found, language=language(request, found.line.shown.locale), token=token, last4=last4
        )
        return page(
            request,
            "order.html",
            language_of(found.line.shown.locale),
            order=shown,
            refresh=PENDING_REFRESH if shown.state == "pending" else None,
        )

    @router.post("/lines/{msisdn}/orders/{order_id}/pay")
    async def pay(request: Request, msisdn: str, order_id: int) -> Response:
        fields = await portal.form(request)
        if fields is None:
            return portal.forbidden(request)
        here = f"{line_href(msisdn)}/orders/{order_id}"
        try:
            paid = await portal.signed_in(
                request,
                pay_order_with,
                paying=True,
                msisdn=msisdn,
                order_id=order_id,
                card=fields.get("card", ""),
                idempotency_key=fields.get(KEY_FIELD),
            )
        except OrderNotFound:
            return portal.not_found(request)
        except SaldoError as error:
            return refused(request, error, back=here, fields=fields)
        if isinstance(paid, Response):
            return paid
        if paid.declined is not None:  # the order again, payable another way
            shown = order_view(paid, language=language(request, paid.line.shown.locale))
            return page(
                request,
                "order.html",
                language_of(paid.line.shown.locale),
                status=402,
                order=shown,
                refresh=None,
            )
        return see_other(here)

    # -- the sandbox processor's own card page -------------------------------------------------

    @router.get("/sandbox/checkout")
    async def sandbox_checkout(request: Request, amount: str = "", locale: str = "") -> Response:
        back = _local_path(request.query_params.get("return", "/"))
        offered = await portal.run_paying(offers_card_page, name="sandbox")
        if not offered:
            return portal.not_found(request)
        path, _, query = back.partition("?")
        kept = [(k, v) for k, v in parse_qsl(query) if k not in ("token", "last4")]
        cards = [
            (f"{path}?" + urlencode([*kept, ("token", token), ("last4", last4)]), last4, does)
            for token, last4, does in SANDBOX_CARDS
        ]
        return portal.page(
            request,
            "sandbox_checkout.html",
            line_language=locale,
            context={"cards": cards, "amount": amount, "back": back},
        )

    return router


def refusal(code: str) -> str:
    """The words for a refusal's code: its own, or the general ones."""
    key = f"portal_money_refused_{code}"
    return key if key in catalog("en") else "portal_money_refused_other"


def _renewal(items: list[tuple[str, str]]) -> Renewal:
    """The renewal a form asks for (``plan``, ``add_on`` repeated, ``pay_in``, ``method``)."""
    fields = dict(items)
    return Renewal(
        plan=fields.get("plan", ""),
        months=None,
        add_ons=tuple(value for key, value in items if key == "add_on" and value),
        pay_in=fields.get("pay_in") or None,
        method=fields.get("method") or "card",
    )


def _local_path(target: str) -> str:
    """Where the card page goes back to: a path of this site only."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
