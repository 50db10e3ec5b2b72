"""The one shape of every error the HTTP API returns, ``{"error": {"code", "message", ...}}``,
and its description for the OpenAPI page."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException


class FieldProblem(BaseModel):
    field: str
    problem: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    result_code: int | None = None  # Diameter's, on charging refusals
    fields: list[FieldProblem] | None = None  # on 422 invalid_request


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_responses(codes: dict[int, tuple[str, ...]]) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route that answers each status with an error body, and the
    machine codes that body's ``error.code`` may carry under it: for people in the
    description, for programs in the ``x-error-codes`` extension."""
    return {
        status: {
            "model": ErrorBody,
            "description": "`error.code`: " + ", ".join(f"`{code}`" for code in status_codes),
            "x-error-codes": list(status_codes),
        }
        for status, status_codes in codes.items()
    }


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported"}


def invalid_request(error: RequestValidationError) -> JSONResponse:
    """422 ``invalid_request``, naming each field and what is wrong with it."""
    fields = [_field_problem(problem) for problem in error.errors()]
    first = fields[0] if fields else FieldProblem(field="", problem="invalid")
    where = f"{first.field}: " if first.field else ""
    body = ErrorBody(
        error=ErrorDetail(code="invalid_request", message=f"{where}{first.problem}", fields=fields)
    )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=422)


def is_utf8(body: bytes) -> bool:
    """Whether a request's body is UTF-8 text (RFC 8259: JSON is); one that is not is
    answered ``undecodable_body()``."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def undecodable_body() -> JSONResponse:
    """422 ``invalid_request`` for a body that is not UTF-8 text, so cannot be JSON."""
    problem = FieldProblem(field="", problem="the body is not UTF-8 JSON")
    body = ErrorBody(
        error=ErrorDetail(code="invalid_request", message=problem.problem, fields=[problem])
    )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=422)


def _field_problem(problem: dict[str, Any]) -> FieldProblem:
    if problem.get("type") == "json_invalid":  # its location is a character offset
        return FieldProblem(field="", problem="the body is not JSON")
    where = ".".join(str(part) for part in problem.get("loc", ()) if part != "body")
    return FieldProblem(field=where, problem=str(problem.get("msg", "invalid")))


def http_error(
    error: StarletteHTTPException, *, allowed: Iterable[str] | None = None
) -> JSONResponse:
    """The error shape of Starlette's own refusals (404, 405, ...). ``allowed``: for a 405,
    every method the path answers to (Starlette names only those of the first route it
    found for the path, and a path such as ``/api/v1/lines`` has a route per method)."""
    code = _HTTP_CODES.get(error.status_code, "http_error")
    body = ErrorBody(error=ErrorDetail(code=code, message=str(error.detail)))
    headers = dict(getattr(error, "headers", None) or {})
    if error.status_code == 405 and allowed:
        headers["Allow"] = ", ".join(sorted(set(allowed)))
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=error.status_code,
        headers=headers or None,
    )


def methods_of_path(paths: Mapping[str, Mapping[str, Any]], path: str) -> list[str]:
    """Every method the OpenAPI ``paths`` give for a request's ``path`` (``{name}`` standing
    for one path segment)."""
    for template, operations in paths.items():
        pattern = re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
        if re.fullmatch(re.sub(r"{[^}]+}", "[^/]+", pattern), path):
            return [method.upper() for method in operations if method in _METHODS]
    return []


_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
