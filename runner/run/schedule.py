"""When a job may start: its declared cpus and memory fit what is free, in priority order.

Admission is by priority, not by whichever waiting thread wakes first: a job starts only when no
job ahead of it waits for CPU or memory (a job that waits only for its GPU does not hold back the
CPU jobs behind it). So a job that needs both cores is not starved by a stream of one-core jobs
slipping in whenever one core frees. A job larger than the whole budget runs alone.

:func:`priority` orders the jobs of a plan: the most cpus first (nothing else can run beside such a
job, so it goes while the others can still fill in after it), then the longest chain of work that
waits on the job (its own cost plus the costliest path through its readers), with a job's declared
memory standing for its cost: the manifests declare no duration, and memory follows the model's
size (object_detection and body_pose 2g, the classical analyzers 256-512m). So the heavy models
start first and the small jobs fill the gaps, and the head of a chain (cut_analysis, whose readers
wait for it) starts before a job of its own size that nothing waits for.

A job's place in the queue is taken when it is ready (what it reads has finished), before its
pre-launch work (the cache lookup, the model checksums, the extraction it may trigger), so a job
that gets there a moment later is not overtaken by smaller ones (:meth:`Scheduler.enqueue`).
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Budget:
    cpus: float
    memory: int
    gpus: tuple[str, ...] = ()
    gpu_share: int = 2  # light GPU jobs that may share one GPU


def priority(cpus: float, chain_cost: int, name: str) -> tuple:
    """Lower sorts first (see the module docstring)."""
    return (-cpus, -chain_cost, name)


def chain_costs(upstream: dict[str, list[str]], cost: dict[str, int]) -> dict[str, int]:
    """name -> its cost plus the costliest chain of readers after it (``upstream``: what each reads)."""
    readers: dict[str, set[str]] = {n: set() for n in upstream}
    for n, ups in upstream.items():
        for u in ups:
            readers.setdefault(u, set()).add(n)
    memo: dict[str, int] = {}

    def chain(n: str) -> int:
        if n not in memo:
            memo[n] = cost.get(n, 0) + max((chain(r) for r in readers.get(n, ())), default=0)
        return memo[n]

    return {n: chain(n) for n in upstream}


class Scheduler:
    """Admission control over a run's CPU, memory and GPU budgets."""

    def __init__(self, budget: Budget):
        self.budget = budget
        self.cpus = 0.0
        self.mem = 0
        self.running = 0
        self.gpu_use: dict[str, int] = {g: 0 for g in budget.gpus}
        self.gpu_heavy: set[str] = set()
        self.cond = threading.Condition()
        self._waiting: dict[int, tuple[tuple, float, int, str | None, bool]] = {}
        self._seq = itertools.count()

    def _gpu_ok(self, gpu: str | None, heavy: bool) -> bool:
        if gpu is None:
            return True
        if gpu in self.gpu_heavy or (heavy and self.gpu_use.get(gpu, 0) > 0):
            return False
        return self.gpu_use.get(gpu, 0) < self.budget.gpu_share

    def _room(self, cpus: float, mem: int) -> bool:
        if self.running == 0:
            return True  # never starve a job larger than the whole budget
        return self.cpus + cpus <= self.budget.cpus + 1e-9 and self.mem + mem <= self.budget.memory

    def _fits(self, cpus: float, mem: int, gpu: str | None, heavy: bool) -> bool:
        return self._gpu_ok(gpu, heavy) and self._room(cpus, mem)

    def _turn(self, ticket: int) -> bool:
        """Whether ``ticket`` may start now: it fits and no job ahead of it waits for CPU or memory."""
        for t, (_, cpus, mem, gpu, heavy) in sorted(self._waiting.items(), key=lambda kv: (kv[1][0], kv[0])):
            if t == ticket:
                return self._fits(cpus, mem, gpu, heavy)
            if not self._gpu_ok(gpu, heavy):
                continue  # it waits for its GPU only: the CPU jobs behind it may go
            return False  # it goes first (it fits), or the room it waits for must not be taken
        return False

    def why_waiting(self, cpus: float, mem: int, gpu: str | None, heavy: bool) -> str:
        """What a job that does not fit waits for, in words (for the progress view)."""
        if not self._gpu_ok(gpu, heavy):
            return f"GPU {gpu} ({self.gpu_use.get(gpu, 0)} job(s) on it)"
        if self.cpus + cpus > self.budget.cpus + 1e-9:
            return f"CPU budget ({self.cpus:g} of {self.budget.cpus:g} in use, needs {cpus:g})"
        if self.mem + mem > self.budget.memory:
            return (f"memory budget ({self.mem / 2**30:.1f} of {self.budget.memory / 2**30:.1f} GiB in use, "
                    f"needs {mem / 2**30:.1f})")
        return "a job ahead of it in the queue"

    def enqueue(self, cpus: float, mem: int, gpu: str | None, heavy: bool, rank: tuple = ()) -> int:
        """Take a place in the queue now; :meth:`acquire` with the ticket later, or :meth:`withdraw` it."""
        with self.cond:
            ticket = next(self._seq)
            self._waiting[ticket] = (rank, cpus, mem, gpu, heavy)
            return ticket

    def withdraw(self, ticket: int | None) -> None:
        with self.cond:
            if self._waiting.pop(ticket, None) is not None:
                self.cond.notify_all()

    def acquire(self, cpus: float, mem: int, gpu: str | None, heavy: bool, cancel: threading.Event,
                on_wait: Callable[[str], None] | None = None, rank: tuple = (), ticket: int | None = None) -> bool:
        if ticket is None or ticket not in self._waiting:
            ticket = self.enqueue(cpus, mem, gpu, heavy, rank)
        with self.cond:
            said = None
            try:
                while not self._turn(ticket):
                    if cancel.is_set():
                        return False
                    if on_wait is not None:
                        why = self.why_waiting(cpus, mem, gpu, heavy)
                        if why != said:
                            said = why
                            on_wait(why)
                    self.cond.wait(0.2)
                if cancel.is_set():
                    return False
            finally:
                del self._waiting[ticket]
                self.cond.notify_all()  # the next in line may fit now, or may go since this one left
            self.cpus += cpus
            self.mem += mem
            self.running += 1
            if gpu is not None:
                self.gpu_use[gpu] = self.gpu_use.get(gpu, 0) + 1
                if heavy:
                    self.gpu_heavy.add(gpu)
            return True

    def release(self, cpus: float, mem: int, gpu: str | None, heavy: bool) -> None:
        with self.cond:
            self.cpus -= cpus
            self.mem -= mem
            self.running -= 1
            if gpu is not None:
                self.gpu_use[gpu] -= 1
                self.gpu_heavy.discard(gpu)
            self.cond.notify_all()
