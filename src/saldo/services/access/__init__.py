"""Subscribers' access (issue 14): signing in with a verification code sent by SMS, tokens,
and the account that holds a subscriber's lines, whatever their operators and countries.

- ``policy``: the installation's key, token lifetime and per-address limit (AccessPolicy);
- ``codes``: asking for a code and confirming one (shared by signing in and adding a line);
- ``sign_in``: request_sign_in_code, sign_in, sign_out, and ``signed_in`` (a token's account);
- ``account_lines``: account_lines, account_line, request_line_code, add_account_line,
  remove_account_line;
- ``housekeeping``: forget_old_access (the worker forgets attempts and tokens 30 days after
  they ended).

The rules themselves (codes, attempts, rate limits, tokens) are in ``saldo.domain.access``.
"""
