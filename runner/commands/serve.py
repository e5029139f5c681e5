"""``runner serve`` and ``runner worker``: the HTTP API under uvicorn, and the job worker (registered in :mod:`runner.commands.main`)."""
from __future__ import annotations

import ipaddress
import logging

import click

from runner.core.config import Settings
from runner.core.errors import UsageError
from runner.placement import server_settings  # the servers never fall back to the local backend


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def _warn(text: str) -> None:
    click.echo(text, err=True)


def _logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


_ALLOW = click.option("--allow-unsandboxed", is_flag=True, default=False,
                      help="let jobs run on the local backend, which is NOT a sandbox (also RUNNER_API_ALLOW_LOCAL=1)")
_LEVEL = click.option("--log-level", default="info", show_default=True,
                      type=click.Choice(["critical", "error", "warning", "info", "debug"]))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to bind; anything but loopback needs RUNNER_API_TOKEN")
@click.option("--port", default=8003, show_default=True, type=click.IntRange(0, 65535))
@click.option("--role", type=click.Choice(["all", "api", "worker"]), default="all", show_default=True,
              envvar="RUNNER_API_ROLE",
              help="api: HTTP only, queues jobs (no Docker socket, no media); worker: runs queued jobs, no HTTP "
                   "(= runner worker); all: both in one process")
@_ALLOW
@_LEVEL
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, role: str, allow_unsandboxed: bool, log_level: str) -> None:
    """Serve the HTTP API: POST /analyze, GET /jobs/{id}, ... (the OpenAPI spec at /openapi.json;
    interactive docs at /docs with RUNNER_API_DOCS=1)."""
    if role == "worker":
        return ctx.invoke(worker, allow_unsandboxed=allow_unsandboxed, log_level=log_level)
    import uvicorn

    from runner.api.app import create_app

    settings = (ctx.obj or {}).get("settings") or Settings.from_env()
    api = settings.api
    if not api.token and not is_loopback(host):
        raise UsageError(f"refusing to serve on {host} without a token",
                         fix="set RUNNER_API_TOKEN (a long random string), or bind 127.0.0.1")
    if role == "all":
        settings = server_settings(settings, allow_unsandboxed or api.allow_local, _warn)
    _logging(log_level)
    app = create_app(settings, api, role=role)
    click.echo(f"runner API on http://{host}:{port} (role {role}; spec /openapi.json"
               f"{', docs /docs' if api.docs else ''}; auth "
               f"{'on' if api.token else 'off: loopback only, Host checked'}; data {api.data_dir}"
               + (f"; backend {settings.backend}" if role == "all" else "; jobs run by `runner worker`") + ")",
               err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False, proxy_headers=False,
                timeout_graceful_shutdown=10)


@click.command()
@_ALLOW
@_LEVEL
@click.option("--health", is_flag=True, default=False,
              help="check the worker of this host instead (its heartbeat in the job store): exit 0 healthy, 1 not")
@click.option("--max-age", default=30.0, show_default=True, type=click.FloatRange(1),
              help="with --health: seconds after which a heartbeat is stale (the worker is stuck)")
@click.pass_context
def worker(ctx: click.Context, allow_unsandboxed: bool, log_level: str, health: bool = False,
           max_age: float = 30.0) -> None:
    """Run queued API jobs (no HTTP): the half of `runner serve` that holds the Docker socket.

    It shares RUNNER_API_DATA_DIR (the SQLite job store and reports) with a `runner serve --role api`.
    """
    import signal
    import threading

    from runner.api.jobs import JobStore
    from runner.api.worker import WorkerPool
    from runner.core.registry import registry_for

    if health:
        from runner.api.heartbeat import main as health_check

        ctx.exit(health_check(["--max-age", str(max_age)]))
    settings = (ctx.obj or {}).get("settings") or Settings.from_env()
    api = settings.api
    settings = server_settings(settings, allow_unsandboxed or api.allow_local, _warn)
    _logging(log_level)
    registry = registry_for(settings)
    pool = WorkerPool(JobStore(api.data_dir / "jobs.sqlite3"), settings, api, registry)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    recovered = pool.start()
    click.echo(f"runner worker: {pool.size} slot(s), backend {settings.backend}, {len(registry)} analyzer(s), "
               f"data {api.data_dir}" + (f"; {len(recovered)} interrupted job(s) from the last run" if recovered else ""),
               err=True)
    while not stop.wait(1.0):
        pass
    click.echo("runner worker: stopping (running jobs end interrupted and can be retried)", err=True)
    pool.stop()
