"""A line's email address, kept only once it is proven: a code is sent to the address typed,
and typing that code back makes it the line's (where its reminders and receipts go by email).

The code follows the sign-in codes' rules (``codes.py``): six random digits, kept only as a
keyed hash, valid ten minutes and once, bound to the line it was asked for; five wrong codes
end the attempt. Asking is limited per address written to, per line and per requesting
address, as codes by SMS are; the address typed is kept with the attempt only, until the
code proves it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from saldo.domain.access import CODE_VALID_FOR, CodePurpose, TokenKind, keyed_hash
from saldo.domain.email_address import check_email
from saldo.domain.periods import require_aware
from saldo.services.access.account_lines import own_line
from saldo.services.access.codes import CodeRequested, count_request, take_code
from saldo.services.access.policy import CODES_PER_NUMBER, AccessPolicy, random_code
from saldo.services.access.sign_in import note_use, signed_in
from saldo.services.notices import EMAIL_CODE
from saldo.services.notifications import EMAIL
from saldo.services.ports import UnitOfWork


def request_email_code(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    email: str,
    address: str | None,
    now: datetime,
    draw: Callable[[], str] = random_code,
) -> CodeRequested:
    """Send a code to ``email`` that proves it is the account's line's holder's; the line's
    email is unchanged until the code is typed (``confirm_email``). ``address`` is where
    the request came from. Raises NotSignedIn, InvalidMsisdn, LineNotFound, InvalidEmail,
    or TooManyCodes when the address written to, the line or ``address`` asked too often."""
    now = require_aware(now)
    to = check_email(email)
    with uow:
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=msisdn).line
        address_hash = keyed_hash(address or "unknown", key=policy.key, purpose="address")
        for scope, key, what in (
            ("code:email", keyed_hash(to.lower(), key=policy.key, purpose="email"), "this email"),
            ("code:email-line", keyed_hash(line.msisdn, key=policy.key, purpose="number"),
             "this line"),
        ):  # fmt: skip
            count_request(uow, scope=scope, key=key, limits=CODES_PER_NUMBER, what=what, now=now)
        count_request(
            uow,
            scope="code:address",
            key=address_hash,
            limits=policy.codes_from_an_address,
            what="this address",
            now=now,
        )
        code = draw()
        expires_at = now + CODE_VALID_FOR
        attempt_id = uow.access.open_attempt(
            msisdn=line.msisdn,
            purpose=CodePurpose.EMAIL,
            account_id=None,
            line_id=line.id,
            code_hash=keyed_hash(code, key=policy.key, purpose="code"),
            address_hash=address_hash,
            expires_at=expires_at,
            now=now,
            email=to,
        )
        message_key = f"access-code-{attempt_id}"
        uow.outbox.add(
            operator_id=line.operator_id,
            line_id=line.id,
            channel=EMAIL,
            key=message_key,
            recipient=to,
            payload={"kind": EMAIL_CODE, "attempt_id": attempt_id},
            now=now,
            secret=code,
        )
        uow.commit()
    note_use(uow, found, now=now)
    return CodeRequested(
        expires_at=expires_at,
        expires_in=int(CODE_VALID_FOR.total_seconds()),
        message_key=message_key,
    )


def confirm_email(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    code: str,
    now: datetime,
) -> str:
    """Check the code sent to the address asked for the account's line and keep that
    address as the line's email; return it. Raises NotSignedIn, InvalidMsisdn,
    LineNotFound, or a CodeRefused: WrongCode (counted), TooManyTries (the fifth wrong code
    ends the attempt), CodeExpired, CodeUsed, NoCodeAsked."""
    now = require_aware(now)
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        number = own_line(uow, account_id=found.account_id, msisdn=msisdn).line.msisdn
    note_use(uow, found, now=now)
    with uow:
        record = take_code(
            uow,
            policy=policy,
            number=number,
            purpose=CodePurpose.EMAIL,
            account_id=None,
            code=code,
            now=now,
        )
        attempt = uow.access.latest_attempt(
            msisdn=number, purpose=CodePurpose.EMAIL, account_id=None
        )
        assert attempt is not None and attempt.email is not None  # take_code accepted it
        uow.lines.set_email(record.line.id, email=attempt.email, verified_at=now)
        uow.commit()
    return attempt.email
