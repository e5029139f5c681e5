"""Settings, resolved once at the edge into a frozen object.

:func:`environment` is the only place the runner reads its settings from the environment and the
user config file; :func:`Settings.from_env` builds the settings from what it read, with two sections:
:attr:`Settings.download` (the downloader's variables, :mod:`runner.core.download_config`) and
:attr:`Settings.api` (the HTTP API's, :mod:`runner.core.api_config`). Everything else receives the settings,
or the section it needs. Variables (all optional):

- ``RUNNER_ANALYZERS_DIR``  analyzer folders, ``os.pathsep``-separated (default: the repo's ``analyzers/``)
- ``RUNNER_MODELS_DIR``     the model store, mounted read-only at ``/models`` (default: ``~/.cache/tiktok-runner/models``)
- ``RUNNER_WORK_ROOT``      where run workdirs are made (default: ``~/.cache/tiktok-runner/runs``)
- ``RUNNER_CACHE_DIR``      the result cache (default: ``~/.cache/tiktok-runner/cache``)
- ``RUNNER_ENVS_DIR``       local-backend environments per group (default: the repo's ``.venvs/``)
- ``RUNNER_BACKEND``        ``auto`` | ``local`` | ``docker`` (default ``auto``)
- ``RUNNER_CPU_BUDGET``     CPUs the executor may hand out at once (default: all cores)
- ``RUNNER_MEMORY_BUDGET``  host memory it may hand out, e.g. ``16g`` (default: 75 % of RAM)
- ``RUNNER_GPUS``           comma-separated GPU ids to use (default: none; ``all`` = every GPU nvidia-smi lists)
- ``RUNNER_IMAGE_PREFIX``   image names are ``<prefix>/<analyzer>:<version>`` (default ``localhost/tiktok-runner``:
                            a registry host no public registry resolves, so a missing image is never pulled)
- ``RUNNER_SAMPLE_FPS``     rate of the ``sampled`` frame set (default 2)
- ``RUNNER_TEST_ANALYZERS`` ``1`` also loads analyzers marked ``test_only`` (the test suite's toys)

A user config file gives defaults under these variables (the sections' too) (a variable that is set wins; the file
wins over the built-in default): ``$RUNNER_CONFIG``, else ``$XDG_CONFIG_HOME/tiktok-runner/config.toml``
(``~/.config/tiktok-runner/config.toml``). It holds the same names, e.g. ``RUNNER_MODELS_DIR =
"/srv/models"`` (``make setup`` writes it: :mod:`runner.core.user_config`). ``RUNNER_CONFIG=`` (empty)
reads no file. Relative paths in it are relative to the file's folder.

What a sandbox wrote (``out/<name>/``) is read as data through :mod:`runner.core.outbox`; anything over
these caps is dropped and listed in the envelope's ``dropped`` (sizes take ``k``/``m``/``g``):

- ``RUNNER_MAX_RESULT_BYTES``  largest ``result.json`` read (default ``32m``); larger is ``invalid_output``
- ``RUNNER_MAX_JSON_NODES``    values in one ``result.json`` (default 500000); more is ``invalid_output``
- ``RUNNER_MAX_OUTPUT_BYTES``  kept output files of one analyzer, together and each (default ``1g``)
- ``RUNNER_MAX_OUTPUT_FILES``  kept output files of one analyzer (default 10000)
- ``RUNNER_MAX_OUTPUT_DEPTH``  folder depth below ``out/<name>/`` (default 32)
- ``RUNNER_MAX_LOG_BYTES``     bytes of an analyzer's stdout/stderr kept in ``logs/<name>.txt`` (default ``8m``)
- ``RUNNER_MAX_INPUT_BYTES`` admission cap on the input file's size, e.g. ``2g`` (default 2 GiB)
- ``RUNNER_MAX_DURATION_S`` cap on the probed duration in seconds (default 1200)
- ``RUNNER_MAX_PIXELS``     cap on coded width x height of one frame (default 4096*4096)
- ``RUNNER_MAX_FPS``        cap on the probed frame rate (default 240)
- ``RUNNER_MAX_STREAMS``    cap on the number of streams in the container (default 16)
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path

from runner.core.api_config import ApiSettings, api_from
from runner.core.download_config import DownloadSettings, download_from
from shared_schema.manifest import parse_memory

REPO_ROOT = Path(__file__).resolve().parents[2]


def _mem_total() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * 1024**3


def _detect_gpus(spec: str) -> tuple[str, ...]:
    if not spec:
        return ()
    if spec != "all":
        return tuple(g.strip() for g in spec.split(",") if g.strip())
    if not shutil.which("nvidia-smi"):
        return ()
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(line.strip() for line in out.splitlines() if line.strip())


#: user config keys that hold paths besides the ``*_DIR`` ones (relative: to the file's folder)
_PATH_KEYS = {"RUNNER_WORK_ROOT", "RUNNER_DOWNLOAD_CACHE", "RUNNER_COOKIES_FILE", "RUNNER_API_ROOTS"}


def user_config_path(env) -> Path | None:
    """The user config file: ``$RUNNER_CONFIG`` (empty: none), else the XDG config folder's."""
    if "RUNNER_CONFIG" in env:
        return Path(env["RUNNER_CONFIG"]).expanduser() if env["RUNNER_CONFIG"] else None
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path(env.get("HOME") or Path.home()) / ".config"
    return base / "tiktok-runner" / "config.toml"


