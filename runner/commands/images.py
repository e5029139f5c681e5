"""``runner images build|status|bootstrap-base|smoke|compose-file``: the CLI over :mod:`runner.images.build`."""
from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import click

from runner.backends.docker import connect, image_name
from runner.core.config import REPO_ROOT, Settings
from runner.core.errors import RunnerError, UsageError
from runner.images.build import (BASE_CANDIDATES, BOOTSTRAP_TAG, CACHE, CLIENT_TIMEOUT_S, HONEST_SKIPS, BuildOptions,
                           bootstrap_base, build_analyzer, build_base, build_torch_base, compose_file,
                           image_status)
from runner.run.pipeline import AnalyzeRequest, analyze
from runner.images.runner_images import SANDBOXES, build as build_sandbox
from runner.core.registry import Registry, registry_for


def _opts(base_image, pip_source, ca_bundle, no_cache) -> BuildOptions:
    return BuildOptions(base_image=base_image, pip_source=pip_source,
                        ca_bundle=Path(ca_bundle) if ca_bundle else None, no_cache=no_cache)


def _settings_registry(ctx) -> tuple[Settings, Registry]:
    obj = ctx.find_root().obj
    settings = obj.get("settings") if isinstance(obj, dict) and obj.get("settings") else Settings.from_env()
    return settings, registry_for(settings)


_build_options = [
    click.option("--base-image", envvar="RUNNER_BASE_IMAGE", default=None,
                 help=f"FROM of the cpu base (default: first present of {', '.join(BASE_CANDIDATES)})"),
    click.option("--pip-source", type=click.Choice(["wheelhouse", "network"]), default="wheelhouse",
                 envvar="RUNNER_BUILD_PIP_SOURCE", show_default=True),
    click.option("--ca-bundle", envvar="RUNNER_BUILD_CA_BUNDLE", type=click.Path(exists=True, dir_okay=False),
                 help="CA bundle pip trusts in the build (TLS-inspecting proxy)"),
    click.option("--no-cache", is_flag=True),
]


def _with_build_options(f):
    for opt in reversed(_build_options):
        f = opt(f)
    return f


@click.group()
def images():
    """Docker images: one per analyzer, on a cpu or torch base."""


@images.command("build")
@click.argument("names", nargs=-1)
@click.option("--base", "only_base", type=click.Choice(["cpu", "torch"]), default=None,
              help="only analyzers on this base")
@click.option("--bases-only", is_flag=True, help="only the cpu and torch bases (and the media and fetch sandboxes)")
@click.option("--force", is_flag=True, help="rebuild images that are already up to date")
@_with_build_options
@click.pass_context
def build_cmd(ctx, names, only_base, bases_only, force, base_image, pip_source, ca_bundle, no_cache):
    """Build the images of NAMES (default: every analyzer) that are missing or stale."""
    settings, registry = _settings_registry(ctx)
    opts = _opts(base_image, pip_source, ca_bundle, no_cache)
    echo = lambda s: click.echo(s, err=True)  # noqa: E731
    client = connect(timeout=CLIENT_TIMEOUT_S)
    if bases_only:
        build_base(client, settings, opts, echo, force=force or no_cache)
        for sandbox in SANDBOXES.values():  # the media sandbox's (ffprobe/ffmpeg), the download sandbox's (yt-dlp)
            build_sandbox(client, sandbox, settings, opts, echo, force=force or no_cache)
        if only_base != "cpu":
            build_torch_base(client, settings, opts, echo, force=force or no_cache)
        return
    for sandbox in SANDBOXES.values():
        if sandbox.name in names and sandbox.name not in registry:
            names = tuple(n for n in names if n != sandbox.name)
            fresh = force or no_cache or sandbox.state(client, settings) != "built"
            tag = build_sandbox(client, sandbox, settings, opts, echo, force=force or no_cache)
            click.echo(f"{sandbox.name:<30} {'built       ' if fresh else 'up to date  '} {tag}")
            if not names:
                return
    names = list(names) or sorted(n for n, e in registry.items()
                                  if only_base in (None, e.manifest.image.base))
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise UsageError(f"unknown analyzer(s): {', '.join(unknown)}", fix="runner list shows the names")
    state = image_status(settings, {n: registry[n] for n in names}, client)
    todo = [n for n in names if force or no_cache or state[n] != "built"]
    for n in names:
        if n not in todo:
            click.echo(f"{n:<30} up to date   {image_name(settings.image_prefix, registry[n])}")
    t0 = time.monotonic()
    failed = []
    for name in todo:  # one broken analyzer must not stop the others' images
        try:
            tag = build_analyzer(client, settings, registry[name], opts, echo)
        except RunnerError as exc:
            failed.append(name)
            click.echo(f"{name:<30} FAILED       {exc.message.splitlines()[0]}")
            continue
        click.echo(f"{name:<30} built        {tag}")
    echo(f"{len(todo) - len(failed)} image(s) built in {time.monotonic() - t0:.0f}s")
    if failed:
        raise RunnerError(f"{len(failed)} image(s) failed to build: {', '.join(failed)}",
                          fix=f"fix them, then: runner images build {' '.join(failed)}")


