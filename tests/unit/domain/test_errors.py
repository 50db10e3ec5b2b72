"""What a person typed, shown back in an error: quoted, escaped and cut when long."""

from __future__ import annotations

from saldo.domain.errors import quoted


def test_short_text_is_shown_whole_and_quoted() -> None:
    assert quoted("ana.example.org") == "'ana.example.org'"


def test_a_newline_is_escaped_so_the_error_stays_one_line() -> None:
    assert quoted("ana@\nexample.org") == "'ana@\\nexample.org'"


def test_long_text_is_cut_after_the_limit_with_its_length() -> None:
    assert quoted("0123456789" * 5, limit=12) == "'012345678901…' (50 characters)"
