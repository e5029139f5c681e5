"""Supply chain (issue 14): image names under a registry host no public registry resolves, and no
implicit pull anywhere (Dockerfile FROM defaults, builds, `make images`)."""
from __future__ import annotations

import re

import docker.errors
import pytest

from runner.core.config import REPO_ROOT, Settings
from runner.core.errors import RunnerError
from runner.images.build import BASE_CANDIDATES, BOOTSTRAP_TAG, BuildOptions, build_base


def _registry_host(name: str) -> str | None:
    """What docker reads as the registry host of an image name (None: Docker Hub)."""
    first, sep, _ = name.partition("/")
    return first if sep and ("." in first or ":" in first or first == "localhost") else None


def test_default_names_are_local():
    assert _registry_host(Settings().image_prefix + "/x:1") == "localhost"
    assert Settings.from_env({}).image_prefix == "localhost/tiktok-runner"
    for tag in (BOOTSTRAP_TAG, *BASE_CANDIDATES):
        assert _registry_host(tag) == "localhost", tag


@pytest.mark.parametrize("dockerfile", sorted((REPO_ROOT / "images").glob("Dockerfile.*")), ids=lambda p: p.name)
def test_every_dockerfile_builds_from_a_local_name(dockerfile):
    text = dockerfile.read_text()
    defaults = dict(re.findall(r"^ARG (BASE\w*)=(\S+)", text, re.M))
    for line in re.findall(r"^FROM (\S+)", text, re.M):
        name = defaults.get(line.strip("${}"), line)
        assert _registry_host(name) == "localhost", f"{dockerfile.name}: FROM {line} -> {name}"


def test_compose_files_name_local_images():
    for path in (REPO_ROOT / "compose").glob("*.y*ml"):
        for name in re.findall(r'^\s*image:\s*"?([^"\s]+)"?', path.read_text(), re.M):
            assert _registry_host(name) == "localhost", (path.name, name)


def test_make_images_pulls_only_when_told():
    mk = (REPO_ROOT / "images" / "images.mk").read_text()
    target = mk.split("images-from: setup", 1)[1].split("\n\n", 1)[0]
    assert "docker pull" in target and '"$(PULL)" = 1' in target
    assert target.index('"$(PULL)" = 1') < target.index("docker pull")
    assert "bootstrap-base" in target


class _NoImages:
    class images:  # noqa: N801 - the SDK's attribute name
        @staticmethod
        def get(tag):
            raise docker.errors.ImageNotFound(f"No such image: {tag}")

    class api:  # noqa: N801
        @staticmethod
        def build(**kw):
            raise AssertionError("must not build (the daemon would pull a missing FROM)")


def test_a_base_image_that_is_not_local_is_refused_not_pulled():
    with pytest.raises(RunnerError) as err:
        build_base(_NoImages, Settings(), BuildOptions(base_image="python:3.11-slim-bookworm"), print)
    assert "never pulled implicitly" in err.value.message and "docker pull python" in err.value.fix
    with pytest.raises(RunnerError) as err:
        build_base(_NoImages, Settings(), BuildOptions(), print)
    assert "bootstrap-base" in err.value.fix and "PULL=1" in err.value.fix
