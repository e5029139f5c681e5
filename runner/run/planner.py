"""Pure planning: selection, DAG stages, devices, static skips. No I/O.

``after`` orders (the later analyzer tolerates the earlier one failing);
``needs`` is a hard input: it is pulled into a selection, and when it is not
``ok`` the dependent is skipped. ``final`` analyzers run after all others.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from runner.core.errors import PlanError
from runner.core.registry import Registry
from shared_schema.envelope import SkipReason


@dataclass(frozen=True)
class Facts:
    """What the planner may know about the world, gathered by the caller."""

    has_audio: bool = True
    gpus: tuple[str, ...] = ()
    missing_models: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)  # name -> [(model, fix)]


@dataclass(frozen=True)
class Skip:
    reason: SkipReason
    message: str
    fix: str | None = None


@dataclass(frozen=True)
class Planned:
    name: str
    device: str           # "cpu" or "cuda:<id>"
    gpu_heavy: bool

    @property
    def gpu(self) -> str | None:
        """The GPU id the job takes, None on the CPU."""
        return self.device.split(":", 1)[1] if self.device.startswith("cuda:") else None


@dataclass
class Plan:
    stages: list[list[str]]                  # every selected analyzer, layered
    runnable: dict[str, Planned]             # those that will be launched (if upstream allows)
    skipped: dict[str, Skip]                 # decided before anything runs
    selected: list[str]

    def frame_sets(self, registry: Registry) -> list[str]:
        return sorted({s for n in self.runnable for s in registry[n].manifest.inputs.frames})

    def needs_audio(self, registry: Registry) -> bool:
        return any(registry[n].manifest.inputs.audio for n in self.runnable)


def _split(names: list[str] | str | None) -> list[str]:
    if not names:
        return []
    if isinstance(names, str):
        names = [names]
    return [n.strip() for part in names for n in part.split(",") if n.strip()]


def select(registry: Registry, only: list[str] | str | None = None,
           skip: list[str] | str | None = None) -> list[str]:
    """Names to run: ``only`` (plus what it ``needs``, transitively) minus ``skip``."""
    only_l, skip_l = _split(only), _split(skip)
    unknown = sorted({n for n in only_l + skip_l if n not in registry})
    if unknown:
        raise PlanError(f"unknown analyzer(s): {', '.join(unknown)}", unknown,
                        fix="`runner list` shows the names")
    if only_l:
        chosen: set[str] = set()
        stack = list(only_l)
        while stack:
            n = stack.pop()
            if n in chosen:
                continue
            chosen.add(n)
            stack.extend(registry[n].manifest.needs)
    else:
        chosen = set(registry)
    chosen -= set(skip_l)
    return sorted(chosen)


def layer(registry: Registry, names: list[str]) -> list[list[str]]:
    """Topological layers over ``after``/``needs`` among ``names``; finals last."""
    names_set = set(names)
    finals = sorted(n for n in names if registry[n].manifest.final)
    deps = {n: {u for u in registry[n].manifest.upstream if u in names_set} for n in names if n not in finals}
    stages: list[list[str]] = []
    done: set[str] = set()
    while len(done) < len(deps):
        ready = sorted(n for n, d in deps.items() if n not in done and d <= done)
        if not ready:
            cycle = sorted(n for n in deps if n not in done)
            raise PlanError(f"dependency cycle among: {', '.join(cycle)}", cycle)
        stages.append(ready)
        done.update(ready)
    if finals:
        stages.append(finals)
    return stages


def plan(registry: Registry, facts: Facts, only=None, skip=None) -> Plan:
    selected = select(registry, only, skip)
    stages = layer(registry, selected)
    skipped: dict[str, Skip] = {}
    runnable: dict[str, Planned] = {}
    gpu_cycle = 0
    for stage in stages:
        for name in stage:
            m = registry[name].manifest
            hard_missing = [u for u in m.needs if u not in selected]
            bad_up = [u for u in m.needs if u in skipped]
            if hard_missing:
                skipped[name] = Skip(SkipReason.upstream_failed,
                                     f"needs {', '.join(hard_missing)}, which is not selected",
                                     fix=f"select it too (--only {name} pulls it in)")
            elif bad_up:
                skipped[name] = Skip(SkipReason.upstream_failed,
                                     f"needs {', '.join(bad_up)}, which will not run")
            elif m.inputs.audio and not m.inputs.audio_optional and not facts.has_audio:
                skipped[name] = Skip(SkipReason.no_audio, "the video has no audio stream")
            elif m.resources.device == "gpu_required" and not facts.gpus:
                skipped[name] = Skip(SkipReason.needs_gpu, "needs a GPU and none is configured",
                                     fix="run on a GPU host with RUNNER_GPUS=all")
            elif facts.missing_models.get(name):
                missing = facts.missing_models[name]
                fixes = "; ".join(f for _, f in missing if f) or None
                skipped[name] = Skip(SkipReason.model_absent,
                                     "model(s) not in the store: " + ", ".join(n for n, _ in missing),
                                     fix=fixes)
            else:
                device = "cpu"
                if m.resources.device != "cpu" and facts.gpus:
                    device = f"cuda:{facts.gpus[gpu_cycle % len(facts.gpus)]}"
                    gpu_cycle += 1
                runnable[name] = Planned(name, device, m.resources.gpu_heavy)
    return Plan(stages=stages, runnable=runnable, skipped=skipped, selected=selected)
