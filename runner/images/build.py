"""``runner images build|status``: build and check the analyzer images and their bases.

Three Dockerfiles in ``images/`` are built here: ``Dockerfile.base`` (Python venv + pydantic),
``Dockerfile.torch`` (base + torch/torchvision from a host wheelhouse) and
``Dockerfile.analyzer`` (one template for any analyzer folder); the media and fetch sandboxes
(``Dockerfile.media``, ``Dockerfile.fetch``) are built by :func:`runner.images.runner_images.build` with
this module's context helpers. Builds go
through the SDK with a context this module assembles (only the files an image
needs, so ``.venv`` and wheelhouses of other images are never sent).

Python packages reach a build one of two ways (``--pip-source``):
``wheelhouse`` (default; ``pip download`` on the host, ``pip install --no-index``
in the build: works offline and with the host's own indexes) or ``network``
(pip in a ``--network host`` build; behind a TLS-inspecting proxy give the
proxy's CA with ``--ca-bundle`` / ``RUNNER_BUILD_CA_BUNDLE``).
"""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path


from runner.backends.docker import LABEL, connect, image_name
from runner.core.config import REPO_ROOT, Settings
from runner.core.errors import RunnerError, UsageError
from runner.core.registry import Entry, Registry
from runner.core.sources import IMAGES, _files, _rel, image_files, source_digest

CACHE = IMAGES / ".cache"
TORCH_VERSIONS = ("2.14.1", "0.29.1")
PYDANTIC_VERSION = "2.14.3"
#: the cpu base is built FROM a local image: made by `runner images bootstrap-base` (or, with
#: `make images-from PULL=1`, a pulled python:3.11-slim-bookworm tagged with this name). Its registry
#: host ``localhost`` is one no public registry resolves, so nothing is ever pulled by accident.
BOOTSTRAP_TAG = "localhost/tiktok-runner/debian-python:bookworm"
BASE_CANDIDATES = (BOOTSTRAP_TAG,)
#: image commits and prunes of gigabytes outlast the SDK's default 60 s
CLIENT_TIMEOUT_S = 900


@dataclass(frozen=True)
class BuildOptions:
    base_image: str | None = None       # FROM of the cpu base; None: the first of BASE_CANDIDATES present
    pip_source: str = "wheelhouse"      # "wheelhouse" | "network"
    ca_bundle: Path | None = None
    no_cache: bool = False


def base_tag(settings: Settings, kind: str) -> str:
    return f"{settings.image_prefix}/base-{kind}:" + ("1" if kind == "cpu" else "-".join(TORCH_VERSIONS))


def image_status(settings: Settings, registry: Registry, client=None) -> dict[str, str]:
    """``{name: "built" | "stale" | "missing"}``, asking ``client`` (None: a new connection); raises
    BackendUnavailable without a daemon."""
    from runner.backends.docker import DockerBackend

    return DockerBackend(client or connect(timeout=5), settings.image_prefix, registry).image_status(list(registry))


# -- build contexts -----------------------------------------------------------
class _Context:
    """A tar build context on disk (wheelhouses can be gigabytes)."""

    def __init__(self):
        self.file = tempfile.TemporaryFile()
        self.tar = tarfile.open(fileobj=self.file, mode="w")
        self.tar.add(IMAGES / "pip-install.sh", "images/pip-install.sh")
        for d in ("images/ca", "images/wheels"):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            self.tar.addfile(info)

    def add(self, src: Path, arcname: str) -> None:
        if src.is_dir():
            for p in _files(src):
                self.tar.add(p, f"{arcname}/{p.relative_to(src).as_posix()}")
        else:
            self.tar.add(src, arcname)

    def add_text(self, arcname: str, text: str) -> None:
        data = text.encode()
        info = tarfile.TarInfo(arcname)
        info.size, info.mode = len(data), 0o644
        self.tar.addfile(info, io.BytesIO(data))

    def close(self):
        self.tar.close()
        self.file.seek(0)
        return self.file


def _prepare(ctx: _Context, opts: BuildOptions, dockerfile: str, wheels: Path | None) -> None:
    ctx.add_text("Dockerfile", (IMAGES / dockerfile).read_text())
    if opts.ca_bundle:
        ctx.add(opts.ca_bundle, "images/ca/ca.crt")
    if wheels is not None:
        for whl in sorted(wheels.glob("*.whl")):
            ctx.tar.add(whl, f"images/wheels/{whl.name}")


