"""The runner's own sandbox images (media, fetch): their tags and digests must not move when the code
that computes them does, or every built image turns stale for nothing.

``_digest_on_main`` is the computation as it was before the table (runner/media/image.py and
runner/download/image.py on main at e41e874), kept verbatim here: the table must give the same
value for the same files. The literal values are today's, asserted while the inputs are today's."""
from __future__ import annotations

import hashlib

import pytest

from runner.config import REPO_ROOT, Settings
from runner.lockfile import API_LOCK, pin
from runner.sources import IMAGES

FETCH_FILES = ("runner/__init__.py", "runner/errors.py", "runner/download/__init__.py",
               "runner/download/net_safety.py", "runner/download/egress.py", "runner/download/core.py")
#: the digests computed on main (e41e874) and the sha256 of every input they were computed from
TODAY = {"media": ("e4dc868143ed3108", ("images/Dockerfile.media",)),
         "fetch": ("ca00182bac5eb90d", ("images/Dockerfile.fetch", "requirements/api.lock") + FETCH_FILES)}


def _digest_on_main(name: str) -> str:
    if name == "media":
        return hashlib.sha256((IMAGES / "Dockerfile.media").read_bytes()).hexdigest()[:16]
    h = hashlib.sha256((IMAGES / "Dockerfile.fetch").read_bytes())
    h.update(pin("yt-dlp", API_LOCK).line().encode())
    for f in FETCH_FILES:
        h.update(f.encode() + b"\0" + (REPO_ROOT / f).read_bytes())
    return h.hexdigest()[:16]


def _inputs_fingerprint(files) -> str:
    return hashlib.sha256(b"".join((REPO_ROOT / f).read_bytes() for f in files)).hexdigest()


#: the fingerprint of TODAY's inputs; a test below says when they moved (then only the computation is pinned)
FINGERPRINT = {"media": "e4dc868143ed3108a460a5a69f5c140bb0e9d47c79dc84ccd652a7c0fd59be91",
               "fetch": "aa0f8f713cbffdc0b8dd1a8be112e31f9fec93ad3c49f36a9d04d33a8c76ab3f"}


def _now():
    from runner.images.sandbox import SANDBOXES

    return {name: (s.digest, s.tag) for name, s in SANDBOXES.items()}


@pytest.mark.parametrize("name", ["media", "fetch"])
def test_the_digest_is_computed_as_on_main(name):
    digest, _ = _now()[name]
    assert digest() == _digest_on_main(name)


@pytest.mark.parametrize("name", ["media", "fetch"])
def test_the_digest_of_todays_files_is_todays_value(name):
    value, files = TODAY[name]
    if _inputs_fingerprint(files) != FINGERPRINT[name]:
        pytest.skip(f"the {name} image's inputs changed since e41e874: only the computation is pinned")
    assert _now()[name][0]() == value


@pytest.mark.parametrize("name,tag", [("media", "example.org/p/media:1"), ("fetch", "example.org/p/fetch:2")])
def test_the_tags_are_todays(name, tag):
    assert _now()[name][1](Settings(image_prefix="example.org/p")) == tag
