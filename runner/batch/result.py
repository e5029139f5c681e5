"""What one video's task hands back to the batch driver (serial or on Ray).

Its own module so the Ray engine (:mod:`runner.batch.cluster`) and the driver (:mod:`runner.batch.driver`)
share it without importing each other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class VideoResult:
    report_json: str | None = None
    report_path: str | None = None         # where the task's pipeline wrote it (None: on another node)
    workdir: str | None = None
    node: str = ""
    started: float = 0.0                   # epoch seconds on the worker
    finished: float = 0.0
    error: dict[str, Any] | None = None    # {type, message, fix}
    interrupted: bool = False
    node_id: str | None = None             # the Ray node it ran on (several nodes may share a host name)
    retries: list[dict[str, Any]] = field(default_factory=list)   # attempts lost with their node (the driver's)
