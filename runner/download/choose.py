"""Where a URL download attempt runs for a run: the download sandbox or this process."""
from __future__ import annotations

from runner.backends.sandbox_or_host import sandbox_or_host
from runner.config import Settings
from runner.download.fetch import in_process

FETCH_HOST_NOTE = "URL downloads run yt-dlp in this process, not in a sandbox"


def fetcher_for(backend, settings: Settings, *, run_id: str = "fetch", notice=None):
    """Where a URL download attempt runs (a :class:`runner.download.fetch.Attempt`), chosen like
    :func:`runner.media.choose.media_exec_for`: the download sandbox (:class:`~runner.download.sandbox.DockerFetch`,
    image ``<prefix>/fetch:2``) on ``docker`` (else :class:`BackendUnavailable` naming the fix),
    yt-dlp in this process on ``local``, and on ``auto`` the sandbox when the daemon answers and
    its image is built, else this process with one warning."""
    def make(client):
        from runner.download.sandbox import DockerFetch
        from runner.download.image import fetch_tag

        fetch = DockerFetch(client, fetch_tag(settings), run_id=run_id)
        fetch.check_image()
        return fetch

    return sandbox_or_host(backend, make, in_process, FETCH_HOST_NOTE, notice or (lambda _text: None))
