"""The job spec the runner hands one analyzer (``<workdir>/jobs/<name>.json``)."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared_schema.envelope import SCHEMA_VERSION
from shared_schema.manifest import ModelRequirement


class JobSpec(BaseModel):
    """All paths are relative to the workdir root (``/input`` in a container)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: str = SCHEMA_VERSION
    run_id: str
    analyzer: str
    analyzer_version: str
    result: str = Field(description="module:Model of the result")
    media: str = "media.json"
    frames: dict[str, str] = Field(default_factory=dict, description="set -> folder")
    audio: str | None = None
    upstream: dict[str, str] = Field(default_factory=dict, description="name -> result.json")
    params: dict[str, Any] = Field(
        default_factory=dict, description="every param the manifest declares: the user's value or its default, "
                                          "typed; the harness checks them again against the manifest")
    overrides: dict[str, Any] = Field(default_factory=dict, description="degradation for this attempt (retry "
                                                                        "overrides: declared params too)")
    attempt: int = 1
    device: str = "cpu"
    threads: int = 1
    models: list[ModelRequirement] = Field(default_factory=list)
