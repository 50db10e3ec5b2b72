"""The HTTP application: health, metrics and OpenAPI."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.domain.lifecycle import LineState
from saldo.services.lifecycle_sweep import sweep_lifecycle
from saldo.services.lines import NewLine, add_line, list_lines


def test_health_says_ok_when_the_database_answers(saldo_sqlite: Saldo) -> None:
    client = TestClient(create_app(saldo_sqlite))

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_health_says_unavailable_when_the_database_does_not_answer(saldo_sqlite: Saldo) -> None:
    from saldo.adapters.db.engine import make_engine

    saldo_sqlite.engine = make_engine("sqlite:////nonexistent-dir/saldo.db")
    client = TestClient(create_app(saldo_sqlite))

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_metrics_count_lines_per_operator_and_state(saldo_sqlite: Saldo) -> None:
    add_line(
        saldo_sqlite.uow(),
        new_line=NewLine(msisdn="+32470123456", operator="proximus-be"),
        now=saldo_sqlite.clock.now(),
    )
    client = TestClient(create_app(saldo_sqlite))

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'saldo_lines{operator="proximus-be",state="active"} 1.0' in response.text


def test_metrics_count_each_line_in_the_state_lines_list_shows_after_a_replayed_day(
    saldo_sqlite: Saldo,
) -> None:
    now = saldo_sqlite.clock.now()
    add_line(
        saldo_sqlite.uow(),
        new_line=NewLine(msisdn="+32470123456", operator="proximus-be"),
        now=now,
    )
    # A day replayed 40 days ahead writes the line down as in grace; today it is active.
    sweep_lifecycle(saldo_sqlite.uow(), now=now + timedelta(days=40))
    client = TestClient(create_app(saldo_sqlite))

    response = client.get("/metrics")

    [shown] = list_lines(saldo_sqlite.uow(), now=now)
    assert shown.state is LineState.ACTIVE
    assert 'saldo_lines{operator="proximus-be",state="active"} 1.0' in response.text
    assert 'state="grace"' not in response.text


def test_the_openapi_description_is_served(saldo_sqlite: Saldo) -> None:
    client = TestClient(create_app(saldo_sqlite))

    spec = client.get("/openapi.json").json()

    assert spec["info"]["title"] == "Saldo"
    assert "/healthz" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_an_unknown_path_or_method_is_answered_in_the_error_shape(saldo_sqlite: Saldo) -> None:
    client = TestClient(create_app(saldo_sqlite))

    missing = client.get("/api/v1/nothing-here")
    wrong_method = client.get("/api/v1/charging/sessions")

    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "not_found", "message": "Not Found"}}
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