def read_user_config(path: Path | None) -> dict[str, str]:
    """``RUNNER_*`` defaults from a TOML file (absent or unreadable: none; a bad file is an error)."""
    if path is None or not path.is_file():
        return {}
    import tomllib

    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        from runner.core.errors import UsageError

        raise UsageError(f"cannot read the user config {path}: {exc}",
                         fix=f"fix or remove {path} (or set RUNNER_CONFIG= to read none)") from None
    out = {}
    for k, v in data.items():
        if not k.startswith("RUNNER_") or k == "RUNNER_CONFIG" or isinstance(v, (dict, list)):
            continue
        v = str(v).lower() if isinstance(v, bool) else str(v)
        if k.endswith("_DIR") or k in _PATH_KEYS:
            v = os.pathsep.join(str((path.parent / Path(x).expanduser()).resolve()) for x in v.split(os.pathsep) if x)
        out[k] = v
    return out


def environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The ``RUNNER_*`` values the settings are built from: ``environ`` (default ``os.environ``; an
    empty value counts as unset) over the user config file's defaults. The one reader of both."""
    env = os.environ if environ is None else environ
    return {**read_user_config(user_config_path(env)), **{k: v for k, v in env.items() if v != ""}}


@dataclass(frozen=True)
class Settings:
    analyzers_dirs: tuple[Path, ...] = (REPO_ROOT / "analyzers",)
    models_dir: Path = Path.home() / ".cache" / "tiktok-runner" / "models"
    work_root: Path = Path.home() / ".cache" / "tiktok-runner" / "runs"
    envs_dir: Path = REPO_ROOT / ".venvs"
    cache_dir: Path = Path.home() / ".cache" / "tiktok-runner" / "cache"
    backend: str = "auto"
    cpu_budget: float = float(os.cpu_count() or 1)
    memory_budget: int = field(default_factory=lambda: int(_mem_total() * 0.75))
    gpus: tuple[str, ...] = ()
    image_prefix: str = "localhost/tiktok-runner"
    sample_fps: float | None = None
    include_test_only: bool = False
    max_result_bytes: int = 32 * 2**20
    max_json_nodes: int = 500_000
    max_output_bytes: int = 2**30
    max_output_files: int = 10_000
    max_output_depth: int = 32
    max_log_bytes: int = 8 * 2**20
    max_input_bytes: int = 2 * 1024**3
    max_duration_s: float = 20 * 60.0
    max_pixels: int = 4096 * 4096
    max_fps: float = 240.0
    max_streams: int = 16
    repo_root: Path = REPO_ROOT
    download: DownloadSettings = field(default_factory=DownloadSettings)
    api: ApiSettings = field(default_factory=ApiSettings)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        """The settings from :func:`environment` (``environ`` instead of ``os.environ`` if given)."""
        env = environment(environ)
        s = cls()
        kw: dict = {"download": download_from(env), "api": api_from(env)}
        if env.get("RUNNER_ANALYZERS_DIR"):
            kw["analyzers_dirs"] = tuple(Path(p).resolve() for p in env["RUNNER_ANALYZERS_DIR"].split(os.pathsep) if p)
        for var, key in (("RUNNER_MODELS_DIR", "models_dir"), ("RUNNER_WORK_ROOT", "work_root"),
                         ("RUNNER_ENVS_DIR", "envs_dir"), ("RUNNER_CACHE_DIR", "cache_dir")):
            if env.get(var):
                kw[key] = Path(env[var]).expanduser().resolve()
        if env.get("RUNNER_BACKEND"):
            kw["backend"] = env["RUNNER_BACKEND"]
        if env.get("RUNNER_CPU_BUDGET"):
            kw["cpu_budget"] = float(env["RUNNER_CPU_BUDGET"])
        if env.get("RUNNER_MEMORY_BUDGET"):
            kw["memory_budget"] = parse_memory(env["RUNNER_MEMORY_BUDGET"])
        kw["gpus"] = _detect_gpus(env.get("RUNNER_GPUS", ""))
        if env.get("RUNNER_IMAGE_PREFIX"):
            kw["image_prefix"] = env["RUNNER_IMAGE_PREFIX"]
        if env.get("RUNNER_SAMPLE_FPS"):
            kw["sample_fps"] = float(env["RUNNER_SAMPLE_FPS"])
        kw["include_test_only"] = env.get("RUNNER_TEST_ANALYZERS", "") == "1"
        for var, key in (("RUNNER_MAX_RESULT_BYTES", "max_result_bytes"), ("RUNNER_MAX_OUTPUT_BYTES", "max_output_bytes"),
                         ("RUNNER_MAX_LOG_BYTES", "max_log_bytes")):
            if env.get(var):
                kw[key] = parse_memory(env[var])
        for var, key in (("RUNNER_MAX_JSON_NODES", "max_json_nodes"), ("RUNNER_MAX_OUTPUT_FILES", "max_output_files"),
                         ("RUNNER_MAX_OUTPUT_DEPTH", "max_output_depth")):
            if env.get(var):
                kw[key] = int(env[var])
        if env.get("RUNNER_MAX_INPUT_BYTES"):
            kw["max_input_bytes"] = parse_memory(env["RUNNER_MAX_INPUT_BYTES"])
        for var, key, conv in (("RUNNER_MAX_DURATION_S", "max_duration_s", float), ("RUNNER_MAX_PIXELS", "max_pixels", int),
                               ("RUNNER_MAX_FPS", "max_fps", float), ("RUNNER_MAX_STREAMS", "max_streams", int)):
            if env.get(var):
                kw[key] = conv(env[var])
        return replace(s, **kw)

    def outbox_limits(self):
        """The caps on what one sandbox wrote, for :mod:`runner.core.outbox`."""
        from runner.core.outbox import Limits

        return Limits(max_file_bytes=self.max_output_bytes, max_total_bytes=self.max_output_bytes,
                      max_files=self.max_output_files, max_depth=self.max_output_depth,
                      max_result_bytes=self.max_result_bytes, max_json_nodes=self.max_json_nodes,
                      max_log_bytes=self.max_log_bytes)

    def with_(self, **kw) -> "Settings":
        return replace(self, **kw)
