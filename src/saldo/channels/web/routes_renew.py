"""Renewing a line in the portal: the plan, add-ons, currency and method chosen, the quote,
the order placed at it, paid with the line's balance, the card it keeps or one chosen on the
processor's own page (``routes_money``), and its confirmation."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response

from saldo.channels.web.language import language_of
from saldo.channels.web.money_kit import KEY_FIELD, PENDING_REFRESH, MoneyPages, refusal
from saldo.channels.web.pages import see_other
from saldo.channels.web.views import line_href
from saldo.channels.web.views_renew import order_view, quote_view, renew_form
from saldo.domain.errors import SaldoError
from saldo.services.access.line_orders import Renewal, place_line_order
from saldo.services.access.line_renewal import order_page, pay_order_with, renewal_offer
from saldo.services.orders import OrderNotFound


def renew_routes(pages: MoneyPages) -> APIRouter:
    router = APIRouter()
    portal = pages.portal
    max_rate_age = timedelta(hours=portal.saldo.settings.fx_max_age_hours)

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
        form = renew_form(offer, language=pages.language(request, offer.line.shown.locale))
        return pages.page(request, "renew.html", language_of(offer.line.shown.locale), form=form)

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
            pages.language(request, offer.line.shown.locale),
            language_of(offer.line.shown.locale),
        )
        if offer.quote is None:
            problem = offer.refused or "invalid_request"
            return pages.page(
                request,
                "renew.html",
                own,
                status=400,
                form=renew_form(offer, language=words),
                error=refusal(problem),
                code=problem,
            )
        return pages.page(
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
            return pages.refused(request, error, back=f"{line_href(msisdn)}/renew", fields=fields)
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
            found,
            language=pages.language(request, found.line.shown.locale),
            token=token,
            last4=last4,
        )
        return pages.page(
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
            return pages.refused(request, error, back=here, fields=fields)
        if isinstance(paid, Response):
            return paid
        if paid.declined is not None:  # the order again, payable another way
            shown = order_view(paid, language=pages.language(request, paid.line.shown.locale))
            return pages.page(
                request,
                "order.html",
                language_of(paid.line.shown.locale),
                status=402,
                order=shown,
                refresh=None,
            )
        return see_other(here)

    return router


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
