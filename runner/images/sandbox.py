"""Status of the runner's own sandbox images (media, fetch): built, stale or missing by digest label."""
from __future__ import annotations


def image_state(client, tag: str, digest: str) -> str:
    """``"built" | "stale" | "missing"``: whether ``tag`` exists and carries ``digest`` as its source label."""
    import docker.errors

    from runner.backends.docker import LABEL

    try:
        img = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return "missing"
    return "built" if (img.labels or {}).get(f"{LABEL}.source-digest") == digest else "stale"


def status_line(state_of, tag: str, fix: str) -> tuple[bool, str]:
    """``(built?, "built <tag>")`` for ``runner list`` and ``runner doctor``; ``state_of(client)``
    asks a daemon (none answering: ``unknown`` with the reason)."""
    from runner.backends.docker import connect
    from runner.errors import RunnerError

    try:
        state = state_of(connect(timeout=5))
    except (ImportError, RunnerError) as exc:
        return False, f"unknown ({getattr(exc, 'message', exc)})"
    return state == "built", f"{state} {tag}" + ("" if state == "built" else f" ({fix})")
