"""``runner serve``: the HTTP API under uvicorn (``runner/cli.py`` adds this command when it imports)."""
from __future__ import annotations

import ipaddress
import logging

import click

from runner.config import Settings
from runner.errors import UsageError


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to bind; anything but loopback needs RUNNER_API_TOKEN")
@click.option("--port", default=8003, show_default=True, type=click.IntRange(0, 65535))
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, log_level: str) -> None:
    """Serve the HTTP API: POST /analyze, GET /jobs/{id}, ... (OpenAPI docs at /docs)."""
    import uvicorn

    from runner.api.app import create_app
    from runner.api.settings import from_env

    settings = (ctx.obj or {}).get("settings") or Settings.from_env()
    api = from_env()
    if not api.token and not is_loopback(host):
        raise UsageError(f"refusing to serve on {host} without a token",
                         fix="set RUNNER_API_TOKEN (a long random string), or bind 127.0.0.1")
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(settings, api)
    click.echo(f"runner API on http://{host}:{port} (docs /docs; auth {'on' if api.token else 'off: loopback only'};"
               f" data {api.data_dir})", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False, proxy_headers=False,
                timeout_graceful_shutdown=10)
