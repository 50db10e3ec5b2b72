"""What the money pages' routes share (``routes_money``, ``routes_renew``): the paying forms'
idempotency key, made when a form is shown; the page in the line's language; a refusal said
in words with its code and the status that fits it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Final

from fastapi import Request, Response

from saldo.channels.web.kit import Portal
from saldo.channels.web.language import language_of
from saldo.domain.errors import SaldoError
from saldo.i18n import catalog

KEY_FIELD: Final = "key"
# How often a page waiting for a processor asks again (seconds, through htmx).
PENDING_REFRESH: Final = 5
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


def refusal(code: str) -> str:
    """The words for a refusal's code: its own, or the general ones."""
    key = f"portal_money_refused_{code}"
    return key if key in catalog("en") else "portal_money_refused_other"


def refusal_status(code: str) -> int:
    return _STATUS.get(code, 400)


@dataclass(frozen=True, slots=True)
class MoneyPages:
    portal: Portal

    def page(
        self,
        request: Request,
        template: str,
        line_language: str | None,
        *,
        status: int = 200,
        **context: Any,
    ) -> Response:
        """``template`` with a new idempotency key for its paying form (and ``Retry-After``
        when ``retry`` seconds are given)."""
        return self.portal.page(
            request,
            template,
            status=status,
            line_language=line_language,
            section="lines",
            context={"key": new_key(), **context},
            headers={"Retry-After": str(context["retry"])} if context.get("retry") else None,
        )

    def refused(
        self, request: Request, error: SaldoError, *, back: str, fields: dict[str, str]
    ) -> Response:
        """A refusal said in words with its code, in the language of the form refused, and
        the way back to it."""
        return self.page(
            request,
            "money_refused.html",
            fields.get("language"),
            status=refusal_status(error.code),
            error=refusal(error.code),
            code=error.code,
            back=back,
        )

    def language(self, request: Request, locale: str) -> str:
        """The page's language for a line whose locale is ``locale``."""
        return self.portal.language(request, language_of(locale))
