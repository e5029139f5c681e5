"""compose/build.yaml is made from the manifests; a stale copy would build images with old limits."""
from runner.core.config import REPO_ROOT, Settings
from runner.images.build import compose_file
from runner.core.registry import registry_for


def test_compose_build_file_matches_the_manifests():
    settings = Settings()  # the repo's analyzers, default image prefix: what the committed file holds
    made = compose_file(settings, registry_for(settings))
    committed = (REPO_ROOT / "compose" / "build.yaml").read_text()
    assert made == committed, "compose/build.yaml is stale: run `runner images compose-file`"
