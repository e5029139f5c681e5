"""What a container costs: per-analyzer overhead on docker against local, on the same clip.

Overhead of one analyzer = the backend's wall time for its attempt (container
create + start + exit + logs + remove; or subprocess start to exit) minus the
analyzer's own time in its envelope. The run is every analyzer whose image is
built (or stale) and whose local environment is ready (the toys when none is), once per
backend, on a 4 s made clip.

    python -m tests.bench docker
"""
from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from runner.core.config import REPO_ROOT, Settings
from runner.run.pipeline import AnalyzeRequest, analyze
from runner.core.registry import load_registry
from tests import media

TOYS = REPO_ROOT / "tests" / "toy_analyzers"
TOY_RUN = ["toy_good", "toy_dependent", "toy_final"]


def _selection(settings: Settings, registry) -> list[str]:
    from runner.backends.local import LocalBackend
    from runner.images.build import image_status

    local = LocalBackend(settings.envs_dir, settings.repo_root)
    status = image_status(settings, registry)
    real = sorted(n for n, e in registry.items() if not e.manifest.test_only
                  and status.get(n) in ("built", "stale") and local.unavailable(e) is None)
    return real or [n for n in TOY_RUN if status.get(n) == "built"]


def _run(settings: Settings, registry, clip: Path, names: list[str], backend: str):
    with tempfile.TemporaryDirectory(prefix=f"bench-{backend}-") as wr:
        out = analyze(AnalyzeRequest(source=str(clip), only=names, backend=backend, use_cache=False),
                      settings.with_(work_root=Path(wr)), registry=registry)
    overheads = {n: e.attempts[-1].duration_s - e.duration_s
                 for n, e in out.report.analyzers.items() if len(e.attempts) == 1}
    return out.report, overheads


def bench() -> list[str]:
    from runner.backends.docker import connect

    connect()  # no daemon: one clear error instead of a local-only figure
    settings = Settings.from_env().with_(analyzers_dirs=(REPO_ROOT / "analyzers", TOYS), include_test_only=True,
                                         models_dir=media.MODELS)
    registry = load_registry(settings.analyzers_dirs, include_test_only=True)
    names = _selection(settings, registry)
    if not names:
        return ["no analyzer image is built: run `make ci-images` first"]
    with tempfile.TemporaryDirectory() as d:
        clip = media.testsrc(Path(d) / "clip.mp4", seconds=4)
        _run(settings, registry, clip, names[:1], "docker")  # warm the page cache and the daemon
        rep_d, over_d = _run(settings, registry, clip, names, "docker")
        rep_l, over_l = _run(settings, registry, clip, names, "local")
    lines = [f"analyzers: {len(names)} ({', '.join(names)})"]
    for label, rep, over in (("docker", rep_d, over_d), ("local", rep_l, over_l)):
        counts = ", ".join(f"{k.value} {v}" for k, v in rep.counts.items() if v)
        if over:
            worst = max(over, key=over.get)
            lines.append(f"{label:<6} per-analyzer overhead: median {statistics.median(over.values()):.3f}s, "
                         f"max {over[worst]:.3f}s ({worst}); wall {rep.run.timings.total_s:.2f}s [{counts}]")
    if over_d and over_l:
        ratio = statistics.median(over_d.values()) / max(1e-3, statistics.median(over_l.values()))
        lines.append(f"overhead docker/local: median x{ratio:.1f}")
    lines.append(f"wall time docker/local: x{rep_d.run.timings.total_s / rep_l.run.timings.total_s:.2f}")
    return lines
