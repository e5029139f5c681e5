"""The download sandbox's only way out: a small HTTP proxy that connects to public addresses only.

On the docker backend yt-dlp runs in a container with network ``none``; its one door is a unix
socket (``/egress/proxy.sock``) served by this proxy in a second container of the same image, on
``RUNNER_FETCH_NETWORK`` (:mod:`runner.download.docker_fetch`). Nothing in the design needs a Docker
bridge, iptables or DNS in the sandbox, so it works on a daemon started with ``--bridge=none
--iptables=false`` (CI's) as on any other. Each connection the proxy makes is checked where it is
made: the destination's name is resolved here, every address must be public
(:mod:`runner.download.net_safety`: no loopback, private, link-local such as 169.254.169.254,
multicast or reserved address), and the proxy connects to an address it checked (a second DNS
answer cannot slip in). Redirect hops are new requests, so they are checked too.

It speaks ``CONNECT host:port`` (https) and absolute-form ``GET http://...`` (plain http). A refusal is
``403 Refused by egress policy`` (the download core reports it as ``refused``); a destination that
passes the check but cannot be reached is ``502``. With an upstream proxy (``RUNNER_PROXIES``, one per
attempt), the destination is still checked here, then reached through that proxy, whose credentials
live only in this container's config (never in the yt-dlp sandbox).

Run as ``python -m runner.download.egress CONFIG.json``; it imports nothing of the runner but
:mod:`runner.download.net_safety` and :mod:`runner.core.errors` (the fetch image holds only those).
"""
from __future__ import annotations

import base64
import json
import os
import socket
import sys
import threading
from dataclasses import dataclass
from typing import Callable
from urllib.parse import unquote, urlsplit

from runner.download.net_safety import is_public

HEAD_CAP = 16 * 1024
REFUSED = "Refused by egress policy"


class Refusal(Exception):
    """The destination is not allowed (``status`` 403) or cannot be reached (502)."""

    def __init__(self, status: int, why: str):
        super().__init__(why)
        self.status, self.why = status, why


@dataclass(frozen=True)
class Config:
    socket: str = "/egress/proxy.sock"
    upstream: str | None = None          # http://[user:pass@]host:port: the attempt's proxy
    allow_private: bool = False          # tests only: a loopback origin (never set from the environment)
    connect_timeout_s: float = 10.0
    idle_timeout_s: float = 60.0
    max_connections: int = 32


def checked_addresses(host: str, port: int, allow_private: bool,
                      resolve: Callable = socket.getaddrinfo) -> list[tuple]:
    """The socket addresses of ``host:port`` when every one is public (or ``allow_private``);
    :class:`Refusal` otherwise. This is the per-destination check."""
    if not host or not 0 < port < 65536:
        raise Refusal(403, f"{REFUSED}: no host or a bad port")
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Refusal(502, f"cannot resolve {host}: {exc}") from None
    addrs = [(family, addr) for family, _t, _p, _c, addr in infos]
    bad = sorted({a[0] for _f, a in addrs if not is_public(a[0])})
    if bad and not allow_private:
        raise Refusal(403, f"{REFUSED}: {host} resolves to a non-public address ({', '.join(bad)})")
    return addrs


def _connect(addrs: list[tuple], timeout: float) -> socket.socket:
    last: OSError | None = None
    for family, addr in addrs:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(addr)
            return s
        except OSError as exc:
            s.close()
            last = exc
    raise Refusal(502, f"cannot connect: {last}")


