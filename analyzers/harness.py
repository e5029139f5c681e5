"""The loop every analyzer process runs, in a container or a local subprocess.

    python -m analyzers.harness --analyzer-dir DIR --input ROOT --job JOB.json --out OUT [--models STORE]

It loads the job spec, imports ``DIR`` as the package ``analyzers.<DIR's name>`` and its
entrypoint module (``analyzer.py``), calls ``setup`` and
``analyze``, validates the returned model against the result model the job
names, and writes the envelope atomically (temp file + rename) to
``OUT/result.json``. Exit codes tell the runner what happened even when it
cannot read the envelope:
"""
from __future__ import annotations

import argparse
import importlib
import importlib.machinery
import importlib.util
import json
import logging
import os
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from shared_schema.exit_codes import EXIT_FAILED, EXIT_HARNESS, EXIT_INVALID, EXIT_MEMORY, EXIT_OK  # noqa: F401

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_MAX_THREADS")


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _load_analyzer(analyzer_dir: Path, entrypoint: str):
    """The entrypoint class, from the analyzer's folder imported as the package ``analyzers.<name>``.

    The folder is registered under that name wherever it lies (``/app/analyzers/<name>`` in an
    image, the repo, a test's folder), so its private modules import each other relatively
    (``from ._tracks import link``) and nothing is put on ``sys.path``.
    """
    module_name, _, cls_name = entrypoint.partition(":")
    analyzer_dir = analyzer_dir.resolve()
    package = f"analyzers.{analyzer_dir.name}"
    init = analyzer_dir / "__init__.py"
    if init.is_file():
        spec = importlib.util.spec_from_file_location(package, init,
                                                      submodule_search_locations=[str(analyzer_dir)])
    else:  # a folder without __init__.py (a test's throwaway analyzer) is a package all the same
        spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
        spec.submodule_search_locations = [str(analyzer_dir)]
    pkg = importlib.util.module_from_spec(spec)
    sys.modules[package] = pkg
    if spec.loader is not None:
        spec.loader.exec_module(pkg)
    module = importlib.import_module(f"{package}.{module_name}")
    return getattr(module, cls_name)


def run(analyzer_dir: Path, input_root: Path, job_path: Path, out_dir: Path,
        models_root: Path | None, entrypoint: str) -> int:
    # Imported here so the thread variables above are set before numpy loads.
    from pydantic import BaseModel, ValidationError

    from analyzers.base import Context, SkipAnalysis, read_declared_params
    from shared_schema.params import resolve_params
    from shared_schema.envelope import Envelope, ErrorInfo, Status
    from shared_schema.job import JobSpec
    from shared_schema.results import resolve_result_model

    log = logging.getLogger("analyzer")
    job = JobSpec.model_validate_json(job_path.read_text())
    ctx = Context(job=job, input_root=input_root, models_root=models_root, log=log)
    started = datetime.now(timezone.utc)
    t0 = time.monotonic()

    def envelope(status: Status, **kw) -> Envelope:
        return Envelope(analyzer=job.analyzer, analyzer_version=job.analyzer_version,
                        status=status, device=job.device, started_at=started,
                        duration_s=round(time.monotonic() - t0, 4), models=ctx.models_used,
                        degraded=bool(ctx.degraded_reasons), degraded_reasons=ctx.degraded_reasons,
                        **kw)

    code = EXIT_OK
    try:
        # checked again here, against the analyzer's own manifest: a stale or hostile job spec cannot
        # hand it an undeclared name or a value of the wrong type or out of range
        ctx.params = resolve_params(read_declared_params(analyzer_dir), {**job.params, **job.overrides})
        result_model = resolve_result_model(job.result)
        analyzer = _load_analyzer(analyzer_dir, entrypoint)()
        analyzer.setup(ctx)
        result = analyzer.analyze(ctx)
        if not isinstance(result, BaseModel):
            raise TypeError(f"analyze() returned {type(result).__name__}, not a pydantic model")
        try:
            validated = result_model.model_validate(result.model_dump(mode="json"))
        except ValidationError as exc:
            env = envelope(Status.invalid_output,
                           error=ErrorInfo(type="ValidationError", message=str(exc)[:4000]))
            code = EXIT_INVALID
        else:
            env = envelope(Status.ok, result=validated.model_dump(mode="json"))
    except SkipAnalysis as exc:
        env = envelope(Status.skipped, skip_reason=exc.reason,
                       error=ErrorInfo(type="SkipAnalysis", message=exc.message, fix=exc.fix))
    except MemoryError as exc:
        env = envelope(Status.failed, error=ErrorInfo(type="MemoryError", message=str(exc) or "out of memory"))
        code = EXIT_MEMORY
    except Exception as exc:  # the harness's job is to turn any failure into an envelope
        traceback.print_exc()
        env = envelope(Status.failed, error=ErrorInfo(type=type(exc).__name__, message=str(exc)[:4000]))
        code = EXIT_FAILED
    _write_atomic(out_dir / "result.json", env.model_dump_json(indent=2))
    log.info("%s: %s in %.2fs", job.analyzer, env.status.value, env.duration_s)
    return code


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m analyzers.harness", description=__doc__)
    p.add_argument("--analyzer-dir", required=True, type=Path)
    p.add_argument("--input", required=True, type=Path, help="workdir root (read-only)")
    p.add_argument("--job", required=True, type=Path, help="job spec, absolute or relative to --input")
    p.add_argument("--out", required=True, type=Path, help="this analyzer's output folder")
    p.add_argument("--models", type=Path, default=None, help="model store root (read-only)")
    p.add_argument("--memory-limit", type=int, default=0,
                   help="bytes of private data (RLIMIT_DATA); the local backend's memory limit")
    args = p.parse_args(argv)
    if args.memory_limit > 0:
        import resource

        resource.setrlimit(resource.RLIMIT_DATA, (args.memory_limit, args.memory_limit))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    job_path = args.job if args.job.is_absolute() else args.input / args.job
    try:
        spec = json.loads(job_path.read_text())
        threads = str(max(1, int(spec.get("threads", 1))))
        for var in _THREAD_VARS:
            os.environ.setdefault(var, threads)
        manifest_entry = _entrypoint(args.analyzer_dir)
    except Exception as exc:
        print(f"harness: cannot start: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    models = args.models if args.models and args.models.is_dir() else None
    return run(args.analyzer_dir, args.input, job_path, args.out, models, manifest_entry)


def _entrypoint(analyzer_dir: Path) -> str:
    import tomllib

    data = tomllib.loads((analyzer_dir / "analyzer.toml").read_text())
    return data.get("entrypoint", "analyzer:Analyzer")


if __name__ == "__main__":
    sys.exit(main())
