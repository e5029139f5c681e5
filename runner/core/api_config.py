"""The HTTP API's section of the settings (:attr:`runner.core.config.Settings.api`).

:func:`api_from` builds it from the mapping :func:`runner.core.config.environment` read once (the
environment over the user config file); it reads nothing itself. Variables (all optional):

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
- ``RUNNER_API_DEFAULT_WAIT_S``  the wait of a ``POST /analyze`` that has no ``?wait=`` (default 0: answer 202
                                 at once); set it for clients of the old system, which read the report from the
                                 response; clamped to ``RUNNER_API_MAX_WAIT_S``
- ``RUNNER_API_ALLOW_LOCAL``     ``1`` lets ``runner serve``/``runner worker`` run jobs on the local backend, which
                                 is NOT a sandbox (tests, trusted single-user machines); default: refused
- ``RUNNER_API_DOCS``            ``1`` serves the interactive docs at ``/docs`` and ``/redoc``: FastAPI's pages load
                                 Swagger UI / ReDoc JavaScript from a CDN, unpinned and without SRI, so they are
                                 off by default (``/openapi.json``, plain JSON, is always served)
- ``RUNNER_URL_ALLOWLIST``       hosts ``tiktok_url`` may name, comma-separated
                                 (default ``tiktok.com,www.tiktok.com,vm.tiktok.com,m.tiktok.com``)

The downloader's variables (``RUNNER_PROXIES``, ``RUNNER_DOWNLOAD_*``, ...) are its own section,
:mod:`runner.core.download_config`: the API server downloads nothing; its worker's runs do.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from runner.core.download_config import CACHE_ROOT
from runner.core.download_config import env_int as _int, split as _split

DEFAULT_ALLOWLIST = ("tiktok.com", "www.tiktok.com", "vm.tiktok.com", "m.tiktok.com")
_CACHE = CACHE_ROOT


@dataclass(frozen=True)
class ApiSettings:
    """The API server's settings."""

    token: str | None = None
    data_dir: Path = _CACHE / "api"
    roots: tuple[Path, ...] = ()           # empty: <data_dir>/videos
    workers: int | None = None             # None: derived from the runner's CPU budget
    max_body: int = 64 * 1024
    max_wait_s: int = 600                  # POST /analyze?wait= is clamped to this
    default_wait_s: int = 0                # the wait of a POST /analyze without ?wait= (old clients)
    url_allowlist: tuple[str, ...] = DEFAULT_ALLOWLIST
    allow_local: bool = False              # the local backend (no sandbox) may run jobs
    docs: bool = False                     # /docs and /redoc (CDN JavaScript): only when asked for

    @property
    def video_roots(self) -> tuple[Path, ...]:
        return self.roots or (self.data_dir / "videos",)

    def worker_count(self, cpu_budget: float) -> int:
        # A run's analyzers want 1-2 CPUs each and a stage runs several at once:
        # below ~4 CPUs per job, parallel jobs only slow each other down.
        return self.workers or max(1, int(cpu_budget // 4))

    def with_(self, **kw) -> "ApiSettings":
        return replace(self, **kw)


def api_from(env) -> ApiSettings:
    """The API's settings from ``env`` (the variables listed in this module's docstring)."""
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
    kw["default_wait_s"] = _int(env, "RUNNER_API_DEFAULT_WAIT_S", ApiSettings.default_wait_s, minimum=0)
    if env.get("RUNNER_URL_ALLOWLIST"):
        kw["url_allowlist"] = tuple(h.lower().rstrip(".") for h in _split(env["RUNNER_URL_ALLOWLIST"]))
    kw["allow_local"] = env.get("RUNNER_API_ALLOW_LOCAL", "") == "1"
    kw["docs"] = env.get("RUNNER_API_DOCS", "") == "1"
    return ApiSettings(**kw)