def _read_head(conn: socket.socket) -> tuple[bytes, bytes]:
    """The request head (through the blank line) and whatever body bytes came with it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise Refusal(400, "the request ended before its head")
        data += chunk
        if len(data) > HEAD_CAP:
            raise Refusal(400, "request head too large")
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _target(method: str, target: str) -> tuple[str, int, str | None]:
    """``(host, port, origin-form path or None for CONNECT)``."""
    if method == "CONNECT":
        host, _, port = target.rpartition(":")
        host = host.strip("[]")
    else:
        parts = urlsplit(target)
        if parts.scheme != "http" or not parts.hostname:
            raise Refusal(400, "only CONNECT host:port and absolute http:// requests are proxied")
        host, port = parts.hostname, str(parts.port or 80)
        return host, int(port), (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not port.isdigit():
        raise Refusal(400, "CONNECT needs host:port")
    return host, int(port), None


def _forwarded_headers(lines: list[bytes]) -> list[bytes]:
    drop = (b"proxy-connection", b"proxy-authorization", b"connection", b"keep-alive")
    return [ln for ln in lines if ln.split(b":", 1)[0].strip().lower() not in drop]


def _auth(upstream) -> list[bytes]:
    if upstream.username is None:
        return []
    pair = f"{unquote(upstream.username)}:{unquote(upstream.password or '')}".encode()
    return [b"Proxy-Authorization: Basic " + base64.b64encode(pair)]


def _open(cfg: Config, method: str, target: str, host: str, port: int) -> socket.socket:
    """The connection to the destination (or through the upstream proxy, tunnel made for CONNECT)."""
    addrs = checked_addresses(host, port, cfg.allow_private)
    if not cfg.upstream:
        return _connect(addrs, cfg.connect_timeout_s)
    up = urlsplit(cfg.upstream)
    out = _connect([(f, a) for f, _t, _p, _c, a in socket.getaddrinfo(up.hostname, up.port or 80,
                                                                       type=socket.SOCK_STREAM)],
                   cfg.connect_timeout_s)
    if method == "CONNECT":
        out.sendall(b"\r\n".join([f"CONNECT {target} HTTP/1.1".encode(), f"Host: {target}".encode(),
                                  *_auth(up)]) + b"\r\n\r\n")
        head, _rest = _read_head(out)
        status = head.split(b"\r\n", 1)[0].split(b" ")
        if len(status) < 2 or not status[1].startswith(b"2"):
            out.close()
            raise Refusal(502, f"the upstream proxy answered {b' '.join(status[1:3]).decode(errors='replace')}")
    return out


def serve_one(conn: socket.socket, cfg: Config, log: Callable[[str], None]) -> None:
    """Check and carry one client connection; always closes it."""
    out = None
    try:
        conn.settimeout(cfg.idle_timeout_s)
        head, rest = _read_head(conn)
        lines = head.split(b"\r\n")
        try:
            method, target, version = lines[0].decode("latin-1").split(" ")
        except ValueError:
            raise Refusal(400, "bad request line") from None
        host, port, path = _target(method.upper(), target)
        out = _open(cfg, method.upper(), target, host, port)
        if path is None:
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            first = f"{method} {target if cfg.upstream else path} {version}".encode("latin-1")
            extra = _auth(urlsplit(cfg.upstream)) if cfg.upstream else []
            out.sendall(b"\r\n".join([first, *_forwarded_headers(lines[1:]), *extra, b"Connection: close"])
                        + b"\r\n\r\n" + rest)
        log(f"allow {method} {host}:{port}")
        splice(conn, out, cfg.idle_timeout_s)
    except Refusal as r:
        log(f"refuse ({r.status}) {r.why}")
        reason = REFUSED if r.status == 403 else {400: "Bad Request", 502: "Bad Gateway"}.get(r.status, "Error")
        body = (r.why + "\n").encode("utf-8", "replace")
        try:
            conn.sendall(f"HTTP/1.1 {r.status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}"
                         f"\r\nConnection: close\r\n\r\n".encode() + body)
        except OSError:
            pass
    except OSError as exc:
        log(f"connection lost: {exc}")
    finally:
        for s in (conn, out):
            if s is not None:
                s.close()


def splice(a: socket.socket, b: socket.socket, idle_s: float) -> None:
    """Copy bytes both ways until either side closes (or stays silent for ``idle_s``)."""
    def pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            src.settimeout(idle_s)
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
                try:
                    s.shutdown(how)
                except OSError:
                    pass

    t = threading.Thread(target=pump, args=(b, a), daemon=True)
    t.start()
    pump(a, b)
    t.join(idle_s + 5)


def serve(cfg: Config, log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True)) -> None:
    """Listen on ``cfg.socket`` (mode 0600) and serve until killed, at most ``max_connections`` at once."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(cfg.socket)
    os.chmod(cfg.socket, 0o600)
    server.listen(64)
    slots = threading.BoundedSemaphore(cfg.max_connections)
    log(f"egress proxy on {cfg.socket} (upstream {'yes' if cfg.upstream else 'none'}, "
        f"private addresses {'ALLOWED (tests)' if cfg.allow_private else 'refused'})")
    while True:
        conn, _ = server.accept()
        if not slots.acquire(blocking=False):
            conn.close()
            continue

        def run(c=conn) -> None:
            try:
                serve_one(c, cfg, log)
            finally:
                slots.release()

        threading.Thread(target=run, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    doc = json.loads(open(args[0], encoding="utf-8").read()) if args else {}
    serve(Config(**{k: v for k, v in doc.items() if k in Config.__dataclass_fields__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
