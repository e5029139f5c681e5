"""Shared by the docker tests of the runner's own sandboxes (media, fetch): a daemon, or skip (fail in CI)."""
from __future__ import annotations

import os

import pytest

from runner.core.config import Settings


def need(reason: str):
    """Skip without a daemon or image here; in CI (.ci/run starts dockerd and builds them) fail."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI: .ci/run starts dockerd and make ci-images builds the images)")
    pytest.skip(reason)


def connect_or_need():
    from runner.backends.docker import connect
    from runner.core.errors import BackendUnavailable

    try:
        return connect(timeout=10)
    except BackendUnavailable as exc:
        need(f"no Docker daemon: {exc.reason}")


def sandbox_image(client, sandbox) -> str:
    """The tag of ``sandbox`` (a :class:`runner.images.runner_images.SandboxImage`); built here (from the cpu
    base) when missing or stale."""
    from runner.images.build import BuildOptions, base_tag
    from runner.images.runner_images import build

    settings = Settings.from_env()
    if sandbox.state(client, settings) != "built":
        try:
            client.images.get(base_tag(settings, "cpu"))
        except Exception:
            need(f"{base_tag(settings, 'cpu')} is not built: runner images build --bases-only")
        build(client, sandbox, settings, BuildOptions(), echo=lambda s: None)
    return sandbox.tag(settings)