def _pip_download(requirements: list[str], dest: Path, opts: BuildOptions, echo) -> Path | None:
    """A wheelhouse for ``requirements`` (host pip, host indexes), or None in network mode."""
    if opts.pip_source == "network" or not requirements:
        return None
    dest.mkdir(parents=True, exist_ok=True)
    # a requirements file, not arguments: a locked line carries its hashes (hash-checking mode)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
        req.write("\n".join(requirements) + "\n")
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:", "-d", str(dest),
           "-r", req.name]
    echo(f"wheelhouse: pip download {' '.join(r.split(' --hash')[0] for r in requirements)} -> {dest}")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        os.unlink(req.name)
    if proc.returncode != 0:
        raise RunnerError(f"pip download failed for {requirements}: {proc.stderr.strip()[-1500:]}",
                          fix="check the pins, or build with --pip-source network [--ca-bundle FILE]")
    return dest


def _build(client, ctx: _Context, tag: str, buildargs: dict, labels: dict, opts: BuildOptions, echo) -> float:
    """Run one build through the SDK, streaming its output; returns seconds."""
    t0 = time.monotonic()
    fileobj = ctx.close()
    echo(f"build {tag} ({fileobj.seek(0, 2) / 2**20:.0f} MiB context)")
    fileobj.seek(0)
    stream = client.api.build(fileobj=fileobj, custom_context=True, tag=tag, buildargs=buildargs,
                              labels=labels, network_mode="host", rm=True, forcerm=True, pull=False,
                              nocache=opts.no_cache, decode=True)
    tail: list[str] = []
    for chunk in stream:
        if "error" in chunk:
            for line in "".join(tail[-25:]).splitlines():
                echo("  | " + line)
            raise RunnerError(f"building {tag} failed: {chunk['error'].strip()}",
                              fix="see the build output above")
        line = chunk.get("stream") or ""
        if line:
            tail.append(line)
            if line.startswith("Step ") or "Successfully" in line:
                echo("  " + line.rstrip())
    fileobj.close()
    secs = time.monotonic() - t0
    echo(f"built {tag} in {secs:.1f}s")
    return secs


def _has(client, tag: str) -> bool:
    import docker.errors

    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def build_base(client, settings: Settings, opts: BuildOptions, echo, force: bool = False) -> str:
    tag = base_tag(settings, "cpu")
    if _has(client, tag) and not force:
        return tag
    if opts.base_image and not _has(client, opts.base_image):
        # a missing FROM would be pulled by the daemon: only what is already here is used
        raise RunnerError(f"--base-image {opts.base_image} is not a local image (images are never pulled implicitly)",
                          fix=f"pull it yourself if you trust it (docker pull {opts.base_image}), "
                              "or: runner images bootstrap-base")
    base = opts.base_image or next((b for b in BASE_CANDIDATES if _has(client, b)), None)
    if base is None:
        raise RunnerError(f"no image to build {tag} FROM: none of {', '.join(BASE_CANDIDATES)} is present",
                          fix="runner images bootstrap-base (no registry needed), or explicitly: "
                              f"make images-from PULL=1 (docker pull python:3.11-slim-bookworm, tagged {BOOTSTRAP_TAG})")
    ctx = _Context()
    _prepare(ctx, opts, "Dockerfile.base",
             _pip_download([f"pydantic=={PYDANTIC_VERSION}"], CACHE / "wheels-base", opts, echo))
    _build(client, ctx, tag, {"BASE_IMAGE": base, "PYDANTIC_VERSION": PYDANTIC_VERSION},
           {f"{LABEL}.from": base}, opts, echo)
    return tag


def _torch_wheelhouse(opts: BuildOptions, echo) -> Path:
    """torch + torchvision and their dependencies as wheels (kept: the base and every torch
    analyzer build use it). Always a wheelhouse: the pinned CUDA build lies on the host's disk,
    not necessarily on PyPI."""
    torch, vision = TORCH_VERSIONS
    return _pip_download([f"torch=={torch}", f"torchvision=={vision}"], CACHE / "wheelhouse-torch",
                         replace(opts, pip_source="wheelhouse"), echo)


