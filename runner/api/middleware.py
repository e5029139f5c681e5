"""ASGI middleware of the HTTP API: a request-body cap and, in tokenless mode, loopback-only ``Host``."""
from __future__ import annotations

import ipaddress
import json

__all__ = ["BodyLimit", "LoopbackHostOnly", "loopback_host", "LOOPBACK_NAMES"]


async def _send_error(send, status: int, code: str, message: str, fix: str | None) -> None:
    payload = json.dumps({"error": {"code": code, "message": message, "fix": fix}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._refuse(send)
        chunks, size, more = [], 0, True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return await self._refuse(send)
            chunks.append(chunk)
            more = msg.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    async def _refuse(self, send):
        await _send_error(send, 413, "body_too_large", f"request body over {self.limit} bytes", None)


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def loopback_host(header: str | None) -> bool:
    """Whether a ``Host`` header names this machine's loopback (``localhost``, ``127.0.0.1``,
    ``[::1]``, any ``127.x.y.z``, with or without a port)."""
    if not header:
        return False
    host = header.strip().lower()
    if host.startswith("["):
        name, _, rest = host.partition("]")
        name += "]"
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return False
    else:
        name, _, port = host.partition(":")
        if port and not port.isdigit():
            return False
    name = name.rstrip(".") if not name.startswith("[") else name
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False  # any other name may be a DNS-rebinding attacker's


class LoopbackHostOnly:
    """Tokenless mode: refuse a request whose ``Host`` is not a loopback name with 421 (DNS rebinding:
    a web page whose name now resolves to 127.0.0.1 would otherwise drive this API from a browser)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        hosts = [v.decode("latin-1") for k, v in scope.get("headers") or [] if k == b"host"]
        if len(hosts) == 1 and loopback_host(hosts[0]):
            return await self.app(scope, receive, send)
        await _send_error(
            send, 421, "host_not_allowed",
            f"Host {(hosts[0] if hosts else '(none)')[:100]!r} is not a loopback name; without "
            "RUNNER_API_TOKEN this server answers only requests addressed to localhost, 127.0.0.1 or [::1]",
            "call it as http://127.0.0.1:PORT/ (or localhost), or set RUNNER_API_TOKEN")