@images.command("status")
@click.pass_context
def status_cmd(ctx):
    """Which analyzer images are built, stale or missing."""
    settings, registry = _settings_registry(ctx)
    client = connect(timeout=5)  # no daemon: BackendUnavailable (exit 3)
    rows = [(name, state, image_name(settings.image_prefix, registry[name]))
            for name, state in sorted(image_status(settings, registry, client).items())]
    rows += [(f"({s.label})", s.state(client, settings), s.tag(settings)) for s in SANDBOXES.values()]
    for name, state, tag in rows:
        click.echo(f"{name:<30} {state:<8} {tag}")


@images.command("bootstrap-base")
@click.option("--mirror", default=None, help="Debian mirror (default: the one apt uses)")
@click.option("--tag", default=BOOTSTRAP_TAG, show_default=True)
def bootstrap_cmd(mirror, tag):
    """Make the local base (localhost/tiktok-runner/debian-python:bookworm) without a registry."""
    t0 = time.monotonic()
    bootstrap_base(lambda s: click.echo(s, err=True), mirror, tag)
    click.echo(f"{tag} in {time.monotonic() - t0:.0f}s")


def _smoke_clip(path: Path) -> Path:
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y",
                        "-f", "lavfi", "-i", "testsrc2=size=360x640:rate=30:duration=3",
                        "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
                        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                        "-shortest", str(path)], check=True)
    return path


def smoke(settings: Settings, registry: Registry, names: list[str], work_root: Path | None = None):
    """Run ``names`` on the docker backend on a 3 s made clip; ``{name: Envelope}`` for each. It runs
    the pipeline, so it lives here, above it: the image builder (:mod:`runner.images`) never imports a run."""
    clip = _smoke_clip(CACHE / "smoke.mp4")
    with tempfile.TemporaryDirectory(prefix="smoke-", dir=work_root) as wr:
        out = analyze(AnalyzeRequest(source=str(clip), only=names, backend="docker"),
                      settings.with_(work_root=Path(wr)), registry=registry)
        return {n: out.report.analyzers[n] for n in names if n in out.report.analyzers}


@images.command("smoke")
@click.argument("names", nargs=-1)
@click.pass_context
def smoke_cmd(ctx, names):
    """Run each image on a small made clip in a container and validate its envelope."""
    settings, registry = _settings_registry(ctx)
    names = list(names) or sorted(registry)
    failed = []
    for name, env in smoke(settings, registry, names).items():
        good = env.status.value == "ok" or (env.status.value == "skipped" and env.skip_reason
                                             and env.skip_reason.value in HONEST_SKIPS)
        detail = env.error.message if env.error else f"{env.duration_s:.2f}s"
        click.echo(f"{'ok  ' if good else 'FAIL'} {name:<30} {env.status.value:<14} {detail}")
        if not good:
            failed.append(name)
    if failed:
        raise SystemExit(1)


@images.command("compose-file")
@click.option("--out", type=click.Path(path_type=Path), default=REPO_ROOT / "compose" / "build.yaml",
              show_default=True)
@click.pass_context
def compose_cmd(ctx, out):
    """Write compose/build.yaml (one service per analyzer) from the manifests."""
    settings, registry = _settings_registry(ctx)
    out.write_text(compose_file(settings, registry))
    click.echo(str(out))
