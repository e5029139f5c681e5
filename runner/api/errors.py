"""Every error the HTTP API answers is JSON ``{"error": {"code", "message", "fix"}}``; no stack trace leaves
the server."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from runner.api.security import Refused
from runner.core.errors import RunnerError

log = logging.getLogger("runner.api")


def error_response(status: int, code: str, message: str, fix: str | None = None, headers=None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "fix": fix}}, status_code=status,
                        headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Refused)
    async def _refused(_req: Request, exc: Refused):
        return error_response(exc.status, exc.code, exc.message, exc.fix)

    @app.exception_handler(RunnerError)
    async def _runnererror_response(_req: Request, exc: RunnerError):
        return error_response(400, "bad_request", exc.message, exc.fix)

    @app.exception_handler(StarletteHTTPException)
    async def _httperror_response(_req: Request, exc: StarletteHTTPException):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return error_response(exc.status_code, {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}
                      .get(exc.status_code, f"http_{exc.status_code}"), str(exc.detail), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors()[:10]:
            loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
            msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
            parts.append(f"{loc or 'body'}: {msg}"[:300])
        return error_response(422, "invalid_request", "; ".join(parts) or "invalid request")

    @app.exception_handler(Exception)
    async def _internal(_req: Request, exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal", "internal error; the server log has the details")
