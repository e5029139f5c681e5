"""``runner doctor``: what is ready on this host, and what to run when it isn't."""
from __future__ import annotations

import shutil

from runner.backends.local import LocalBackend
from runner.core.config import Settings
from runner.core.registry import registry_for


def checks(settings: Settings) -> list[tuple[str, bool, str]]:
    from runner.core.lockfile import drift_line

    out = [("runner environment = lock", *drift_line())]
    for tool in ("ffmpeg", "ffprobe"):
        p = shutil.which(tool)
        out.append((tool, bool(p), p or "missing: apt-get install ffmpeg"))
    try:
        registry = registry_for(settings)
        out.append(("analyzer manifests", True, f"{len(registry)} analyzers"))
    except Exception as exc:  # report, don't crash the doctor
        out.append(("analyzer manifests", False, str(exc)))
        registry = {}
    local = LocalBackend(settings.envs_dir, settings.repo_root)
    for group in sorted({e.manifest.env for e in registry.values()}):
        entry = next(e for e in registry.values() if e.manifest.env == group)
        why = local.unavailable(entry)
        out.append((f"local env '{group}'", why is None, why[2] if why else str(local.python_for(entry))))
    out.append(("model store", settings.models_dir.is_dir(), str(settings.models_dir)))
    if registry:
        out.append(_store_models(registry, settings))
    try:
        from runner.backends.docker import daemon_status
        good, detail = daemon_status()
    except ImportError:
        good, detail = False, "docker backend not installed"
    out.append(("(optional) docker daemon", good, detail))
    if good:  # on the docker backend ffprobe/ffmpeg on user media run in the media sandbox, URL downloads in the other
        from runner.images.runner_images import status_lines

        out += [(f"(optional) {sandbox.label} image", built, line) for sandbox, built, line in status_lines(settings)]
    from runner.cache.store import ResultCache

    entries = ResultCache(settings.cache_dir).entries()
    out.append(("result cache", True, f"{settings.cache_dir} ({len(entries)} entries, "
                                      f"{sum(e.size for e in entries) / 2**20:.1f} MiB; runner cache prune)"))
    try:
        import importlib.metadata as md

        out.append(("(optional) ray for batch", True, f"ray {md.version('ray')}"))
    except md.PackageNotFoundError:
        out.append(("(optional) ray for batch", False, "make setup (installs requirements/runner.lock; or: runner batch --serial)"))
    out.append(("(optional) GPUs", bool(settings.gpus), ",".join(settings.gpus) or "none (RUNNER_GPUS=all to use them)"))
    return out


def _store_models(registry, settings: Settings) -> tuple[str, bool, str]:
    """Which declared store models are absent, and the command that fetches them."""
    from runner.models.store import missing_models, status

    rows = [r for r in status(registry, settings.models_dir) if r.present is not None]
    absent = sorted({r.model.name for r in rows if not r.present})
    required = sorted({m for ms in missing_models(registry, list(registry), settings.models_dir).values()
                       for m, _ in ms})
    total = len({r.model.name for r in rows})
    # an absent model skips only the analyzers that need it: reported, not a failed doctor
    if not absent:
        return ("(optional) store models", True, f"all {total} declared present")
    detail = f"{total - len(absent)} of {total} present; absent: {', '.join(absent)}: runner models pull NAME"
    if required:
        detail += f" (needed by default: runner models pull {' '.join(required)})"
    return ("(optional) store models", False, detail)
