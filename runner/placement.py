"""Where a run's work happens, decided once: the analyzer backend, where ffprobe/ffmpeg decode the
input, and where a URL download runs (issue 29).

:func:`place` turns the settings and a requested backend (``"docker" | "local" | "auto"``) into a
:class:`Placement`. A run asks it for its media executor first (the plan needs the probe), for its
downloader when the input is a URL, and for its analyzer backend once the plan is made. It opens at
most ONE Docker client for all three (none on the local backend), and :meth:`Placement.close`
closes it. The rule is the same for each:

- ``docker``: the daemon must answer and the image must be built, else
  :class:`~runner.core.errors.BackendUnavailable` naming the fix (exit 3); an analyzer whose image is
  missing is then ``skipped: image_missing``;
- ``local``: the host (limits, not isolation), said once in the run's notices;
- ``auto``: the sandbox where the daemon answers and the image is built, else the host, with a
  :func:`fallback_notice` (one wording everywhere). Without a daemon that is ONE notice for the run.

Two other places ask where things run, and ask here: the servers (``runner serve`` / ``runner
worker``), which never fall back (:func:`server_settings`), and pictures taken after a run, which
decode where the run did (:func:`media_exec_for_report`).
"""
from __future__ import annotations

from typing import Callable

from runner.backends.base import Backend
from runner.backends.docker_daemon import LOCAL_IS_NOT_A_SANDBOX
from runner.core.config import Settings
from runner.core.errors import BackendUnavailable, RunnerError, UsageError
from runner.media.tools import HostMediaExec, MediaExec
from runner.core.registry import Registry

__all__ = ["Placement", "place", "fallback_notice", "server_settings", "media_exec_for_report", "NoMediaExec"]

EVERYTHING = "analyzers, ffprobe/ffmpeg and URL downloads"


def fallback_notice(what: str, why: str, fix: str) -> str:
    """The one warning ``--backend auto`` gives when ``what`` runs on the host instead of a sandbox."""
    fix = fix.removesuffix(", or use --backend local")
    return (f"WARNING: --backend auto fell back to the local backend for {what}: {why}. The local backend is "
            f"NOT a sandbox: {what} run as plain processes of this user, with no network or filesystem "
            f"isolation. Fix: {fix}. (--backend local chooses it knowingly; --backend docker refuses to run "
            "without containers.)")


def _connect(timeout: int = 10):
    """The Docker client, or :class:`BackendUnavailable` (an SDK that is not installed included)."""
    try:
        from runner.backends.docker import connect
    except ImportError as exc:
        raise BackendUnavailable("docker", f"the docker backend is not installed ({exc})",
                                 fix="pip install 'docker>=7.1,<8'") from None
    return connect(timeout=timeout)


def _readable(exc: BackendUnavailable) -> str:
    """Why no daemon answered, in one line naming the address (not the SDK's exception text)."""
    from runner.backends.docker_api import docker
    from runner.backends.docker_daemon import daemon_reason

    return daemon_reason() if docker is not None and "not installed" not in exc.reason else exc.reason


def _media_sandbox(client, settings: Settings, run_id: str) -> MediaExec:
    from runner.images.runner_images import MEDIA
    from runner.media.docker_exec import DockerMediaExec

    ex = DockerMediaExec(client, MEDIA.tag(settings), run_id=run_id)
    ex.check_image()
    return ex


def _fetch_sandbox(client, settings: Settings, run_id: str):
    from runner.download.docker_fetch import DockerFetch
    from runner.images.runner_images import FETCH

    fetch = DockerFetch(client, FETCH.tag(settings), run_id=run_id)
    fetch.check_image()
    return fetch


