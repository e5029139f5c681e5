"""Which hosts the downloader may fetch: http(s) hosts that resolve to public addresses only.

Shared by the host's download flow (:mod:`runner.download.fetch`), the download core
(:mod:`runner.download.core`) and the egress proxy (:mod:`runner.download.egress`), the last two also
inside the download sandbox image: it imports nothing of the runner but :mod:`runner.core.errors`.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from runner.core.errors import DownloadError


def host_of(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return host, port


def is_public(addr: str) -> bool:
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_public_host(url: str, allow_private: bool) -> list[str]:
    """Resolve ``url``'s host and refuse it unless EVERY address is public (or ``allow_private``).

    Raises :class:`DownloadError` with kind ``refused`` (private address) or ``network``
    (the name does not resolve).
    """
    host, port = host_of(url)
    if not host:
        raise DownloadError(url, "unsupported_url", "the URL has no host")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DownloadError(url, "network", f"cannot resolve {host}: {exc}") from None
    addrs = sorted({info[4][0] for info in infos})
    if not allow_private:
        bad = [a for a in addrs if not is_public(a)]
        if bad:
            raise DownloadError(url, "refused", f"{host} resolves to a non-public address ({', '.join(bad)})",
                                fix="only public hosts are fetched; RUNNER_ALLOW_PRIVATE_URLS=1 lifts this "
                                    "(for tests only)")
    return addrs
