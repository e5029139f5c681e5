"""The runner's own sandbox images (media, fetch): their tags and digests must not move when the code
that computes them does, or every built image turns stale for nothing.

``_digest_on_main`` is the computation as it was before the table (runner/media/image.py and
runner/download/image.py on main at e41e874), kept verbatim here: the table must give the same
value for the same files (the literal values were checked once, when the table replaced them; the
inputs have moved since, so only the computation is pinned)."""
from __future__ import annotations

import hashlib

import pytest

from runner.core.config import REPO_ROOT, Settings
from runner.core.lockfile import API_LOCK, pin
from runner.core.sources import IMAGES

#: what the fetch image copies (since runner/core/: its __init__ too; the computation is unchanged)
FETCH_FILES = ("runner/__init__.py", "runner/core/__init__.py", "runner/core/errors.py", "runner/download/__init__.py",
               "runner/download/net_safety.py", "runner/download/egress.py", "runner/download/core.py")


def _digest_on_main(name: str) -> str:
    if name == "media":
        return hashlib.sha256((IMAGES / "Dockerfile.media").read_bytes()).hexdigest()[:16]
    h = hashlib.sha256((IMAGES / "Dockerfile.fetch").read_bytes())
    h.update(pin("yt-dlp", API_LOCK).line().encode())
    for f in FETCH_FILES:
        h.update(f.encode() + b"\0" + (REPO_ROOT / f).read_bytes())
    return h.hexdigest()[:16]


def _now():
    from runner.images.runner_images import SANDBOXES

    return {name: (s.digest, s.tag) for name, s in SANDBOXES.items()}


@pytest.mark.parametrize("name", ["media", "fetch"])
def test_the_digest_is_computed_as_on_main(name):
    digest, _ = _now()[name]
    assert digest() == _digest_on_main(name)


@pytest.mark.parametrize("name,tag", [("media", "example.org/p/media:1"), ("fetch", "example.org/p/fetch:2")])
def test_the_tags_are_todays(name, tag):
    assert _now()[name][1](Settings(image_prefix="example.org/p")) == tag


# -- one status and one build over the table (a fake daemon: our own logic) --------------------------
class _Images:
    def __init__(self, labels: dict):
        self.labels = labels  # tag -> its labels; absent: not built

    def get(self, tag):
        import docker.errors
        import types

        if tag not in self.labels:
            raise docker.errors.ImageNotFound(tag)
        return types.SimpleNamespace(labels=self.labels[tag])


class _Daemon:
    def __init__(self, labels: dict):
        self.images = _Images(labels)
        self.builds = []
        self.api = self

    def build(self, fileobj, **kw):  # client.api.build: keep what was sent
        import tarfile

        tar = tarfile.open(fileobj=fileobj)
        self.builds.append((kw, {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}))
        return iter(())


def _label(digest: str) -> dict:
    return {"org.tiktok-runner.source-digest": digest}


def test_status_lines_say_built_stale_and_missing_with_the_fix():
    from runner.images.runner_images import FETCH, MEDIA, status_lines

    s = Settings(image_prefix="p")
    lines = status_lines(s, _Daemon({MEDIA.tag(s): _label(MEDIA.digest()), FETCH.tag(s): _label("0" * 16)}))
    assert [(img.name, built, text) for img, built, text in lines] == [
        ("media", True, "built p/media:1"),
        ("fetch", False, "stale p/fetch:2 (runner images build fetch (or: make images))")]
    lines = status_lines(s, _Daemon({}))
    assert [text for _, _, text in lines] == ["missing p/media:1 (runner images build media (or: make images))",
                                              "missing p/fetch:2 (runner images build fetch (or: make images))"]


def test_status_lines_without_a_daemon_ask_once_and_say_unknown(monkeypatch):
    import runner.backends.docker as docker_backend
    from runner.core.errors import BackendUnavailable
    from runner.images.runner_images import status_lines

    calls = []

    def down(timeout):
        calls.append(timeout)
        raise BackendUnavailable("docker", "no daemon at unix:///nowhere")

    monkeypatch.setattr(docker_backend, "connect", down)
    lines = status_lines(Settings())
    assert len(calls) == 1
    assert [(built, text.startswith("unknown (") and "no daemon" in text) for _, built, text in lines] == [(False, True)] * 2


def test_build_sends_the_dockerfile_the_lock_lines_and_the_copied_files():
    from runner.images.build import BuildOptions
    from runner.images.runner_images import FETCH, MEDIA, build

    s = Settings(image_prefix="p")
    daemon = _Daemon({"p/base-cpu:1": {}, MEDIA.tag(s): _label(MEDIA.digest())})
    opts = BuildOptions(pip_source="network")  # no wheelhouse: the lock lines still go in
    assert build(daemon, MEDIA, s, opts, echo=lambda _: None) == "p/media:1" and daemon.builds == []  # up to date
    assert build(daemon, FETCH, s, opts, echo=lambda _: None) == "p/fetch:2"
    (kw, files), = daemon.builds
    (ytdlp,) = FETCH.pinned()
    assert kw["tag"] == "p/fetch:2" and kw["buildargs"] == {"BASE": "p/base-cpu:1", "YTDLP_VERSION": ytdlp.version}
    assert kw["labels"] == {"org.tiktok-runner.role": "fetch", "org.tiktok-runner.source-digest": FETCH.digest()}
    assert files["Dockerfile"] == (IMAGES / "Dockerfile.fetch").read_bytes()
    assert files["images/fetch.lock"] == (ytdlp.line() + "\n").encode() and "--hash=sha256:" in ytdlp.line()
    assert {f: files[f] for f in FETCH.copies} == {f: (REPO_ROOT / f).read_bytes() for f in FETCH.copies}
    build(daemon, MEDIA, s, opts, echo=lambda _: None, force=True)
    kw, files = daemon.builds[-1]
    assert kw["buildargs"] == {"BASE": "p/base-cpu:1"} and "images/media.lock" not in files
    assert not any(f.startswith("runner/") for f in files)
