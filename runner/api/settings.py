"""API and downloader settings, resolved once into a frozen object.

:func:`from_env` is the only place the API server and the downloader read the
environment (the runner's own settings stay in :mod:`runner.config`).
Variables (all optional):

- ``RUNNER_API_TOKEN``           bearer token every request but ``/health`` and the docs must send;
                                 without it the server binds loopback addresses only
- ``RUNNER_API_ROOTS``           folders ``video_path`` may name, ``os.pathsep``-separated
                                 (default: ``<data dir>/videos``)
- ``RUNNER_API_DATA_DIR``        jobs database and stored reports (default ``~/.cache/tiktok-runner/api``)
- ``RUNNER_API_WORKERS``         jobs run at once (default: one per 4 CPUs of ``RUNNER_CPU_BUDGET``, at least 1);
                                 the runner's CPU, memory and GPU budget is split between them
- ``RUNNER_API_MAX_BODY``        largest request body in bytes (default 65536)
- ``RUNNER_API_MAX_WAIT_S``      longest ``POST /analyze?wait=`` in seconds; longer waits are clamped to it
                                 (default 600; 0 turns waiting off: every submit answers 202 at once)
- ``RUNNER_API_ALLOW_LOCAL``     ``1`` lets ``runner serve``/``runner worker`` run jobs on the local backend, which
                                 is NOT a sandbox (tests, trusted single-user machines); default: refused
- ``RUNNER_URL_ALLOWLIST``       hosts ``tiktok_url`` may name, comma-separated
                                 (default ``tiktok.com,www.tiktok.com,vm.tiktok.com,m.tiktok.com``)
- ``RUNNER_ALLOW_PRIVATE_URLS``  ``1`` lets the downloader fetch loopback, link-local and private addresses
                                 (tests; never in production)
- ``RUNNER_PROXIES``             proxy URLs, comma-separated, rotated across download attempts
- ``RUNNER_COOKIES_FILE``        a Netscape cookies file handed to yt-dlp
- ``RUNNER_DOWNLOAD_CACHE``      downloaded videos, keyed by video id (default ``~/.cache/tiktok-runner/downloads``)
- ``RUNNER_DOWNLOAD_ATTEMPTS``   attempts per download on transient errors (default 4)
- ``RUNNER_DOWNLOAD_BACKOFF_S``  first wait between attempts, doubled each time (default 2)
- ``RUNNER_DOWNLOAD_MAX_BYTES``  largest video accepted (default 512 MiB)
- ``RUNNER_FETCH_NETWORK``       docker network of the download sandbox (docker backend; default ``bridge``;
                                 ``host`` only for tests against a loopback server)
- ``RUNNER_FETCH_TIMEOUT_S``     wall-clock limit of one download attempt in the sandbox (default 600)
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from runner.errors import UsageError

DEFAULT_ALLOWLIST = ("tiktok.com", "www.tiktok.com", "vm.tiktok.com", "m.tiktok.com")
_CACHE = Path.home() / ".cache" / "tiktok-runner"


@dataclass(frozen=True)
class ApiSettings:
    token: str | None = None
    data_dir: Path = _CACHE / "api"
    roots: tuple[Path, ...] = ()           # empty: <data_dir>/videos
    workers: int | None = None             # None: derived from the runner's CPU budget
    max_body: int = 64 * 1024
    max_wait_s: int = 600                  # POST /analyze?wait= is clamped to this
    url_allowlist: tuple[str, ...] = DEFAULT_ALLOWLIST
    allow_private_urls: bool = False
    proxies: tuple[str, ...] = ()
    cookies_file: Path | None = None
    download_cache: Path = _CACHE / "downloads"
    download_attempts: int = 4
    download_backoff_s: float = 2.0
    download_max_bytes: int = 512 * 1024 * 1024
    allow_local: bool = False              # the local backend (no sandbox) may run jobs
    fetch_network: str = "bridge"          # the download sandbox's docker network
    fetch_timeout_s: int = 600             # one attempt in the download sandbox

    @property
    def video_roots(self) -> tuple[Path, ...]:
        return self.roots or (self.data_dir / "videos",)

    def worker_count(self, cpu_budget: float) -> int:
        # A run's analyzers want 1-2 CPUs each and a stage runs several at once:
        # below ~4 CPUs per job, parallel jobs only slow each other down.
        return self.workers or max(1, int(cpu_budget // 4))

    def with_(self, **kw) -> "ApiSettings":
        return replace(self, **kw)


def _split(value: str, sep: str = ",") -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(sep) if v.strip())


def _int(env, name: str, default: int, minimum: int = 1) -> int:
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


def from_env(environ: dict[str, str] | None = None) -> ApiSettings:
    """Read the variables listed in this module's docstring."""
    env = os.environ if environ is None else environ
    kw: dict = {}
    if env.get("RUNNER_API_TOKEN"):
        kw["token"] = env["RUNNER_API_TOKEN"]
    if env.get("RUNNER_API_DATA_DIR"):
        kw["data_dir"] = Path(env["RUNNER_API_DATA_DIR"]).expanduser().resolve()
    if env.get("RUNNER_API_ROOTS"):
        kw["roots"] = tuple(Path(p).expanduser().resolve() for p in _split(env["RUNNER_API_ROOTS"], os.pathsep))
    if env.get("RUNNER_API_WORKERS"):
        kw["workers"] = _int(env, "RUNNER_API_WORKERS", 1)
    kw["max_body"] = _int(env, "RUNNER_API_MAX_BODY", ApiSettings.max_body, minimum=1024)
    kw["max_wait_s"] = _int(env, "RUNNER_API_MAX_WAIT_S", ApiSettings.max_wait_s, minimum=0)
    if env.get("RUNNER_URL_ALLOWLIST"):
        kw["url_allowlist"] = tuple(h.lower().rstrip(".") for h in _split(env["RUNNER_URL_ALLOWLIST"]))
    kw["allow_private_urls"] = env.get("RUNNER_ALLOW_PRIVATE_URLS", "") == "1"
    kw["allow_local"] = env.get("RUNNER_API_ALLOW_LOCAL", "") == "1"
    if env.get("RUNNER_PROXIES"):
        kw["proxies"] = _split(env["RUNNER_PROXIES"])
    if env.get("RUNNER_COOKIES_FILE"):
        kw["cookies_file"] = Path(env["RUNNER_COOKIES_FILE"]).expanduser().resolve()
    if env.get("RUNNER_DOWNLOAD_CACHE"):
        kw["download_cache"] = Path(env["RUNNER_DOWNLOAD_CACHE"]).expanduser().resolve()
    kw["download_attempts"] = _int(env, "RUNNER_DOWNLOAD_ATTEMPTS", ApiSettings.download_attempts)
    if env.get("RUNNER_DOWNLOAD_BACKOFF_S"):
        try:
            kw["download_backoff_s"] = max(0.0, float(env["RUNNER_DOWNLOAD_BACKOFF_S"]))
        except ValueError:
            raise UsageError(f"RUNNER_DOWNLOAD_BACKOFF_S={env['RUNNER_DOWNLOAD_BACKOFF_S']!r} is not a number") from None
    kw["download_max_bytes"] = _int(env, "RUNNER_DOWNLOAD_MAX_BYTES", ApiSettings.download_max_bytes)
    if env.get("RUNNER_FETCH_NETWORK"):
        kw["fetch_network"] = env["RUNNER_FETCH_NETWORK"].strip()
    kw["fetch_timeout_s"] = _int(env, "RUNNER_FETCH_TIMEOUT_S", ApiSettings.fetch_timeout_s)
    return ApiSettings(**kw)