class Placement:
    """One run's answer to "where does this run?", with the one Docker client it opened."""

    def __init__(self, settings: Settings, requested: str, notice: Callable[[str], None] | None = None,
                 client=None):
        self.settings = settings
        self.requested = requested
        self.notice = notice or (lambda _text: None)
        self._client = client
        self._owns_client = client is None
        self._down = False  # auto, and no daemon answered: everything on the host, already said

    def client(self):
        """The run's Docker client, opened on first need; None when the run is on the host."""
        if self.requested == "local" or self._down:
            return None
        if self._client is None:
            try:
                self._client = _connect()
            except BackendUnavailable as exc:
                if self.requested == "docker":
                    raise
                self._down = True
                self.notice(fallback_notice(EVERYTHING, _readable(exc), exc.fix or ""))
                return None
        return self._client

    def media_exec(self, run_id: str = "media") -> MediaExec:
        """Where ffprobe/ffmpeg decode the input: the media sandbox, or the host."""
        return self._sandbox_or_host("ffprobe/ffmpeg", lambda c: _media_sandbox(c, self.settings, run_id),
                                     HostMediaExec())

    def fetcher(self, run_id: str = "fetch"):
        """Where a URL download attempt runs: the download sandbox, or yt-dlp in this process."""
        from runner.download.fetch import in_process

        return self._sandbox_or_host("URL downloads", lambda c: _fetch_sandbox(c, self.settings, run_id),
                                     in_process)

    def _sandbox_or_host(self, what: str, make, host):
        client = self.client()
        if client is None:
            return host
        try:
            return make(client)
        except BackendUnavailable as exc:
            if self.requested == "docker":
                raise
            self.notice(fallback_notice(what, exc.reason, exc.fix or ""))
            return host

    def backend(self, registry: Registry, names: list[str]) -> Backend:
        """The analyzers' backend for a plan that runs ``names``: on auto, docker only when every one
        of them has its image (images are never pulled)."""
        from runner.backends.local import LocalBackend

        local = LocalBackend(self.settings.envs_dir, self.settings.repo_root)
        if self.requested == "local":
            self.notice(f"{LOCAL_IS_NOT_A_SANDBOX} (chosen with --backend local / RUNNER_BACKEND=local)")
            return local
        client = self.client()
        if client is None:
            return local
        from runner.backends.docker import DockerBackend, image_name

        backend = DockerBackend(client, self.settings.image_prefix, registry)
        if self.requested == "docker":
            return backend
        names = [n for n in names if n in registry]
        missing = sorted(n for n in names if not backend._has_image(registry[n]))
        if missing:
            shown = ", ".join(image_name(backend.prefix, registry[n]) for n in missing[:6])
            more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
            self.notice(fallback_notice("analyzers", f"no image {shown}{more} on the daemon (images are never "
                                        f"pulled)", f"runner images build {' '.join(missing)} (or: make images)"))
            return local
        stale = sorted(n for n, s in backend.image_status(names).items() if s == "stale")
        if stale:
            self.notice(f"images older than their sources: {', '.join(stale)} "
                        f"(runner images build {' '.join(stale)})")
        return backend

    def close(self) -> None:
        """Close the client this placement opened (a long-lived worker would otherwise hold its socket)."""
        client, self._client = self._client, None
        if client is not None and self._owns_client and hasattr(client, "close"):
            try:
                client.close()
            except Exception:  # a client that cannot close costs nothing more than before
                pass


def place(settings: Settings, requested: str | None = None, notice=None, client=None) -> Placement:
    """The placement of a run that asked for ``requested`` (None: ``settings.backend``)."""
    return Placement(settings, requested or settings.backend, notice, client)


#: what an unsandboxed analyzer can read (one did: the token, from the parent's /proc/<pid>/environ)
SECRETS_READABLE = ("An analyzer then runs as this server's user and can read its secrets: RUNNER_API_TOKEN and "
                    "the proxy credentials in RUNNER_PROXIES from /proc/<pid>/environ of this process, the "
                    "cookies file (RUNNER_COOKIES_FILE) and the job store; allow it only where every video and "
                    "analyzer is trusted")
_FIX_LOCAL = ("run jobs in containers: start dockerd and build the images (docs/docker.md; RUNNER_BACKEND=docker), "
              "or, on a trusted single-user machine, allow it knowingly: --allow-unsandboxed or "
              "RUNNER_API_ALLOW_LOCAL=1")


def server_settings(settings: Settings, allow_local: bool, warn: Callable[[str], None]) -> Settings:
    """The settings a server's jobs run with: the docker backend, never a silent fall back to the local one.

    The local backend is limits, not isolation, so a server refuses it unless ``allow_local``
    (``--allow-unsandboxed`` / ``RUNNER_API_ALLOW_LOCAL=1``; then ``warn`` says what that costs);
    ``auto`` becomes ``docker`` when a daemon answers (an analyzer whose image is missing is then
    ``skipped: image_missing``, not run unsandboxed) and is refused when none does.
    """
    backend = settings.backend
    if backend == "docker":
        return settings
    if allow_local:
        when = "jobs run" if backend == "local" else "where no Docker daemon answers, jobs run"
        warn(f"WARNING: {when} on the local backend, allowed by --allow-unsandboxed / "
             f"RUNNER_API_ALLOW_LOCAL=1: {LOCAL_IS_NOT_A_SANDBOX}. {SECRETS_READABLE}")
        return settings
    if backend == "local":
        raise UsageError(f"refusing to run jobs on the local backend: {LOCAL_IS_NOT_A_SANDBOX}", fix=_FIX_LOCAL)
    try:
        _connect(timeout=5).close()
    except BackendUnavailable as exc:
        raise UsageError(f"refusing to serve: RUNNER_BACKEND={backend} would run jobs on the local backend, "
                         f"which is not a sandbox ({_readable(exc)})", fix=_FIX_LOCAL) from None
    return settings.with_(backend="docker")


class NoMediaExec:
    """Refuses every call: a docker-made report's thumbnails are never taken on the host."""

    name = "none"
    sandboxed = True

    def __init__(self, why: str):
        self.why = why

    def run(self, workdir, call):
        raise RunnerError(f"{call.argv[0]} not run: {self.why}")


def media_exec_for_report(report, settings: Settings | None = None) -> MediaExec:
    """For pictures taken after a run (``runner report``, batch): decode where the run did. A report
    made with the media sandbox gets the sandbox again, or nothing when no daemon or image is
    reachable from this process (the API process holds no socket): never the host."""
    if getattr(report.run, "media_exec", None) != "docker":
        return HostMediaExec()
    settings = settings or Settings.from_env()
    try:
        return _media_sandbox(_connect(), settings, report.run.run_id)
    except BackendUnavailable as exc:
        return NoMediaExec(f"the run decoded in the media sandbox, which is not reachable here ({exc.reason})")
