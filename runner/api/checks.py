"""The checks a request passes before anything acts on it: at submit (the API process) and again when
a worker claims the job.

What the API process wrote to the job store is a request, not a decision: a row inserted straight
into the store (a compromised or buggy API process, a hand-edited database) must meet the same
rules as a body posted to ``/analyze``, and fails with the same error code the API would have given.
The rules: the body's shape (:class:`~runner.api.schemas.AnalyzeBody`), a ``video_path`` under the
roots (reached without a symlink, sniffed), a ``tiktok_url`` that is http(s) and on the allowlist,
known analyzers, and options each analyzer declares, with resource keys within this runner's budgets
and model params naming only declared models.
"""
from __future__ import annotations

from typing import Any, Mapping

from pydantic import ValidationError

from runner.api.schemas import AnalyzeBody
from runner.api.security import Refused, check_url, resolve_video_path
from runner.core.api_config import ApiSettings
from runner.core.config import Settings
from runner.core.params import ParamError, ResourceBounds, UserParams, from_options
from runner.core.registry import Registry


def api_bounds(settings: Settings) -> ResourceBounds:
    """What a request may set ``timeout_s``, ``memory`` and ``cpus`` to: within this runner's budgets
    (the whole runner's, not one worker slot's); and a model param only to a model its analyzer
    declares (runner.core.params.is_declared_model)."""
    return ResourceBounds(min_memory=16 * 2**20, max_memory=settings.memory_budget,
                          max_cpus=max(1.0, settings.cpu_budget), max_timeout_s=3600.0,
                          declared_models_only=True)


def validate_selection(body: AnalyzeBody, registry: Registry, settings: Settings) -> UserParams:
    """Only analyzers from the registry, and params they declare with values that fit (runner.core.params);
    returns the checked params."""
    unknown = sorted({n for n in body.analyzers or [] if n not in registry})
    if unknown:
        raise Refused("unknown_analyzer", f"unknown analyzer(s): {', '.join(unknown)[:300]}", status=422,
                      fix="GET /analyzers lists the names")
    try:
        return from_options(body.options, registry, api_bounds(settings))
    except ParamError as exc:
        raise Refused("bad_option", exc.message, status=422,
                      fix=f"{exc.fix}; GET /analyzers lists every param" if exc.fix else None) from None


def check_request(body: AnalyzeBody, settings: Settings, api: ApiSettings, registry: Registry) -> UserParams:
    """Every submit-time check of ``body``; :class:`Refused` (the API's code and status) on the first
    that fails. Returns the checked params."""
    if body.video_path is not None:
        from runner.media.admit import Limits

        resolve_video_path(body.video_path, api.video_roots, Limits.from_settings(settings))
    else:
        check_url(body.tiktok_url or "", api.url_allowlist)
    return validate_selection(body, registry, settings)


def recheck_job(request: Mapping[str, Any], settings: Settings, api: ApiSettings,
                registry: Registry) -> tuple[AnalyzeBody, UserParams]:
    """A claimed job's stored request, parsed as the API parses a body and checked as at submit:
    ``(body, params)``, or :class:`Refused` with the code the API would have answered."""
    try:
        body = AnalyzeBody.model_validate(dict(request))
    except (ValidationError, TypeError, ValueError) as exc:
        errors = exc.errors()[:5] if isinstance(exc, ValidationError) else []
        why = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())) or 'body'}: {e.get('msg', 'invalid')}"
                        for e in errors) or str(exc)
        raise Refused("invalid_request", f"the stored request is not one the API accepts: {why[:500]}",
                      status=422) from None
    return body, check_request(body, settings, api, registry)
