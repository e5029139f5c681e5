"""What a batch asks for, one video's job in it, and what each video's task reserves (sized by its plan)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.core.config import Settings
from runner.core.registry import Registry
from runner.run.execute import job_resources
from runner.run.pipeline import AnalyzeRequest, plan_for
from runner.run.planner import Plan

MIN_MEMORY = 256 * 1024**2   # a video with nothing to run still probes and extracts


@dataclass
class BatchRequest:
    inputs: list[str]
    out: Path = Path("batch-out")
    only: list[str] | None = None
    skip: list[str] | None = None
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    backend: str | None = None
    use_cache: bool = True
    html: bool = False                     # also write <name>.html beside each <name>.json
    keep_media: bool = False               # keep each workdir's frames and audio (tens of MB a video)
    ray: str | None = None                 # None / "local": start a local Ray; "auto", "ray://host:port": join
    serial: bool = False                   # no Ray: one video after another in this process
    cpus_per_video: float | None = None    # default: the largest job's cpus


@dataclass(frozen=True)
class Shape:
    """What one video's task reserves."""

    cpus: float
    memory: int
    gpus: int = 0


@dataclass(frozen=True)
class VideoJob:
    index: int
    source: str
    name: str
    shape: Shape
    request: AnalyzeRequest


@dataclass
class BatchOutcome:
    rows: list[dict[str, Any]]
    wall_s: float
    interrupted: bool
    summary_path: Path

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 0 if all(r["status"] == "ok" for r in self.rows) else 1

    @property
    def videos_per_hour(self) -> float:
        return len(self.rows) * 3600 / self.wall_s if self.wall_s > 0 else 0.0


# --------------------------------------------------------------------------- planning
def _job_needs(registry: Registry, name: str, params: dict[str, dict[str, Any]]) -> tuple[float, int]:
    cpus, mem, _ = job_resources(registry[name].manifest, params.get(name, {}))
    return cpus, mem


def shape_for(the_plan: Plan, registry: Registry, params: dict[str, dict[str, Any]] | None = None,
              cpus_per_video: float | None = None) -> Shape:
    """CPUs: the largest job's (or ``cpus_per_video``). Memory: per stage, the largest jobs that fit
    in those CPUs at once (at least one), summed; the largest such sum. GPUs: 1 if a job is on CUDA."""
    params = params or {}
    needs = {n: _job_needs(registry, n, params) for n in the_plan.runnable}
    if not needs:
        return Shape(cpus=cpus_per_video or 1.0, memory=MIN_MEMORY, gpus=0)
    cpus = float(cpus_per_video) if cpus_per_video else max(c for c, _ in needs.values())
    memory = 0
    for stage in the_plan.stages:
        jobs = sorted((needs[n] for n in stage if n in needs), key=lambda cm: cm[1], reverse=True)
        used_cpus, mem = 0.0, 0
        for c, m in jobs:
            if mem and used_cpus + min(c, cpus) > cpus:
                continue
            used_cpus += min(c, cpus)
            mem += m
        memory = max(memory, mem)
    gpus = 1 if any(p.device.startswith("cuda") for p in the_plan.runnable.values()) else 0
    return Shape(cpus=cpus, memory=max(memory, MIN_MEMORY), gpus=gpus)


class _Planner:
    """Plans per video on the driver; the plan depends on the media only through ``has_audio``."""

    def __init__(self, settings: Settings, registry: Registry, req: BatchRequest):
        self.settings, self.registry, self.req = settings, registry, req
        self._plans: dict[bool, Plan] = {}

    def plan(self, has_audio: bool) -> Plan:
        if has_audio not in self._plans:
            self._plans[has_audio] = plan_for(self.settings, self.registry, has_audio, self.req.only, self.req.skip)
        return self._plans[has_audio]

    def shape(self, source: str) -> Shape:
        # Sized as if it had audio (the larger shape): the driver decodes nothing; each video is
        # admitted and probed in its own task, where a refusal is that video's error row.
        del source
        return shape_for(self.plan(True), self.registry, self.req.params, self.req.cpus_per_video)
