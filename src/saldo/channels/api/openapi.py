"""The OpenAPI description served at ``/openapi.json`` (and drawn at ``/docs``): FastAPI's
own, with integer bounds written as integers, and the gateway endpoints, which are plain
ASGI in front of FastAPI (channels/api/gateways.py) and so unknown to it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from saldo.channels.api.gateways import MAX_BODY, SMS_PATH, USSD_PATH

_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def describe(app: FastAPI) -> dict[str, Any]:
    """The whole description, built once per application."""
    if app.openapi_schema is None:
        spec = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
            servers=app.servers,
            separate_input_output_schemas=app.separate_input_output_schemas,
        )
        _integer_bounds(spec)
        spec["paths"] = {**_gateway_paths(), **spec["paths"]}
        app.openapi_schema = spec
    return app.openapi_schema


def _integer_bounds(node: object) -> None:
    """FastAPI's OpenAPI models hold bounds as floats, so ``le=2**62`` would be served as
    ``4.611686018427388e+18``: a client validating with it would take numbers the server
    refuses. Every bound Saldo sets is a whole number a float holds exactly."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            for bound in _BOUNDS:
                value = node.get(bound)
                if isinstance(value, float) and value.is_integer():
                    node[bound] = int(value)
        for child in node.values():
            _integer_bounds(child)
    elif isinstance(node, list):
        for child in node:
            _integer_bounds(child)


def _text(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


def _refusals(*, allowed: str) -> dict[str, Any]:
    return {
        "400": _text("A required field is missing (a one-line reason)"),
        "401": _text("SALDO_GATEWAY_TOKEN is set and the request does not carry it"),
        "405": {
            **_text(f"Another method than {allowed}"),
            "headers": {"Allow": {"schema": {"type": "string"}}},
        },
        "413": _text(f"A body larger than {MAX_BODY} bytes"),
    }


_SMS_FIELDS: dict[str, tuple[str, bool]] = {
    "from": ("The sender's number (Kannel's %p)", True),
    "to": ("The short code or number it was sent to (Kannel's %P)", True),
    "text": ("The message (Kannel's %a); empty when absent", False),
    "id": (
        "The gateway's message id (Kannel's %I): a message seen before is not acted on twice",
        False,
    ),
    "token": ("The gateway token, when SALDO_GATEWAY_TOKEN is set", False),
}

_USSD_FIELDS: dict[str, tuple[str, bool]] = {
    "sessionId": ("The gateway's id for the USSD session", True),
    "serviceCode": ("The code dialled, such as *121#", True),
    "phoneNumber": ("The subscriber's number", True),
    "text": ("Every choice so far, joined with *; empty on the first screen", False),
    "token": ("The gateway token, when SALDO_GATEWAY_TOKEN is set", False),
}


def _string(*, required: bool) -> dict[str, Any]:
    """A field's schema: a required field must not be empty either (that is a 400)."""
    return {"type": "string", "minLength": 1} if required else {"type": "string"}


def _form(fields: dict[str, tuple[str, bool]]) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {
            name: {**_string(required=required), "description": description}
            for name, (description, required) in fields.items()
        },
        "required": [name for name, (_, required) in fields.items() if required],
    }
    return {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": schema}},
    }


def _query(fields: dict[str, tuple[str, bool]]) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "query",
            "required": required,
            "description": description,
            "schema": _string(required=required),
        }
        for name, (description, required) in fields.items()
    ]


_TOKEN_HEADER = {
    "name": "X-Saldo-Gateway-Token",
    "in": "header",
    "required": False,
    "description": "The gateway token, instead of the token field",
    "schema": {"type": "string"},
}


def _gateway_paths() -> dict[str, Any]:
    sms_reply = {
        "200": {
            **_text("The reply SMS; X-Kannel-Coding: 2 when it needs UCS-2"),
            "headers": {"X-Kannel-Coding": {"schema": {"type": "string"}}},
        },
        **_refusals(allowed="GET and POST"),
    }
    sms = {
        "tags": ["gateways"],
        "summary": "An SMS a subscriber sent (Kannel sms-service get-url)",
        "description": "Keywords such as the operator's balance keyword; the reply is the body.",
    }
    ussd_screen = {"200": _text("The next screen: CON … (more to come) or END … (the last)")}
    return {
        SMS_PATH: {
            "get": {
                **sms,
                "operationId": "sms_inbound_get",
                "parameters": [*_query(_SMS_FIELDS), _TOKEN_HEADER],
                "responses": sms_reply,
            },
            "post": {
                **sms,
                "operationId": "sms_inbound_post",
                "parameters": [_TOKEN_HEADER],
                "requestBody": _form(_SMS_FIELDS),
                "responses": sms_reply,
            },
        },
        USSD_PATH: {
            "post": {
                "tags": ["gateways"],
                "summary": "A USSD gateway's callback",
                "operationId": "ussd",
                "parameters": [_TOKEN_HEADER],
                "requestBody": _form(_USSD_FIELDS),
                "responses": {**ussd_screen, **_refusals(allowed="POST")},
            }
        },
    }
