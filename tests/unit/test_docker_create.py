"""create_named: a container create whose answer was lost neither fails the call nor leaves the container.

Seen under load (issue 28): a busy daemon made the container after the client's 10 s timeout; the
retry hit its own name (409) and gave up, and the container stayed, created and never started,
for as long as the worker lived.
"""
from __future__ import annotations

import pytest

docker = pytest.importorskip("docker")
requests = pytest.importorskip("requests")

from runner.backends.docker_api import create_named  # noqa: E402


class _Containers:
    """The daemon's side: what exists, by name; ``lose`` answers to drop (made, then a timeout)."""

    def __init__(self, lose: int = 0, fail: Exception | None = None, slow_until: int = 0):
        self.made: dict[str, dict] = {}
        self.lose, self.fail, self.slow_until = lose, fail, slow_until
        self.calls = 0

    def create(self, **kw):
        self.calls += 1
        if kw["name"] in self.made:
            raise docker.errors.APIError("Conflict", response=_Response(409))
        if self.fail is not None:
            raise self.fail
        if self.calls < self.slow_until:  # the daemon is too busy to answer or make anything yet
            raise requests.exceptions.ReadTimeout("read timed out (10 s)")
        self.made[kw["name"]] = kw
        if self.lose:
            self.lose -= 1
            raise requests.exceptions.ReadTimeout("read timed out (10 s)")
        return _Container(self, kw["name"])

    def get(self, name):
        if name not in self.made:
            raise docker.errors.NotFound(name)
        return _Container(self, name)


class _Container:
    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def remove(self, force=False):
        self.owner.made.pop(self.name, None)


class _Response:
    def __init__(self, status):
        self.status_code = status
        self.reason = "Conflict"
        self.url = "http://docker/containers/create"

    def json(self):
        return {"message": "Conflict. The container name is already in use"}


class _Client:
    def __init__(self, containers):
        self.containers = containers


def test_a_lost_answer_adopts_the_container_it_made():
    daemon = _Containers(lose=1)
    c = create_named(_Client(daemon), {"name": "trm-run-media-1a2b", "image": "x"})
    assert c.name == "trm-run-media-1a2b" and list(daemon.made) == ["trm-run-media-1a2b"]
    assert daemon.calls == 2  # one lost answer, one retry that found its own name


def test_a_create_that_keeps_failing_leaves_nothing():
    daemon = _Containers(lose=1, slow_until=4)  # tries 1-3 time out; the 4th (the last) makes it, answer lost
    with pytest.raises(requests.exceptions.ReadTimeout):
        create_named(_Client(daemon), {"name": "trr-run-toy-1", "image": "x"})
    assert daemon.calls == 4 and daemon.made == {}  # the container the last try made was removed


def test_a_missing_image_is_raised_as_it_is():
    daemon = _Containers(fail=docker.errors.ImageNotFound("localhost/tiktok-runner/x:1"))
    with pytest.raises(docker.errors.ImageNotFound):
        create_named(_Client(daemon), {"name": "trr-run-x-1", "image": "localhost/tiktok-runner/x:1"})
    assert daemon.calls == 1


def test_cleanup_never_fails_a_run_when_another_runner_removes_the_same_container():
    """Seen under load (issue 28): two runners on one host cleaned the same dead runner's container;
    the loser's 409 "removal already in progress" escaped cleanup_stale() and failed its user's job."""
    import socket

    from runner.backends.docker import LABEL, DockerBackend

    class Stale:
        def __init__(self, cid, conflict):
            self.id, self.conflict, self.removed = cid, conflict, False
            self.labels = {f"{LABEL}.runner-host": socket.gethostname(), f"{LABEL}.runner-pid": "999999999",
                           f"{LABEL}.runner-start": "1"}

        def remove(self, force=False):
            if self.conflict:
                raise docker.errors.APIError("Conflict", response=_Response(409))
            self.removed = True

    stale = [Stale("a", conflict=True), Stale("b", conflict=False)]

    class Listing:
        def list(self, **kw):
            return stale

    backend = DockerBackend(_Client(Listing()), "localhost/tiktok-runner")
    assert backend.cleanup_stale() == 1 and stale[1].removed
