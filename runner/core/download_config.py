"""The downloader's section of the settings (:attr:`runner.core.config.Settings.download`).

:func:`download_from` builds it from the mapping :func:`runner.core.config.environment` read once (the
environment over the user config file); it reads nothing itself. The variables:

- ``RUNNER_ALLOW_PRIVATE_URLS``  ``1`` lets the downloader fetch loopback, link-local and private addresses
                                 (tests; never in production)
- ``RUNNER_PROXIES``             proxy URLs, comma-separated, rotated across download attempts
- ``RUNNER_COOKIES_FILE``        a Netscape cookies file handed to yt-dlp
- ``RUNNER_DOWNLOAD_CACHE``      downloaded videos, keyed by video id (default ``~/.cache/tiktok-runner/downloads``)
- ``RUNNER_DOWNLOAD_ATTEMPTS``   attempts per download on transient errors (default 4)
- ``RUNNER_DOWNLOAD_BACKOFF_S``  first wait between attempts, doubled each time (default 2)
- ``RUNNER_DOWNLOAD_MAX_BYTES``  largest video accepted (default 512 MiB)
- ``RUNNER_FETCH_NETWORK``       docker network of the download sandbox's egress proxy (docker backend; default
                                 ``bridge``; ``host`` on a daemon without a bridge, e.g. ``--bridge=none``). yt-dlp's
                                 own container has network ``none``; the proxy reaches public addresses only
- ``RUNNER_FETCH_TIMEOUT_S``     wall-clock limit of one download attempt in the sandbox (default 600)
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from runner.core.errors import UsageError

CACHE_ROOT = Path.home() / ".cache" / "tiktok-runner"


@dataclass(frozen=True)
class DownloadSettings:
    allow_private_urls: bool = False
    proxies: tuple[str, ...] = ()
    cookies_file: Path | None = None
    download_cache: Path = CACHE_ROOT / "downloads"
    download_attempts: int = 4
    download_backoff_s: float = 2.0
    download_max_bytes: int = 512 * 1024 * 1024
    fetch_network: str = "bridge"          # the docker network of the download sandbox's egress proxy
    fetch_timeout_s: int = 600             # one attempt in the download sandbox
    #: tests only: the egress proxy may connect to loopback and private addresses (a test's loopback
    #: origin). Never read from the environment: only code that builds DownloadSettings itself sets it,
    #: so no variable, config file or API request can turn it on in production.
    fetch_private_for_tests: bool = False

    def with_(self, **kw) -> "DownloadSettings":
        return replace(self, **kw)


def split(value: str, sep: str = ",") -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(sep) if v.strip())


def env_int(env, name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise UsageError(f"{name}={raw!r} must be at least {minimum}")
    return value


def download_from(env) -> DownloadSettings:
    """The downloader's settings from ``env`` (the variables listed in this module's docstring)."""
    kw: dict = {"allow_private_urls": env.get("RUNNER_ALLOW_PRIVATE_URLS", "") == "1"}
    if env.get("RUNNER_PROXIES"):
        kw["proxies"] = split(env["RUNNER_PROXIES"])
    if env.get("RUNNER_COOKIES_FILE"):
        kw["cookies_file"] = Path(env["RUNNER_COOKIES_FILE"]).expanduser().resolve()
    if env.get("RUNNER_DOWNLOAD_CACHE"):
        kw["download_cache"] = Path(env["RUNNER_DOWNLOAD_CACHE"]).expanduser().resolve()
    kw["download_attempts"] = env_int(env, "RUNNER_DOWNLOAD_ATTEMPTS", DownloadSettings.download_attempts)
    if env.get("RUNNER_DOWNLOAD_BACKOFF_S"):
        try:
            kw["download_backoff_s"] = max(0.0, float(env["RUNNER_DOWNLOAD_BACKOFF_S"]))
        except ValueError:
            raise UsageError(f"RUNNER_DOWNLOAD_BACKOFF_S={env['RUNNER_DOWNLOAD_BACKOFF_S']!r} is not a number") from None
    kw["download_max_bytes"] = env_int(env, "RUNNER_DOWNLOAD_MAX_BYTES", DownloadSettings.download_max_bytes)
    if env.get("RUNNER_FETCH_NETWORK"):
        kw["fetch_network"] = env["RUNNER_FETCH_NETWORK"].strip()
    kw["fetch_timeout_s"] = env_int(env, "RUNNER_FETCH_TIMEOUT_S", DownloadSettings.fetch_timeout_s)
    return DownloadSettings(**kw)
