"""Contracts shared by the host runner and the analyzer containers.

Pure pydantic v2 models and path conventions; importing this package must not
pull in anything heavier than pydantic, because every analyzer image and the
host both depend on it.
"""
from shared_schema.envelope import (
    SCHEMA_VERSION,
    Attempt,
    CacheInfo,
    Envelope,
    ErrorInfo,
    ModelUse,
    Status,
    SkipReason,
)
from shared_schema.job import JobSpec
from shared_schema.manifest import Manifest, ManifestError, load_manifest
from shared_schema.media import MediaInfo, FrameIndex, FrameEntry
from shared_schema.params import Params, ParamSpec
from shared_schema.paths import Workdir, FRAME_SETS, FrameSetSpec
from shared_schema.report import Report, RunInfo

__all__ = [
    "SCHEMA_VERSION", "Attempt", "CacheInfo", "Envelope", "ErrorInfo", "ModelUse", "Status", "SkipReason",
    "JobSpec", "Manifest", "ManifestError", "load_manifest", "MediaInfo", "FrameIndex",
    "FrameEntry", "Workdir", "FRAME_SETS", "FrameSetSpec", "Report", "RunInfo", "Params", "ParamSpec",
]