def build_torch_base(client, settings: Settings, opts: BuildOptions, echo, force: bool = False) -> str:
    tag = base_tag(settings, "torch")
    if _has(client, tag) and not force:
        return tag
    cpu = build_base(client, settings, opts, echo)
    torch, vision = TORCH_VERSIONS
    wheels = _torch_wheelhouse(opts, echo)
    ctx = _Context()
    _prepare(ctx, opts, "Dockerfile.torch", wheels)
    _build(client, ctx, tag, {"BASE": cpu, "TORCH_VERSION": torch, "TORCHVISION_VERSION": vision},
           {}, opts, echo)
    # the legacy builder keeps the install stage (~9 GB) as an untagged image: only a cache of
    # what the tagged base already holds
    try:
        freed = sum(client.images.prune(filters={"dangling": True, "label": f"{LABEL}.role={role}"})
                    .get("SpaceReclaimed") or 0 for role in ("base-cpu", "base-torch"))
        echo(f"pruned {freed / 2**30:.1f} GiB of untagged build stages and replaced bases")
    except Exception as exc:  # disk hygiene only: the base is built either way
        echo(f"could not prune untagged images ({exc}): docker image prune --filter label={LABEL}.role")
    return tag


def _requirements(entry: Entry) -> list[str]:
    req = entry.path / "requirements.txt"
    if not req.is_file():
        return []
    return [ln.split("#", 1)[0].strip() for ln in req.read_text().splitlines()
            if ln.split("#", 1)[0].strip()]


def build_analyzer(client, settings: Settings, entry: Entry, opts: BuildOptions, echo) -> str:
    m = entry.manifest
    base = (build_torch_base if m.image.base == "torch" else build_base)(client, settings, opts, echo)
    tag = image_name(settings.image_prefix, entry)
    dest = CACHE / "wheels" / m.name
    # what the torch base already holds must not be copied into every torch analyzer's image
    # (a COPY layer keeps it even after pip skips it): derive it even when the base was cached
    in_base = (sorted(_torch_wheelhouse(opts, echo).glob("*.whl"))
               if m.image.base == "torch" and opts.pip_source == "wheelhouse" else [])
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("*.whl"):  # wheels of earlier pins must not ride along
        old.unlink()
    if opts.pip_source == "wheelhouse":
        # hard links: pip download finds torch "already downloaded" instead of copying 3 GB again
        for whl in in_base:
            os.link(whl, dest / whl.name)
    wheels = _pip_download(_requirements(entry), dest, opts, echo)
    for whl in in_base:  # already in the torch base: not to be copied into every torch analyzer's image
        (dest / whl.name).unlink(missing_ok=True)
    ctx = _Context()
    _prepare(ctx, opts, "Dockerfile.analyzer", wheels)
    for src, arcname in image_files(entry):  # the SDK and only the helpers the manifest declares
        ctx.add(src, arcname)
    ctx.add(REPO_ROOT / "shared_schema", "shared_schema")
    ctx.add(entry.path, _rel(entry))
    labels = {f"{LABEL}.analyzer": m.name, f"{LABEL}.version": m.version,
              f"{LABEL}.manifest": json.dumps(m.model_dump(mode="json"), sort_keys=True),
              f"{LABEL}.source-digest": source_digest(entry)}
    try:
        _build(client, ctx, tag, {"BASE": base, "ANALYZER_DIR": _rel(entry), "ANALYZER_NAME": m.name,
                                  "APT_PACKAGES": " ".join(m.image.apt)}, labels, opts, echo)
    finally:
        shutil.rmtree(dest, ignore_errors=True)  # gigabytes per torch analyzer; pip re-fetches fast
    return tag


def build_images(settings: Settings, registry: Registry, names: list[str], opts: BuildOptions,
                 echo=print, client=None) -> dict[str, str]:
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise UsageError(f"unknown analyzer(s): {', '.join(unknown)}", fix="runner list shows the names")
    client = client or connect(timeout=CLIENT_TIMEOUT_S)
    return {n: build_analyzer(client, settings, registry[n], opts, echo) for n in names}


