"""Which :class:`~runner.media.tools.MediaExec` runs ffprobe/ffmpeg on user media for a run.

The docker backend decodes in the media sandbox (:class:`~runner.media.sandbox.DockerMediaExec`,
image ``<prefix>/media:1``); the local backend runs host subprocesses with limits
(:class:`~runner.media.tools.HostMediaExec`, not a sandbox). Probe runs before the analyzers'
backend is chosen (the plan needs the probe), so the choice is made from the requested backend:

- ``docker``: the daemon must answer and the media image must be built, else
  :class:`~runner.errors.BackendUnavailable` naming the fix (exit 3);
- ``local``: the host;
- ``auto``: the media sandbox when the daemon answers and its image is built, else the host with
  one warning naming what is missing and how to fix it.

Where a URL download runs is chosen the same way (:func:`runner.download.choose.fetcher_for`);
media never imports the downloader.
"""
from __future__ import annotations

from runner.config import Settings
from runner.backends.sandbox_or_host import sandbox_or_host
from runner.errors import BackendUnavailable
from runner.media.tools import HostMediaExec, MediaExec

HOST_NOTE = "ffprobe/ffmpeg run on the host with limits, not in a sandbox"


def media_exec_for(backend, settings: Settings, *, run_id: str = "media", notice=None) -> MediaExec:
    """The media executor for ``backend``: a Backend instance (its ``name``, and for docker its
    ``client``) or a requested backend name (``"docker" | "local" | "auto"``)."""
    def make(client):
        from runner.media.sandbox import DockerMediaExec
        from runner.media.image import media_tag

        ex = DockerMediaExec(client, media_tag(settings), run_id=run_id)
        ex.check_image()
        return ex

    return sandbox_or_host(backend, make, HostMediaExec(), HOST_NOTE, notice or (lambda _text: None))


class NoMediaExec:
    """Refuses every call: a docker-made report's thumbnails are never taken on the host."""

    name = "none"
    sandboxed = True

    def __init__(self, why: str):
        self.why = why

    def run(self, workdir, call):
        from runner.errors import RunnerError

        raise RunnerError(f"{call.argv[0]} not run: {self.why}")


def media_exec_for_report(report, settings: Settings | None = None) -> MediaExec:
    """For pictures taken after a run (``runner report``, batch, the API worker): decode where the
    run did. A report made with the media sandbox gets the sandbox again, or nothing when no daemon
    or image is reachable from this process (the API process holds no socket): never the host."""
    if getattr(report.run, "media_exec", None) != "docker":
        return HostMediaExec()
    settings = settings or Settings.from_env()
    try:
        return media_exec_for("docker", settings, run_id=report.run.run_id)
    except (BackendUnavailable, ImportError) as exc:
        return NoMediaExec(f"the run decoded in the media sandbox, which is not reachable here "
                           f"({getattr(exc, 'reason', exc)})")
