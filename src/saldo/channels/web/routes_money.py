"""A line's money in the portal: a voucher, a top-up by card, their receipts, the sandbox
processor's own card page, and the renewal's routes (``routes_renew``).

No card number ever reaches the portal. A card is either the one the line keeps (saved for
its auto-renewal or auto top-up: its token stays in Saldo) or one chosen on the processor's
own page, which comes back to the portal with the processor's token for it, as Stripe
Checkout comes back to a success URL. Only the sandbox's page exists so far
(``/sandbox/checkout``, served only when the sandbox is offered).

Every form that pays carries an idempotency key made when the form is shown, so a double
submit or a reload pays once (the account's keys, as the app API's). Paying answers 303 to
the top-up's or order's page, which says whether it is paid, pending (the page asks
again until it is settled) or declined.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request, Response

from saldo.channels.web.kit import WEB, Portal
from saldo.channels.web.language import language_of
from saldo.channels.web.money_kit import (
    KEY_FIELD,
    PENDING_REFRESH,
    MoneyPages,
    refusal,
    refusal_status,
)
from saldo.channels.web.pages import see_other
from saldo.channels.web.routes_renew import renew_routes
from saldo.channels.web.views import line_href
from saldo.channels.web.views_money import (
    NEW_CARD,
    OTHER_AMOUNT,
    checkout_href,
    money_page,
    topup_confirm,
    topup_form,
    topup_receipt,
    topup_status,
)
from saldo.domain.errors import SaldoError
from saldo.domain.numbering import InvalidMsisdn
from saldo.services.access.account_lines import account_line
from saldo.services.access.line_money import (
    SAVED_CARD,
    TopUpReceiptNotFound,
    card_topup_offer,
    card_topup_page,
    offers_card_page,
    top_up_line,
    topup_receipt_page,
)
from saldo.services.access.line_orders import (
    VoucherLocked,
    redeem_line_voucher,
)
from saldo.services.access.line_topups import TopUpNotFound
from saldo.services.access.sign_in import NotSignedIn
from saldo.services.lines import LineNotFound
from saldo.services.vouchers import WrongPin

# The sandbox's test cards (docs/orders.md): its token, the last digits of its number, and
# what it does.
SANDBOX_CARDS: Final = (
    ("tok_approve", "4242", "approve"),
    ("tok_decline", "0002", "decline"),
    ("tok_insufficient_funds", "9953", "insufficient"),
    ("tok_settle_later", "1000", "settle_later"),
    ("tok_fail_later", "2008", "fail_later"),
)


def money_routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    pages = MoneyPages(portal)
    router.include_router(renew_routes(pages))

    # -- a voucher ------------------------------------------------------------------------------

    @router.get("/lines/{msisdn}/voucher")
    async def voucher_page(request: Request, msisdn: str) -> Response:
        found = await portal.signed_in(request, account_line, msisdn=msisdn)
        if isinstance(found, Response):
            return found
        own = language_of(found.line.shown.locale)
        line = money_page(found.line, language=portal.language(request, own))
        return pages.page(request, "voucher.html", own, line=line)

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
            return pages.page(
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
            return pages.page(
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
            return pages.page(
                request,
                "voucher.html",
                fields.get("language"),
                status=refusal_status(error.code),
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
            language=pages.language(request, found.line.shown.locale),
            title="portal_money_receipt_title",
        )
        return pages.page(request, "receipt.html", own, receipt=shown)

    # -- a top-up by card ------------------------------------------------------------------------

    @router.get("/lines/{msisdn}/topup")
    async def topup_page(request: Request, msisdn: str) -> Response:
        offer = await portal.signed_in(
            request, card_topup_offer, paying=True, msisdn=msisdn, amount=None
        )
        if isinstance(offer, Response):
            return offer
        shown = topup_form(offer, language=pages.language(request, offer.line.shown.locale))
        return pages.page(request, "topup.html", language_of(offer.line.shown.locale), form=shown)

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
        words = pages.language(request, offer.line.shown.locale)
        own = language_of(offer.line.shown.locale)
        if offer.refused is not None or not card:
            form = topup_form(offer, language=words, amount=asked, card=card)
            problem = offer.refused or "card_required"
            return pages.page(
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
        return pages.page(
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
            return pages.refused(request, error, back=f"{line_href(msisdn)}/topup", fields=fields)
        if isinstance(attempt, Response):
            return attempt
        if attempt.topup is None:  # declined: the form again, to choose another card
            offer = attempt.offer
            form = topup_form(
                offer,
                language=pages.language(request, offer.line.shown.locale),
                amount=amount,
                card=NEW_CARD,
            )
            return pages.page(
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
            found.line, found.topup, language=pages.language(request, found.line.shown.locale)
        )
        return pages.page(
            request,
            "topup_done.html",
            language_of(found.line.shown.locale),
            status_view=status,
            refresh=PENDING_REFRESH if status.state == "pending" else None,
        )

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


def _local_path(target: str) -> str:
    """Where the card page goes back to: a path of this site only."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