def bootstrap_base(echo=print, mirror: str | None = None, tag: str = BOOTSTRAP_TAG) -> str:
    """Make a Python 3.11 bookworm image without a registry: debootstrap + ``docker import``."""
    import shutil

    if not shutil.which("debootstrap"):
        raise RunnerError("debootstrap is not installed", fix="apt-get install -y debootstrap")
    mirror = mirror or _debian_mirror()
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir="/var/tmp") as root:
        echo(f"debootstrap bookworm from {mirror} (about a minute)")
        boot = subprocess.run(["debootstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
                               "bookworm", root, mirror], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if boot.returncode != 0:
            raise RunnerError(f"debootstrap failed: {boot.stderr.strip()[-800:]}",
                              fix="check that the mirror answers (--mirror URL)")
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        path = "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        imp = subprocess.run(["docker", "import", "--change", path, "--change", "ENV LANG=C.UTF-8", "-", tag],
                             stdin=tar.stdout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        tar.wait()
        if imp.returncode != 0:
            raise RunnerError(f"docker import failed: {imp.stderr.strip()}", fix="is the daemon running? docker version")
    echo(f"imported {tag}")
    return tag


def _debian_mirror() -> str:
    for src in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        try:
            text = src.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            words = line.split()
            if line.startswith("URIs:") and len(words) > 1 and "security" not in words[1]:
                return words[1]
            if words[:1] == ["deb"] and "security" not in line:
                return next(w for w in words[1:] if "://" in w)
    return "http://deb.debian.org/debian"


#: skips that are a correct outcome on a smoke clip (no weights in the store, no GPU here)
HONEST_SKIPS = ("model_absent", "needs_gpu", "no_audio")


def compose_file(settings: Settings, registry: Registry) -> str:
    """compose/build.yaml: build one analyzer with ``docker-compose -f compose/build.yaml build NAME``."""
    def q(value: str) -> str:
        return json.dumps(value).replace("$", "$$")  # compose would interpolate a lone $

    cpu, torch = base_tag(settings, "cpu"), base_tag(settings, "torch")
    lines = ["# Made by `runner images compose-file` from the manifests; rebuild one analyzer with",
             "#   docker-compose -f compose/build.yaml build base-cpu   (once; base-torch for torch analyzers)",
             "#   docker-compose -f compose/build.yaml build NAME",
             "# pip reaches PyPI from the build (network host); behind a TLS-inspecting proxy put its",
             "# CA bundle at images/ca/ca.crt; offline, put the wheels in images/wheels/.",
             'version: "2.4"', "services:",
             "  base-cpu:", f"    image: {q(cpu)}", "    build:", "      context: ..",
             "      dockerfile: images/Dockerfile.base", "      network: host", "      args:",
             '        BASE_IMAGE: "${BASE_IMAGE:-' + BOOTSTRAP_TAG + '}"  # compose reads it from the shell',
             f'        PYDANTIC_VERSION: "{PYDANTIC_VERSION}"',
             "  base-torch:", f"    image: {q(torch)}", "    build:", "      context: ..",
             "      dockerfile: images/Dockerfile.torch", "      network: host", "      args:",
             f"        BASE: {q(cpu)}", f"        TORCH_VERSION: {q(TORCH_VERSIONS[0])}",
             f"        TORCHVISION_VERSION: {q(TORCH_VERSIONS[1])}"]
    for name, e in sorted(registry.items()):
        m = e.manifest
        lines += [f"  {name}:", f"    image: {q(image_name(settings.image_prefix, e))}", "    build:",
                  "      context: ..", "      dockerfile: images/Dockerfile.analyzer", "      network: host",
                  "      args:", f"        BASE: {q(torch if m.image.base == 'torch' else cpu)}",
                  f"        ANALYZER_DIR: {q(_rel(e))}", f"        ANALYZER_NAME: {q(name)}",
                  f"        APT_PACKAGES: {q(' '.join(m.image.apt))}",
                  "      labels:", f"        {LABEL}.analyzer: {q(name)}", f"        {LABEL}.version: {q(m.version)}",
                  f"        {LABEL}.manifest: {q(json.dumps(m.model_dump(mode='json'), sort_keys=True))}"]
    return "\n".join(lines) + "\n"
