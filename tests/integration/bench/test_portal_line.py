"""The line benchmark's raw side answers what Saldo answers (no timing is asserted): for lines
signed in through the real use cases, its API call gives Saldo's JSON and its page Saldo's
page, byte for byte. If the schema, the token's hash or the
template changes under it, this fails before the benchmark measures something else. The raw
side reads SQLite only, as the benchmark does."""

from __future__ import annotations

from bench import portal_line as bench
from fastapi.testclient import TestClient

from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app


def test_the_raw_side_answers_each_signed_in_line_as_saldo_does(
    saldo_sqlite: Saldo, sqlite_url: str
) -> None:
    lines = bench.signed_in_lines(saldo_sqlite, extra_lines=4)
    ours = TestClient(create_app(saldo_sqlite), base_url="https://testserver")
    raw = TestClient(
        bench.raw_app(
            sqlite_url.removeprefix("sqlite:///"),
            saldo_sqlite.settings.secret_key,
            now=saldo_sqlite.clock.now,
        )
    )

    for line in lines:
        path, headers = line.request("api")
        saldo_answer, raw_answer = ours.get(path, headers=headers), raw.get(path, headers=headers)
        assert saldo_answer.status_code == raw_answer.status_code == 200, saldo_answer.text
        assert raw_answer.json() == saldo_answer.json()
        assert raw_answer.json()["main"]["minor"] == line.main_minor

        path, headers = line.request("page")
        saldo_page, raw_page = ours.get(path, headers=headers), raw.get(path, headers=headers)
        for page in (saldo_page, raw_page):
            assert page.status_code == 200, page.text
            assert f"<h1>{line.msisdn}</h1>" in page.text
            assert line.main_text in page.text
        assert (
            raw_page.headers["content-security-policy"]
            == (saldo_page.headers["content-security-policy"])
        )


def test_the_raw_side_opens_a_line_only_with_a_token_of_its_kind(
    saldo_sqlite: Saldo, sqlite_url: str
) -> None:
    first, second = bench.signed_in_lines(saldo_sqlite, extra_lines=2)
    raw = TestClient(
        bench.raw_app(
            sqlite_url.removeprefix("sqlite:///"),
            saldo_sqlite.settings.secret_key,
            now=saldo_sqlite.clock.now,
        )
    )

    # The portal's session is not an app token, and an account reaches only its own line.
    session = first.cookie.partition("=")[2]
    api_path, _ = first.request("api")
    assert raw.get(api_path, headers={"Authorization": f"Bearer {session}"}).status_code == 404
    assert raw.get(api_path, headers=second.request("api")[1]).status_code == 404
    page_path, _ = first.request("page")
    assert raw.get(page_path, headers=second.request("page")[1]).status_code == 404
